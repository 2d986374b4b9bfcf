// dataplane/worker.cc — the poll loop. A frame's walk: rx_burst -> Bridge::forward ->
// TxBatcher -> Port::transmit -> tx_burst.
#include "dataplane/worker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/cpu.h"
#include "common/log.h"
#include "common/tsc.h"
#include "dataplane/bridge.h"
#include "dataplane/capture/port_captures.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "dataplane/topology.h"

namespace vsw {

namespace {
// Drains an eventfd(2) made with EFD_NONBLOCK (the count returns to 0).
void drain_eventfd(int fd) noexcept {
  uint64_t count;
  (void)!::read(fd, &count, sizeof(count));
}
}  // namespace

Worker::Worker(uint16_t id, int cpu, PollMode mode, QuiescentDomain& qsd, Mempool* pool,
               uint16_t workers)
    : id_(id), cpu_(cpu), mode_(mode), qsd_(qsd),
      batcher_(std::make_unique<TxBatcher>()),
      tx_ctx_(std::make_unique<TxContext>(id, workers, pool)),
      rx_batch_(std::make_unique<PacketBatch>()) {}

Worker::~Worker() {
  stop();
  if (doorbell_ >= 0) ::close(doorbell_);
}

Status Worker::start() {
  if (thread_.joinable()) return ok();
  if (mode_ == PollMode::Adaptive && doorbell_ < 0) {
    doorbell_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (doorbell_ < 0) {
      return make_error(Errc::ResourceExhausted, "cannot start worker {}: eventfd: {}", id_,
                        std::strerror(errno));
    }
  }
  qs_slot_ = qsd_.register_thread();
  if (qs_slot_ == nullptr) return make_error(Errc::ResourceExhausted, "too many workers");
  QuiescentDomain::set_doorbell(qs_slot_, doorbell_);
  // Online before the thread exists: a synchronize() right after start() waits for it.
  QuiescentDomain::set_online(qs_slot_, true);
  stop_.store(false, std::memory_order_relaxed);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    qsd_.unregister_thread(qs_slot_);
    qs_slot_ = nullptr;
    return make_error(Errc::ResourceExhausted, "cannot start worker {}: {}", id_, e.what());
  }
  return ok();
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_seq_cst);
  // A sleeping worker checks stop_ before it sleeps and wakes on the doorbell after: the ring
  // stays counted in the eventfd until drained, so it cannot be missed.
  if (doorbell_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(doorbell_, &one, sizeof(one));
  }
  thread_.join();
  qsd_.unregister_thread(qs_slot_);
  qs_slot_ = nullptr;
}

void Worker::run() noexcept {
  const std::string name = "vsw-worker" + std::to_string(id_);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  if (cpu_ >= 0) {
    if (Status s = pin_current_thread(cpu_); !s) {
      log::dp().warn("worker not pinned worker={} cpu={} reason={}", id_, cpu_, s.error().message);
    }
  }
  Mempool::bind_thread_cache(id_);
  log::dp().info("worker started worker={} cpu={}", id_, cpu_);
  const uint64_t sleep_after = tsc_hz() / 1'000'000 * kSleepAfterUs;
  armed_.reserve(64);
  pollfds_.reserve(65);
  uint64_t idle_since = 0;  // TSC at the first of the current run of empty passes; 0: none
  while (!stop_.load(std::memory_order_relaxed)) {
    if (poll_once() != 0 || mode_ == PollMode::Busy) {
      idle_since = 0;
      continue;
    }
    const uint64_t now = rdtsc();
    if (idle_since == 0) {
      idle_since = now;
    } else if (now - idle_since >= sleep_after) {
      sleep_until_traffic();
      // Woken by a signal: poll for kSleepAfterUs again before the next sleep. A quiet timeout
      // (a nap for queues without wake-up source, or the backstop): sleep again after one pass.
      idle_since = quiet_timeout_ ? now - sleep_after : 0;
    }
  }
  Mempool::unbind_thread_cache();
  log::dp().info("worker stopped worker={}", id_);
}

uint32_t Worker::poll_once() noexcept {
  const uint64_t start = rdtsc();
  const Topology* topo = topo_.load(std::memory_order_acquire);
  uint32_t moved = 0;
  uint64_t bursts = 0;
  if (topo != nullptr && id_ < topo->rx_by_worker.size()) {
    PacketBatch& batch = *rx_batch_;  // empty between bursts: forward() hands every frame on
    for (const RxAssignment& rx : topo->rx_by_worker[id_]) {
      const uint16_t n = rx.port->rx_burst(rx.queue, batch);
      if (n == 0) continue;
      moved += n;
      ++bursts;
      // Live capture, rx direction: the frames as received, before the bridge (docs/capture.md).
      if (const PortCaptures* caps = rx.port->captures()) [[unlikely]] caps->on_rx(id_, batch);
      rx.bridge->bridge->forward(id_, rx.port->id(), batch, *rx.bridge, *topo, *batcher_,
                                 rx.port->counters().rx(rx.queue), start);
      batcher_->flush([&](PortId to, PacketBatch& out) noexcept {
        Port* port = topo->ports[to];
        if (port != nullptr) {
          port->transmit(*tx_ctx_, out);
        } else {
          out.release_all();
        }
      });
      tx_ctx_->end_flush();
    }
  }
  if (qs_slot_ != nullptr) QuiescentDomain::quiescent(qs_slot_);
  const uint64_t spent = rdtsc() - start;
  if (moved != 0) {
    packets_.add(moved);
    batches_.add(bursts);
    busy_tsc_.add(spent);
  } else {
    idle_tsc_.add(spent);
  }
  return moved;
}

bool Worker::sleep_until_traffic() noexcept {
  const uint64_t t0 = rdtsc();
  const Topology* topo = topo_.load(std::memory_order_acquire);
  armed_.clear();
  pollfds_.clear();
  pollfds_.push_back(pollfd{doorbell_, POLLIN, 0});
  int64_t timeout_us = int64_t{max_sleep_ms_} * 1000;
  bool frame_waiting = false;
  quiet_timeout_ = false;
  if (topo != nullptr && id_ < topo->rx_by_worker.size()) {
    for (const RxAssignment& rx : topo->rx_by_worker[id_]) {
      const int fd = rx.port->rx_wakeup_fd(rx.queue);
      if (fd == Port::kRxWakeupByControl) continue;
      const int index = fd >= 0 ? static_cast<int>(pollfds_.size()) : -1;
      armed_.push_back(Armed{rx.port, rx.queue, index});
      if (fd >= 0) pollfds_.push_back(pollfd{fd, POLLIN, 0});
      if (!rx.port->enable_rx_wakeup(rx.queue)) {
        frame_waiting = true;
        break;
      }
      if (fd < 0) {
        timeout_us = std::min<int64_t>(timeout_us, kUnarmedSleepUs);
      }
    }
  }
  // stop() stores stop_ and then rings: either it is seen here, or the ring wakes poll().
  bool slept = false;
  if (!frame_waiting && !stop_.load(std::memory_order_seq_cst)) {
    sleeps_.add(1);
    slept = true;
    // ppoll(2): a timeout in nanoseconds, for the short nap of queues without wake-up source.
    const timespec timeout{static_cast<time_t>(timeout_us / 1'000'000),
                           static_cast<long>(timeout_us % 1'000'000) * 1000};
    const int n = ::ppoll(pollfds_.data(), pollfds_.size(), &timeout, nullptr);
    quiet_timeout_ = n == 0;
    if (n > 0) {
      if ((pollfds_[0].revents & POLLIN) != 0) drain_eventfd(doorbell_);
      for (size_t i = 1; i < pollfds_.size(); ++i) {
        if ((pollfds_[i].revents & POLLIN) != 0) {
          wakeups_.add(1);
          break;
        }
      }
    }
  }
  for (const Armed& a : armed_) {
    const bool signalled =
        slept && a.poll_index >= 0 && (pollfds_[a.poll_index].revents & POLLIN) != 0;
    a.port->disable_rx_wakeup(a.queue, signalled);
  }
  idle_tsc_.add(rdtsc() - t0);
  return slept;
}

WorkerStats Worker::stats() const noexcept {
  WorkerStats s;
  s.packets = packets_.get();
  s.batches = batches_.get();
  s.busy_tsc = busy_tsc_.get();
  s.idle_tsc = idle_tsc_.get();
  s.sleeps = sleeps_.get();
  s.wakeups = wakeups_.get();
  return s;
}

}  // namespace vsw
