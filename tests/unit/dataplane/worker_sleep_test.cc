// Unit tests for the adaptive poll mode (dataplane/worker.h): a real worker thread over a fake
// port whose wake-up source is an eventfd the test controls.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "common/tsc.h"
#include "dataplane/bridge.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "dataplane/topology.h"
#include "dataplane/worker.h"
#include "tests/unit/dataplane/test_frames.h"

namespace vsw {
namespace {

using namespace std::chrono_literals;

// One rx queue fed by the test: `arrive()` makes a frame available and signals the eventfd only
// while the worker asked for it (enable_rx_wakeup), as a memif client does with MASK_INT.
class FakePort final : public Port {
 public:
  FakePort(PortId id, Mempool& pool)
      : Port("fake" + std::to_string(id), id, kDefaultMtu), pool_(pool),
        efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakePort() override { ::close(efd_); }

  std::string_view type() const noexcept override { return "fake"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }
  LinkState link_state() const noexcept override { return LinkState::Up; }

  uint16_t rx_burst(QueueId, PacketBatch& batch) noexcept override {
    uint16_t n = 0;
    while (batch.room() != 0 && pending_.load(std::memory_order_acquire) != 0) {
      pending_.fetch_sub(1, std::memory_order_acq_rel);
      Packet* p = test::make_frame(pool_, test::mac(0xff'ffff'ffff), test::mac(1), 0);
      if (p == nullptr) break;
      p->in_port = id();
      batch.push(p);
      ++n;
      received_.fetch_add(1, std::memory_order_release);
    }
    return n;
  }
  uint16_t tx_burst(QueueId, PacketBatch& batch) noexcept override {
    batch.release_all();
    return 0;
  }

  int rx_wakeup_fd(QueueId) const noexcept override { return efd_; }
  bool enable_rx_wakeup(QueueId) noexcept override {
    armed_.store(true, std::memory_order_seq_cst);
    if (on_enable_) on_enable_();  // a frame landing between the last poll and the sleep
    enables_.fetch_add(1, std::memory_order_relaxed);
    return pending_.load(std::memory_order_seq_cst) == 0;
  }
  void disable_rx_wakeup(QueueId, bool signalled) noexcept override {
    armed_.store(false, std::memory_order_seq_cst);
    uint64_t count;
    if (signalled) (void)!::read(efd_, &count, sizeof(count));
  }

  // Test thread: one frame arrives; the peer signals only when asked to (store-buffer pattern
  // with the fences of both sides, as in enable_rx_wakeup).
  void arrive(bool signal = true) {
    pending_.fetch_add(1, std::memory_order_seq_cst);
    if (signal && armed_.load(std::memory_order_seq_cst)) {
      const uint64_t one = 1;
      (void)!::write(efd_, &one, sizeof(one));
    }
  }
  uint64_t received() const { return received_.load(std::memory_order_acquire); }
  uint64_t enables() const { return enables_.load(std::memory_order_relaxed); }
  bool armed() const { return armed_.load(std::memory_order_seq_cst); }
  // Called (on the worker) inside every enable_rx_wakeup(), before the re-check.
  void on_enable(std::function<void()> f) { on_enable_ = std::move(f); }

 private:
  Mempool& pool_;
  int efd_;
  std::atomic<uint32_t> pending_{0};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> enables_{0};
  std::atomic<bool> armed_{false};
  std::function<void()> on_enable_;
};

template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

class WorkerSleepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = Mempool::create("test", Mempool::Config{1024, 2048, false});
    ASSERT_TRUE(pool.has_value());
    pool_ = std::move(*pool);
    const uint64_t hz = tsc_hz();
    bridge_ = std::make_unique<Bridge>("br0", Fdb::Config{64, 300 * hz, hz});
    port_ = std::make_unique<FakePort>(0, *pool_);
    topo_ = Topology::build({{port_.get(), bridge_.get()}}, {bridge_.get()}, 1);
    worker_ = std::make_unique<Worker>(0, -1, PollMode::Adaptive, qsd_, pool_.get(), 1);
    // No backstop within a test's time: a wake-up must come from a source or the doorbell.
    worker_->set_max_sleep_ms(60'000);
    worker_->adopt(topo_.get());
  }
  void TearDown() override {
    worker_->stop();
    worker_.reset();
  }
  // Waits until the worker is asleep (sleep count beyond `after`, queue armed).
  bool asleep_after(uint64_t after) {
    return wait_for([&] { return worker_->stats().sleeps > after && port_->armed(); });
  }

  QuiescentDomain qsd_;
  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<FakePort> port_;
  std::unique_ptr<Topology> topo_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerSleepTest, IdleWorkerSleepsAndAFrameWakesIt) {
  ASSERT_TRUE(worker_->start().has_value());
  ASSERT_TRUE(asleep_after(0));
  port_->arrive();
  ASSERT_TRUE(wait_for([&] { return port_->received() == 1; }));
  EXPECT_GE(worker_->stats().wakeups, 1u);
  for (int i = 0; i < 50; ++i) {
    // Armed again (enable_rx_wakeup sets it, waking clears it): asleep or about to be.
    ASSERT_TRUE(wait_for([&] { return port_->armed(); }));
    port_->arrive();
    ASSERT_TRUE(wait_for([&] { return port_->received() == static_cast<uint64_t>(2 + i); }))
        << "frame " << i << " not received";
  }
  EXPECT_EQ(worker_->stats().packets, 51u);
}

TEST_F(WorkerSleepTest, FrameArrivingWhileArmingIsNotLost) {
  // The frame lands after the worker's last empty poll, while it enables the wake-up, and the
  // peer does not signal (it had not seen the request yet): enable's re-check must catch it.
  std::atomic<int> injected{0};
  port_->on_enable([&] {
    if (injected.fetch_add(1) == 0) port_->arrive(/*signal=*/false);
  });
  ASSERT_TRUE(worker_->start().has_value());
  ASSERT_TRUE(wait_for([&] { return port_->received() == 1; }, 5s))
      << "the frame that arrived while arming was lost (worker slept on it)";
  EXPECT_GE(port_->enables(), 1u);
}

TEST_F(WorkerSleepTest, SynchronizeCompletesWhileTheWorkerSleeps) {
  ASSERT_TRUE(worker_->start().has_value());
  ASSERT_TRUE(asleep_after(0));
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread control([&] {
    qsd_.synchronize();
    done = true;
  });
  const bool finished = wait_for([&] { return done.load(); }, 10s);
  control.join();
  ASSERT_TRUE(finished) << "synchronize() stalled on a sleeping worker";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(worker_->stats().wakeups, 0u);  // woken by the doorbell, not by traffic
  // It goes back to sleep and still wakes for traffic.
  ASSERT_TRUE(wait_for([&] { return port_->armed(); }));  // woke, disarmed, armed again
  port_->arrive();
  ASSERT_TRUE(wait_for([&] { return port_->received() == 1; }));
}

TEST_F(WorkerSleepTest, StopWakesASleepingWorker) {
  ASSERT_TRUE(worker_->start().has_value());
  ASSERT_TRUE(asleep_after(0));
  std::atomic<bool> done{false};
  std::thread control([&] {
    worker_->stop();
    done = true;
  });
  const bool finished = wait_for([&] { return done.load(); }, 10s);
  if (!finished) port_->arrive();  // let it go, so the test can end
  control.join();
  EXPECT_TRUE(finished) << "stop() did not wake the sleeping worker";
  EXPECT_FALSE(port_->armed());  // disarmed on the way out
}

TEST_F(WorkerSleepTest, BusyModeNeverSleeps) {
  worker_ = std::make_unique<Worker>(0, -1, PollMode::Busy, qsd_, pool_.get(), 1);
  worker_->adopt(topo_.get());
  ASSERT_TRUE(worker_->start().has_value());
  // Well past the adaptive threshold; idle cycles accumulate, no sleep is taken.
  const uint64_t hz = tsc_hz();
  ASSERT_TRUE(wait_for([&] { return worker_->stats().idle_tsc > hz / 50; }));  // 20 ms idle
  EXPECT_EQ(worker_->stats().sleeps, 0u);
  EXPECT_EQ(port_->enables(), 0u);
  port_->arrive();
  ASSERT_TRUE(wait_for([&] { return port_->received() == 1; }));
}

}  // namespace
}  // namespace vsw
