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
#include "dataplane/fdb.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "dataplane/quiescent.h"
#include "dataplane/topology.h"
#include "dataplane/worker.h"

namespace vsw {

struct SwitchConfig {
  uint16_t workers = 1;
  std::vector<int> cpus;            // worker i is pinned to cpus[i % size]; empty: not pinned
  Mempool::Config pool;
  uint32_t idle_sleep_us = 50;      // after ~1000 empty polls a worker naps this long; 0 = pure busy-poll
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
};

struct FdbRow {
  MacAddress mac;
  std::string port;
  uint32_t age_s = 0;
};

struct RxQueueAssignment {
  std::string port;
  QueueId queue = 0;
};

struct WorkerInfo {
  uint16_t id = 0;
  int cpu = -1;
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
  // Picks a free PortId, calls make(id) and, on success, attaches the port to `bridge` and
  // assigns its rx queues to workers. Fails with AlreadyExists on a duplicate name.
  Status add_port(const std::string& bridge, const std::string& name, const PortMaker& make);
  // Detaches, flushes its MAC entries, waits for the workers to quiesce, destroys the port.
  Status del_port(const std::string& name);
  std::vector<PortInfo> ports() const;
  Result<PortInfo> port(const std::string& name) const;
  bool has_port(const std::string& name) const;

  // --- MAC tables --------------------------------------------------------------------------------
  Result<std::vector<FdbRow>> fdb_show(const std::string& bridge) const;
  // Flushes the whole table, or only one port's entries when `port` is non-empty.
  Status fdb_flush(const std::string& bridge, const std::string& port);

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

  SwitchConfig cfg_;
  QuiescentDomain qsd_;
  std::unique_ptr<Mempool> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<BridgeEntry>> bridges_;
  std::vector<std::string> bridge_order_;
  std::map<std::string, std::unique_ptr<PortEntry>> ports_;
  std::unique_ptr<const Topology> topology_;
  uint64_t next_port_seq_ = 0;  // creation order of ports (rx queues are dealt in it)
  bool running_ = false;
};

}  // namespace vsw
