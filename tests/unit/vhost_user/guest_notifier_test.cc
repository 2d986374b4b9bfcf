// tests/unit/vhost_user/guest_notifier_test.cc — when vsw signals a guest's call eventfd and how
// it suppresses the guest's kicks (ports/vhost_user/guest_notifier.h, virtio 1.1 §2.6.7,
// §2.6.10), through GuestRxQueue and GuestTxQueue over the fake driver, plus the vring helpers.
#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>

#include "dataplane/mempool.h"
#include "ports/vhost_user/guest_rx_queue.h"
#include "ports/vhost_user/guest_tx_queue.h"
#include "tests/unit/vhost_user/fake_guest.h"

namespace vsw::ports::vhost_user {
namespace {

using test::FakeGuest;
using test::test_frame;
using test::with_vnet_hdr;
using virtio::kDescFlagWrite;

TEST(Vring, NeedEventIsTheSpecsWindowTest) {
  // Event in [old, new) modulo 2^16.
  EXPECT_TRUE(virtio::vring_need_event(5, 6, 5));
  EXPECT_FALSE(virtio::vring_need_event(6, 6, 5));
  EXPECT_FALSE(virtio::vring_need_event(4, 6, 5));
  EXPECT_TRUE(virtio::vring_need_event(3, 10, 0));
  EXPECT_TRUE(virtio::vring_need_event(0xFFFF, 2, 0xFFF0));  // across the wrap
  EXPECT_FALSE(virtio::vring_need_event(2, 2, 0xFFF0));
  EXPECT_FALSE(virtio::vring_need_event(7, 7, 7));           // nothing new
}

TEST(Vring, SizesAndLayout) {
  EXPECT_EQ(virtio::desc_table_bytes(256), 4096u);
  EXPECT_EQ(virtio::avail_ring_bytes(256, false), 516u);
  EXPECT_EQ(virtio::avail_ring_bytes(256, true), 518u);
  EXPECT_EQ(virtio::used_ring_bytes(256, false), 2052u);
  EXPECT_EQ(virtio::used_ring_bytes(256, true), 2054u);
  EXPECT_TRUE(virtio::is_valid_queue_size(32768));
  EXPECT_FALSE(virtio::is_valid_queue_size(65536));
  EXPECT_FALSE(virtio::is_valid_queue_size(0));
  EXPECT_FALSE(virtio::is_valid_queue_size(384));
  alignas(16) uint8_t raw[32] = {};
  auto* a = reinterpret_cast<virtio::VringAvail*>(raw);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(virtio::used_event_field(a, 4)) - raw, 12);
  auto* u = reinterpret_cast<virtio::VringUsed*>(raw);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(virtio::avail_event_field(u, 2)) - raw, 20);
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(fd_, 0);
    Mempool::Config mc;
    mc.buffers = 256;
    mc.hugepages = false;
    auto p = Mempool::create("vhost-notify-test", mc);
    ASSERT_TRUE(p.has_value());
    pool_ = std::move(p.value());
  }
  void TearDown() override { ::close(fd_); }
  void start(bool event_idx) {
    guest_ = std::make_unique<FakeGuest>(64);
    QueueConfig cfg = guest_->config();
    cfg.event_idx = event_idx;
    cfg.mrg_rxbuf = true;
    cfg.call_fd = fd_;
    ASSERT_TRUE(rx_.start(&guest_->memory(), cfg).has_value());
  }
  // Delivers `n` 64-byte frames into fresh buffers.
  void deliver(int n) {
    PacketBatch b;
    for (int i = 0; i < n; ++i) {
      guest_->post(guest_->chain({}, {2048}, kDescFlagWrite));
      Packet* p = nullptr;
      ASSERT_EQ(pool_->alloc(&p, 1), 1);
      p->len = 64;
      p->frame_len = 64;
      b.push(p);
    }
    Violation v = Violation::None;
    ASSERT_EQ(rx_.transmit(b, c_, v), n);
  }
  // Signals received on the call eventfd since the last look.
  uint64_t signals() {
    uint64_t n = 0;
    if (::read(fd_, &n, sizeof n) != sizeof n) return 0;
    return n;
  }

  int fd_ = -1;
  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<FakeGuest> guest_;
  GuestRxQueue rx_;
  QueueCounters c_;
};

TEST_F(NotifyTest, WithoutEventIdxNoInterruptFlagDecides) {
  start(false);
  EXPECT_EQ(guest_->used()->flags, virtio::kUsedFlagNoNotify) << "vsw polls: no kicks please";
  deliver(3);
  EXPECT_EQ(signals(), 1u) << "one signal per burst";
  guest_->avail()->flags = virtio::kAvailFlagNoInterrupt;
  deliver(2);
  EXPECT_EQ(signals(), 0u);
  guest_->avail()->flags = 0;
  deliver(1);
  EXPECT_EQ(signals(), 1u);
  EXPECT_EQ(rx_.signals(), 2u);
}

TEST_F(NotifyTest, EventIdxSignalsWhenUsedPassesUsedEvent) {
  start(true);
  EXPECT_EQ(guest_->used()->flags, 0);
  guest_->used_event() = 100;  // far ahead
  deliver(1);
  EXPECT_EQ(signals(), 1u) << "the first decision after a start always signals";
  deliver(2);  // used 1 -> 3, event 100 not crossed
  EXPECT_EQ(signals(), 0u);
  guest_->used_event() = 4;  // "tell me when entry 4 is used"
  deliver(1);                // 3 -> 4: not yet
  EXPECT_EQ(signals(), 0u);
  deliver(1);                // 4 -> 5: crossed
  EXPECT_EQ(signals(), 1u);
  deliver(3);                // 5 -> 8: event 4 is behind
  EXPECT_EQ(signals(), 0u);
  guest_->used_event() = 9;
  deliver(4);                // 8 -> 12 passes 9 inside one burst
  EXPECT_EQ(signals(), 1u);
  // NO_INTERRUPT means nothing with EVENT_IDX (virtio 1.1 §2.6.7.2).
  guest_->avail()->flags = virtio::kAvailFlagNoInterrupt;
  guest_->used_event() = 12;
  deliver(1);
  EXPECT_EQ(signals(), 1u);
}

TEST_F(NotifyTest, EventIdxKeepsAvailEventBehindTheConsumedEntries) {
  start(true);
  deliver(5);
  EXPECT_EQ(guest_->avail_event(), 4) << "one behind the 5 consumed: the guest never crosses it";
  EXPECT_FALSE(virtio::vring_need_event(guest_->avail_event(), 9, 5)) << "next kick decision";
}

TEST_F(NotifyTest, NoCallFdMeansNoSignal) {
  guest_ = std::make_unique<FakeGuest>(64);
  QueueConfig cfg = guest_->config();
  cfg.call_fd = -1;
  ASSERT_TRUE(rx_.start(&guest_->memory(), cfg).has_value());
  deliver(2);
  EXPECT_EQ(rx_.signals(), 0u);
  EXPECT_EQ(signals(), 0u);
}

TEST_F(NotifyTest, GuestTxRingSignalsWhenItGivesBuffersBack) {
  FakeGuest g(64);
  QueueConfig cfg = g.config();
  cfg.call_fd = fd_;
  cfg.pool = pool_.get();
  GuestTxQueue tx;
  ASSERT_TRUE(tx.start(&g.memory(), cfg).has_value());
  for (int i = 0; i < 4; ++i) {
    const auto buf = with_vnet_hdr(test_frame(64));
    g.post(g.chain(buf, {static_cast<uint32_t>(buf.size())}));
  }
  PacketBatch b;
  QueueCounters c;
  Violation v = Violation::None;
  ASSERT_EQ(tx.receive(b, c, v), 4);
  EXPECT_EQ(signals(), 0u) << "nothing given back yet";
  b.release_all();
  EXPECT_EQ(tx.receive(b, c, v), 0);
  EXPECT_EQ(g.used_idx(), 4);
  EXPECT_EQ(signals(), 1u);
  EXPECT_EQ(tx.receive(b, c, v), 0);
  EXPECT_EQ(signals(), 0u) << "an idle poll signals nothing";
}

}  // namespace
}  // namespace vsw::ports::vhost_user
