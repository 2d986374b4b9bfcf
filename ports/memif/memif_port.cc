// ports/memif/memif_port.cc — MemifPort: options, connection publishing, the fast-path entry
// points (the ring work itself is in memif_rx.cc / memif_tx.cc).
#include "ports/memif/memif_port.h"

#include <unistd.h>

#include <atomic>
#include <bit>
#include <string>

#include "common/log.h"
#include "dataplane/quiescent.h"
#include "ports/memif/memif_connection.h"
#include "ports/memif/memif_session.h"
#include "ports/memif/memif_socket.h"

namespace vsw::ports::memif {

namespace {

class MemifPort final : public Port, public Endpoint {
 public:
  MemifPort(std::string name, PortId id, uint32_t mtu, uint32_t if_id, EndpointConfig cfg,
            std::shared_ptr<MemifSocket> socket, QuiescentDomain* qsd)
      : Port(std::move(name), id, mtu),
        socket_(std::move(socket)),
        if_id_(if_id),
        cfg_(std::move(cfg)),
        qsd_(qsd) {}

  ~MemifPort() override {
    if (registered_) socket_->remove_endpoint(if_id_);  // ends a session: on_disconnected()
    if (owned_) unpublish();
  }

  Status register_id() {
    if (auto st = socket_->add_endpoint(if_id_, *this); !st) return st;
    registered_ = true;
    return ok();
  }

  std::string_view type() const noexcept override { return "memif"; }
  uint16_t rx_queue_count() const noexcept override { return cfg_.rings; }
  uint16_t tx_queue_count() const noexcept override { return cfg_.rings; }

  // --- fast path ---------------------------------------------------------------------------------
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override {
    Connection* c = conn_.load(std::memory_order_acquire);
    if (c == nullptr || q >= c->rx_count() || c->failed()) return 0;
    Violation v = Violation::None;
    const uint16_t n = c->rx(q).receive(c->regions(), batch, counters_.rx(q), v);
    if (v != Violation::None) report(*c, v, q, "rx");
    return n;
  }

  // Wake-up source: the interrupt eventfd of C2S ring q. Without a connection (or with the
  // client using fewer rings, or after a violation) nothing arrives until the control thread
  // publishes a new connection, which wakes sleeping workers (on_connected).
  int rx_wakeup_fd(QueueId q) const noexcept override {
    Connection* c = conn_.load(std::memory_order_acquire);
    if (c == nullptr || q >= c->rx_count() || c->failed()) return kRxWakeupByControl;
    const int fd = c->rx_eventfd(q);
    return fd >= 0 ? fd : kNoRxWakeup;
  }

  bool enable_rx_wakeup(QueueId q) noexcept override {
    Connection* c = conn_.load(std::memory_order_acquire);
    if (c == nullptr || q >= c->rx_count() || c->failed()) return true;
    return c->rx(q).enable_interrupts();
  }

  void disable_rx_wakeup(QueueId q, bool signalled) noexcept override {
    Connection* c = conn_.load(std::memory_order_acquire);
    if (c == nullptr || q >= c->rx_count()) return;
    c->rx(q).disable_interrupts();
    // The eventfd is the client's and may be blocking: read it only when poll(2) said it is
    // readable (vsw is its only reader, so the read cannot block).
    const int fd = c->rx_eventfd(q);
    if (signalled && fd >= 0) {
      uint64_t count;
      (void)!::read(fd, &count, sizeof(count));
    }
  }

  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override {
    Connection* c = conn_.load(std::memory_order_acquire);
    QueueCounters& qc = counters_.tx(q);
    if (c == nullptr || c->failed()) {
      qc.drop(DropReason::TxFull, batch.size());  // no client: nowhere to put the frames
      batch.release_all();
      return 0;
    }
    const uint16_t r = static_cast<uint16_t>(q % c->tx_count());
    SpinLock* lock = c->tx_lock(r);  // only when several tx queues share ring r
    if (lock != nullptr) lock->lock();
    Violation v = Violation::None;
    const uint16_t n = c->tx(r).transmit(c->regions(), batch, qc, v);
    if (lock != nullptr) lock->unlock();
    if (v != Violation::None) report(*c, v, q, "tx");
    return n;
  }

  // --- control thread ----------------------------------------------------------------------------
  LinkState link_state() const noexcept override {
    return owned_ != nullptr ? LinkState::Up : LinkState::Down;
  }

  std::vector<std::pair<std::string, std::string>> details() const override {
    std::vector<std::pair<std::string, std::string>> d = {
        {"socket", socket_->path()},
        {"id", std::to_string(if_id_)},
        {"role", "server"},
        {"mode", "ethernet"},
        {"state", state_name()},
        {"rings", std::to_string(cfg_.rings)},
        {"ring_size", std::to_string(1u << cfg_.max_log2_ring_size)},
        {"buffer_size", std::to_string(cfg_.buffer_bytes)},
        {"connects", std::to_string(connects_)},
        {"disconnects", std::to_string(disconnects_)},
    };
    if (owned_ != nullptr) {
      d.emplace_back("peer", peer_.app_name);
      d.emplace_back("peer_if_name", peer_.if_name);
      d.emplace_back("peer_pid", std::to_string(peer_.pid));
      d.emplace_back("peer_rings", fmt::format("c2s={} s2c={}", owned_->rx_count(),
                                               owned_->tx_count()));
      d.emplace_back("peer_ring_size", std::to_string(1u << owned_->ring_log2()));
      d.emplace_back("interrupts", std::to_string(owned_->interrupts()));
    }
    if (!last_reason_.empty()) d.emplace_back("last_disconnect", last_reason_);
    return d;
  }

  void housekeeping() override {
    // Violations found by the workers are acted on here, on the control thread.
    if (owned_ != nullptr && owned_->failed() && session_ != nullptr) {
      const std::string reason(violation_text(owned_->violation()));
      log::port().warn("memif client disconnected port={} id={} peer={} pid={} reason={}",
                       name(), if_id_, peer_.app_name, peer_.pid, reason);
      session_->close(reason, true);
    }
  }

  // --- Endpoint (control thread) -----------------------------------------------------------------
  const EndpointConfig& endpoint_config() const noexcept override { return cfg_; }
  Session* session() const noexcept override { return session_; }
  void set_session(Session* s) noexcept override { session_ = s; }

  void on_connected(std::unique_ptr<Connection> conn, const PeerInfo& peer) override {
    if (owned_) unpublish();
    conn->bind(id(), cfg_.buffer_bytes, tx_queue_count());
    owned_ = std::move(conn);
    peer_ = peer;
    ++connects_;
    conn_.store(owned_.get(), std::memory_order_release);
    // A worker asleep on this port's queues waits on none of them (kRxWakeupByControl): wake it
    // so it arms the new connection's eventfds.
    if (qsd_ != nullptr) qsd_->wake_sleepers();
    log::port().info(
        "memif client connected port={} id={} peer={} if_name={} pid={} c2s={} s2c={} ring_size={}",
        name(), if_id_, peer_.app_name, peer_.if_name, peer_.pid, owned_->rx_count(),
        owned_->tx_count(), 1u << owned_->ring_log2());
  }

  void on_disconnected(std::string_view reason) override {
    last_reason_ = std::string(reason);
    ++disconnects_;
    unpublish();
    log::port().info("memif client gone port={} id={} reason={}", name(), if_id_, reason);
  }

 private:
  // Workers stop seeing the connection, then (after every worker passed a quiescent point)
  // nothing can still point into the client's memory: unmap and close.
  void unpublish() {
    conn_.store(nullptr, std::memory_order_release);
    if (qsd_ != nullptr) qsd_->synchronize();
    owned_.reset();
  }

  void report(Connection& c, Violation v, QueueId q, const char* dir) noexcept {
    c.report(v);
    VSW_LOG_RL(log::port(), spdlog::level::warn, 1000,
               "memif client violation port={} queue={} dir={} reason={}", name(), q, dir,
               violation_text(v));
  }

  std::string state_name() const {
    if (owned_ != nullptr) return "connected";
    if (session_ != nullptr) return "handshake";
    return "listening";
  }

  std::shared_ptr<MemifSocket> socket_;
  uint32_t if_id_;
  EndpointConfig cfg_;
  QuiescentDomain* qsd_;
  bool registered_ = false;
  std::atomic<Connection*> conn_{nullptr};  // what the workers read
  std::unique_ptr<Connection> owned_;        // control thread's owning pointer
  Session* session_ = nullptr;
  PeerInfo peer_;
  uint64_t connects_ = 0;
  uint64_t disconnects_ = 0;
  std::string last_reason_;
};

}  // namespace

Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) {
  if (auto st = check_option_keys(
          spec, {"id", "socket", "secret", "rings", "ring-size", "buffer-size", "mtu"});
      !st) {
    return std::move(st).error();
  }
  auto if_id = option_uint(spec, "id", 0, 0, UINT32_MAX);
  if (!if_id) return std::move(if_id).error();
  auto rings = option_uint(spec, "rings", 1, 1, PortCounters::kMaxQueues);
  if (!rings) return std::move(rings).error();
  auto ring_size = option_uint(spec, "ring-size", 1u << kDefaultLog2RingSize, 2,
                               1u << kMaxLog2RingSize);
  if (!ring_size) return std::move(ring_size).error();
  if (!std::has_single_bit(*ring_size)) {
    return make_error(Errc::InvalidArgument, "option ring-size={} must be a power of two",
                      *ring_size);
  }
  auto buffer = option_uint(spec, "buffer-size", kDefaultBufferBytes, 64, 65535);
  if (!buffer) return std::move(buffer).error();
  auto mtu = option_uint(spec, "mtu", kDefaultMtu, 68, kMaxMtu);
  if (!mtu) return std::move(mtu).error();
  EndpointConfig cfg;
  cfg.name = spec.name.substr(0, kNameBytes);
  cfg.secret = option_str(spec, "secret", "");
  if (cfg.secret.size() > kSecretBytes) {
    return make_error(Errc::InvalidArgument, "option secret is longer than {} bytes",
                      kSecretBytes);
  }
  cfg.rings = static_cast<uint16_t>(*rings);
  cfg.max_log2_ring_size = static_cast<uint8_t>(std::countr_zero(*ring_size));
  cfg.buffer_bytes = static_cast<uint32_t>(*buffer);
  const std::string path =
      option_str(spec, "socket", (env.run_dir.empty() ? "/run/vsw" : env.run_dir) + "/memif.sock");
  auto socket = MemifSocket::acquire(env.io, path);
  if (!socket) return std::move(socket).error();
  auto port = std::make_unique<MemifPort>(spec.name, id, static_cast<uint32_t>(*mtu),
                                          static_cast<uint32_t>(*if_id), std::move(cfg),
                                          std::move(*socket), env.quiescent);
  if (auto st = port->register_id(); !st) return std::move(st).error();
  log::port().info("memif port created port={} socket={} id={} rings={} ring_size={}",
                   spec.name, path, *if_id, *rings, *ring_size);
  return std::unique_ptr<Port>(std::move(port));
}

}  // namespace vsw::ports::memif
