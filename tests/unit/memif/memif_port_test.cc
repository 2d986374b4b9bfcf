// tests/unit/memif/memif_port_test.cc — the memif port against the client library over a real
// socket: connection, both directions, chained jumbo frames, several queues, interrupts,
// reconnect, data-path violations, ring exhaustion, several ports per socket, dynamic ports.
#include <cstring>
#include <map>
#include <vector>

#include "ports/memif/memif_socket.h"
#include "tests/unit/memif/memif_fixture.h"

namespace vsw::ports::memif::testing {
namespace {

using vsw::memif::Buffer;
using vsw::memif::Client;
using vsw::memif::ClientConfig;

template <class F>
ClientConfig with(F f) {
  ClientConfig c;
  f(c);
  return c;
}

std::vector<std::byte> make_frame(uint32_t len, uint8_t seed) {
  std::vector<std::byte> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<std::byte>(seed + i * 7);
  f[0] = std::byte{0x02};  // unicast destination
  return f;
}

uint16_t send_frames(Client& c, uint16_t q, const std::vector<std::vector<std::byte>>& frames) {
  std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
  return c.tx_copy(q, spans);
}

// Reassembles every frame waiting on the client's rx ring q.
std::vector<std::vector<std::byte>> receive_frames(Client& c, uint16_t q) {
  std::vector<std::vector<std::byte>> out;
  Buffer b[64];
  std::vector<std::byte> cur;
  for (;;) {
    const uint16_t n = c.rx_burst(q, b);
    if (n == 0) break;
    for (uint16_t i = 0; i < n; ++i) {
      cur.insert(cur.end(), b[i].data, b[i].data + b[i].len);
      if (!b[i].more) out.push_back(std::exchange(cur, {}));
    }
    c.rx_release(q, n);
  }
  return out;
}

std::vector<std::byte> flatten(const Packet* p) {
  std::vector<std::byte> out;
  for (; p != nullptr; p = p->next) out.insert(out.end(), p->data(), p->data() + p->len);
  return out;
}

TEST_F(MemifTest, ClientConnectsAndFramesFlowBothWays) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value()) << port.error().message;
  Port& p = **port;
  EXPECT_EQ(p.type(), "memif");
  EXPECT_EQ(p.link_state(), LinkState::Down);
  EXPECT_EQ(detail(p, "state"), "listening");
  auto c = connect(1, with([](ClientConfig& c) { c.app_name = "unit"; c.if_name = "eth7"; }));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  Client& client = **c;
  EXPECT_EQ(client.peer_if_name(), "app1");
  EXPECT_EQ(client.server_name(), "vsw");
  EXPECT_EQ(p.link_state(), LinkState::Up);
  EXPECT_EQ(detail(p, "state"), "connected");
  EXPECT_EQ(detail(p, "peer"), "unit");
  EXPECT_EQ(detail(p, "peer_if_name"), "eth7");

  const std::vector<std::vector<std::byte>> frames = {make_frame(60, 1), make_frame(1514, 2),
                                                      make_frame(100, 3)};
  ASSERT_EQ(send_frames(client, 0, frames), 3);
  PacketBatch batch;
  ASSERT_EQ(p.rx_burst(0, batch), 3);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(flatten(batch[i]), frames[i]);
    EXPECT_EQ(batch[i]->in_port, 3);
  }
  // Send them straight back: the one copy goes from the client's C2S buffers to its S2C buffers.
  EXPECT_EQ(p.tx_burst(0, batch), 3);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(receive_frames(client, 0), frames);
  const PortStats s = p.counters().snapshot();
  EXPECT_EQ(s.rx_packets, 3u);
  EXPECT_EQ(s.tx_packets, 3u);
  EXPECT_EQ(s.rx_bytes, 60u + 1514u + 100u);
  EXPECT_EQ(s.tx_bytes, s.rx_bytes);
  // The C2S slots went back to the client at the next poll.
  PacketBatch none;
  EXPECT_EQ(p.rx_burst(0, none), 0);
  EXPECT_EQ(client.tx_in_flight(0), 0);
}

TEST_F(MemifTest, JumboFramesAreChainedBothWays) {
  auto port = make_port("app1", 1, {{"mtu", "9000"}});
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);
  ASSERT_TRUE(c.has_value());
  const std::vector<std::vector<std::byte>> frames = {make_frame(9000, 5), make_frame(64, 6)};
  ASSERT_EQ(send_frames(**c, 0, frames), 2);
  PacketBatch batch;
  ASSERT_EQ((*port)->rx_burst(0, batch), 2);
  EXPECT_EQ(batch[0]->frame_len, 9000u);
  ASSERT_NE(batch[0]->next, nullptr);  // 2048-byte client buffers: 5 segments
  EXPECT_EQ(flatten(batch[0]), frames[0]);
  EXPECT_EQ((*port)->tx_burst(0, batch), 2);
  EXPECT_EQ(receive_frames(**c, 0), frames);
}

TEST_F(MemifTest, SeveralQueuePairs) {
  auto port = make_port("app1", 1, {{"rings", "2"}});
  ASSERT_TRUE(port.has_value());
  EXPECT_EQ((*port)->rx_queue_count(), 2);
  auto c = connect(1, with([](ClientConfig& c) { c.queue_pairs = 4; }));  // negotiated down to 2
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ((*c)->queue_pairs(), 2);
  ASSERT_EQ(send_frames(**c, 1, {make_frame(64, 1)}), 1);
  PacketBatch b0, b1;
  EXPECT_EQ((*port)->rx_burst(0, b0), 0);
  ASSERT_EQ((*port)->rx_burst(1, b1), 1);
  EXPECT_EQ((*port)->tx_burst(1, b1), 1);
  EXPECT_EQ(receive_frames(**c, 1).size(), 1u);
  EXPECT_EQ(receive_frames(**c, 0).size(), 0u);
}

TEST_F(MemifTest, FewerClientRingsThanQueuesShareARing) {
  auto port = make_port("app1", 1, {{"rings", "4"}});
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);  // one queue pair
  ASSERT_TRUE(c.has_value());
  for (QueueId q = 0; q < 4; ++q) {
    Packet* pkt = nullptr;
    ASSERT_EQ(pool_->alloc(&pkt, 1), 1);
    std::memset(pkt->data(), 0x22, 64);
    pkt->len = 64;
    pkt->frame_len = 64;
    PacketBatch b;
    b.push(pkt);
    EXPECT_EQ((*port)->tx_burst(q, b), 1);  // tx queue q -> S2C ring q % 1
  }
  EXPECT_EQ(receive_frames(**c, 0).size(), 4u);
  PacketBatch none;
  EXPECT_EQ((*port)->rx_burst(3, none), 0);  // no C2S ring 3: idle, not an error
}

TEST_F(MemifTest, InterruptModeClientIsSignalledOncePerBurst) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  auto c = connect(1, with([](ClientConfig& c) { c.interrupt_mode = true; }));
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE((*c)->wait_rx(0, std::chrono::milliseconds(1)));
  ASSERT_EQ(send_frames(**c, 0, {make_frame(64, 1), make_frame(64, 2)}), 2);
  PacketBatch batch;
  ASSERT_EQ((*port)->rx_burst(0, batch), 2);
  EXPECT_EQ((*port)->tx_burst(0, batch), 2);
  EXPECT_TRUE((*c)->wait_rx(0, std::chrono::milliseconds(1000)));
  EXPECT_EQ(detail(**port, "interrupts"), "1");
  EXPECT_EQ(receive_frames(**c, 0).size(), 2u);
}

TEST_F(MemifTest, PollingClientIsNeverSignalled) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(send_frames(**c, 0, {make_frame(64, 1)}), 1);
  PacketBatch batch;
  ASSERT_EQ((*port)->rx_burst(0, batch), 1);
  EXPECT_EQ((*port)->tx_burst(0, batch), 1);
  EXPECT_EQ(detail(**port, "interrupts"), "0");
}

TEST_F(MemifTest, ReconnectKeepsPortAndCounters) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  for (int round = 1; round <= 3; ++round) {
    auto c = connect(1);
    ASSERT_TRUE(c.has_value()) << round << ": " << c.error().message;
    ASSERT_EQ(send_frames(**c, 0, {make_frame(64, 1)}), 1);
    PacketBatch batch;
    ASSERT_EQ((*port)->rx_burst(0, batch), 1);
    batch.release_all();
    c->reset();  // client leaves (DISCONNECT)
    ASSERT_TRUE(serve_until([&] { return (*port)->link_state() == LinkState::Down; }));
    EXPECT_EQ((*port)->counters().snapshot().rx_packets, static_cast<uint64_t>(round));
    EXPECT_EQ(detail(**port, "disconnects"), std::to_string(round));
  }
  EXPECT_EQ(detail(**port, "connects"), "3");
}

TEST_F(MemifTest, ClientCrashIsNoticed) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);
  ASSERT_TRUE(c.has_value());
  ::shutdown((*c)->raw().control_fd, SHUT_RDWR);  // as the kernel does when a process dies
  ASSERT_TRUE(serve_until([&] { return (*port)->link_state() == LinkState::Down; }));
  EXPECT_EQ(detail(**port, "last_disconnect"), "peer closed the control socket");
  auto again = connect(1);
  EXPECT_TRUE(again.has_value());
}

TEST_F(MemifTest, BogusDescriptorDisconnectsOnlyThatClient) {
  auto port1 = make_port("app1", 1, {}, 3);
  auto port2 = make_port("app2", 2, {}, 4);
  ASSERT_TRUE(port1.has_value() && port2.has_value());
  auto bad = connect(1);
  auto good = connect(2);
  ASSERT_TRUE(bad.has_value() && good.has_value());
  // The hostile client publishes a descriptor pointing far outside its region.
  auto raw = (*bad)->raw();
  auto* desc = reinterpret_cast<Desc*>(reinterpret_cast<std::byte*>(raw.c2s) + sizeof(RingHeader));
  desc[0] = Desc{0, 0, 64, static_cast<uint32_t>(raw.region_size + 4096), 0};
  raw.c2s->head.store(1, std::memory_order_release);
  PacketBatch batch;
  EXPECT_EQ((*port1)->rx_burst(0, batch), 0);
  EXPECT_EQ((*port1)->counters().snapshot().rx_drops[static_cast<size_t>(DropReason::Invalid)],
            1u);
  EXPECT_EQ((*port1)->rx_burst(0, batch), 0);  // stopped using the connection at once
  (*port1)->housekeeping();
  ASSERT_TRUE(serve_until([&] { return !(*bad)->poll_control(); }));
  EXPECT_EQ((*bad)->disconnect_reason(), "descriptor buffer outside its region");
  EXPECT_EQ((*port1)->link_state(), LinkState::Down);
  // The other client is untouched.
  ASSERT_EQ(send_frames(**good, 0, {make_frame(64, 9)}), 1);
  ASSERT_EQ((*port2)->rx_burst(0, batch), 1);
  EXPECT_EQ((*port2)->tx_burst(0, batch), 1);
  EXPECT_EQ(receive_frames(**good, 0).size(), 1u);
  EXPECT_TRUE((*good)->poll_control());
}

TEST_F(MemifTest, BogusHeadOnTxRingDisconnects) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);
  ASSERT_TRUE(c.has_value());
  (*c)->raw().s2c->head.store(0x8000, std::memory_order_release);
  Packet* pkt = nullptr;
  ASSERT_EQ(pool_->alloc(&pkt, 1), 1);
  pkt->len = 64;
  pkt->frame_len = 64;
  PacketBatch b;
  b.push(pkt);
  EXPECT_EQ((*port)->tx_burst(0, b), 0);
  (*port)->housekeeping();
  ASSERT_TRUE(serve_until([&] { return !(*c)->poll_control(); }));
  EXPECT_EQ((*c)->disconnect_reason(), "ring head out of range");
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(MemifTest, ClientThatNeverDrainsOnlyLosesItsOwnFrames) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  auto c = connect(1);
  ASSERT_TRUE(c.has_value());
  uint64_t sent = 0;
  for (int i = 0; i < 100; ++i) {
    PacketBatch b;
    Packet* pkts[32];
    ASSERT_EQ(pool_->alloc(pkts, 32), 32);
    for (Packet* pkt : pkts) {
      pkt->len = 64;
      pkt->frame_len = 64;
      b.push(pkt);
    }
    sent += (*port)->tx_burst(0, b);
  }
  EXPECT_EQ(sent, 1024u);  // one ring's worth, then TxFull drops, never a stall
  const PortStats s = (*port)->counters().snapshot();
  EXPECT_EQ(s.tx_drops[static_cast<size_t>(DropReason::TxFull)], 3200u - 1024u);
  EXPECT_EQ(pool_->available(), pool_->capacity());
  EXPECT_TRUE((*c)->poll_control());  // full is not a violation
}

TEST_F(MemifTest, TxWithoutClientDropsAndReleases) {
  auto port = make_port("app1", 1);
  ASSERT_TRUE(port.has_value());
  Packet* pkt = nullptr;
  ASSERT_EQ(pool_->alloc(&pkt, 1), 1);
  pkt->len = 64;
  pkt->frame_len = 64;
  PacketBatch b;
  b.push(pkt);
  EXPECT_EQ((*port)->tx_burst(0, b), 0);
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(MemifTest, PortsShareOneSocketAndItClosesWithTheLast) {
  auto p1 = make_port("app1", 1);
  auto p2 = make_port("app2", 2);
  ASSERT_TRUE(p1.has_value() && p2.has_value());
  auto dup = make_port("app3", 1);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::AlreadyExists);
  auto c2 = connect(2);
  ASSERT_TRUE(c2.has_value());
  p1->reset();
  EXPECT_TRUE(std::filesystem::exists(sock_));
  EXPECT_TRUE((*c2)->poll_control());
  p2->reset();  // deleting a port with a client: DISCONNECT "interface deleted"
  ASSERT_TRUE(serve_until([&] { return !(*c2)->poll_control(); }));
  EXPECT_EQ((*c2)->disconnect_reason(), "interface deleted");
  EXPECT_FALSE(std::filesystem::exists(sock_));
}

TEST_F(MemifTest, AbstractSocket) {
  PortSpec spec{"app1", "memif", {{"id", "4"}, {"socket", "@" + dir_ + "/abstract"}}};
  auto port = create(spec, 3, *env_);
  ASSERT_TRUE(port.has_value()) << port.error().message;
  ClientConfig cfg;
  cfg.socket = "@" + dir_ + "/abstract";
  cfg.id = 4;
  auto c = with_io([cfg] { return Client::connect(cfg); });
  ASSERT_TRUE(c.has_value()) << c.error().message;
}

TEST_F(MemifTest, BadOptionsAreRejected) {
  const std::map<std::string, std::string> bad[] = {
      {{"ring-size", "1000"}}, {{"ring-size", "32768"}}, {{"rings", "0"}},
      {{"buffer-size", "70000"}}, {{"secret", std::string(30, 's')}}, {{"colour", "red"}},
      {{"mtu", "20000"}}};
  for (const auto& opts : bad) {
    auto p = make_port("app1", 1, opts);
    EXPECT_FALSE(p.has_value()) << opts.begin()->first;
    if (!p) {
      EXPECT_EQ(p.error().code, Errc::InvalidArgument);
    }
  }
  PortSpec spec{"x", "memif", {{"id", "1"}, {"socket", std::string(200, 'a')}}};
  EXPECT_FALSE(create(spec, 3, *env_).has_value());
}

TEST_F(MemifTest, DefaultSocketIsInRunDir) {
  PortSpec spec{"app1", "memif", {{"id", "1"}}};
  auto port = create(spec, 3, *env_);
  ASSERT_TRUE(port.has_value()) << port.error().message;
  EXPECT_EQ(detail(**port, "socket"), dir_ + "/memif.sock");
}

TEST_F(MemifTest, DynamicPortsComeAndGoWithTheirClient) {
  std::map<std::string, std::unique_ptr<Port>> ports;
  std::vector<std::string> removed;
  DynamicHooks hooks;
  hooks.create = [&](const std::string& socket, uint32_t id, const std::string& if_name) {
    PortSpec spec{if_name, "memif", {{"socket", socket}, {"id", std::to_string(id)}}};
    auto p = create(spec, static_cast<PortId>(10 + ports.size()), *env_);
    if (!p) return false;
    ports[if_name] = std::move(*p);
    return true;
  };
  hooks.remove = [&](const std::string& name) {
    removed.push_back(name);
    ports.erase(name);
  };
  auto dyn = open_dynamic_socket(io_, sock_, hooks);
  ASSERT_TRUE(dyn.has_value()) << dyn.error().message;
  auto static_port = make_port("static1", 1);  // static and dynamic ports share the socket
  ASSERT_TRUE(static_port.has_value());
  auto c = connect(77, with([](ClientConfig& c) { c.if_name = "dyn0"; }));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(ports.count("dyn0"), 1u);
  Port& p = *ports["dyn0"];
  EXPECT_EQ(p.link_state(), LinkState::Up);
  ASSERT_EQ(send_frames(**c, 0, {make_frame(64, 1)}), 1);
  PacketBatch batch;
  ASSERT_EQ(p.rx_burst(0, batch), 1);
  batch.release_all();
  c->reset();
  ASSERT_TRUE(serve_until([&] { return !removed.empty(); }));
  EXPECT_EQ(removed, std::vector<std::string>{"dyn0"});
  EXPECT_EQ(ports.size(), 0u);
  // Refusal by the hook, and no hooks at all: "ID not found".
  hooks.create = [](const std::string&, uint32_t, const std::string&) { return false; };
  dyn->reset();
  auto dyn2 = open_dynamic_socket(io_, sock_, hooks);
  ASSERT_TRUE(dyn2.has_value());
  auto refused = connect(78);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("ID not found"), std::string::npos);
  dyn2->reset();
  auto none = connect(79);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("ID not found"), std::string::npos);
}

}  // namespace
}  // namespace vsw::ports::memif::testing
