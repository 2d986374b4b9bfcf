// tests/models/intel_on_model_test.cc — vsw's 82599 driver (ports/intel/IntelPort) on the strict
// model, in process and synchronously: the test plays the wire (IxgbeModel::receive /
// transmit) between the driver's rx_burst / tx_burst calls. Every test ends by requiring that
// the model saw no datasheet violation, including the driver's reset on close.
#include <gtest/gtest.h>

#include <poll.h>

#include <cstring>
#include <set>

#include "dataplane/mempool.h"
#include "dataplane/packet_batch.h"
#include "ports/intel/intel_port.h"
#include "ports/port_factory.h"
#include "tests/models/ixgbe_model_port.h"
#include "tests/models/model_pci_device.h"
#include "tests/models/toeplitz.h"

namespace vsw::tests::models {
namespace {

using ports::intel::IntelOptions;
using ports::intel::IntelPort;
using ports::intel::NicFamily;

std::vector<uint8_t> udp_frame(uint16_t sport, size_t payload = 18) {
  std::vector<uint8_t> f(42 + payload, 0);
  const auto mac = ModelPciDevice::kDefaultMac;
  std::copy(mac.begin(), mac.end(), f.begin());
  f[6] = 0x02;
  f[11] = 0x01;
  f[12] = 0x08;
  f[14] = 0x45;
  const uint16_t tot = static_cast<uint16_t>(28 + payload);
  f[16] = static_cast<uint8_t>(tot >> 8);
  f[17] = static_cast<uint8_t>(tot);
  f[22] = 64;
  f[23] = 17;
  const uint8_t ips[8] = {10, 9, 0, 1, 10, 9, 0, 2};
  std::memcpy(&f[26], ips, 8);
  f[34] = static_cast<uint8_t>(sport >> 8);
  f[35] = static_cast<uint8_t>(sport);
  f[37] = 9;
  for (size_t i = 0; i < payload; ++i) f[42 + i] = static_cast<uint8_t>(sport + i);
  return f;
}

std::vector<uint8_t> bytes_of(const Packet* p) {
  std::vector<uint8_t> out;
  for (; p != nullptr; p = p->next) {
    const auto* d = reinterpret_cast<const uint8_t*>(p->data());
    out.insert(out.end(), d, d + p->len);
  }
  return out;
}

std::string violations(const IxgbeModel& m) {
  std::string s;
  for (const auto& v : m.violations()) s += v + "\n";
  return s;
}

struct DriverRig {
  explicit DriverRig(uint16_t rx_queues, uint16_t workers = 1, uint32_t buffer_bytes = 2048) {
    Mempool::Config c;
    c.buffers = 4096;
    c.buffer_bytes = buffer_bytes;
    c.hugepages = false;
    auto made = Mempool::create("model-test", c);
    pool = std::move(*made);
    auto d = std::make_unique<ModelPciDevice>();
    dev = d.get();
    d->set_on_destroy([this](const IxgbeModel& m) {
      final_violations = m.violations();
      destroyed = true;
    });
    IntelOptions o;
    o.rx_queues = rx_queues;
    o.workers = workers;
    o.ring_size = 512;
    auto p = IntelPort::open("nic0", 1, NicFamily::Ixgbe82599, std::move(d), *pool, o);
    if (!p) {
      ADD_FAILURE() << p.error().message;
      return;
    }
    port = std::move(*p);
  }
  // Closes the port (the driver resets the NIC, then destroys the device) and requires that the
  // model saw no violation over the port's whole life.
  void close_and_expect_clean() {
    port.reset();
    ASSERT_TRUE(destroyed);
    std::string s;
    for (const auto& v : final_violations) s += v + "\n";
    EXPECT_TRUE(final_violations.empty()) << s;
  }
  std::vector<std::string> final_violations;
  bool destroyed = false;
  std::unique_ptr<Mempool> pool;
  ModelPciDevice* dev = nullptr;
  std::unique_ptr<IntelPort> port;
};

TEST(IntelOnModel, BringUpFollowsTheDatasheet) {
  DriverRig r(4);
  ASSERT_TRUE(r.port);
  EXPECT_EQ(r.port->rx_queue_count(), 4);
  r.port->housekeeping();
  EXPECT_EQ(r.port->link_state(), LinkState::Up);
  EXPECT_EQ(r.dev->model().violation_count(), 0u) << violations(r.dev->model());
  r.close_and_expect_clean();
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(IntelOnModel, MsixWakeupOnTheQueueThatReceivedOnlyWhileArmed) {
  DriverRig r(4);
  ASSERT_TRUE(r.port);
  std::string wakeup;
  for (const auto& [k, v] : r.port->details()) {
    if (k == "rx_wakeup") wakeup = v;
  }
  ASSERT_EQ(wakeup, "msix (4 vectors, one per receive queue)");
  IxgbeModel& m = r.dev->model();
  // Polling (all vectors masked): a frame raises no message.
  ASSERT_EQ(m.receive(udp_frame(4000)), RxOutcome::Delivered);
  const uint16_t q0 = m.last_rx_queue();
  for (uint16_t q = 0; q < 4; ++q) EXPECT_FALSE(readable(r.port->rx_wakeup_fd(q))) << q;
  EXPECT_FALSE(r.port->enable_rx_wakeup(q0)) << "the frame waits: no sleep";
  r.port->disable_rx_wakeup(q0, false);
  PacketBatch b;
  EXPECT_EQ(r.port->rx_burst(q0, b), 1);
  b.release_all();
  // Asleep: every queue armed; the stale cause of the frame above was cleared, so arming sends
  // nothing, and the next frame signals its own queue's vector only.
  for (uint16_t q = 0; q < 4; ++q) EXPECT_TRUE(r.port->enable_rx_wakeup(q)) << q;
  for (uint16_t q = 0; q < 4; ++q) EXPECT_FALSE(readable(r.port->rx_wakeup_fd(q))) << q;
  ASSERT_EQ(m.receive(udp_frame(4001)), RxOutcome::Delivered);
  const uint16_t q1 = m.last_rx_queue();
  for (uint16_t q = 0; q < 4; ++q) {
    EXPECT_EQ(readable(r.port->rx_wakeup_fd(q)), q == q1) << q;
    r.port->disable_rx_wakeup(q, q == q1);
  }
  EXPECT_FALSE(readable(r.port->rx_wakeup_fd(q1))) << "drained";
  EXPECT_EQ(r.port->rx_interrupts(q1), 1u);
  EXPECT_EQ(m.counters().msix_messages[q1], 1u);
  EXPECT_EQ(r.port->rx_burst(q1, b), 1);
  b.release_all();
  // Disarmed again: no message.
  ASSERT_EQ(m.receive(udp_frame(4001)), RxOutcome::Delivered);
  EXPECT_FALSE(readable(r.port->rx_wakeup_fd(q1)));
  EXPECT_EQ(m.counters().msix_messages[q1], 1u);
  r.close_and_expect_clean();
}

TEST(IntelOnModel, ReceivedFramesArriveIntact) {
  DriverRig r(1);
  ASSERT_TRUE(r.port);
  std::vector<std::vector<uint8_t>> sent;
  for (uint16_t i = 0; i < 100; ++i) {
    sent.push_back(udp_frame(1000 + i, 18 + i * 10));
    ASSERT_EQ(r.dev->model().receive(sent.back()), RxOutcome::Delivered) << i;
  }
  std::vector<std::vector<uint8_t>> got;
  for (int round = 0; round < 10 && got.size() < sent.size(); ++round) {
    PacketBatch b;
    r.port->rx_burst(0, b);
    for (Packet* p : b.packets()) {
      got.push_back(bytes_of(p));
      release_packet(p);
    }
  }
  EXPECT_EQ(got, sent);
  r.close_and_expect_clean();
}

TEST(IntelOnModel, JumboFrameIsChained) {
  DriverRig r(1);
  ASSERT_TRUE(r.port);
  const auto f = udp_frame(7, 5000);
  ASSERT_EQ(r.dev->model().receive(f), RxOutcome::Delivered);
  PacketBatch b;
  ASSERT_EQ(r.port->rx_burst(0, b), 1);
  EXPECT_EQ(bytes_of(b[0]), f);
  EXPECT_NE(b[0]->next, nullptr);
  release_packet(b[0]);
  r.close_and_expect_clean();
}

TEST(IntelOnModel, TransmittedFramesLeaveIntact) {
  DriverRig r(1);
  ASSERT_TRUE(r.port);
  std::vector<std::vector<uint8_t>> sent, wire;
  for (int round = 0; round < 40; ++round) {
    PacketBatch b;
    for (uint16_t i = 0; i < 32; ++i) {
      Packet* p = nullptr;
      ASSERT_EQ(r.pool->alloc(&p, 1), 1);
      const auto f = udp_frame(static_cast<uint16_t>(round * 32 + i), 46);
      std::memcpy(p->data(), f.data(), f.size());
      p->len = static_cast<uint16_t>(f.size());
      p->frame_len = p->len;
      sent.push_back(f);
      b.push(p);
    }
    r.port->tx_burst(0, b);
    r.dev->model().transmit(wire);
  }
  EXPECT_EQ(wire, sent);
  r.close_and_expect_clean();
}

// vswitchd --mempool-buffer-bytes 4096 (docs/ports/intel.md): 3968 bytes of data room give 3 KiB
// device buffers, so a full-size frame is one descriptor; with the default 2048 it is two.
TEST(IntelOnModel, FourKibPoolBuffersTakeAFullSizeFrameInOneDescriptor) {
  for (const uint32_t bytes : {2048u, 4096u}) {
    DriverRig r(1, 1, bytes);
    ASSERT_TRUE(r.port);
    std::vector<std::vector<uint8_t>> sent;
    for (uint16_t i = 0; i < 40; ++i) {
      sent.push_back(udp_frame(static_cast<uint16_t>(100 + i), i % 2 == 0 ? 1472 : 30));
      ASSERT_EQ(r.dev->model().receive(sent.back()), RxOutcome::Delivered) << bytes << " " << i;
    }
    std::vector<std::vector<uint8_t>> got;
    for (int round = 0; round < 4 && got.size() < sent.size(); ++round) {
      PacketBatch b;
      r.port->rx_burst(0, b);
      for (Packet* p : b.packets()) {
        got.push_back(bytes_of(p));
        EXPECT_EQ(chain_length(p), p->frame_len == 1514 && bytes == 2048 ? 2u : 1u) << bytes;
      }
      b.release_all();
    }
    EXPECT_EQ(got, sent) << bytes;
    r.close_and_expect_clean();
    EXPECT_EQ(r.pool->available(), r.pool->capacity()) << bytes << ": every segment went back";
  }
}

// Chained and single frames mixed in each burst, many rounds: the tx cleanup frees every frame
// once (chains hold their frame at the last descriptor only) and the wire sees them intact.
TEST(IntelOnModel, ChainedAndSingleTransmitFramesMixAcrossManyBursts) {
  DriverRig r(1);
  ASSERT_TRUE(r.port);
  std::vector<std::vector<uint8_t>> sent, wire;
  for (int round = 0; round < 60; ++round) {
    PacketBatch b;
    for (uint16_t i = 0; i < 32; ++i) {
      const auto f = udp_frame(static_cast<uint16_t>(round * 32 + i), i % 3 == 0 ? 1000 : 46);
      Packet* p = nullptr;
      ASSERT_EQ(r.pool->alloc(&p, 1), 1);
      const size_t first = i % 3 == 0 ? 600 : f.size();
      std::memcpy(p->data(), f.data(), first);
      p->len = static_cast<uint16_t>(first);
      p->frame_len = static_cast<uint32_t>(f.size());
      if (first < f.size()) {
        Packet* q = nullptr;
        ASSERT_EQ(r.pool->alloc(&q, 1), 1);
        std::memcpy(q->data(), f.data() + first, f.size() - first);
        q->len = static_cast<uint16_t>(f.size() - first);
        p->next = q;
      }
      sent.push_back(f);
      b.push(p);
    }
    EXPECT_EQ(r.port->tx_burst(0, b), 32) << round;
    r.dev->model().transmit(wire);
  }
  EXPECT_EQ(wire, sent);
  r.close_and_expect_clean();
  EXPECT_EQ(r.pool->available(), r.pool->capacity()) << "every frame freed once";
}

TEST(IntelOnModel, RssSpreadsFlowsAsToeplitzOnTheProgrammedKeyPredicts) {
  DriverRig r(4);
  ASSERT_TRUE(r.port);
  const RssProgramming rss = r.dev->model().rss_programming();
  std::set<uint16_t> used;
  for (uint16_t port = 2000; port < 2064; ++port) {
    ASSERT_EQ(r.dev->model().receive(udp_frame(port)), RxOutcome::Delivered);
    const uint8_t tuple[12] = {
        10, 9, 0, 1, 10, 9, 0, 2, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port),
        0,  9};
    const uint32_t h = toeplitz_hash(rss.key, tuple);
    const uint16_t want = rss.reta[h & 0x7F];
    used.insert(want);
    for (uint16_t q = 0; q < 4; ++q) {
      PacketBatch b;
      const uint16_t n = r.port->rx_burst(q, b);
      EXPECT_EQ(n, q == want ? 1 : 0) << "port " << port << " queue " << q;
      for (Packet* p : b.packets()) release_packet(p);
    }
  }
  EXPECT_GE(used.size(), 2u);
  r.close_and_expect_clean();
}

TEST(IntelOnModel, AViolationDuringThePortsLifeIsReportedAtClose) {
  DriverRig r(1);
  ASSERT_TRUE(r.port);
  const uint16_t off = 0;  // bus mastering off behind the driver's back
  ASSERT_TRUE(r.dev->write_config(0x04, &off, 2).has_value());
  EXPECT_EQ(r.dev->model().receive(udp_frame(1)), RxOutcome::DmaError);
  r.port.reset();
  ASSERT_TRUE(r.destroyed);
  ASSERT_EQ(r.final_violations.size(), 1u);
  EXPECT_NE(r.final_violations[0].find("bus mastering disabled"), std::string::npos);
}

TEST(IxgbeModelPortType, AddedToTheFactoryOnceAndChecksItsOptions) {
  ports::PortFactory f;
  EXPECT_FALSE(f.has_type("ixgbe-model"));
  ASSERT_TRUE(f.add_type(kIxgbeModelPortType).has_value());
  EXPECT_TRUE(f.has_type("ixgbe-model"));
  EXPECT_NE(f.type_list().find("ixgbe-model"), std::string::npos);
  auto again = f.add_type(kIxgbeModelPortType);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::AlreadyExists);

  Mempool::Config c;
  c.buffers = 256;
  c.hugepages = false;
  auto pool = Mempool::create("factory-test", c);
  boost::asio::io_context io;
  ports::PortEnv env{**pool, io, "/tmp", 1, nullptr};
  auto no_wire = f.create({"nic0", "ixgbe-model", {}}, 1, env);
  ASSERT_FALSE(no_wire.has_value());
  EXPECT_EQ(no_wire.error().code, Errc::InvalidArgument);
  EXPECT_NE(no_wire.error().message.find("wire=TAP"), std::string::npos);
  auto bad_key =
      f.create({"nic0", "ixgbe-model", {{"wire", "x"}, {"pci", "0000:00:01.0"}}}, 1, env);
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_NE(bad_key.error().message.find("pci"), std::string::npos);
}

}  // namespace
}  // namespace vsw::tests::models
