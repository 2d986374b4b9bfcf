// dataplane/bridge.cc — learning, lookup, flooding and the no-hairpin rule.
#include "dataplane/bridge.h"

#include <bit>
#include <cstring>

#include "common/ether.h"

namespace vsw {

Bridge::Bridge(std::string name, const Fdb::Config& fdb_cfg, Mempool* pool)
    : name_(std::move(name)), fdb_(fdb_cfg), pool_(pool) {}

void Bridge::forward_unaware(uint16_t worker, PortId ingress, PacketBatch& in,
                             const BridgeView& view, const Topology& topo, TxBatcher& out,
                             QueueCounters& rxq, uint64_t now_tsc) noexcept {
  uint64_t unicast = 0, flooded = 0, hairpin = 0, runts = 0;
  // Bulk traffic repeats the same source and destination frame after frame: remember the last
  // learn and lookup of this burst. A learn that changed the table forgets the cached lookup.
  uint64_t prev_src = ~0ull, prev_dst = ~0ull;  // address words as read from the frame
  PortId prev_to = kNoPort;
  // Locals for the batch: pushes into the output batches could otherwise alias its size.
  const uint16_t n = in.size();
  Packet* const* const pkts = in.data();
  // Consecutive known-unicast frames to one port, pkts[run_start..run_end), go to the output
  // batch in one push_run(). Flooding first hands on the pending run, so every destination
  // still receives its frames in arrival order.
  PortId run_to = kNoPort;
  uint16_t run_start = 0, run_end = 0;
  auto hand_on_run = [&]() noexcept {
    if (run_end != run_start) {
      out.push_run(run_to, pkts + run_start, static_cast<uint16_t>(run_end - run_start));
      unicast += run_end - run_start;
      run_start = run_end;
    }
  };
  for (uint16_t i = 0; i < n; ++i) {
    Packet* p = pkts[i];
    if (p->len < kEtherHeaderBytes) {
      release_packet(p);
      ++runts;
      continue;
    }
    // IEEE 802.3 §3.2: destination then source address, six octets each. Each is read as one
    // 8-byte word as stored (the second ends at byte 14, inside the header len guarantees);
    // the words, which also hold two neighbouring bytes, are the cache keys, and only a
    // changed word is turned into a MacAddress (first octet most significant).
    static_assert(std::endian::native == std::endian::little, "address words are little-endian");
    const std::byte* h = p->data();
    uint64_t w_dst, w_src;
    std::memcpy(&w_dst, h, 8);
    std::memcpy(&w_src, h + 6, 8);
    if (w_src != prev_src) {  // the initial ~0 is a group address: never learned anyway
      prev_src = w_src;
      const MacAddress src = MacAddress::from_u64(__builtin_bswap64(w_src) >> 16);
      const Fdb::Learn learned = fdb_.learn(src, ingress, now_tsc);
      if (learned == Fdb::Learn::Learned || learned == Fdb::Learn::Moved) prev_dst = ~0ull;
    }

    // I/G bit: the least significant bit of the first octet (IEEE 802 §8.2), bit 0 of the word.
    if ((w_dst & 1) == 0) {
      if (w_dst != prev_dst) {  // ~0 has the I/G bit set: never the word of a unicast frame
        prev_dst = w_dst;
        const MacAddress dst = MacAddress::from_u64(__builtin_bswap64(w_dst) >> 16);
        prev_to = fdb_.lookup(dst);
        // A port that just left the topology may linger in the table until its flush: flood
        // (the topology does not change during the burst, so this holds for the cached entry).
        if (prev_to != kNoPort && prev_to != ingress && topo.ports[prev_to] == nullptr) {
          prev_to = kNoPort;
        }
      }
      const PortId to = prev_to;
      if (to == ingress) {
        release_packet(p);
        ++hairpin;
        continue;
      }
      if (to != kNoPort) {
        if (to != run_to || run_end != i) {
          hand_on_run();
          run_to = to;
          run_start = i;
        }
        run_end = static_cast<uint16_t>(i + 1);
        continue;
      }
    }
    // Flood by reference: the first destination takes the batch's reference, each further
    // destination one more.
    hand_on_run();
    bool sent = false;
    for (PortId m : view.members) {
      if (m == ingress) continue;
      if (sent) retain_packet(p);
      out.push(m, p);
      sent = true;
    }
    if (!sent) release_packet(p);
    ++flooded;
  }
  hand_on_run();
  in.clear();
  if (runts != 0) rxq.drop(DropReason::Invalid, runts);
  WorkerCounters& wc = per_worker_[worker % kMaxWorkers];
  if (unicast != 0) wc.unicast.add(unicast);
  if (flooded != 0) wc.flooded.add(flooded);
  if (hairpin != 0) wc.hairpin_drops.add(hairpin);
}

BridgeCounters Bridge::counters() const noexcept {
  BridgeCounters sum = inherited_;
  for (const WorkerCounters& wc : per_worker_) {
    sum += BridgeCounters{wc.unicast.get(), wc.flooded.get(), wc.hairpin_drops.get(),
                          wc.mirrored.get()};
  }
  return sum;
}

}  // namespace vsw
