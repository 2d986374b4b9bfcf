// dataplane/bridge.cc — learning, lookup, flooding and the no-hairpin rule.
#include "dataplane/bridge.h"

#include <cstring>

#include "common/ether.h"

namespace vsw {

Bridge::Bridge(std::string name, const Fdb::Config& fdb_cfg)
    : name_(std::move(name)), fdb_(fdb_cfg) {}

void Bridge::forward(PortId ingress, PacketBatch& in, const BridgeView& view,
                     const Topology& topo, TxBatcher& out, QueueCounters& rxq,
                     uint64_t now_tsc) noexcept {
  uint64_t unicast = 0, flooded = 0, hairpin = 0, runts = 0;
  // Bulk traffic repeats the same source and destination frame after frame: remember the last
  // learn and lookup of this burst. A learn that changed the table forgets the cached lookup.
  uint64_t prev_src = ~0ull, prev_dst = ~0ull;
  PortId prev_to = kNoPort;
  // Locals for the batch: pushes into the output batches could otherwise alias its size.
  const uint16_t n = in.size();
  Packet* const* const pkts = in.data();
  for (uint16_t i = 0; i < n; ++i) {
    Packet* p = pkts[i];
    if (p->len < kEtherHeaderBytes) {
      release_packet(p);
      ++runts;
      continue;
    }
    // IEEE 802.3 §3.2: destination then source address, six octets each, first octet most
    // significant in MacAddress. One 8-byte big-endian load per address; the second ends at
    // byte 14, still inside the header that len >= kEtherHeaderBytes guarantees.
    const std::byte* h = p->data();
    uint64_t w_dst, w_src;
    std::memcpy(&w_dst, h, 8);
    std::memcpy(&w_src, h + 6, 8);
    const MacAddress dst = MacAddress::from_u64(__builtin_bswap64(w_dst) >> 16);
    const MacAddress src = MacAddress::from_u64(__builtin_bswap64(w_src) >> 16);
    if (src.u64() != prev_src) {
      prev_src = src.u64();
      const Fdb::Learn learned = fdb_.learn(src, ingress, now_tsc);
      if (learned == Fdb::Learn::Learned || learned == Fdb::Learn::Moved) prev_dst = ~0ull;
    }

    if (!dst.is_multicast()) {
      if (dst.u64() != prev_dst) {
        prev_dst = dst.u64();
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
        out.push(to, p);
        ++unicast;
        continue;
      }
    }
    // Flood by reference: the first destination takes the batch's reference, each further
    // destination one more.
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
  in.clear();
  if (runts != 0) rxq.drop(DropReason::Invalid, runts);
  if (unicast != 0) unicast_.fetch_add(unicast, std::memory_order_relaxed);
  if (flooded != 0) flooded_.fetch_add(flooded, std::memory_order_relaxed);
  if (hairpin != 0) hairpin_drops_.fetch_add(hairpin, std::memory_order_relaxed);
}

BridgeCounters Bridge::counters() const noexcept {
  return BridgeCounters{unicast_.load(std::memory_order_relaxed),
                        flooded_.load(std::memory_order_relaxed),
                        hairpin_drops_.load(std::memory_order_relaxed)};
}

}  // namespace vsw
