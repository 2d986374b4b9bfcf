#!/usr/bin/env bash
# fuzz/run_long.sh — runs the libFuzzer targets of fuzz/ for a long time, by hand (docs/fuzzing.md).
# Builds them first if needed (clang, ASan+UBSan, in build-asan/ as tests/run_all.sh does), keeps
# the corpus each target grows between runs, and ends with a Markdown table of the figures
# (executions, exec/s, coverage, corpus, crashes) for docs/fuzzing.md.
#
# Usage: fuzz/run_long.sh [-t SECONDS] [-j PARALLEL] [-n] [TARGET...]
#   -t  time per target (default 3600)      -j  targets run at once (default 1)
#   -n  do not build: use the binaries in the build dir as they are
#   TARGET  e.g. memif_ring_fuzz (default: every *_fuzz target)
# Environment: VSW_ASAN_BUILD_DIR (default build-asan), VSW_FUZZ_WORK (default build-fuzz-work: corpus,
# logs and crash artifacts per target, outside the build dir so a rebuild keeps them).
# A target stops at its first crash; the input is saved as <work>/<target>/crash-<sha1>, and
# `build-asan/fuzz/<target> <that file>` reproduces it.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${VSW_ASAN_BUILD_DIR:-$REPO/build-asan}
WORK=${VSW_FUZZ_WORK:-$REPO/build-fuzz-work}
SECONDS_EACH=3600
PARALLEL=1
BUILD_FIRST=1
while getopts "t:j:nh" opt; do
  case $opt in
    t) SECONDS_EACH=$OPTARG ;;
    j) PARALLEL=$OPTARG ;;
    n) BUILD_FIRST=0 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [ "$BUILD_FIRST" = 1 ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    CXX=clang++ meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
      -Dfuzzing=true || exit 1
  fi
  ninja -C "$BUILD" fuzzers || exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$BUILD"/fuzz/*_fuzz; do targets+=("$(basename "$bin")"); done
fi

run_one() {
  local name=$1 dir=$WORK/$1
  mkdir -p "$dir/corpus"
  ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$BUILD/fuzz/$name" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" "fuzz/corpus/$name" \
      > "$dir/log" 2>&1
  echo $? > "$dir/rc"
}

running=0
for name in "${targets[@]}"; do
  [ -x "$BUILD/fuzz/$name" ] || { echo "no such target: $name" >&2; exit 2; }
  echo "$(date +%T) $name: ${SECONDS_EACH}s, log in $WORK/$name/log"
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait

echo
echo "| target | seconds | executions | exec/s | cov (edges) | features | corpus | crashes |"
echo "|---|---|---|---|---|---|---|---|"
status=0
for name in "${targets[@]}"; do
  dir=$WORK/$name
  stat_of() { grep -E "^stat::$1:" "$dir/log" | awk '{print $2}'; }
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$done_line")
  corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<< "$done_line")
  crashes=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  [ "$(cat "$dir/rc")" = 0 ] || status=1
  echo "| $name | $SECONDS_EACH | $(stat_of number_of_executed_units) | $(stat_of average_exec_per_sec) |" \
       "${cov:--} | ${ft:--} | ${corp:--} | $crashes |"
done
exit $status
