#!/bin/sh
# bench/intel/callgrind.sh — instructions per received and per transmitted frame in vsw's 82599
# descriptor engine (ports/intel/ RxRing::receive, TxRing::transmit: descriptor reads and
# write-backs, buffer refill from the mempool, RS batching, cleanup and buffer release, one tail
# write per burst), counted by callgrind against the 82599 model (tests/models/), 32-frame
# bursts. The model's DMA and its register emulation (IxgbeModel::bar_read/bar_write: one MMIO
# access on hardware) are never collected (descriptor_bench.cc); the bar_write toggles do switch
# collection on for the port's bring-up and reset outside the engine, so that cost, measured by
# the bench's `idle` mode (open and close, no traffic), is subtracted. Two columns: with the
# PciDevice's dma_address() lookups the engine makes (the model's is a scan of its regions, as
# vfio's table is), and without them.
#
# BUFFER_BYTES: the mempool's buffer size (vswitchd --mempool-buffer-bytes; 4096 makes a
# 1514-byte frame one descriptor instead of two).
#
# Usage: bench/intel/callgrind.sh [BUILD_DIR] [SIZE] [FRAMES] [BUFFER_BYTES]
set -eu
BUILD=${1:-${VSW_BUILD_DIR:-build}}
SIZE=${2:-64}
FRAMES=${3:-320000}
BUFFER_BYTES=${4:-2048}
BIN=$BUILD/tests/models/intel_descriptor_bench
OUT=$(mktemp /tmp/vswix-XXXXXX)
trap 'rm -f "$OUT"' EXIT
count() {  # mode engine-function [extra toggle] -> instructions collected
  valgrind --tool=callgrind --callgrind-out-file="$OUT" --collect-atstart=no \
    --toggle-collect="$2" \
    --toggle-collect='vsw::tests::models::IxgbeModel::bar_write*' \
    --toggle-collect='vsw::tests::models::IxgbeModel::bar_read*' \
    ${3:+--toggle-collect="$3"} \
    "$BIN" "$1" "$FRAMES" "$SIZE" "$BUFFER_BYTES" >/dev/null 2>&1
  callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
echo "frames: $FRAMES of $SIZE bytes, bursts of 32, $BUFFER_BYTES-byte pool buffers"
printf "%-4s %28s %28s\n" dir "instructions/frame" "without dma_address()"
idle=$(count idle 'vsw::ports::intel::RxRing::receive(*')
idle_bare=$(count idle 'vsw::ports::intel::RxRing::receive(*' 'vsw::tests::models::ModelPciDevice::dma_address*')
for mode in rx tx; do
  if [ $mode = rx ]; then fn='vsw::ports::intel::RxRing::receive(*'; else fn='vsw::ports::intel::TxRing::transmit(*'; fi
  all=$(count $mode "$fn")
  bare=$(count $mode "$fn" 'vsw::tests::models::ModelPciDevice::dma_address*')
  python3 -c "print('%-4s %28.1f %28.1f' % ('$mode', ($all - $idle) / $FRAMES, ($bare - $idle_bare) / $FRAMES))"
done
