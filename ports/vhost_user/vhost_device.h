// ports/vhost_user/vhost_device.h — vsw's side of one vhost-user connection: the request
// handling of the protocol (vhost-user.md §3–§6), the state of the rings, the mapped guest
// memory, and the DataPlan the workers use.
//
// One Device per connection, on the control thread. handle() takes one request and says what to
// answer; it never does I/O (the session, vhost_session.h, reads and writes the socket), so the
// whole protocol can be driven by tests and a fuzzer with no socket at all.
//
// Ring states (vhost-user.md §5): stopped (initial; after GET_VRING_BASE) -> started (at
// SET_VRING_KICK; the ring addresses are translated then) -> enabled (at once when
// VHOST_USER_F_PROTOCOL_FEATURES was not negotiated, else at SET_VRING_ENABLE 1). A ring runs
// when it is started and enabled and a memory table exists. Every change of what runs (ring
// start/stop/enable, a new call fd, a new memory table) rebuilds the DataPlan: the old one is
// unpublished and the workers' grace period passes before any queue stops or memory is unmapped.
//
// Untrusted front-end: every request is checked (payload size exact, ring index below the
// configured queue pairs, sizes and addresses inside guest memory, descriptors of the right
// kind); what is not offered is refused. A request that breaks the rules is an Error: the
// session logs its message and closes the connection. Descriptors arriving with a message are
// owned by the Message and closed unless a request keeps them (memory, kick, call, err: bounded
// by the number of rings and regions).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/offload_caps.h"
#include "ports/shm/peer_mapping.h"
#include "ports/shm/unique_fd.h"
#include "ports/vhost_user/data_plan.h"
#include "ports/vhost_user/vhost_channel.h"

namespace vsw {
class Mempool;
}

namespace vsw::ports::vhost_user {

// What the Device needs of its port: publishing the plan to the workers.
class PlanPublisher {
 public:
  virtual ~PlanPublisher() = default;
  // Workers see `plan` (nullptr: nothing) from their next poll on.
  virtual void publish(DataPlan* plan) noexcept = 0;
  // Workers stop seeing the current plan; returns after every worker passed a quiescent point.
  virtual void unpublish_and_wait() noexcept = 0;
  // What the guest accepts on its rx rings, for Port::transmit's software offloads.
  virtual void set_guest_offloads(const OffloadCaps& caps) noexcept = 0;
};

struct DeviceConfig {
  uint16_t queue_pairs = 1;  // what GET_QUEUE_NUM answers; rings 0 .. 2 * queue_pairs - 1
  PortId port = kNoPort;
  Mempool* pool = nullptr;
  uint64_t max_guest_bytes = uint64_t{64} << 30;  // the most one front-end may map
};

// What handle() asks the session to send back.
struct Reply {
  bool send = false;
  uint64_t value = 0;        // u64 payloads (features, status, queue number)
  VringState state{};        // GET_VRING_BASE
  bool is_state = false;
};

class Device {
 public:
  Device(const DeviceConfig& cfg, PlanPublisher& pub);
  ~Device();  // unpublishes (with the grace period), stops the rings, unmaps
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Handles one request; `reply` says what to answer (the request's own reply, or a REPLY_ACK
  // status when the front-end asked for one). An Error means the connection must end; its
  // message is the reason (logged by the session, shown in port details).
  Status handle(Message& msg, Reply& reply);

  // --- state for port details and tests --------------------------------------------------------
  bool running() const noexcept { return plan_ != nullptr; }
  uint64_t features() const noexcept { return features_; }
  uint64_t protocol_features() const noexcept { return protocol_features_; }
  uint16_t running_rx() const noexcept;  // guest tx rings in the plan
  uint16_t running_tx() const noexcept;  // guest rx rings in the plan
  uint32_t memory_regions() const noexcept { return static_cast<uint32_t>(mappings_.size()); }
  uint64_t resyncs() const noexcept { return resyncs_; }
  // GSO super-frames taken whole from the guest (its tx rings) and delivered whole to it, since
  // this connection began.
  uint64_t rx_super_frames() const noexcept;
  uint64_t tx_super_frames() const noexcept;
  // The first data-path violation of the published plan (Violation::None when healthy).
  Violation violation() const noexcept {
    return plan_ ? plan_->violation.load(std::memory_order_relaxed) : Violation::None;
  }
  uint16_t violation_vring() const noexcept {
    return plan_ ? plan_->violation_vring.load(std::memory_order_relaxed) : 0;
  }

 private:
  struct Vring {
    uint32_t num = 0;
    VringAddr addr{};
    bool has_addr = false;
    uint16_t base = 0;
    UniqueFd kick, call, err;
    bool started = false;
    bool enabled = false;
  };

  Status dispatch(Message& msg, Reply& reply);
  Status set_features(uint64_t f);
  Status set_mem_table(Message& msg);
  Status set_vring_fd(Message& msg, uint32_t& index);
  Result<uint32_t> vring_index(uint64_t raw) const;
  // Unpublishes the plan (waiting for the workers' grace period) and stops its queues, saving
  // each ring's next index in its Vring::base. Nothing runs afterwards.
  void stop_all() noexcept;
  // Starts every ring that is started and enabled over the current memory and publishes the
  // plan (when any runs). An Error (ring addresses outside memory, ...) leaves nothing running.
  Status start_ready();
  QueueConfig queue_config(uint32_t index) const;

  DeviceConfig cfg_;
  PlanPublisher& pub_;
  uint64_t features_ = 0;
  uint64_t protocol_features_ = 0;
  bool features_set_ = false;
  bool protocol_features_set_ = false;
  bool owner_ = false;
  std::vector<shm::PeerMapping> mappings_;
  std::vector<GuestRegion> regions_;
  std::array<Vring, 2 * kMaxQueuePairs> vrings_{};
  std::array<std::unique_ptr<GuestTxQueue>, kMaxQueuePairs> guest_tx_{};
  std::array<std::unique_ptr<GuestRxQueue>, kMaxQueuePairs> guest_rx_{};
  std::unique_ptr<DataPlan> plan_;  // published while non-null
  uint64_t resyncs_ = 0;
};

}  // namespace vsw::ports::vhost_user
