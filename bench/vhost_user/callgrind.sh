#!/bin/sh
# bench/vhost_user/callgrind.sh — instructions per frame on vsw's vhost-user data path alone,
# counted by callgrind (this machine has no hardware counters): guest tx ring ->
# GuestTxQueue::receive (descriptor checks, lending the guest buffer, publishing the previous
# burst's used entries) -> GuestRxQueue::transmit (checks of the posted buffer, virtio-net header,
# the one copy, used entries, releasing the lent frames back to the tx queue) -> guest rx ring.
# Bursts of 32; the fake drivers' side (posting descriptors) is not collected, nor is the idle
# poll (inline). The bridge is not in this path: bench/memif/callgrind.sh measures memif through
# the whole switch, so compare with its rx + tx + release parts (docs/performance.md).
#
# Usage: bench/vhost_user/callgrind.sh [BUILD_DIR] [SIZE] [FRAMES] [LAYOUT]   (LAYOUT 1 or 2)
set -eu
BUILD=${1:-${VSW_BUILD_DIR:-build}}
SIZE=${2:-64}
FRAMES=${3:-320000}
LAYOUT=${4:-1}
OUT=$(mktemp /tmp/vswvq-XXXXXX)
trap 'rm -f "$OUT"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$OUT" --collect-atstart=no \
  --toggle-collect='vsw::ports::vhost_user::GuestTxQueue::receive_burst*' \
  --toggle-collect='vsw::ports::vhost_user::GuestRxQueue::transmit*' \
  "$BUILD/bench/vhost_vring_bench" "$FRAMES" "$SIZE" "$LAYOUT" >/dev/null 2>&1
IR=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
echo "frames: $FRAMES of $SIZE bytes, layout $LAYOUT"
echo "instructions collected: $IR"
python3 -c "print('instructions per frame: %.1f' % ($IR / $FRAMES))"
echo "--- inclusive, per frame ---"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null |
  grep -E "receive_burst|transmit|take_frame|deliver|release|publish|notify|memcpy|translate" |
  grep -v "^ *[0-9,]* *(.*) *\*" | awk -v f="$FRAMES" '{ n=$1; gsub(",", "", n); $1=""; $2=""; printf "%8.1f %s\n", n / f, substr($0, 1, 110) }' | sort -rn | head -10
