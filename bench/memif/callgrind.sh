#!/bin/sh
# bench/memif/callgrind.sh — instructions per forwarded frame on vsw's memif -> bridge -> memif
# path, counted by callgrind (this machine has no hardware counters).
#
# vswitchd runs under callgrind collecting only the per-burst work of the path:
#   RxRing::receive_burst  memif rx: descriptors checked, client buffers lent (zero copy), and the
#                          return of the previous burst's buffers to the client
#   Bridge::forward        MAC learning, lookup, sorting into per-port batches
#   Port::transmit         MTU check, tx-queue lock, memif tx_burst: the one copy into the other
#                          client's buffers, descriptors, and the release of the lent buffers
# Idle polls (an inline head check, no call) and the worker loop itself are not counted. One
# vsw-pktgen in txrx mode sends COUNT frames of SIZE bytes through two memif ports and receives
# them back; collected instructions / frames moved by the worker is the figure in
# docs/performance.md.
#
# With CAPTURE set (e.g. CAPTURE="--direction rx" or CAPTURE="--direction rx udp port 9"), a
# `vswctl capture a $CAPTURE -w /dev/null` runs during the traffic, and the capture's rx hook
# (PortCaptures::on_rx, called from the worker loop) is collected too; its tx hook is inside
# Port::transmit (docs/performance.md, "Live capture").
#
# Usage (root): bench/memif/callgrind.sh [BUILD_DIR] [SIZE] [COUNT]     (KEEP=1 keeps the files)
set -eu
BUILD=${1:-${VSW_BUILD_DIR:-build}}
SIZE=${2:-64}
COUNT=${3:-200000}
WORK=$(mktemp -d /tmp/vswcg-XXXXXX)
trap 'kill $VSWD 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$WORK/cg.out" --collect-atstart=no \
  --toggle-collect='vsw::ports::memif::RxRing::receive_burst*' \
  --toggle-collect='vsw::Bridge::forward*' --toggle-collect='vsw::Port::transmit*' \
  --toggle-collect='vsw::PortCaptures::on_rx*' \
  "$BUILD/daemon/vswitchd" --socket "$WORK/ctl.sock" --run-dir "$WORK" \
  --state-file "$WORK/state.json" --workers 1 --no-hugepages --poll-mode busy \
  --log-level warn > "$WORK/vswitchd.log" 2>&1 &
VSWD=$!
for _ in $(seq 200); do [ -S "$WORK/ctl.sock" ] && break; sleep 0.1; done
CTL="$BUILD/cli/vswctl --socket $WORK/ctl.sock --timeout 240"
$CTL add-br br0
$CTL add-port br0 a --type memif -o id=1 -o "socket=$WORK/memif.sock"
$CTL add-port br0 b --type memif -o id=2 -o "socket=$WORK/memif.sock"
CAPTURE_PID=
if [ -n "${CAPTURE:-}" ]; then
  # shellcheck disable=SC2086  # CAPTURE is a word list on purpose
  $CTL capture a $CAPTURE -w /dev/null 2> "$WORK/capture.log" &
  CAPTURE_PID=$!
  for _ in $(seq 600); do grep -q "capturing on" "$WORK/capture.log" && break; sleep 0.1; done
fi
"$BUILD/bench/pktgen/vsw-pktgen" --mode txrx --socket "$WORK/memif.sock" --id 1 --rx-id 2 \
  --mac 02:00:00:00:00:01 --dst-mac 02:00:00:00:00:02 --size "$SIZE" --count "$COUNT" \
  --json --quiet > "$WORK/pktgen.json"
FRAMES=$($CTL --json dp-show | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["packets"])')
BATCHES=$($CTL --json dp-show | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["batches"])')
if [ -n "$CAPTURE_PID" ]; then
  echo "capture: $($CTL list-captures | tail -n +2)"
  kill -INT "$CAPTURE_PID"
  wait "$CAPTURE_PID" || true
fi
kill -INT $VSWD
wait $VSWD || true
IR=$(callgrind_annotate "$WORK/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
echo "frames forwarded by the worker: $FRAMES in $BATCHES bursts"
echo "pktgen: $(cat "$WORK/pktgen.json")"
echo "instructions collected: $IR"
python3 -c "print('instructions per forwarded frame: %.1f' % ($IR / $FRAMES))"
echo "--- inclusive, per frame ---"
callgrind_annotate --inclusive=yes "$WORK/cg.out" 2>/dev/null |
  grep -E "RxRing::receive_burst|Bridge::forward|Port::transmit|MemifPort::tx_burst|TxRing::transmit|Fdb::learn|Fdb::lookup|memcpy|RxRing::release" |
  grep -v "^ *[0-9,]* *(.*) *\*" | awk -v f="$FRAMES" '{ n=$1; gsub(",", "", n); $1=""; $2=""; printf "%8.1f %s\n", n / f, substr($0, 1, 110) }' | sort -rn | head -12
