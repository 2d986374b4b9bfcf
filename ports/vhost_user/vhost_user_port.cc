// ports/vhost_user/vhost_user_port.cc — VhostUserPort: options, the published DataPlan, and the
// fast-path entry points (the ring work is in guest_tx_queue.cc / guest_rx_queue.cc).
#include "ports/vhost_user/vhost_user_port.h"

#include <atomic>
#include <string>

#include "common/log.h"
#include "common/unix_ids.h"
#include "dataplane/quiescent.h"
#include "ports/vhost_user/data_plan.h"
#include "ports/vhost_user/vhost_endpoint.h"

namespace vsw::ports::vhost_user {

namespace {

class VhostUserPort final : public Port, public PlanPublisher {
 public:
  VhostUserPort(std::string name, PortId id, uint32_t mtu, uint16_t queues, QuiescentDomain* qsd)
      : Port(std::move(name), id, mtu), queues_(queues), qsd_(qsd) {}

  ~VhostUserPort() override { endpoint_.reset(); }  // the session unpublishes first

  Status open(boost::asio::io_context& io, const EndpointOptions& opts, Mempool* pool) {
    DeviceConfig dev;
    dev.queue_pairs = queues_;
    dev.port = id();
    dev.pool = pool;
    auto ep = Endpoint::create(io, opts, dev, *this);
    if (!ep) return std::move(ep).error();
    endpoint_ = std::move(*ep);
    return ok();
  }

  std::string_view type() const noexcept override { return "vhost-user"; }
  uint16_t rx_queue_count() const noexcept override { return queues_; }
  uint16_t tx_queue_count() const noexcept override { return queues_; }

  // --- fast path ---------------------------------------------------------------------------------
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override {
    DataPlan* p = plan_.load(std::memory_order_acquire);
    if (p == nullptr) return 0;
    GuestTxQueue* ring = p->rx[q % kMaxQueuePairs];
    if (ring == nullptr || p->failed()) return 0;
    Violation v = Violation::None;
    const uint16_t n = ring->receive(batch, counters_.rx(q), v);
    if (v != Violation::None) [[unlikely]] report(*p, v, static_cast<uint16_t>(2 * q + 1));
    return n;
  }

  // Wake-up source: the kick eventfd of guest tx ring 2q+1. Without a running ring (no plan,
  // the ring not started, a violation the housekeeping acts on) nothing arrives until the
  // control thread publishes a new plan, which wakes sleeping workers (publish()); a ring
  // without a usable kick eventfd gets the worker's short nap.
  int rx_wakeup_fd(QueueId q) const noexcept override {
    const GuestTxQueue* ring = running_rx(q);
    if (ring == nullptr) return kRxWakeupByControl;
    const int fd = ring->kick_fd();
    return fd >= 0 ? fd : kNoRxWakeup;
  }
  bool enable_rx_wakeup(QueueId q) noexcept override {
    GuestTxQueue* ring = running_rx(q);
    return ring == nullptr || ring->kick_fd() < 0 || ring->enable_kicks();
  }
  void disable_rx_wakeup(QueueId q, bool signalled) noexcept override {
    // The plan cannot change under a sleeping worker: unpublishing waits for its quiescent
    // point, which comes after this call. A plan unpublished meanwhile is skipped: its rings
    // are stopped and a new start suppresses kicks again.
    if (GuestTxQueue* ring = running_rx(q); ring != nullptr && ring->kick_fd() >= 0) {
      ring->disable_kicks(signalled);
    }
  }

  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override {
    DataPlan* p = plan_.load(std::memory_order_acquire);
    QueueCounters& qc = counters_.tx(q);
    if (p == nullptr || p->tx_rings == 0 || p->failed()) {
      qc.drop(DropReason::TxFull, batch.size());  // no guest ring: nowhere to put the frames
      batch.release_all();
      return 0;
    }
    const uint16_t r = static_cast<uint16_t>(q % p->tx_rings);
    SpinLock* lock = p->tx_shared ? &p->tx_locks[r] : nullptr;
    if (lock != nullptr) lock->lock();
    Violation v = Violation::None;
    const uint16_t n = p->tx[r]->transmit(batch, qc, v);
    if (lock != nullptr) lock->unlock();
    if (v != Violation::None) [[unlikely]] report(*p, v, static_cast<uint16_t>(2 * r));
    return n;
  }

  // --- PlanPublisher (control thread) --------------------------------------------------------------
  void publish(DataPlan* plan) noexcept override {
    plan_.store(plan, std::memory_order_release);
    // A worker asleep on this port's queues waits on none of them (kRxWakeupByControl): wake it
    // so it arms the new rings' kick eventfds.
    if (qsd_ != nullptr) qsd_->wake_sleepers();
  }
  void unpublish_and_wait() noexcept override {
    plan_.store(nullptr, std::memory_order_release);
    if (qsd_ != nullptr) qsd_->synchronize();
  }
  void set_guest_offloads(const OffloadCaps& caps) noexcept override { set_offload_caps(caps); }

  // --- control thread ----------------------------------------------------------------------------
  LinkState link_state() const noexcept override {
    const Device* d = endpoint_ ? endpoint_->device() : nullptr;
    return d != nullptr && d->running_rx() > 0 && d->running_tx() > 0 ? LinkState::Up
                                                                       : LinkState::Down;
  }

  std::vector<std::pair<std::string, std::string>> details() const override {
    const EndpointOptions& o = endpoint_->options();
    std::vector<std::pair<std::string, std::string>> d = {
        {"path", o.path},
        {"mode", o.mode == SocketMode::Server ? "server" : "client"},
        {"state", endpoint_->state()},
        {"queues", std::to_string(queues_)},
        {"connects", std::to_string(endpoint_->connects())},
        {"disconnects", std::to_string(endpoint_->disconnects())},
        {"violations", std::to_string(endpoint_->violations())},
    };
    if (const Device* dev = endpoint_->device()) {
      d.emplace_back("features", fmt::format("{:#x}", dev->features()));
      d.emplace_back("protocol_features", fmt::format("{:#x}", dev->protocol_features()));
      d.emplace_back("memory_regions", std::to_string(dev->memory_regions()));
      d.emplace_back("running_rx_rings", std::to_string(dev->running_rx()));
      d.emplace_back("running_tx_rings", std::to_string(dev->running_tx()));
      d.emplace_back("resyncs", std::to_string(dev->resyncs()));
      d.emplace_back("rx_super_frames", std::to_string(dev->rx_super_frames()));
      d.emplace_back("tx_super_frames", std::to_string(dev->tx_super_frames()));
    }
    // Per-queue frames, so that multi-queue use is visible ("q0=... q1=...").
    std::string rxq, txq;
    for (uint16_t q = 0; q < queues_; ++q) {
      rxq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.rx(q).packets.get());
      txq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.tx(q).packets.get());
    }
    d.emplace_back("rx_packets_per_queue", rxq);
    d.emplace_back("tx_packets_per_queue", txq);
    const OffloadCaps c = offload_caps();
    d.emplace_back("guest_offloads", fmt::format("csum={} tso4={} tso6={}", c.partial_csum,
                                                 c.tso4, c.tso6));
    if (!endpoint_->last_error().empty()) d.emplace_back("last_error", endpoint_->last_error());
    return d;
  }

  void housekeeping() override { endpoint_->housekeeping(); }

 private:
  GuestTxQueue* running_rx(QueueId q) const noexcept {
    DataPlan* p = plan_.load(std::memory_order_acquire);
    if (p == nullptr || p->failed()) return nullptr;
    return p->rx[q % kMaxQueuePairs];
  }

  void report(DataPlan& p, Violation v, uint16_t vring) noexcept {
    p.report(v, vring);
    VSW_LOG_RL(log::port(), spdlog::level::warn, 1000,
               "vhost-user guest violation port={} vring={} reason={}", name(), vring,
               violation_text(v));
  }

  uint16_t queues_;
  QuiescentDomain* qsd_;
  std::atomic<DataPlan*> plan_{nullptr};  // what the workers read
  std::unique_ptr<Endpoint> endpoint_;
};

Result<mode_t> parse_perm(const std::string& s) {
  if (s.empty() || s.size() > 4 || s.find_first_not_of("01234567") != std::string::npos) {
    return make_error(Errc::InvalidArgument, "option socket-mode={} is not an octal mode like 0660",
                      s);
  }
  return static_cast<mode_t>(std::stoul(s, nullptr, 8));
}

}  // namespace

Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) {
  if (auto st = check_option_keys(spec, {"path", "mode", "queues", "mtu", "socket-mode",
                                         "socket-owner", "socket-group"});
      !st) {
    return std::move(st).error();
  }
  EndpointOptions opts;
  opts.path = option_str(spec, "path",
                         (env.run_dir.empty() ? "/run/vsw" : env.run_dir) + "/" + spec.name + ".sock");
  const std::string mode = option_str(spec, "mode", "client");
  if (mode == "client") {
    opts.mode = SocketMode::Client;
  } else if (mode == "server") {
    opts.mode = SocketMode::Server;
  } else {
    return make_error(Errc::InvalidArgument, "option mode={} must be client or server", mode);
  }
  auto queues = option_uint(spec, "queues", 1, 1, kMaxQueuePairs);
  if (!queues) return std::move(queues).error();
  auto mtu = option_uint(spec, "mtu", kDefaultMtu, 68, kMaxMtu);
  if (!mtu) return std::move(mtu).error();
  const bool server_only = spec.options.count("socket-mode") || spec.options.count("socket-owner") ||
                           spec.options.count("socket-group");
  if (server_only && opts.mode != SocketMode::Server) {
    return make_error(Errc::InvalidArgument,
                      "options socket-mode, socket-owner and socket-group need mode=server "
                      "(in client mode the front-end creates the socket)");
  }
  if (auto it = spec.options.find("socket-mode"); it != spec.options.end()) {
    auto perm = parse_perm(it->second);
    if (!perm) return std::move(perm).error();
    opts.perm = *perm;
  }
  if (auto it = spec.options.find("socket-owner"); it != spec.options.end()) {
    auto uid = user_id(it->second, "option socket-owner");
    if (!uid) return std::move(uid).error();
    opts.owner = *uid;
  }
  if (auto it = spec.options.find("socket-group"); it != spec.options.end()) {
    auto gid = group_id(it->second, "option socket-group");
    if (!gid) return std::move(gid).error();
    opts.group = *gid;
  }
  auto port = std::make_unique<VhostUserPort>(spec.name, id, static_cast<uint32_t>(*mtu),
                                              static_cast<uint16_t>(*queues), env.quiescent);
  if (auto st = port->open(env.io, opts, &env.pool); !st) return std::move(st).error();
  log::port().info("vhost-user port created port={} path={} mode={} queues={}", spec.name,
                   opts.path, mode, *queues);
  return std::unique_ptr<Port>(std::move(port));
}

}  // namespace vsw::ports::vhost_user
