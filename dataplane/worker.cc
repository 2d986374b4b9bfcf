// dataplane/worker.cc — the poll loop. A frame's walk: rx_burst -> Bridge::forward ->
// TxBatcher -> Port::transmit -> tx_burst.
#include "dataplane/worker.h"

#include <pthread.h>
#include <time.h>

#include <string>

#include "common/cpu.h"
#include "common/log.h"
#include "common/tsc.h"
#include "dataplane/bridge.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "dataplane/topology.h"

namespace vsw {

namespace {
constexpr uint32_t kEmptyPassesBeforeNap = 1024;
}  // namespace

Worker::Worker(uint16_t id, int cpu, uint32_t idle_sleep_us, QuiescentDomain& qsd, Mempool* pool,
               uint16_t workers)
    : id_(id), cpu_(cpu), idle_sleep_us_(idle_sleep_us), qsd_(qsd),
      batcher_(std::make_unique<TxBatcher>()),
      tx_ctx_(std::make_unique<TxContext>(id, workers, pool)),
      rx_batch_(std::make_unique<PacketBatch>()) {}

Worker::~Worker() { stop(); }

Status Worker::start() {
  if (thread_.joinable()) return ok();
  qs_slot_ = qsd_.register_thread();
  if (qs_slot_ == nullptr) return make_error(Errc::ResourceExhausted, "too many workers");
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
  stop_.store(true, std::memory_order_relaxed);
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
  uint32_t empty_passes = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (poll_once() != 0) {
      empty_passes = 0;
    } else if (idle_sleep_us_ != 0 && ++empty_passes >= kEmptyPassesBeforeNap) {
      const uint64_t t0 = rdtsc();
      timespec nap{0, static_cast<long>(idle_sleep_us_) * 1000};
      nanosleep(&nap, nullptr);
      idle_tsc_.add(rdtsc() - t0);
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

WorkerStats Worker::stats() const noexcept {
  WorkerStats s;
  s.packets = packets_.get();
  s.batches = batches_.get();
  s.busy_tsc = busy_tsc_.get();
  s.idle_tsc = idle_tsc_.get();
  return s;
}

}  // namespace vsw
