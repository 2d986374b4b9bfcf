// bench/vhost_user/vring_bench.cc — the vhost-user data path alone, for callgrind
// (bench/vhost_user/callgrind.sh): one guest transmits FRAMES frames of SIZE bytes in bursts of
// 32 on its tx ring, vsw takes them (GuestTxQueue::receive, lent, zero copy) and copies them into
// a second guest's rx ring (GuestRxQueue::transmit, the one copy), which returns the lent buffers
// to the first guest. The two fake guests (tests/unit/vhost_user/fake_guest.h) do the driver
// side: post the same descriptors again, repost the rx buffers; that work is not collected.
//
// Usage: vhost_vring_bench [FRAMES] [SIZE] [LAYOUT]   LAYOUT: 1 = header and frame in one
// descriptor (VERSION_1 with room in front, DPDK virtio_user), 2 = header in its own descriptor,
// 3 = the same two as an indirect table (Linux with INDIRECT_DESC).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ports/vhost_user/guest_rx_queue.h"
#include "ports/vhost_user/guest_tx_queue.h"
#include "tests/unit/vhost_user/fake_guest.h"

using namespace vsw;
using namespace vsw::ports::vhost_user;

namespace {

constexpr uint16_t kRing = 256;
constexpr uint16_t kBurst = PacketBatch::kMax;

}  // namespace

int main(int argc, char** argv) {
  const uint64_t frames = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const uint32_t size = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 64;
  const int layout = argc > 3 ? std::atoi(argv[3]) : 1;

  test::FakeGuest sender(kRing), receiver(kRing);
  // Sender: descriptor i (or 2i, 2i+1) holds one frame, posted again every lap.
  const auto frame = test::with_vnet_hdr(test::test_frame(size));
  const uint16_t per_frame = layout == 2 ? 2 : 1;
  QueueConfig tx_cfg = sender.config();
  tx_cfg.port = 1;
  tx_cfg.indirect = layout == 3;
  const uint16_t slots = kRing / per_frame;
  std::vector<uint16_t> tx_heads;
  for (uint16_t i = 0; i < slots; ++i) {
    tx_heads.push_back(layout == 2   ? sender.chain(frame, {12, size})
                       : layout == 3 ? sender.indirect(frame, {12, size})
                                     : sender.chain(frame, {static_cast<uint32_t>(frame.size())}));
  }
  std::vector<uint16_t> rx_heads;
  for (uint16_t i = 0; i < kRing; ++i) {
    rx_heads.push_back(receiver.chain({}, {2048}, ports::virtio::kDescFlagWrite));
  }
  QueueConfig rx_cfg = receiver.config();
  rx_cfg.mrg_rxbuf = true;
  GuestTxQueue txq;
  GuestRxQueue rxq;
  if (!txq.start(&sender.memory(), tx_cfg) || !rxq.start(&receiver.memory(), rx_cfg)) return 1;

  QueueCounters rc, tc;
  PacketBatch batch;
  uint64_t moved = 0;
  uint16_t next_tx = 0, next_rx = 0;
  // The receiver starts with all its buffers posted minus one burst of slack.
  for (uint16_t i = 0; i < kRing - kBurst; ++i) receiver.post(rx_heads[next_rx++ % kRing]);
  while (moved < frames) {
    // Driver side (not collected): a burst on the tx ring; rx buffers back on the rx ring.
    for (uint16_t i = 0; i < kBurst; ++i) sender.post(tx_heads[next_tx++ % slots]);
    Violation v = Violation::None;
    const uint16_t n = txq.receive(batch, rc, v);
    if (v != Violation::None || n != kBurst) {
      std::fprintf(stderr, "receive: %u frames, %s\n", n, violation_text(v).data());
      return 1;
    }
    const uint16_t sent = rxq.transmit(batch, tc, v);
    if (v != Violation::None || sent != kBurst) {
      std::fprintf(stderr, "transmit: %u frames, %s\n", sent, violation_text(v).data());
      return 1;
    }
    for (uint16_t i = 0; i < kBurst; ++i) receiver.post(rx_heads[next_rx++ % kRing]);
    moved += n;
  }
  Violation v = Violation::None;
  txq.receive(batch, rc, v);  // the last burst goes back to the sender
  std::printf("frames %llu size %u layout %d used %u\n", static_cast<unsigned long long>(moved),
              size, layout, sender.used_idx());
  return 0;
}
