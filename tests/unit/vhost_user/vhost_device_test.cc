// tests/unit/vhost_user/vhost_device_test.cc — the vhost-user request handling
// (ports/vhost_user/vhost_device.h) driven message by message, as QEMU and a hostile front-end
// would, with real memfds and eventfds and no socket: negotiation, REPLY_ACK, the memory table's
// checks, ring states and the DataPlan published to the (fake) workers.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ports/shm/unix_socket.h"
#include "ports/vhost_user/vhost_device.h"
#include "ports/virtio_common/vring.h"

namespace vsw::ports::vhost_user {
namespace {

constexpr uint64_t kMemBytes = 1 << 20;
constexpr uint64_t kGpa = 0x100000000ull;   // guest-physical base of the region
constexpr uint64_t kUser = 0x7f0000000000ull;  // the front-end's own VA of it
constexpr uint32_t kRingSize = 256;
// Ring placement inside the region (offsets), as a driver would lay them out.
constexpr uint64_t kDescOff = 0x1000, kAvailOff = 0x3000, kUsedOff = 0x4000;

class RecordingPublisher final : public PlanPublisher {
 public:
  void publish(DataPlan* p) noexcept override {
    plan = p;
    ++publishes;
  }
  void unpublish_and_wait() noexcept override {
    plan = nullptr;
    ++unpublishes;
  }
  void set_guest_offloads(const OffloadCaps& c) noexcept override { caps = c; }
  DataPlan* plan = nullptr;
  int publishes = 0;
  int unpublishes = 0;
  OffloadCaps caps;
};

UniqueFd sealed_memfd(uint64_t size) {
  UniqueFd fd(::memfd_create("vhost-test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
  EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
  return fd;
}

Message make(Request r, const void* payload = nullptr, uint32_t size = 0,
             uint32_t flags = kFlagVersion) {
  Message m;
  EXPECT_LE(size, m.payload.size());
  m.hdr = MsgHeader{static_cast<uint32_t>(r), flags, size};
  if (size != 0) std::memcpy(m.payload.data(), payload, size);
  return m;
}

Message make_u64(Request r, uint64_t v, uint32_t flags = kFlagVersion) {
  return make(r, &v, 8, flags);
}

Message make_state(Request r, uint32_t index, uint32_t num) {
  VringState s{index, num};
  return make(r, &s, sizeof(s));
}

class DeviceTest : public ::testing::Test {
 protected:
  DeviceTest() : dev_(config(), pub_) {}

  static DeviceConfig config() {
    DeviceConfig c;
    c.queue_pairs = 2;
    c.port = 3;
    return c;
  }

  Status send(Message m) { return dev_.handle(m, reply_); }

  uint64_t offered() {
    EXPECT_TRUE(send(make(Request::GetFeatures)));
    EXPECT_TRUE(reply_.send);
    return reply_.value;
  }

  // GET/SET_FEATURES and protocol features as QEMU does.
  void negotiate(uint64_t features = kOfferedFeatures) {
    ASSERT_TRUE(send(make(Request::GetProtocolFeatures)));
    ASSERT_TRUE(send(make_u64(Request::SetProtocolFeatures, kOfferedProtocolFeatures)));
    ASSERT_TRUE(send(make(Request::SetOwner)));
    ASSERT_TRUE(send(make_u64(Request::SetFeatures, features)));
  }

  Message mem_table(uint64_t gpa = kGpa, uint64_t user = kUser, uint64_t size = kMemBytes) {
    struct {
      MemTableHeader h;
      MemRegionDesc r;
    } t{{1, 0}, {gpa, size, user, 0}};
    Message m = make(Request::SetMemTable, &t, sizeof(t));
    m.fds.push_back(sealed_memfd(kMemBytes));
    return m;
  }

  Status set_addr(uint32_t index, uint64_t desc, uint64_t avail, uint64_t used) {
    VringAddr a{index, 0, desc, used, avail, 0};
    return send(make(Request::SetVringAddr, &a, sizeof(a)));
  }

  Status kick(uint32_t index) {
    Message m = make_u64(Request::SetVringKick, index);
    m.fds.emplace_back(::eventfd(0, EFD_CLOEXEC));
    return send(std::move(m));
  }

  // Rings 0..n-1 configured and started (each at its own offset), then enabled.
  void start_rings(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t off = i * 0x10000;
      ASSERT_TRUE(send(make_state(Request::SetVringNum, i, kRingSize)));
      ASSERT_TRUE(send(make_state(Request::SetVringBase, i, 0)));
      ASSERT_TRUE(set_addr(i, kUser + off + kDescOff, kUser + off + kAvailOff,
                           kUser + off + kUsedOff));
      ASSERT_TRUE(kick(i));
      ASSERT_TRUE(send(make_state(Request::SetVringEnable, i, 1)));
    }
  }

  RecordingPublisher pub_;
  Device dev_;
  Reply reply_;
};

TEST_F(DeviceTest, OffersWhatTheIssueAsksAndNothingUnimplemented) {
  const uint64_t f = offered();
  for (uint64_t want : {feature::kVersion1, feature::kProtocolFeatures, feature::kNetMrgRxbuf,
                        feature::kRingIndirectDesc, feature::kRingEventIdx, feature::kNetMq,
                        feature::kNetCsum, feature::kNetGuestCsum, feature::kNetHostTso4,
                        feature::kNetHostTso6, feature::kNetGuestTso4, feature::kNetGuestTso6}) {
    EXPECT_NE(f & want, 0u) << std::hex << want;
  }
  for (uint64_t never : {feature::kLogAll, feature::kRingPacked, feature::kIommuPlatform,
                         feature::kNetHostUfo, feature::kNetGuestUfo}) {
    EXPECT_EQ(f & never, 0u) << std::hex << never;
  }
  ASSERT_TRUE(send(make(Request::GetProtocolFeatures)));
  EXPECT_EQ(reply_.value, protocol::kMq | protocol::kReplyAck);
}

TEST_F(DeviceTest, RefusesFeaturesNotOffered) {
  EXPECT_FALSE(send(make_u64(Request::SetFeatures, feature::kRingPacked)));
  EXPECT_FALSE(send(make_u64(Request::SetProtocolFeatures, protocol::kStatus)));
}

TEST_F(DeviceTest, QueueNumNeedsProtocolMqAndAnswersTheConfiguredPairs) {
  EXPECT_FALSE(send(make(Request::GetQueueNum)));  // MQ not negotiated
  negotiate();
  ASSERT_TRUE(send(make(Request::GetQueueNum)));
  EXPECT_TRUE(reply_.send);
  EXPECT_EQ(reply_.value, 2u);
}

TEST_F(DeviceTest, GuestOffloadsFollowTheNegotiatedFeatures) {
  negotiate(feature::kVersion1 | feature::kProtocolFeatures | feature::kNetGuestCsum |
            feature::kNetGuestTso4);
  EXPECT_TRUE(pub_.caps.partial_csum);
  EXPECT_TRUE(pub_.caps.tso4);
  EXPECT_FALSE(pub_.caps.tso6);
  EXPECT_FALSE(pub_.caps.uso);
}

TEST_F(DeviceTest, ReplyAckGivesStatusAndRefusesUnsupportedCleanly) {
  // Without REPLY_ACK negotiated, NEED_REPLY is ignored and an unsupported request ends things.
  EXPECT_FALSE(send(make(Request::GetConfig)));
  negotiate();
  ASSERT_TRUE(send(make(Request::SetOwner, nullptr, 0, kFlagVersion | kFlagNeedReply)));
  EXPECT_TRUE(reply_.send);
  EXPECT_EQ(reply_.value, 0u);
  // Not offered (live-migration logging), with NEED_REPLY: a failure status, the session goes on.
  Message log = make_u64(Request::SetLogFd, 0, kFlagVersion | kFlagNeedReply);
  log.hdr.size = 0;
  ASSERT_TRUE(send(std::move(log)));
  EXPECT_TRUE(reply_.send);
  EXPECT_EQ(reply_.value, 1u);
  ASSERT_TRUE(send(make(static_cast<Request>(99), nullptr, 0, kFlagVersion | kFlagNeedReply)));
  EXPECT_EQ(reply_.value, 1u);
  // A request with its own reply gets only that one.
  ASSERT_TRUE(send(make(Request::GetFeatures, nullptr, 0, kFlagVersion | kFlagNeedReply)));
  EXPECT_EQ(reply_.value, kOfferedFeatures);
  // Malformed requests are not "unsupported": they end the connection even with NEED_REPLY.
  EXPECT_FALSE(send(make(Request::SetFeatures, nullptr, 0, kFlagVersion | kFlagNeedReply)));
}

TEST_F(DeviceTest, WrongPayloadSizesAndStrayDescriptorsAreRefused) {
  EXPECT_FALSE(send(make_u64(Request::GetFeatures, 0)));  // takes no payload
  uint32_t four = 4;
  EXPECT_FALSE(send(make(Request::SetFeatures, &four, 4)));
  Message m = make(Request::SetOwner);
  m.fds.emplace_back(::eventfd(0, EFD_CLOEXEC));
  EXPECT_FALSE(send(std::move(m)));
}

TEST_F(DeviceTest, MemoryTableChecks) {
  negotiate();
  auto table = [&](std::vector<MemRegionDesc> regions, size_t fds) {
    std::vector<std::byte> p(sizeof(MemTableHeader) + regions.size() * sizeof(MemRegionDesc));
    MemTableHeader h{static_cast<uint32_t>(regions.size()), 0};
    std::memcpy(p.data(), &h, sizeof(h));
    if (!regions.empty()) {  // memcpy from an empty vector's null data() is undefined
      std::memcpy(p.data() + sizeof(h), regions.data(), regions.size() * sizeof(MemRegionDesc));
    }
    Message m = make(Request::SetMemTable, p.data(), static_cast<uint32_t>(p.size()));
    for (size_t i = 0; i < fds; ++i) m.fds.push_back(sealed_memfd(kMemBytes));
    return m;
  };
  const MemRegionDesc good{kGpa, kMemBytes, kUser, 0};
  EXPECT_FALSE(send(table({}, 0)));                                          // no region
  EXPECT_FALSE(send(table({good}, 0)));                                      // no fd
  EXPECT_FALSE(send(table({good, {kGpa + kMemBytes, kMemBytes, kUser + kMemBytes, 0}}, 1)));
  EXPECT_FALSE(send(table({{kGpa, 0, kUser, 0}}, 1)));                       // size 0
  EXPECT_FALSE(send(table({{UINT64_MAX - 10, kMemBytes, kUser, 0}}, 1)));    // gpa wraps
  EXPECT_FALSE(send(table({{kGpa, kMemBytes, UINT64_MAX - 10, 0}}, 1)));     // user wraps
  EXPECT_FALSE(send(table({{kGpa, 2 * kMemBytes, kUser, 0}}, 1)));           // beyond the file
  EXPECT_FALSE(send(table({{kGpa, kMemBytes, kUser, 4096}}, 1)));            // offset: beyond
  EXPECT_FALSE(send(table({good, {kGpa + 4096, 4096, kUser + 2 * kMemBytes, 0}}, 2)));  // gpa overlap
  EXPECT_FALSE(send(table({good, {kGpa + 2 * kMemBytes, 4096, kUser + 8, 0}}, 2)));     // user overlap
  // Nine regions announced (the payload holds at most eight: the channel refuses larger ones).
  Message nine = table(std::vector<MemRegionDesc>(8, good), 0);
  MemTableHeader h9{9, 0};
  std::memcpy(nine.payload.data(), &h9, sizeof(h9));
  EXPECT_FALSE(send(std::move(nine)));
  // An unsealed memfd (shrinkable under vsw's mapping) is refused.
  Message unsealed = table({good}, 0);
  UniqueFd fd(::memfd_create("vhost-test", MFD_CLOEXEC));
  ASSERT_EQ(::ftruncate(fd.get(), kMemBytes), 0);
  ASSERT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), -1);  // not sealable
  unsealed.fds.push_back(std::move(fd));
  EXPECT_FALSE(send(std::move(unsealed)));
  // A descriptor that is not a file at all.
  Message notfile = table({good}, 0);
  notfile.fds.emplace_back(::eventfd(0, EFD_CLOEXEC));
  EXPECT_FALSE(send(std::move(notfile)));
  EXPECT_TRUE(send(table({good}, 1)));
  EXPECT_EQ(dev_.memory_regions(), 1u);
}

TEST_F(DeviceTest, RingParametersAreChecked) {
  negotiate();
  EXPECT_FALSE(send(make_state(Request::SetVringNum, 0, 384)));     // not a power of two
  EXPECT_FALSE(send(make_state(Request::SetVringNum, 0, 65536)));   // above 32768
  EXPECT_FALSE(send(make_state(Request::SetVringNum, 0, 0)));
  EXPECT_FALSE(send(make_state(Request::SetVringNum, 4, 256)));     // only 2 pairs: rings 0..3
  EXPECT_FALSE(send(make_state(Request::SetVringBase, 0, 0x10000)));
  VringAddr logged{0, kVringAddrFlagLog, kUser, kUser, kUser, 0};
  EXPECT_FALSE(send(make(Request::SetVringAddr, &logged, sizeof(logged))));
  // Kick and call must be eventfds, one each unless NOFD.
  Message notevent = make_u64(Request::SetVringCall, 0);
  notevent.fds.push_back(sealed_memfd(4096));
  EXPECT_FALSE(send(std::move(notevent)));
  EXPECT_FALSE(send(make_u64(Request::SetVringCall, 0)));                  // fd missing
  EXPECT_TRUE(send(make_u64(Request::SetVringCall, 0 | kVringNoFd)));      // polling guest
  EXPECT_FALSE(send(make_u64(Request::SetVringCall, 0x200)));              // reserved bit
  // SET_VRING_ENABLE is only defined with VHOST_USER_F_PROTOCOL_FEATURES.
  DeviceConfig c = config();
  RecordingPublisher p2;
  Device legacy(c, p2);
  Reply r;
  Message f = make_u64(Request::SetFeatures, feature::kVersion1);
  ASSERT_TRUE(legacy.handle(f, r));
  Message en = make_state(Request::SetVringEnable, 0, 1);
  EXPECT_FALSE(legacy.handle(en, r));
  // QEMU disables rings right after connecting: protocol features set, SET_FEATURES not yet.
  RecordingPublisher p3;
  Device early(c, p3);
  Message pf = make_u64(Request::SetProtocolFeatures, protocol::kReplyAck);
  ASSERT_TRUE(early.handle(pf, r));
  Message dis = make_state(Request::SetVringEnable, 0, 0);
  EXPECT_TRUE(early.handle(dis, r));
}

TEST_F(DeviceTest, RingsRunOnlyWhenStartedEnabledAndInsideMemory) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  ASSERT_TRUE(send(make_state(Request::SetVringNum, 1, kRingSize)));
  ASSERT_TRUE(set_addr(1, kUser + kDescOff, kUser + kAvailOff, kUser + kUsedOff));
  ASSERT_TRUE(kick(1));
  EXPECT_EQ(pub_.plan, nullptr);  // started, not yet enabled (protocol features negotiated)
  ASSERT_TRUE(send(make_state(Request::SetVringEnable, 1, 1)));
  ASSERT_NE(pub_.plan, nullptr);
  EXPECT_NE(pub_.plan->rx[0], nullptr);  // vring 1 = guest tx = vsw rx queue 0
  EXPECT_EQ(pub_.plan->tx_rings, 0);
  EXPECT_EQ(dev_.running_rx(), 1);
  // Ring addresses are front-end VAs: the same values as guest-physical addresses are outside.
  ASSERT_TRUE(send(make_state(Request::SetVringNum, 0, kRingSize)));
  ASSERT_TRUE(set_addr(0, kGpa + 0x20000, kGpa + 0x22000, kGpa + 0x23000));
  ASSERT_TRUE(send(make_state(Request::SetVringEnable, 0, 1)));
  const Status st = kick(0);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("outside guest memory"), std::string::npos);
  EXPECT_EQ(pub_.plan, nullptr);  // nothing runs after a failed start
}

TEST_F(DeviceTest, RingStraddlingTheRegionEndIsRefused) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  ASSERT_TRUE(send(make_state(Request::SetVringNum, 1, kRingSize)));
  // The used ring (2054 bytes) would end 6 bytes past the region.
  ASSERT_TRUE(set_addr(1, kUser + kDescOff, kUser + kAvailOff, kUser + kMemBytes - 2048));
  ASSERT_TRUE(send(make_state(Request::SetVringEnable, 1, 1)));
  EXPECT_FALSE(kick(1));
}

TEST_F(DeviceTest, GetVringBaseStopsTheRingAndReturnsItsIndex) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  start_rings(4);
  ASSERT_NE(pub_.plan, nullptr);
  EXPECT_EQ(dev_.running_rx(), 2);
  EXPECT_EQ(dev_.running_tx(), 2);
  EXPECT_FALSE(pub_.plan->tx_shared);
  const int unpublished = pub_.unpublishes;
  ASSERT_TRUE(send(make_state(Request::GetVringBase, 1, 0)));
  EXPECT_GT(pub_.unpublishes, unpublished);  // workers left the old plan before the ring stopped
  ASSERT_TRUE(reply_.send && reply_.is_state);
  EXPECT_EQ(reply_.state.index, 1u);
  EXPECT_EQ(reply_.state.num, 0u);
  ASSERT_NE(pub_.plan, nullptr);  // the other rings run on
  EXPECT_EQ(pub_.plan->rx[0], nullptr);
  EXPECT_EQ(dev_.running_rx(), 1);
  // A started ring cannot be resized or rebased; a stopped one can.
  EXPECT_FALSE(send(make_state(Request::SetVringNum, 3, 512)));
  EXPECT_TRUE(send(make_state(Request::SetVringBase, 1, 7)));
}

TEST_F(DeviceTest, FewerGuestRxRingsThanTxQueuesAreShared) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  start_rings(2);  // one pair of two
  ASSERT_NE(pub_.plan, nullptr);
  EXPECT_EQ(pub_.plan->tx_rings, 1);
  EXPECT_TRUE(pub_.plan->tx_shared);
}

TEST_F(DeviceTest, NewMemoryTableWhileRunningRepublishes) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  start_rings(2);
  ASSERT_NE(pub_.plan, nullptr);
  const std::byte* before = pub_.plan->mem.region(0).host;
  ASSERT_TRUE(send(mem_table()));
  ASSERT_NE(pub_.plan, nullptr);
  EXPECT_NE(pub_.plan->mem.region(0).host, before);
  EXPECT_EQ(dev_.running_rx(), 1);
  EXPECT_FALSE(send(make_u64(Request::SetFeatures, feature::kVersion1)));  // changed while started
}

TEST_F(DeviceTest, ResetOwnerStopsEverythingButKeepsTheSession) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  start_rings(2);
  ASSERT_NE(pub_.plan, nullptr);
  ASSERT_TRUE(send(make(Request::ResetOwner)));
  EXPECT_EQ(pub_.plan, nullptr);
  EXPECT_TRUE(send(make(Request::GetFeatures)));
}

TEST_F(DeviceTest, WithoutProtocolFeaturesAStartedRingIsEnabled) {
  ASSERT_TRUE(send(make_u64(Request::SetFeatures, feature::kVersion1 | feature::kNetMrgRxbuf)));
  ASSERT_TRUE(send(mem_table()));
  ASSERT_TRUE(send(make_state(Request::SetVringNum, 1, kRingSize)));
  ASSERT_TRUE(set_addr(1, kUser + kDescOff, kUser + kAvailOff, kUser + kUsedOff));
  ASSERT_TRUE(kick(1));
  EXPECT_NE(pub_.plan, nullptr);
}

// The kick eventfd of a started guest tx ring is what a sleeping worker waits on; NOFD (the
// front-end never kicks) leaves the ring without a wake-up source.
TEST_F(DeviceTest, TheKickEventfdBecomesTheRingsWakeUpSource) {
  negotiate();
  ASSERT_TRUE(send(mem_table()));
  ASSERT_TRUE(send(make_state(Request::SetVringNum, 1, kRingSize)));
  ASSERT_TRUE(set_addr(1, kUser + kDescOff, kUser + kAvailOff, kUser + kUsedOff));
  ASSERT_TRUE(send(make_state(Request::SetVringEnable, 1, 1)));
  ASSERT_TRUE(send(make_u64(Request::SetVringKick, 1 | kVringNoFd)));
  ASSERT_NE(pub_.plan, nullptr);
  EXPECT_EQ(pub_.plan->rx[0]->kick_fd(), -1);
  ASSERT_TRUE(kick(1));
  ASSERT_NE(pub_.plan, nullptr);
  const int fd = pub_.plan->rx[0]->kick_fd();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(shm::is_nonblocking_eventfd(fd));
}

}  // namespace
}  // namespace vsw::ports::vhost_user
