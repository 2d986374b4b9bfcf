// dataplane/switch.cc — bridges, ports and workers; every change publishes a new Topology.
#include "dataplane/switch.h"

#include <algorithm>

#include "common/log.h"
#include "common/tsc.h"
#include "dataplane/switch_entries.h"

namespace vsw {

// Worker ids run 0..workers-1 and select a bridge's per-worker counters.
static_assert(Bridge::kMaxWorkers >= QuiescentDomain::kMaxSlots);

Result<std::unique_ptr<Switch>> Switch::create(const SwitchConfig& cfg) {
  if (cfg.workers == 0 || cfg.workers > QuiescentDomain::kMaxSlots) {
    return make_error(Errc::InvalidArgument, "worker count {} must be in 1..{}", cfg.workers,
                      QuiescentDomain::kMaxSlots);
  }
  std::unique_ptr<Switch> sw(new Switch(cfg));
  auto pool = Mempool::create("packets", cfg.pool);
  if (!pool) return std::move(pool).error();
  sw->pool_ = std::move(*pool);
  for (uint16_t i = 0; i < cfg.workers; ++i) {
    const int cpu = cfg.cpus.empty() ? -1 : cfg.cpus[i % cfg.cpus.size()];
    sw->workers_.push_back(std::make_unique<Worker>(i, cpu, cfg.poll_mode, sw->qsd_,
                                                      sw->pool_.get(), cfg.workers));
  }
  std::lock_guard guard(sw->mu_);
  sw->publish_locked();
  return sw;
}

Switch::Switch(const SwitchConfig& cfg) : cfg_(cfg) {}

Switch::~Switch() {
  stop();
  std::lock_guard guard(mu_);
  for (auto& w : workers_) w->adopt(nullptr);
  // Ports go before the mempool: their destructors return buffers they still hold.
  ports_.clear();
  bridges_.clear();
  topology_.reset();
}

Status Switch::start() {
  std::lock_guard guard(mu_);
  for (auto& w : workers_) {
    if (Status s = w->start(); !s) return s;
  }
  running_ = true;
  return ok();
}

void Switch::stop() {
  for (auto& w : workers_) w->stop();
  running_ = false;
}

Fdb::Config Switch::fdb_config(const BridgeConfig& cfg) const {
  const uint64_t hz = tsc_hz();
  return Fdb::Config{cfg.max_macs, static_cast<uint64_t>(cfg.aging_s) * hz, hz};
}

Status Switch::validate_bridge_config(const BridgeConfig& cfg) {
  if (cfg.aging_s < 10 || cfg.aging_s > 1'000'000) {
    return make_error(Errc::InvalidArgument, "aging_s {} must be in 10..1000000", cfg.aging_s);
  }
  if (cfg.max_macs < 16 || cfg.max_macs > (1u << 20)) {
    return make_error(Errc::InvalidArgument, "max_macs {} must be in 16..1048576", cfg.max_macs);
  }
  return ok();
}

void Switch::publish_locked() {
  std::vector<const PortEntry*> order;
  for (const auto& [name, e] : ports_) order.push_back(e.get());
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  std::vector<Topology::PortPlacement> placements;
  for (const PortEntry* e : order) {
    placements.push_back({e->port.get(), bridges_.at(e->bridge)->bridge.get(), &e->vlan});
  }
  std::vector<Bridge*> bridges;
  std::vector<const Mirror*> mirrors;
  for (const std::string& name : bridge_order_) {
    const BridgeEntry& b = *bridges_.at(name);
    bridges.push_back(b.bridge.get());
    for (const auto& m : b.mirrors) mirrors.push_back(m.get());
  }
  auto next = Topology::build(placements, bridges, static_cast<uint16_t>(workers_.size()), mirrors);
  for (auto& w : workers_) w->adopt(next.get());
  qsd_.synchronize();  // no worker still reads the previous topology after this
  topology_ = std::move(next);
}

PortId Switch::free_port_id_locked() const {
  std::vector<bool> used(kMaxPorts, false);
  for (const auto& [name, e] : ports_) used[e->port->id()] = true;
  for (PortId id = 0; id < kMaxPorts; ++id) {
    if (!used[id]) return id;
  }
  return kNoPort;
}

Status Switch::add_bridge(const std::string& name, const BridgeConfig& cfg) {
  if (Status s = validate_bridge_config(cfg); !s) return s;
  std::lock_guard guard(mu_);
  if (bridges_.count(name) != 0) return make_error(Errc::AlreadyExists, "bridge '{}' already exists", name);
  auto e = std::make_unique<BridgeEntry>();
  e->config = cfg;
  e->bridge = std::make_unique<Bridge>(name, fdb_config(cfg), pool_.get());
  bridges_.emplace(name, std::move(e));
  bridge_order_.push_back(name);
  publish_locked();
  log::bridge().info("bridge added bridge={} aging_s={} max_macs={}", name, cfg.aging_s, cfg.max_macs);
  return ok();
}

Status Switch::del_bridge(const std::string& name) {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(name);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
  std::unique_ptr<BridgeEntry> gone = std::move(it->second);
  std::vector<std::unique_ptr<PortEntry>> gone_ports;
  for (const std::string& p : gone->ports) {
    auto pit = ports_.find(p);
    gone_ports.push_back(std::move(pit->second));
    ports_.erase(pit);
  }
  bridges_.erase(it);
  std::erase(bridge_order_, name);
  publish_locked();  // waits for the workers: nothing below is in use any more
  for (auto& gp : gone_ports) captures_.port_removed(*gp->port);
  gone_ports.clear();
  log::bridge().info("bridge deleted bridge={} ports={}", name, gone->ports.size());
  return ok();
}

Status Switch::set_bridge(const std::string& name, const BridgeConfig& cfg) {
  if (Status s = validate_bridge_config(cfg); !s) return s;
  std::lock_guard guard(mu_);
  auto it = bridges_.find(name);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
  BridgeEntry& e = *it->second;
  const Fdb::Config fcfg = fdb_config(cfg);
  if (cfg.max_macs != e.config.max_macs) {
    // A new table; keep the most recently seen entries that fit.
    auto fresh = std::make_unique<Bridge>(name, fcfg, pool_.get());
    std::vector<FdbEntry> entries = e.bridge->fdb().snapshot();
    std::sort(entries.begin(), entries.end(),
              [](const FdbEntry& a, const FdbEntry& b) { return a.last_seen > b.last_seen; });
    for (const FdbEntry& fe : entries) {
      if (fresh->fdb().learn(fe.mac, fe.port, fe.last_seen, fe.vlan) == Fdb::Learn::TableFull) break;
    }
    std::unique_ptr<Bridge> old = std::move(e.bridge);
    e.bridge = std::move(fresh);
    for (auto& m : e.mirrors) m->set_bridge(e.bridge.get());
    publish_locked();  // no worker forwards through `old` any more: its counters are final
    e.bridge->inherit_counters(old->counters());
  } else {
    e.bridge->fdb().set_aging_ticks(fcfg.aging_ticks);
  }
  e.config = cfg;
  log::bridge().info("bridge changed bridge={} aging_s={} max_macs={}", name, cfg.aging_s, cfg.max_macs);
  return ok();
}

std::vector<BridgeInfo> Switch::bridges() const {
  std::lock_guard guard(mu_);
  std::vector<BridgeInfo> out;
  for (const std::string& name : bridge_order_) {
    const BridgeEntry& e = *bridges_.at(name);
    out.push_back(BridgeInfo{name, e.config, e.ports, e.bridge->fdb().stats(), e.bridge->counters()});
  }
  return out;
}

Result<BridgeInfo> Switch::bridge(const std::string& name) const {
  for (BridgeInfo& b : bridges()) {
    if (b.name == name) return std::move(b);
  }
  return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
}

Status Switch::add_port(const std::string& bridge, const std::string& name, const PortMaker& make,
                        const VlanConfig& vlan) {
  if (Status s = validate_vlan_config(vlan); !s) return s;
  std::lock_guard guard(mu_);
  auto bit = bridges_.find(bridge);
  if (bit == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  if (ports_.count(name) != 0) return make_error(Errc::AlreadyExists, "port '{}' already exists", name);
  const PortId id = free_port_id_locked();
  if (id == kNoPort) return make_error(Errc::ResourceExhausted, "no free port id (limit {})", kMaxPorts);
  auto port = make(id);
  if (!port) return std::move(port).error();
  auto e = std::make_unique<PortEntry>();
  e->port = std::move(*port);
  e->bridge = bridge;
  e->vlan = vlan;
  e->seq = ++next_port_seq_;
  ports_.emplace(name, std::move(e));
  bit->second->ports.push_back(name);
  publish_locked();
  log::port().info("port added port={} type={} bridge={} id={}", name,
                   ports_.at(name)->port->type(), bridge, id);
  return ok();
}

Status Switch::del_port(const std::string& name) {
  std::lock_guard guard(mu_);
  auto it = ports_.find(name);
  if (it == ports_.end()) return make_error(Errc::NotFound, "port '{}' does not exist", name);
  std::unique_ptr<PortEntry> gone = std::move(it->second);
  ports_.erase(it);
  BridgeEntry& b = *bridges_.at(gone->bridge);
  std::erase(b.ports, name);
  std::vector<std::unique_ptr<Mirror>> old_mirrors = forget_port_in_mirrors_locked(b, name);
  publish_locked();  // no worker polls or transmits to the port (or uses old mirrors) after this
  b.bridge->fdb().flush_port(gone->port->id());
  captures_.port_removed(*gone->port);
  gone.reset();
  log::port().info("port deleted port={}", name);
  return ok();
}

namespace {
PortInfo describe(const Port& p, const std::string& bridge, const VlanConfig& vlan) {
  PortInfo info;
  info.vlan = vlan;
  info.name = p.name();
  info.type = std::string(p.type());
  info.bridge = bridge;
  info.id = p.id();
  info.mtu = p.mtu();
  info.link = p.link_state();
  info.rx_queues = p.rx_queue_count();
  info.tx_queues = p.tx_queue_count();
  info.stats = p.counters().snapshot();
  info.details = p.details();
  return info;
}
}  // namespace

std::vector<PortInfo> Switch::ports() const {
  std::lock_guard guard(mu_);
  std::vector<PortInfo> out;
  for (const std::string& bname : bridge_order_) {
    for (const std::string& pname : bridges_.at(bname)->ports) {
      const PortEntry& e = *ports_.at(pname);
      out.push_back(describe(*e.port, bname, e.vlan));
    }
  }
  return out;
}

Result<PortInfo> Switch::port(const std::string& name) const {
  std::lock_guard guard(mu_);
  auto it = ports_.find(name);
  if (it == ports_.end()) return make_error(Errc::NotFound, "port '{}' does not exist", name);
  return describe(*it->second->port, it->second->bridge, it->second->vlan);
}

bool Switch::has_port(const std::string& name) const {
  std::lock_guard guard(mu_);
  return ports_.count(name) != 0;
}

Result<std::vector<FdbRow>> Switch::fdb_show(const std::string& bridge) const {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(bridge);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  const uint64_t now = rdtsc();
  const uint64_t hz = tsc_hz();
  std::vector<FdbRow> rows;
  for (const FdbEntry& e : it->second->bridge->fdb().snapshot()) {
    const Port* p = topology_->ports[e.port];
    rows.push_back(FdbRow{e.mac, p != nullptr ? p->name() : std::string("?"),
                          static_cast<uint32_t>(now > e.last_seen ? (now - e.last_seen) / hz : 0),
                          e.vlan});
  }
  return rows;
}

Status Switch::fdb_flush(const std::string& bridge, const std::string& port) {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(bridge);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  if (port.empty()) {
    it->second->bridge->fdb().flush();
    return ok();
  }
  auto pit = ports_.find(port);
  if (pit == ports_.end() || pit->second->bridge != bridge) {
    return make_error(Errc::NotFound, "port '{}' is not on bridge '{}'", port, bridge);
  }
  it->second->bridge->fdb().flush_port(pit->second->port->id());
  return ok();
}

Result<std::shared_ptr<Capture>> Switch::attach_capture(const CaptureSpec& spec,
                                                        uint32_t ring_bytes) {
  auto check = [&]() -> Result<Port*> {
    auto it = ports_.find(spec.port);
    if (it == ports_.end()) return make_error(Errc::NotFound, "port '{}' does not exist", spec.port);
    if (captures_.size() >= CaptureRegistry::kMaxCaptures) {
      return make_error(Errc::ResourceExhausted, "{} captures are running already (the limit)",
                        CaptureRegistry::kMaxCaptures);
    }
    return it->second->port.get();
  };
  {
    std::lock_guard guard(mu_);
    if (auto ok_so_far = check(); !ok_so_far) return std::move(ok_so_far).error();
  }
  // Compiling the filter may wait for name resolution (filter_compiler.h): not under the lock
  // that placement changes, stats and metrics take. workers_ is fixed after create().
  auto made = Capture::create(spec, static_cast<uint16_t>(workers_.size()), ring_bytes);
  if (!made) return std::move(made).error();
  std::shared_ptr<Capture> c = std::move(*made);
  std::lock_guard guard(mu_);
  auto port = check();  // the port may have gone meanwhile
  if (!port) return std::move(port).error();
  if (Status st = captures_.attach(**port, c); !st) return st.error();
  return c;
}

void Switch::detach_capture(const Capture* c) {
  std::lock_guard guard(mu_);
  captures_.detach(c);
}

std::vector<CaptureInfo> Switch::captures() const {
  std::lock_guard guard(mu_);
  return captures_.list();
}

std::vector<WorkerInfo> Switch::workers() const {
  std::lock_guard guard(mu_);
  std::vector<WorkerInfo> out;
  for (const auto& w : workers_) {
    WorkerInfo info{w->id(), w->cpu(), w->mode(), w->stats(), {}};
    if (w->id() < topology_->rx_by_worker.size()) {
      for (const RxAssignment& rx : topology_->rx_by_worker[w->id()]) {
        info.rx_queues.push_back(RxQueueAssignment{rx.port->name(), rx.queue});
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

void Switch::housekeeping() {
  std::lock_guard guard(mu_);
  const uint64_t now = rdtsc();
  for (auto& [name, e] : bridges_) {
    if (uint32_t n = e->bridge->fdb().expire(now); n != 0) {
      log::bridge().debug("mac entries aged bridge={} count={}", name, n);
    }
  }
  for (auto& [name, e] : ports_) e->port->housekeeping();
}

}  // namespace vsw
