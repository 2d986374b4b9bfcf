// tests/unit/memif/memif_lent_frames_test.cc — the buffer-ownership contract (dataplane/port.h)
// with a real memif client and two workers: ports that keep frames past tx_burst() (a ring port
// parked for the test thread, the loopback port) hold owned copies, never the client's memory,
// so a client that disconnects while its frames are held leaves nothing dangling. On code that
// parked lent frames these tests read unmapped client memory (a crash, or an ASan report) and
// race on the memif ring's outstanding count between the two workers.
#include <cstring>
#include <thread>

#include "dataplane/switch.h"
#include "ports/memif/memif_socket.h"
#include "ports/ring/ring_port.h"
#include "tests/unit/memif/memif_fixture.h"

namespace vsw::ports::memif::testing {
namespace {

using vsw::memif::Client;

constexpr uint8_t kBroadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
constexpr uint8_t kMacA[6] = {2, 0, 0, 0, 0, 0xA};

std::vector<std::byte> frame(uint32_t len, uint32_t seq) {
  std::vector<std::byte> f(len);
  std::memcpy(f.data(), kBroadcast, 6);
  std::memcpy(f.data() + 6, kMacA, 6);
  f[12] = std::byte{0x08};
  f[13] = std::byte{0x00};
  std::memcpy(f.data() + 14, &seq, 4);
  for (uint32_t i = 18; i < len; ++i) f[i] = static_cast<std::byte>((seq * 7 + i) & 0xFF);
  return f;
}

bool intact(const Packet& p, uint32_t len, uint32_t& seq) {
  if (p.frame_len != len || p.next != nullptr || p.len != len) return false;
  std::memcpy(&seq, p.data() + 14, 4);
  for (uint32_t i = 18; i < len; ++i) {
    if (p.data()[i] != static_cast<std::byte>((seq * 7 + i) & 0xFF)) return false;
  }
  return true;
}

class MemifLentFramesTest : public MemifTest {
 protected:
  void SetUp() override {
    MemifTest::SetUp();
    SwitchConfig cfg;
    cfg.workers = 2;  // the memif rx queue and the parking port's rx queue on different workers
    cfg.pool = Mempool::Config{4096, 2048, false};
    cfg.poll_mode = PollMode::Adaptive;
    auto sw = Switch::create(cfg);
    ASSERT_TRUE(sw.has_value()) << sw.error().message;
    sw_ = std::move(*sw);
    ASSERT_TRUE(sw_->start().has_value());
    ASSERT_TRUE(sw_->add_bridge("br0", BridgeConfig{}).has_value());
    swenv_ = std::make_unique<PortEnv>(PortEnv{sw_->mempool(), io_, dir_, 2, &sw_->quiescent()});
    PortSpec spec{"m", "memif", {{"id", "1"}, {"socket", sock_}}};
    ASSERT_TRUE(
        sw_->add_port("br0", "m", [&](PortId pid) { return create(spec, pid, *swenv_); }));
  }
  void TearDown() override {
    client_.reset();
    sw_.reset();
    MemifTest::TearDown();
  }
  void send(const std::vector<std::byte>& f) {
    const std::span<const std::byte> s(f);
    while (client_->tx_copy(0, std::span<const std::span<const std::byte>>(&s, 1)) == 0) {
      poll_io();
    }
  }
  // Disconnects the client and waits until the port has unmapped its memory (link down).
  void disconnect() {
    client_.reset();
    ASSERT_TRUE(serve_until([&] {
      sw_->housekeeping();
      return sw_->port("m")->link == LinkState::Down;
    }));
  }

  std::unique_ptr<Switch> sw_;
  std::unique_ptr<PortEnv> swenv_;
  std::unique_ptr<Client> client_;
};

TEST_F(MemifLentFramesTest, ParkedFramesAreOwnedCopiesThatOutliveTheClient) {
  ports::ring::RingPort* parked = nullptr;
  ASSERT_TRUE(sw_->add_port("br0", "parked", [&](PortId pid) {
    auto p = std::make_unique<ports::ring::RingPort>("parked", pid, 4096, kDefaultMtu,
                                                      &sw_->mempool());
    parked = p.get();
    return Result<std::unique_ptr<Port>>(std::unique_ptr<Port>(std::move(p)));
  }));
  auto c = connect(1);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  client_ = std::move(*c);
  constexpr uint32_t kFrames = 300;
  constexpr uint32_t kLen = 200;
  for (uint32_t seq = 0; seq < kFrames; ++seq) send(frame(kLen, seq));
  // Every frame is flooded to the parking port and waits there for this thread.
  ASSERT_TRUE(serve_until([&] { return sw_->port("parked")->stats.tx_packets == kFrames; }));
  disconnect();
  // The client's memory is gone; what the port holds must still be whole, owned frames.
  std::vector<Packet*> got(kFrames + 1);
  const uint32_t n = parked->drain(got.data(), static_cast<uint32_t>(got.size()));
  ASSERT_EQ(n, kFrames);
  for (uint32_t i = 0; i < n; ++i) {
    Packet* p = got[i];
    EXPECT_FALSE(p->is_lent());
    EXPECT_TRUE(sw_->mempool().owns(p)) << "an owned buffer of the switch's pool";
    uint32_t seq = 0;
    EXPECT_TRUE(intact(*p, kLen, seq)) << i;
    EXPECT_EQ(seq, i);
    release_packet(p);
  }
}

TEST_F(MemifLentFramesTest, LoopbackHoldingFramesSurvivesClientDisconnects) {
  PortSpec lb{"lb", "loopback", {{"ring-size", "4096"}}};
  ASSERT_TRUE(sw_->add_port("br0", "lb", [&](PortId pid) {
    return ports::ring::create_loopback(lb, pid, *swenv_);
  }));
  // Frames go memif -> loopback (worker 0 transmits, the loopback keeps them), come back on the
  // loopback's rx queue (worker 1) and are flooded back to the client. The client disconnects in
  // the middle of it, several times.
  for (int round = 0; round < 5; ++round) {
    auto c = connect(1);
    ASSERT_TRUE(c.has_value()) << c.error().message;
    client_ = std::move(*c);
    const uint64_t before = sw_->port("lb")->stats.rx_packets;
    for (uint32_t seq = 0; seq < 200; ++seq) send(frame(1000, seq));
    // Disconnect as soon as the loopback moved some of them: others are still in flight.
    ASSERT_TRUE(serve_until([&] { return sw_->port("lb")->stats.rx_packets > before; }));
    disconnect();
  }
  // Every frame the loopback kept came back out of it (nothing lost in a dead client's ring),
  // and what it still held was released into the pool.
  ASSERT_TRUE(serve_until([&] {
    const auto st = sw_->port("lb")->stats;
    return st.tx_packets > 0 && st.rx_packets == st.tx_packets;
  }));
  EXPECT_TRUE(sw_->del_port("lb"));
  EXPECT_TRUE(serve_until([&] { return sw_->mempool().available() == sw_->mempool().capacity(); }))
      << "every copy made for the loopback went back to the pool";
}

}  // namespace
}  // namespace vsw::ports::memif::testing
