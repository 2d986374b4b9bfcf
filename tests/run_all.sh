#!/usr/bin/env bash
# tests/run_all.sh — THE test command (README "Quick start"): installs what is missing, builds,
# and runs every test, in legs:
#   1. unit and system gtests (meson, build/), integration, system and VM pytest (root; the VM
#      tests build their guest once into /var/cache/vsw-vm, see tests/vm/README.md);
#   2. sanitizers: the unit gtests and the integration pytest suite again, built by clang with
#      ASan+UBSan in a second build dir (build-asan/); any sanitizer report fails the leg;
#   3. fuzz smoke runs: every libFuzzer target of fuzz/ (built in build-asan/ too) for
#      VSW_FUZZ_SECONDS (default 60) over its seed corpus; each target is one test.
# Ends with one line "N passed, N failed" summing every test case of every leg. A skipped test
# (GTEST_SKIP, pytest.skip, meson exit code 77) counts as failed: nothing may be skipped as root.
# Usage: sudo tests/run_all.sh [pytest -k expression]
#   VSW_SKIP_SANITIZE=1 / VSW_SKIP_FUZZ=1 leave a leg out (its tests then count as failed).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${VSW_BUILD_DIR:-$REPO/build}
ASAN_BUILD=${VSW_ASAN_BUILD_DIR:-$REPO/build-asan}
FUZZ_SECONDS=${VSW_FUZZ_SECONDS:-60}
export VSW_BUILD_DIR=$BUILD

if [ "$(id -u)" -ne 0 ]; then
  echo "run_all.sh needs root (apt-get, network namespaces): sudo $0" >&2
  exit 1
fi
source tests/deps.sh
set +e  # deps.sh sets -e for its own use: here a failing leg must not end the run before the summary
# First QEMU with the igb device (from bookworm-backports on Debian 12), so that the package
# list below finds qemu-system-x86 installed rather than installing 7.2 to be upgraded.
vsw_install_qemu_with_igb || exit 1
vsw_install_packages $VSW_BUILD_PACKAGES $VSW_TEST_PACKAGES $VSW_SANITIZE_PACKAGES || exit 1

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" || exit 1
ninja -C "$BUILD" || exit 1

results=$BUILD/test-results
rm -rf "$results" && mkdir -p "$results"/{main,asan,sanitizer-reports,fuzz}
legs=$results/legs.txt  # "<leg> <seconds>" per leg, printed at the end
: > "$legs"
leg_start() { leg_t0=$(date +%s); echo; echo "=== leg: $1"; }
leg_end() { echo "$1 $(( $(date +%s) - leg_t0 ))" >> "$legs"; }

selector=()
[ $# -gt 0 ] && selector=(-k "$1")

# --- 1. the main suites ------------------------------------------------------------------------
leg_start main
# GoogleTest cases: every gtest binary writes a JSON report we sum up below.
GTEST_OUTPUT="json:$results/main/" meson test -C "$BUILD" --suite unit --suite system \
  --print-errorlogs --num-processes 1 --timeout-multiplier 3
cp "$BUILD/meson-logs/testlog.json" "$results/main/meson-testlog.json" 2>/dev/null
/usr/bin/python3 -m pytest -p no:cacheprovider -v --junitxml="$results/main/pytest.xml" \
  "${selector[@]}" tests/integration tests/system tests/vm
leg_end main

# --- 2. sanitizers ----------------------------------------------------------------------------
# One clang build with ASan+UBSan serves this leg and the fuzzers (-Dfuzzing=true instruments
# for coverage too, which costs the tests little and saves a second full build). Reports go to
# files, so a report from a process whose exit status nobody checks (a daemon stopped by a
# fixture, a vswctl run) still fails the leg. Leak checking stays on: vsw must not leak at exit.
asan_built=0
if [ "${VSW_SKIP_SANITIZE:-0}${VSW_SKIP_FUZZ:-0}" != 11 ]; then
  leg_start build-asan
  # Only what the legs run: unit tests, vswitchd, vswctl, fuzzers (not bench/, system tests).
  asan_targets() {
    meson introspect "$ASAN_BUILD" --tests | /usr/bin/python3 -c '
import json, os, sys
print(" ".join(os.path.relpath(t["cmd"][0], sys.argv[1]) for t in json.load(sys.stdin)
               if "vsw:unit" in t["suite"]))' "$ASAN_BUILD"
  }
  if { [ -f "$ASAN_BUILD/build.ninja" ] || CXX=clang++ meson setup "$ASAN_BUILD" \
         -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true; } &&
     ninja -C "$ASAN_BUILD" daemon/vswitchd cli/vswctl fuzzers $(asan_targets); then
    asan_built=1
  else
    echo "build-asan failed: the sanitizer and fuzz legs count as failed" >&2
  fi
  leg_end build-asan
fi

if [ "${VSW_SKIP_SANITIZE:-0}" != 1 ] && [ $asan_built = 1 ]; then
  leg_start sanitize
  reports=$results/sanitizer-reports
  san_common="log_path=$reports/report:print_stacktrace=1:halt_on_error=1"
  ASAN_OPTIONS="$san_common:detect_leaks=1" \
  UBSAN_OPTIONS="$san_common" \
  GTEST_OUTPUT="json:$results/asan/" \
    meson test -C "$ASAN_BUILD" --no-rebuild --suite unit --print-errorlogs --num-processes 1 \
      --timeout-multiplier 5
  cp "$ASAN_BUILD/meson-logs/testlog.json" "$results/asan/meson-testlog.json" 2>/dev/null
  ASAN_OPTIONS="$san_common:detect_leaks=1" UBSAN_OPTIONS="$san_common" \
  VSW_BUILD_DIR="$ASAN_BUILD" \
    /usr/bin/python3 -m pytest -p no:cacheprovider -v --junitxml="$results/asan/pytest.xml" \
      "${selector[@]}" tests/integration
  for f in "$reports"/report.*; do
    [ -e "$f" ] || continue
    echo "--- sanitizer report $f"; cat "$f"
  done
  leg_end sanitize
fi

# --- 3. fuzz smoke runs -------------------------------------------------------------------------
# New inputs go to a scratch corpus; the seeds in fuzz/corpus/ are only read. A crash, an
# invariant failure, a leak or a hang (-timeout) writes an artifact and fails the target.
if [ "${VSW_SKIP_FUZZ:-0}" != 1 ] && [ $asan_built = 1 ]; then
  leg_start fuzz
  for bin in "$ASAN_BUILD"/fuzz/*_fuzz; do
    name=$(basename "$bin")
    work=$results/fuzz/$name
    mkdir -p "$work/corpus"
    ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/corpus" "fuzz/corpus/$name" > "$work/log" 2>&1
    rc=$?
    echo "$rc" > "$work/rc"
    echo "$name: exit $rc; $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -1)"
    [ "$rc" = 0 ] || tail -n 60 "$work/log"
  done
  leg_end fuzz
fi

echo
echo "leg durations (s):"; sed 's/^/  /' "$legs"
/usr/bin/python3 - "$results" "${VSW_SKIP_SANITIZE:-0}" "${VSW_SKIP_FUZZ:-0}" "$asan_built" <<'PY'
import glob, json, os, sys, xml.etree.ElementTree as ET
results, skip_san, skip_fuzz, asan_built = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1", sys.argv[4] == "1"
passed = failed = 0
skipped = []

def gtest_leg(d):
    """Counts every gtest case of the JSON reports in d; a binary that failed in meson without a
    failing case in its report (a crash, a timeout, a sanitizer exit) counts once more."""
    global passed, failed
    clean = set()
    for path in glob.glob(os.path.join(d, "*.json")):
        if path.endswith("meson-testlog.json"):
            continue
        bad = 0
        with open(path) as f:
            r = json.load(f)
        for suite in r.get("testsuites", []):
            for t in suite.get("testsuite", []):
                if t.get("status") == "NOTRUN":
                    continue  # DISABLED_ tests are not run at all
                if t.get("failures"):
                    bad += 1
                elif t.get("result") == "SKIPPED":
                    bad += 1
                    skipped.append(f"{suite['name']}.{t['name']}")
                else:
                    passed += 1
        failed += bad
        if bad == 0:
            clean.add(os.path.splitext(os.path.basename(path))[0])
    try:
        with open(os.path.join(d, "meson-testlog.json")) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except OSError:
        failed += 1  # meson did not run at all
        return
    for run in runs:
        if run.get("result") == "OK":
            continue
        binary = os.path.basename((run.get("command") or [""])[0])
        if run.get("result") == "SKIP":
            skipped.append(f"meson test {run.get('name')}")
            failed += 1
        elif binary in clean or not os.path.exists(os.path.join(d, binary + ".json")):
            failed += 1  # died outside any test case, or before writing its report
            print(f"failed outside a test case: {run.get('name')} ({run.get('result')})")

def pytest_leg(path):
    global passed, failed
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed += 1
        return
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            failed += 1  # nothing may be skipped as root: a skip counts as a failure
            skipped.append(f"{case.get('classname')}::{case.get('name')}")
        else:
            passed += 1

gtest_leg(os.path.join(results, "main"))
pytest_leg(os.path.join(results, "main", "pytest.xml"))

if not skip_san:
    if not asan_built:
        failed += 1
    else:
        gtest_leg(os.path.join(results, "asan"))
        pytest_leg(os.path.join(results, "asan", "pytest.xml"))
        reports = glob.glob(os.path.join(results, "sanitizer-reports", "report.*"))
        if reports:
            print(f"{len(reports)} sanitizer report(s): each counts as a failed test")
        failed += len(reports)

if not skip_fuzz:
    if not asan_built:
        failed += 1
    for rc_file in sorted(glob.glob(os.path.join(results, "fuzz", "*", "rc"))):
        with open(rc_file) as f:
            ok = f.read().strip() == "0"
        passed += ok
        failed += not ok

for s in skipped:
    print(f"skipped (counted as failed): {s}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
