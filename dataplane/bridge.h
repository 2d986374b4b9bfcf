// dataplane/bridge.h — a learning bridge: the forwarding decision for one ingress batch.
//
// Rules (IEEE 802.1D §7.7/§7.8, simplified to one VLAN-unaware filtering database):
//  * learn the source MAC of every frame on its ingress port (station moves update the entry);
//  * a unicast destination found in the MAC table goes to that port only, and is discarded when
//    that port is the ingress port (never hairpin);
//  * broadcast, multicast and unknown unicast frames are flooded to every other port of the
//    bridge, by reference (one buffer, one reference per destination), not by copy.
// Frames shorter than an Ethernet header are dropped and counted as Invalid on the ingress queue.
//
// Threads: forward() runs on any worker, concurrently for different ingress ports; the only
// shared state it writes is the lock-free Fdb. Everything else is for the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/fdb.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "dataplane/topology.h"
#include "dataplane/tx_batcher.h"

namespace vsw {

struct BridgeCounters {
  uint64_t unicast = 0;         // frames sent to one learned port
  uint64_t flooded = 0;         // frames flooded (broadcast, multicast, unknown unicast)
  uint64_t hairpin_drops = 0;   // frames whose destination sits behind their ingress port
};

class Bridge {
 public:
  Bridge(std::string name, const Fdb::Config& fdb_cfg);
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // --- fast path: any worker -------------------------------------------------------------------
  // Sorts `in` (all received on `ingress`, rx counters in `rxq`) into per-destination batches in
  // `out`, taking over every packet reference; leaves `in` empty.
  void forward(PortId ingress, PacketBatch& in, const BridgeView& view, const Topology& topo,
               TxBatcher& out, QueueCounters& rxq, uint64_t now_tsc) noexcept;

  // --- control thread --------------------------------------------------------------------------
  const std::string& name() const noexcept { return name_; }
  Fdb& fdb() noexcept { return fdb_; }
  const Fdb& fdb() const noexcept { return fdb_; }
  BridgeCounters counters() const noexcept;

 private:
  std::string name_;
  Fdb fdb_;
  // Written with relaxed atomic adds once per ingress batch (not per packet).
  std::atomic<uint64_t> unicast_{0}, flooded_{0}, hairpin_drops_{0};
};

}  // namespace vsw
