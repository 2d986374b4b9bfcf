// dataplane/bridge.cc — learning, lookup, flooding and the no-hairpin rule.
#include "dataplane/bridge.h"

#include "common/ether.h"

namespace vsw {

Bridge::Bridge(std::string name, const Fdb::Config& fdb_cfg)
    : name_(std::move(name)), fdb_(fdb_cfg) {}

void Bridge::forward(uint16_t worker, PortId ingress, PacketBatch& in, const BridgeView& view,
                     const Topology& topo, TxBatcher& out, QueueCounters& rxq,
                     uint64_t now_tsc) noexcept {
  uint64_t unicast = 0, flooded = 0, hairpin = 0, runts = 0;
  // Bulk traffic repeats the same source and destination frame after frame: remember the last
  // learn and lookup of this burst. A learn that changed the table forgets the cached lookup.
  uint64_t prev_src = ~0ull, prev_dst = ~0ull;
  PortId prev_to = kNoPort;
  for (uint16_t i = 0; i < in.size(); ++i) {
    Packet* p = in[i];
    if (p->len < kEtherHeaderBytes) {
      release_packet(p);
      ++runts;
      continue;
    }
    const auto* eh = reinterpret_cast<const EtherHeader*>(p->data());
    const MacAddress dst = MacAddress::from_bytes(eh->dst);
    const MacAddress src = MacAddress::from_bytes(eh->src);
    if (src.u64() != prev_src) {
      prev_src = src.u64();
      const Fdb::Learn learned = fdb_.learn(src, ingress, now_tsc);
      if (learned == Fdb::Learn::Learned || learned == Fdb::Learn::Moved) prev_dst = ~0ull;
    }

    if (!dst.is_multicast()) {
      if (dst.u64() != prev_dst) {
        prev_dst = dst.u64();
        prev_to = fdb_.lookup(dst);
      }
      const PortId to = prev_to;
      if (to == ingress) {
        release_packet(p);
        ++hairpin;
        continue;
      }
      // A port that just left the topology may linger in the table until its flush: flood.
      if (to != kNoPort && topo.ports[to] != nullptr) {
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
  WorkerCounters& wc = per_worker_[worker % kMaxWorkers];
  if (unicast != 0) wc.unicast.add(unicast);
  if (flooded != 0) wc.flooded.add(flooded);
  if (hairpin != 0) wc.hairpin_drops.add(hairpin);
}

BridgeCounters Bridge::counters() const noexcept {
  BridgeCounters sum = inherited_;
  for (const WorkerCounters& wc : per_worker_) {
    sum += BridgeCounters{wc.unicast.get(), wc.flooded.get(), wc.hairpin_drops.get()};
  }
  return sum;
}

}  // namespace vsw
