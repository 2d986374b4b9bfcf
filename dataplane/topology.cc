// dataplane/topology.cc — building the immutable topology and the rx-queue assignment.
#include "dataplane/topology.h"

#include "dataplane/mirror.h"
#include "dataplane/port.h"
#include "dataplane/vlan.h"

namespace vsw {

Topology::~Topology() = default;

std::unique_ptr<Topology> Topology::build(const std::vector<PortPlacement>& ports,
                                          const std::vector<Bridge*>& bridges, uint16_t workers,
                                          const std::vector<const Mirror*>& mirrors) {
  auto t = std::make_unique<Topology>();
  t->rx_by_worker.resize(workers == 0 ? 1 : workers);
  for (Bridge* b : bridges) {
    auto view = std::make_unique<BridgeView>();
    view->bridge = b;
    for (const Mirror* m : mirrors) {
      if (m->bridge() == b) view->mirrors.push_back(m);
    }
    view->vlan_aware = !view->mirrors.empty();
    for (const PortPlacement& pp : ports) {
      if (pp.bridge != b) continue;
      view->members.push_back(pp.port->id());
      if (pp.vlan != nullptr && pp.vlan->configured()) view->vlan_aware = true;
    }
    if (view->vlan_aware) {
      for (const PortPlacement& pp : ports) {
        if (pp.bridge != b) continue;
        auto v = std::make_unique<PortVlan>(pp.vlan != nullptr ? PortVlan::from(*pp.vlan)
                                                               : PortVlan{});
        for (const Mirror* m : view->mirrors) v->mirror_output |= m->output() == pp.port->id();
        t->vlan[pp.port->id()] = v.get();
        t->vlan_store.push_back(std::move(v));
      }
    }
    t->bridges.push_back(std::move(view));
  }
  size_t next_worker = 0;
  for (const PortPlacement& pp : ports) {
    t->ports[pp.port->id()] = pp.port;
    const BridgeView* view = nullptr;
    for (const auto& v : t->bridges) {
      if (v->bridge == pp.bridge) view = v.get();
    }
    for (QueueId q = 0; q < pp.port->rx_queue_count(); ++q) {
      t->rx_by_worker[next_worker].push_back(RxAssignment{pp.port, q, view});
      next_worker = (next_worker + 1) % t->rx_by_worker.size();
    }
  }
  return t;
}

}  // namespace vsw
