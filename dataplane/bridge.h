// dataplane/bridge.h — a learning bridge: the forwarding decision for one ingress batch.
//
// Rules (IEEE 802.1D §7.7/§7.8; with VLANs IEEE 802.1Q §8.6 and §8.8, independent learning):
//  * learn the source MAC of every frame on its ingress port (station moves update the entry);
//  * a unicast destination found in the MAC table goes to that port only, and is discarded when
//    that port is the ingress port (never hairpin);
//  * broadcast, multicast and unknown unicast frames are flooded to every other port of the
//    bridge, by reference (one buffer, one reference per destination), not by copy.
// Frames shorter than an Ethernet header are dropped and counted as Invalid on the ingress queue.
//
// Two paths, chosen once per burst by BridgeView::vlan_aware:
//  * VLAN-unaware (no port has a VLAN configuration, no mirror): one filtering database (VLAN 0),
//    frames forwarded as they are, tagged or not — forward() below, unchanged by VLAN support.
//  * VLAN-aware (bridge_vlan.cc): each frame is classified into a VLAN by its ingress port
//    (dataplane/vlan.h; frames the port does not carry are dropped as DropReason::Vlan), learned
//    and looked up under (VLAN, MAC), and sent only to ports carrying its VLAN (flooding stays
//    inside the VLAN; a learned port that no longer carries it means flooding). At each
//    destination the frame is sent as received when its encapsulation fits (untagged, or tagged
//    with the same TCI), else with the tag pushed, popped or rewritten (PCP and DEI kept): in
//    place when the bridge holds the only reference to an owned frame and no destination wants
//    the original, otherwise on a copy (shared and lent frames are never written). Mirrors
//    (dataplane/mirror.h) add one reference (or copy) per selected frame for their output port.
//
// Threads: forward() runs on any worker, concurrently for different ingress ports; the only
// state it shares with other workers is the lock-free Fdb (written on learn events, not per
// frame). Its counters are per worker. Everything else is for the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/fdb.h"
#include "dataplane/mirror.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "dataplane/topology.h"
#include "dataplane/tx_batcher.h"

namespace vsw {

class Mempool;

struct BridgeCounters {
  uint64_t unicast = 0;         // frames sent to one learned port
  uint64_t flooded = 0;         // frames flooded (broadcast, multicast, unknown unicast)
  uint64_t hairpin_drops = 0;   // frames whose destination sits behind their ingress port
  uint64_t mirrored = 0;        // references (or copies) sent to mirror output ports
  BridgeCounters& operator+=(const BridgeCounters& o) noexcept {
    unicast += o.unicast;
    flooded += o.flooded;
    hairpin_drops += o.hairpin_drops;
    mirrored += o.mirrored;
    return *this;
  }
};

class Bridge {
 public:
  // Worker indices forward() accepts: one counter block each (QuiescentDomain::kMaxSlots, the
  // most workers a Switch runs).
  static constexpr uint16_t kMaxWorkers = 64;

  // `pool` gives the buffers of tag-changed copies (VLAN-aware path); nullptr (tests): frames that
  // would need a copy are dropped as NoBuffer.
  Bridge(std::string name, const Fdb::Config& fdb_cfg, Mempool* pool = nullptr);
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // --- fast path: any worker -------------------------------------------------------------------
  // Sorts `in` (all received on `ingress`, rx counters in `rxq`) into per-destination batches in
  // `out`, taking over every packet reference; leaves `in` empty. `worker` (< kMaxWorkers) is the
  // calling worker's index: at most one thread forwards with a given index at a time, since it
  // selects the counters written without atomic read-modify-writes.
  void forward(uint16_t worker, PortId ingress, PacketBatch& in, const BridgeView& view,
               const Topology& topo, TxBatcher& out, QueueCounters& rxq,
               uint64_t now_tsc) noexcept {
    if (view.vlan_aware) [[unlikely]] {
      forward_vlan(worker, ingress, in, view, topo, out, rxq, now_tsc);
    } else {
      forward_unaware(worker, ingress, in, view, topo, out, rxq, now_tsc);
    }
  }

  // --- control thread --------------------------------------------------------------------------
  const std::string& name() const noexcept { return name_; }
  Fdb& fdb() noexcept { return fdb_; }
  const Fdb& fdb() const noexcept { return fdb_; }
  // The sum over every worker's counters (relaxed loads: each total is exact once the workers
  // are quiet, and otherwise at most one burst behind) plus what inherit_counters() carried in.
  BridgeCounters counters() const noexcept;
  // Adds `from` (e.g. the totals of the bridge this one replaces) to what counters() reports.
  void inherit_counters(const BridgeCounters& from) noexcept { inherited_ += from; }

 private:
  // One writer each (the worker with that index), added to once per ingress burst; a cache line
  // each, so workers forwarding through the same bridge never write a shared line.
  struct alignas(64) WorkerCounters {
    Counter unicast, flooded, hairpin_drops, mirrored;
  };
  // The two paths of forward() (see the top of the file); same contract.
  void forward_unaware(uint16_t worker, PortId ingress, PacketBatch& in, const BridgeView& view,
                       const Topology& topo, TxBatcher& out, QueueCounters& rxq,
                       uint64_t now_tsc) noexcept;
  void forward_vlan(uint16_t worker, PortId ingress, PacketBatch& in, const BridgeView& view,
                    const Topology& topo, TxBatcher& out, QueueCounters& rxq,
                    uint64_t now_tsc) noexcept;

  std::string name_;
  Fdb fdb_;
  Mempool* pool_;
  std::array<WorkerCounters, kMaxWorkers> per_worker_{};
  BridgeCounters inherited_;  // control thread only
};

}  // namespace vsw
