// dataplane/topology.h — the immutable picture of the switch that workers poll.
//
// The control thread builds a new Topology for every change (port or bridge added/removed) and
// publishes it to every worker (Worker::adopt). Workers only read it. The previous Topology, and
// any Port or Bridge that left it, are freed after QuiescentDomain::synchronize().
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "dataplane/packet.h"

namespace vsw {

class Port;
class Bridge;
class Mirror;
struct PortVlan;
struct VlanConfig;

// One bridge as the fast path sees it: its MAC table and the ports to flood to.
struct BridgeView {
  Bridge* bridge = nullptr;
  std::vector<PortId> members;
  // Some member has a VLAN configuration or the bridge has a mirror: Bridge::forward takes the
  // VLAN-aware path, with Topology::vlan set for every member. False: the VLAN-unaware path,
  // exactly as without VLAN support.
  bool vlan_aware = false;
  std::vector<const Mirror*> mirrors;
};

// One rx queue polled by a worker, with the bridge its frames enter.
struct RxAssignment {
  Port* port = nullptr;
  QueueId queue = 0;
  const BridgeView* bridge = nullptr;
};

struct Topology {
  std::array<Port*, kMaxPorts> ports{};                  // by PortId; nullptr when absent
  std::vector<std::unique_ptr<BridgeView>> bridges;
  std::vector<std::vector<RxAssignment>> rx_by_worker;   // index: worker id
  // By PortId, for the members of VLAN-aware bridges (nullptr otherwise); owned by vlan_store.
  std::array<const PortVlan*, kMaxPorts> vlan{};
  std::vector<std::unique_ptr<PortVlan>> vlan_store;

  struct PortPlacement {
    Port* port;
    Bridge* bridge;
    const VlanConfig* vlan = nullptr;  // nullptr: no VLAN configuration
  };
  // Builds the topology for `ports` (in creation order) over `workers` workers. Every rx queue is
  // given to exactly one worker: queues are dealt round-robin, so the queues of one port spread
  // over the workers and the totals differ by at most one. `mirrors` (each knows its bridge) make
  // their bridges VLAN-aware and mark their output ports.
  static std::unique_ptr<Topology> build(const std::vector<PortPlacement>& ports,
                                         const std::vector<Bridge*>& bridges, uint16_t workers,
                                         const std::vector<const Mirror*>& mirrors = {});
  ~Topology();
};

}  // namespace vsw
