// tests/unit/memif/memif_session_test.cc — the server handshake fed hostile or broken clients
// over a real SOCK_SEQPACKET socket: every case ends in a DISCONNECT with a reason, nothing
// leaks, and the port accepts a well-behaved client afterwards (memif.md §6, §10).
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <fstream>

#include "ports/memif/memif_session.h"
#include "ports/memif/memif_socket.h"
#include "tests/unit/memif/memif_fixture.h"

namespace vsw::ports::memif::testing {
namespace {

UniqueFd sealed_memfd(uint64_t size, bool allow_sealing = true) {
  UniqueFd fd(::memfd_create("hostile", allow_sealing ? MFD_ALLOW_SEALING : 0));
  EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
  return fd;
}

class MemifSessionTest : public MemifTest {
 protected:
  void SetUp() override {
    MemifTest::SetUp();
    auto p = make_port("app1", 1, {{"secret", "pw"}});
    ASSERT_TRUE(p.has_value());
    port_ = std::move(*p);
  }
  void TearDown() override {
    // Whatever the previous client did, a proper one still gets in.
    ASSERT_TRUE(serve_until([&] { return detail(*port_, "state") == "listening"; }));
    vsw::memif::ClientConfig cfg;
    cfg.secret = "pw";
    auto c = connect(1, cfg);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    c->reset();
    port_.reset();
    MemifTest::TearDown();
  }
  MsgBuffer init(uint32_t id = 1, const std::string& secret = "pw", uint16_t version = kVersion,
                 uint8_t mode = 0) {
    InitMsg m;
    m.id = id;
    m.secret = secret;
    m.version = version;
    m.mode = mode;
    m.name = "hostile";
    return encode(m);
  }
  // A raw client past INIT and one 1 MiB region whose first ring sits at offset 0.
  UniqueFd past_region(UniqueFd& region) {
    UniqueFd fd = raw_connect();
    EXPECT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    region = sealed_memfd(1 << 20);
    auto* mem = static_cast<std::byte*>(
        ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, region.get(), 0));
    reinterpret_cast<RingHeader*>(mem)->cookie = kCookie;
    reinterpret_cast<RingHeader*>(mem + 65536)->cookie = kCookie;
    ::munmap(mem, 1 << 20);
    EXPECT_EQ(msg_type(ask(fd.get(), encode(AddRegionMsg{0, 1 << 20}), region.get())),
              MsgType::Ack);
    return fd;
  }
  MsgBuffer ring(RingType t, uint16_t index, uint32_t offset, uint8_t log2 = 10,
                 uint16_t region = 0, uint16_t priv = 0) {
    AddRingMsg m;
    m.flags = t == RingType::C2S ? kAddRingFlagC2S : 0;
    m.index = index;
    m.region = region;
    m.offset = offset;
    m.log2_ring_size = log2;
    m.private_hdr_size = priv;
    return encode(m);
  }
  std::unique_ptr<Port> port_;
};

TEST_F(MemifSessionTest, MessageBeforeInit) {
  UniqueFd fd = raw_connect();
  EXPECT_EQ(reason_of(ask(fd.get(), encode_connect(ConnectMsg{"x"}))), "unexpected message");
}

TEST_F(MemifSessionTest, UnknownMessageType) {
  UniqueFd fd = raw_connect();
  MsgBuffer m{};
  m[0] = std::byte{0x77};
  EXPECT_EQ(reason_of(ask(fd.get(), m)), "unexpected message");
}

TEST_F(MemifSessionTest, WrongSizedMessage) {
  UniqueFd fd = raw_connect();
  char small[7] = {3, 0};
  ASSERT_EQ(::send(fd.get(), small, sizeof(small), 0), 7);
  EXPECT_EQ(reason_of(reply(fd.get())), "invalid message size");
  UniqueFd fd2 = raw_connect();
  char big[300] = {3, 0};
  ASSERT_EQ(::send(fd2.get(), big, sizeof(big), 0), 300);
  EXPECT_EQ(reason_of(reply(fd2.get())), "invalid message size");
}

TEST_F(MemifSessionTest, InitChecks) {
  struct Case {
    MsgBuffer msg;
    std::string reason;
  };
  const Case cases[] = {
      {init(1, "pw", 0x0100), "incompatible memif version"},
      {init(1, "pw", kVersion, 1), "only ethernet mode is supported"},
      {init(9), "ID not found"},
      {init(1, "wrong"), "incorrect secret"},
      {init(1, ""), "incorrect secret"},
  };
  for (const Case& c : cases) {
    UniqueFd fd = raw_connect();
    EXPECT_EQ(reason_of(ask(fd.get(), c.msg)), c.reason);
  }
}

TEST_F(MemifSessionTest, SecondClientForTheSameIdIsRefused) {
  UniqueFd first = raw_connect();
  EXPECT_EQ(msg_type(ask(first.get(), init())), MsgType::Ack);
  UniqueFd second = raw_connect();
  EXPECT_EQ(reason_of(ask(second.get(), init())), "already connected");
  EXPECT_EQ(detail(*port_, "state"), "handshake");
}

TEST_F(MemifSessionTest, SecondInitIsUnexpected) {
  UniqueFd fd = raw_connect();
  EXPECT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
  EXPECT_EQ(reason_of(ask(fd.get(), init())), "unexpected message");
}

TEST_F(MemifSessionTest, RegionChecks) {
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{0, 4096}))), "missing region fd");
  }
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    UniqueFd m = sealed_memfd(4096);
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{1, 4096}), m.get())),
              "invalid region index");
  }
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    UniqueFd r(p[0]), w(p[1]);
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{0, 4096}), r.get())),
              "memory fd is not a memory file");
  }
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    UniqueFd m = sealed_memfd(4096);
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{0, 8192}), m.get())),
              "memory file smaller than the region (4096 < 8192 bytes)");
  }
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    UniqueFd m = sealed_memfd(4096, /*allow_sealing=*/false);  // could be shrunk under vsw
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{0, 4096}), m.get())),
              "memory fd must be a memfd sealed against shrinking");
  }
  {
    UniqueFd fd = raw_connect();
    ASSERT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
    UniqueFd m = sealed_memfd(4096);
    EXPECT_EQ(reason_of(ask(fd.get(), encode(AddRegionMsg{0, 0}), m.get())),
              "region size 0 out of range");
  }
}

TEST_F(MemifSessionTest, UnsealedButSealableRegionIsSealedByVsw) {
  UniqueFd region;
  UniqueFd fd = past_region(region);
  EXPECT_NE(::fcntl(region.get(), F_GET_SEALS) & F_SEAL_SHRINK, 0);
  EXPECT_NE(::ftruncate(region.get(), 4096), 0);  // the client can no longer shrink it
}

TEST_F(MemifSessionTest, RingChecks) {
  struct Case {
    MsgBuffer msg;
    bool with_fd;
    std::string reason;
  };
  const Case cases[] = {
      {ring(RingType::C2S, 0, 0), false, "missing interrupt fd"},
      {ring(RingType::C2S, 1, 0), true, "invalid ring index"},
      {ring(RingType::C2S, 0, 0, 15), true, "invalid ring size"},  // above the port's ring-size
      {ring(RingType::C2S, 0, 0, 0), true, "invalid ring size"},
      {ring(RingType::C2S, 0, 0, 10, 1), true, "ring outside its region"},  // no region 1
      {ring(RingType::C2S, 0, (1 << 20) - 1000), true, "ring outside its region"},
      {ring(RingType::C2S, 0, 0xFFFFFFF0u), true, "ring outside its region"},
      {ring(RingType::C2S, 0, 4), true, "ring outside its region"},  // misaligned
      {ring(RingType::C2S, 0, 0, 10, 0, 8), true, "private headers are not supported"},
  };
  for (const Case& c : cases) {
    UniqueFd region;
    UniqueFd fd = past_region(region);
    UniqueFd efd(::eventfd(0, 0));
    EXPECT_EQ(reason_of(ask(fd.get(), c.msg, c.with_fd ? efd.get() : -1)), c.reason);
  }
}

TEST_F(MemifSessionTest, RingFdMustBeAnEventfd) {
  UniqueFd region;
  UniqueFd fd = past_region(region);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);  // a full pipe would block a worker's write
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_EQ(reason_of(ask(fd.get(), ring(RingType::S2C, 0, 0), w.get())),
            "interrupt fd is not an eventfd");
}

TEST_F(MemifSessionTest, ConnectChecks) {
  {
    UniqueFd region;
    UniqueFd fd = past_region(region);
    EXPECT_EQ(reason_of(ask(fd.get(), encode_connect(ConnectMsg{"x"}))),
              "at least one ring in each direction needed");
  }
  {
    UniqueFd region;
    UniqueFd fd = past_region(region);
    UniqueFd e1(::eventfd(0, 0)), e2(::eventfd(0, 0));
    EXPECT_EQ(msg_type(ask(fd.get(), ring(RingType::C2S, 0, 0), e1.get())), MsgType::Ack);
    EXPECT_EQ(msg_type(ask(fd.get(), ring(RingType::S2C, 0, 32768), e2.get())), MsgType::Ack);
    EXPECT_EQ(reason_of(ask(fd.get(), encode_connect(ConnectMsg{"x"}))), "ring cookie mismatch");
  }
  {
    UniqueFd region;
    UniqueFd fd = past_region(region);
    UniqueFd e1(::eventfd(0, 0)), e2(::eventfd(0, 0));
    EXPECT_EQ(msg_type(ask(fd.get(), ring(RingType::C2S, 0, 0), e1.get())), MsgType::Ack);
    EXPECT_EQ(msg_type(ask(fd.get(), ring(RingType::S2C, 0, 65536), e2.get())), MsgType::Ack);
    EXPECT_EQ(msg_type(ask(fd.get(), encode_connect(ConnectMsg{"x"}))), MsgType::Connected);
    EXPECT_EQ(port_->link_state(), LinkState::Up);
    EXPECT_EQ(reason_of(ask(fd.get(), init())), "unexpected message");
    EXPECT_TRUE(serve_until([&] { return port_->link_state() == LinkState::Down; }));
  }
}

TEST_F(MemifSessionTest, AbandonedHandshakeLeaksNothing) {
  poll_io();
  const size_t before = open_fd_count();
  for (int i = 0; i < 20; ++i) {
    UniqueFd region;
    UniqueFd fd = past_region(region);
    UniqueFd e1(::eventfd(0, 0));
    EXPECT_EQ(msg_type(ask(fd.get(), ring(RingType::C2S, 0, 0), e1.get())), MsgType::Ack);
    // The client "crashes" mid-handshake.
  }
  ASSERT_TRUE(serve_until([&] { return open_fd_count() == before; }));
  EXPECT_EQ(detail(*port_, "state"), "listening");
}

TEST_F(MemifSessionTest, ExtraDescriptorsAreClosed) {
  poll_io();
  const size_t before = open_fd_count();
  {
    UniqueFd fd = raw_connect();
    UniqueFd junk(::eventfd(0, 0));
    EXPECT_EQ(msg_type(ask(fd.get(), init(), junk.get())), MsgType::Ack);  // fd on INIT
  }
  ASSERT_TRUE(serve_until([&] { return open_fd_count() == before; }));
}

TEST_F(MemifSessionTest, DisconnectFromClientIsHonoured) {
  UniqueFd fd = raw_connect();
  EXPECT_EQ(msg_type(ask(fd.get(), init())), MsgType::Ack);
  ASSERT_TRUE(send_msg(fd.get(), encode(DisconnectMsg{0, "bye"})).has_value());
  ASSERT_TRUE(serve_until([&] { return detail(*port_, "state") == "listening"; }));
}

TEST_F(MemifSessionTest, TooManyClientsAreTurnedAway) {
  std::vector<UniqueFd> idle;
  for (size_t i = 0; i < MemifSocket::kMaxSessions; ++i) {
    auto fd = connect_seqpacket(sock_);
    ASSERT_TRUE(fd.has_value());
    idle.push_back(std::move(*fd));
    poll_io();  // accept (the listen backlog is short)
  }
  poll_io();
  auto extra = connect_seqpacket(sock_);
  ASSERT_TRUE(extra.has_value());
  EXPECT_EQ(msg_type(reply(extra->get())), MsgType::None);  // closed without HELLO
  idle.clear();
  serve_until([] { return false; }, std::chrono::milliseconds(200));
}

// --- how much client memory vsw maps -----------------------------------------------------------
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(MemifMappedLimit, FollowsTheInterfaceLimits) {
  EndpointConfig def;  // 1 ring each way, 1024 slots, 2 KiB buffers
  EXPECT_EQ(copy_mode_bytes(def), 2 * (128 + 16 * 1024 + 1024 * 2048u));  // memif.md §7 example
  EXPECT_EQ(client_mapped_limit(def), kGiB);
  EndpointConfig big;
  big.rings = 64;
  big.max_log2_ring_size = 14;
  EXPECT_EQ(copy_mode_bytes(big), 128 * (128 + 16 * 16384 + 16384 * 2048ull));  // ~4.03 GiB
  EXPECT_EQ(client_mapped_limit(big), 2 * copy_mode_bytes(big));
}

// A hostile client, past INIT on `id`, announcing regions of the given sizes (sparse memfds:
// nothing is allocated); returns vsw's answer to the last one.
class MemifMappedLimitTest : public MemifSessionTest {
 protected:
  void TearDown() override {
    hostile_.clear();
    set_total_mapped_limits(saved_);
    MemifSessionTest::TearDown();
  }
  std::string announce(uint32_t id, const std::vector<uint64_t>& sizes,
                       const std::string& secret = "") {
    hostile_.push_back(raw_connect());
    const int fd = hostile_.back().get();
    EXPECT_EQ(msg_type(ask(fd, init(id, secret))), MsgType::Ack);
    MsgBuffer last{};
    for (size_t i = 0; i < sizes.size(); ++i) {
      UniqueFd mem = sealed_memfd(sizes[i]);
      last = ask(fd, encode(AddRegionMsg{static_cast<uint16_t>(i), sizes[i]}), mem.get());
      if (msg_type(last) != MsgType::Ack) break;
    }
    return reason_of(last);
  }
  std::unique_ptr<Port> add_port(const std::string& name, uint32_t id) {
    auto p = make_port(name, id, {}, static_cast<PortId>(10 + id));
    EXPECT_TRUE(p.has_value());
    return p ? std::move(*p) : nullptr;
  }
  // A well-behaved client on `port` (id `id`) connects and a frame goes both ways.
  void expect_good_client_works(Port& port, uint32_t id) {
    auto c = connect(id);
    ASSERT_TRUE(c.has_value()) << c.error().message;
    EXPECT_EQ(port.link_state(), LinkState::Up);
    std::vector<std::byte> frame(60, std::byte{0x02});
    const std::span<const std::byte> one[] = {frame};
    ASSERT_EQ((*c)->tx_copy(0, one), 1);
    PacketBatch batch;
    ASSERT_EQ(port.rx_burst(0, batch), 1);
    EXPECT_EQ(port.tx_burst(0, batch), 1);
    vsw::memif::Buffer b[4];
    EXPECT_EQ((*c)->rx_burst(0, b), 1);
    (*c)->rx_release(0, 1);
  }

  MappedUsage saved_ = total_mapped_limits();
  std::vector<UniqueFd> hostile_;
};

TEST_F(MemifMappedLimitTest, OneClientCannotMapMoreThanItsLimit) {
  auto good = add_port("good", 2);
  const MappedUsage before = mapped_usage();
  EXPECT_EQ(announce(1, {2 * kGiB}, "pw"), "regions exceed the 1024 MiB a client may map");
  EXPECT_EQ(announce(1, {64 * kGiB}, "pw"), "regions exceed the 1024 MiB a client may map");
  // Many regions adding up: the sum counts.
  ASSERT_TRUE(serve_until([&] { return detail(*port_, "state") == "listening"; }));
  EXPECT_EQ(announce(1, {768 * kMiB, 200 * kMiB, 100 * kMiB}, "pw"),
            "regions exceed the 1024 MiB a client may map");
  // Refused sessions unmapped everything they had.
  ASSERT_TRUE(serve_until([&] { return mapped_usage().bytes == before.bytes; }));
  EXPECT_EQ(mapped_usage().regions, before.regions);
  // A client holding 1000 MiB mapped mid-handshake does not stop another id's client.
  ASSERT_TRUE(serve_until([&] { return detail(*port_, "state") == "listening"; }));
  EXPECT_EQ(announce(1, {1000 * kMiB}, "pw"), "ack");
  EXPECT_EQ(mapped_usage().bytes, before.bytes + 1000 * kMiB);
  expect_good_client_works(*good, 2);
}

TEST_F(MemifMappedLimitTest, AllClientsTogetherStayUnderTheProcessLimit) {
  std::vector<std::unique_ptr<Port>> ports;
  for (uint32_t id = 2; id <= 5; ++id) ports.push_back(add_port("p" + std::to_string(id), id));
  auto good = add_port("good", 6);
  const MappedUsage before = mapped_usage();
  set_total_mapped_limits({before.bytes + 3 * kGiB, before.regions + 1000});
  for (uint32_t id = 2; id <= 4; ++id) EXPECT_EQ(announce(id, {900 * kMiB}), "ack") << id;
  // 2700 MiB mapped by three sessions: the fourth client's 900 MiB would cross 3 GiB.
  const std::string want = fmt::format(
      "vsw maps too much peer memory (total limit {} MiB in {} mappings)",
      (before.bytes + 3 * kGiB) >> 20, before.regions + 1000);
  EXPECT_EQ(announce(5, {900 * kMiB}), want);
  expect_good_client_works(*good, 6);  // 4 MiB still fit
  // The mapping count is limited as well.
  hostile_.clear();
  ASSERT_TRUE(serve_until([&] { return mapped_usage().bytes == before.bytes; }));
  set_total_mapped_limits({before.bytes + 3 * kGiB, before.regions + 3});
  EXPECT_NE(announce(2, {4096, 4096, 4096, 4096}).find("vsw maps too much peer memory"),
            std::string::npos);
}

// Address space actually running out (here: RLIMIT_AS) refuses the client, nothing else.
TEST_F(MemifMappedLimitTest, MmapFailureRefusesOnlyThatClient) {
  auto good = add_port("good", 2);
  uint64_t vm_kib = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) vm_kib = std::stoull(line.substr(7));
  }
  ASSERT_GT(vm_kib, 0u);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = vm_kib * 1024 + 256 * kMiB;  // room for the test itself, not for 900 MiB
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < tight.rlim_cur) GTEST_SKIP();
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &tight), 0);
  const std::string reason = announce(1, {900 * kMiB}, "pw");
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &saved), 0);
  EXPECT_EQ(reason, "cannot map peer memory: Cannot allocate memory");
  expect_good_client_works(*good, 2);
}

}  // namespace
}  // namespace vsw::ports::memif::testing
