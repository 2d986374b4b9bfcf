// tests/unit/memif/memif_fixture.h — shared set-up for the memif server tests: an io_context
// playing the control thread, a small mempool, a temporary socket directory, and helpers that
// run a blocking client call while the "control thread" keeps serving the socket.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "dataplane/mempool.h"
#include "ports/memif/client/memif_client.h"
#include "ports/memif/memif_channel.h"
#include "ports/memif/memif_message.h"
#include "ports/memif/memif_port.h"
#include "ports/port_factory.h"

namespace vsw::ports::memif::testing {

inline size_t open_fd_count() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

class MemifTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vsw-memif-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sock_ = dir_ + "/memif.sock";
    Mempool::Config cfg;
    cfg.buffers = 1024;
    cfg.buffer_bytes = 2048;
    cfg.hugepages = false;
    auto pool = Mempool::create("memif-test", cfg);
    ASSERT_TRUE(pool.has_value());
    pool_ = std::move(pool.value());
    env_ = std::make_unique<PortEnv>(PortEnv{*pool_, io_, dir_, 1, nullptr});
  }
  void TearDown() override {
    poll_io();
    std::filesystem::remove_all(dir_);
  }

  // Runs ready control-thread handlers once.
  void poll_io() {
    if (io_.stopped()) io_.restart();
    io_.poll();
  }
  // Serves the control socket until `done()` or `timeout`.
  template <class Pred>
  bool serve_until(Pred done, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      poll_io();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  }
  // Runs a blocking call on another thread while serving the socket here.
  template <class F>
  auto with_io(F f) {
    auto fut = std::async(std::launch::async, std::move(f));
    serve_until([&] {
      return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    }, std::chrono::milliseconds(10000));
    return fut.get();
  }

  Result<std::unique_ptr<Port>> make_port(const std::string& name, uint32_t id,
                                          std::map<std::string, std::string> opts = {},
                                          PortId pid = 3) {
    opts.emplace("id", std::to_string(id));
    opts.emplace("socket", sock_);
    PortSpec spec{name, "memif", std::move(opts)};
    return create(spec, pid, *env_);
  }

  Result<std::unique_ptr<vsw::memif::Client>> connect(uint32_t id,
                                                      vsw::memif::ClientConfig cfg = {}) {
    cfg.socket = sock_;
    cfg.id = id;
    cfg.timeout = std::chrono::milliseconds(3000);
    return with_io([cfg] { return vsw::memif::Client::connect(cfg); });
  }

  // Raw client for hostile tests: connected socket, HELLO already read.
  UniqueFd raw_connect() {
    auto fd = connect_seqpacket(sock_);
    EXPECT_TRUE(fd.has_value());
    auto hello = reply(fd->get());
    EXPECT_EQ(msg_type(hello), MsgType::Hello);
    return std::move(fd.value());
  }
  // Waits (serving the socket) for the next message from vsw; type None on timeout/close.
  MsgBuffer reply(int fd) {
    MsgBuffer out{};
    serve_until([&] {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return false;
      Received r = recv_msg(fd);
      if (r.status == RecvStatus::Message) out = r.msg;
      return true;
    });
    return out;
  }
  // Sends and returns vsw's answer.
  MsgBuffer ask(int fd, const MsgBuffer& m, int pass_fd = -1) {
    EXPECT_TRUE(send_msg(fd, m, pass_fd).has_value());
    return reply(fd);
  }
  static std::string reason_of(const MsgBuffer& m) {
    return msg_type(m) == MsgType::Disconnect ? decode_disconnect(m).reason
                                              : std::string(msg_type_name(msg_type(m)));
  }
  static std::string detail(const Port& p, const std::string& key) {
    for (const auto& [k, v] : p.details()) {
      if (k == key) return v;
    }
    return "";
  }

  boost::asio::io_context io_;
  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<PortEnv> env_;
  std::string dir_;
  std::string sock_;
};

}  // namespace vsw::ports::memif::testing
