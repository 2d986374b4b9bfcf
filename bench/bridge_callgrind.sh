#!/usr/bin/env bash
# bench/bridge_callgrind.sh — instructions per forwarded frame on the bridge fast path, counted
# by callgrind (stable on noisy machines). Runs each scenario with N1 and N2 frames and divides
# the difference by N2 - N1, which cancels set-up (table fill, frame building).
# Usage: bench/bridge_callgrind.sh [build-dir]
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/bench/bridge_bench
N1=32000
N2=96000
count() {  # frames ports stations -> total instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" --frames "$1" "$2" "$3" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
  rm -f "$out"
}
printf "%-6s %-9s %s\n" ports stations instructions/frame
for ports in 2 64; do
  for stations in 2 1048576; do
    a=$(count $N1 $ports $stations)
    b=$(count $N2 $ports $stations)
    printf "%-6s %-9s %.1f\n" "$ports" "$stations" "$(echo "($b - $a) / ($N2 - $N1)" | bc -l)"
  done
done
# VLAN chain (bridge_bench.cc, VlanChain): one bulk flow through two bridges, per frame.
printf "%-18s %s\n" vlan-chain instructions/frame
for mode in unaware access pushpop; do
  a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/stdout "$BIN" --vlan-frames $N1 $mode 2>/dev/null | awk '/^summary:/ {print $2}')
  b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/stdout "$BIN" --vlan-frames $N2 $mode 2>/dev/null | awk '/^summary:/ {print $2}')
  printf "%-18s %.1f\n" "$mode" "$(echo "($b - $a) / ($N2 - $N1)" | bc -l)"
done
