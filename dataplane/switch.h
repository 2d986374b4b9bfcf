// dataplane/switch.h — the facade that owns bridges, ports, workers and the packet mempool.
// It is the only dataplane API the control plane calls.
//
// Threads: every method except start()/stop() is for the control thread only (one thread; an
// internal mutex also makes concurrent misuse safe). Changes build a new immutable Topology
// (dataplane/topology.h), publish it to the workers, and free whatever left it only after every
// worker passed a quiescent point (dataplane/quiescent.h): control never pauses forwarding.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/ether.h"
#include "common/result.h"
#include "dataplane/bridge.h"
#include "dataplane/capture/capture_registry.h"
#include "dataplane/fdb.h"
#include "dataplane/mempool.h"
#include "dataplane/mirror.h"
#include "dataplane/port.h"
#include "dataplane/quiescent.h"
#include "dataplane/topology.h"
#include "dataplane/vlan.h"
#include "dataplane/worker.h"

namespace vsw {

struct SwitchConfig {
  uint16_t workers = 1;
  std::vector<int> cpus;            // worker i is pinned to cpus[i % size]; empty: not pinned
  Mempool::Config pool;
  PollMode poll_mode = PollMode::Adaptive;  // idle workers sleep until traffic (worker.h), or busy
};

struct BridgeConfig {
  uint32_t aging_s = 300;           // MAC entries unseen this long are removed (10..1000000)
  uint32_t max_macs = 8192;         // MAC table capacity (16..1048576)
};

struct BridgeInfo {
  std::string name;
  BridgeConfig config;
  std::vector<std::string> ports;   // in the order they were added
  FdbStats fdb;
  BridgeCounters counters;
};

struct PortInfo {
  std::string name;
  std::string type;
  std::string bridge;
  PortId id = kNoPort;
  uint32_t mtu = 0;
  LinkState link = LinkState::Down;
  uint16_t rx_queues = 0, tx_queues = 0;
  PortStats stats;
  std::vector<std::pair<std::string, std::string>> details;
  VlanConfig vlan;
};

struct FdbRow {
  MacAddress mac;
  std::string port;
  uint32_t age_s = 0;
  uint16_t vlan = 0;  // 0 in a VLAN-unaware bridge (and for untagged frames of ports without VLAN)
};

struct MirrorInfo {
  MirrorConfig config;
  MirrorCounters counters;
};

struct RxQueueAssignment {
  std::string port;
  QueueId queue = 0;
};

struct WorkerInfo {
  uint16_t id = 0;
  int cpu = -1;
  PollMode mode = PollMode::Adaptive;
  WorkerStats stats;
  std::vector<RxQueueAssignment> rx_queues;
};

class Switch {
 public:
  using PortMaker = std::function<Result<std::unique_ptr<Port>>(PortId)>;

  static Result<std::unique_ptr<Switch>> create(const SwitchConfig& cfg);
  ~Switch();  // stops workers, destroys ports and bridges
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  Status start();   // starts and pins the workers
  void stop();      // joins the workers; idempotent

  Mempool& mempool() noexcept { return *pool_; }
  const Mempool& mempool() const noexcept { return *pool_; }
  uint16_t worker_count() const noexcept { return static_cast<uint16_t>(workers_.size()); }
  // Grace periods of the workers, for ports that swap state the fast path reads.
  QuiescentDomain& quiescent() noexcept { return qsd_; }

  // --- bridges ---------------------------------------------------------------------------------
  static Status validate_bridge_config(const BridgeConfig& cfg);
  Status add_bridge(const std::string& name, const BridgeConfig& cfg);
  // Deletes the bridge and every port on it.
  Status del_bridge(const std::string& name);
  // Changes aging and/or table size; a smaller table keeps the most recently seen entries.
  Status set_bridge(const std::string& name, const BridgeConfig& cfg);
  std::vector<BridgeInfo> bridges() const;
  Result<BridgeInfo> bridge(const std::string& name) const;

  // --- ports -------------------------------------------------------------------------------------
  // Picks a free PortId, calls make(id) and, on success, attaches the port to `bridge` with VLAN
  // settings `vlan` (dataplane/vlan.h; validated first) and assigns its rx queues to workers.
  // Fails with AlreadyExists on a duplicate name.
  Status add_port(const std::string& bridge, const std::string& name, const PortMaker& make,
                  const VlanConfig& vlan = {});
  // Changes a port's VLAN settings (InvalidArgument when inconsistent, nothing changed) and
  // forgets the MAC entries learned on it. The bridge becomes VLAN-aware as soon as one port has
  // a configuration, VLAN-unaware again when none has (and it has no mirror).
  Status set_port_vlan(const std::string& name, const VlanConfig& vlan);
  // Detaches, flushes its MAC entries, waits for the workers to quiesce, destroys the port.
  Status del_port(const std::string& name);
  std::vector<PortInfo> ports() const;
  Result<PortInfo> port(const std::string& name) const;
  bool has_port(const std::string& name) const;

  // --- MAC tables --------------------------------------------------------------------------------
  Result<std::vector<FdbRow>> fdb_show(const std::string& bridge) const;
  // Flushes the whole table, or only one port's entries when `port` is non-empty.
  Status fdb_flush(const std::string& bridge, const std::string& port);

  // --- mirrors (dataplane/mirror.h; switch_mirror.cc) ---------------------------------------------
  // NotFound for an unknown bridge or port (or a port of another bridge), AlreadyExists for a
  // duplicate mirror name on the bridge, InvalidArgument when nothing is selected, the output
  // port is also selected (or is selected by, or the output of... see the message), or a VLAN
  // is outside 1..4094. The output port's MAC entries are flushed.
  Status add_mirror(const std::string& bridge, const MirrorConfig& cfg);
  Status del_mirror(const std::string& bridge, const std::string& name);
  Result<std::vector<MirrorInfo>> mirrors(const std::string& bridge) const;

  // --- live capture (dataplane/capture/, docs/capture.md) -----------------------------------------
  // Compiles the filter, makes one ring per worker and starts copying `spec.port`'s frames.
  // InvalidArgument (bad snaplen or filter: libpcap's message), NotFound (no such port),
  // ResourceExhausted (CaptureRegistry::kMaxCaptures running). The caller drains the rings and
  // calls detach_capture() when done; a deleted port ends its captures (CaptureEnd::PortDeleted).
  Result<std::shared_ptr<Capture>> attach_capture(const CaptureSpec& spec,
                                                  uint32_t ring_bytes = Capture::kDefaultRingBytes);
  // Returns once no worker copies into `c` any more; no-op if it is not running.
  void detach_capture(const Capture* c);
  std::vector<CaptureInfo> captures() const;

  // --- dataplane ---------------------------------------------------------------------------------
  std::vector<WorkerInfo> workers() const;
  // Ages MAC tables and runs ports' housekeeping; call about every 100 ms.
  void housekeeping();

 private:
  struct BridgeEntry;
  struct PortEntry;
  explicit Switch(const SwitchConfig& cfg);
  void publish_locked();   // builds and publishes a new Topology, then reclaims the old one
  PortId free_port_id_locked() const;
  Fdb::Config fdb_config(const BridgeConfig& cfg) const;
  // del_port's part for mirrors: drops `port` from every selection of `b` and removes the mirrors
  // it was the output of; returns the replaced Mirror objects, to free after publishing.
  std::vector<std::unique_ptr<Mirror>> forget_port_in_mirrors_locked(BridgeEntry& b,
                                                                     const std::string& port);
  Result<std::unique_ptr<Mirror>> make_mirror_locked(const BridgeEntry& b,
                                                     const MirrorConfig& cfg) const;

  SwitchConfig cfg_;
  QuiescentDomain qsd_;
  std::unique_ptr<Mempool> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<BridgeEntry>> bridges_;
  std::vector<std::string> bridge_order_;
  std::map<std::string, std::unique_ptr<PortEntry>> ports_;
  std::unique_ptr<const Topology> topology_;
  CaptureRegistry captures_{qsd_};
  uint64_t next_port_seq_ = 0;  // creation order of ports (rx queues are dealt in it)
  bool running_ = false;
};

}  // namespace vsw
