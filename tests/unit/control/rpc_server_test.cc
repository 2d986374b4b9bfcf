// tests/unit/control/rpc_server_test.cc — the Unix-socket server with real sockets in a temporary
// directory: framing, half-close, hostile clients (oversize lines, garbage, never reading, idle)
// and the socket file rules. The io_context runs on its own thread, as the control thread does.
#include "control/rpc_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

namespace vsw::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// A blocking test client with deadlines.
class TestClient {
 public:
  explicit TestClient(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~TestClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // The next line, or nullopt on EOF/error/timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  // True when the server closed the connection (EOF or reset) within `timeout`, discarding data.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) < 0) return false;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n <= 0) return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string request(int id, std::string_view method, json params = json::object()) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n";
}

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vsw-rpc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "ctl.sock";
    ASSERT_TRUE(dispatcher_.add(
        "test.echo", "",
        {{"text", FieldType::String, false}, {"repeat", FieldType::Unsigned, false}},
        [](Call& c) -> Result<json> {
          std::string text = c.params.value("text", "");
          const size_t repeat = c.params.value("repeat", 1u);
          std::string out;
          for (size_t i = 0; i < repeat; ++i) out += text;
          return json{{"text", out}};
        }));
  }

  void start(RpcLimits limits = {}) {
    server_ = std::make_unique<RpcServer>(io_, path_, dispatcher_, limits);
    Status st = server_->start();
    ASSERT_TRUE(st) << st.error().message;
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] {
        server_->stop();
        guard_.reset();
      });
      thread_.join();
    }
    server_.reset();
    fs::remove_all(dir_);
  }

  // Runs `f` on the io thread and waits for its result.
  template <class F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return fut.get();
  }

  bool echo_works(TestClient& c, int id = 1) {
    if (!c.send(request(id, "test.echo", {{"text", "ok"}}))) return false;
    auto line = c.read_line();
    if (!line) return false;
    json r = json::parse(*line);
    return r["id"] == id && r["result"]["text"] == "ok";
  }

  fs::path dir_, path_;
  Dispatcher dispatcher_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::unique_ptr<RpcServer> server_;
  std::thread thread_;
};

TEST_F(RpcServerTest, AnswersLinesInOrder) {
  start();
  TestClient c(path_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(request(1, "test.echo", {{"text", "a"}}) + "\n" +
                     request(2, "test.echo", {{"text", "b"}})));
  EXPECT_EQ(json::parse(*c.read_line())["id"], 1);
  EXPECT_EQ(json::parse(*c.read_line())["id"], 2);
  // A request split over several writes.
  std::string r = request(3, "test.echo");
  ASSERT_TRUE(c.send(r.substr(0, 5)));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(c.send(r.substr(5)));
  EXPECT_EQ(json::parse(*c.read_line())["id"], 3);
}

TEST_F(RpcServerTest, SocketHasMode0660) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(RpcServerTest, HalfCloseStillGetsTheReplyEvenWithoutNewline) {
  start();
  TestClient c(path_);
  std::string r = request(5, "test.echo");
  r.pop_back();  // no '\n'
  ASSERT_TRUE(c.send(r));
  c.shutdown_write();
  auto line = c.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["id"], 5);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(RpcServerTest, GarbageGetsParseErrorAndConnectionSurvives) {
  start();
  TestClient c(path_);
  ASSERT_TRUE(c.send("\x01\x02 garbage {{{\n\n   \n"));
  json r = json::parse(*c.read_line());
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_TRUE(echo_works(c));
}

TEST_F(RpcServerTest, OversizeLineIsRefusedAndClosedWithoutHurtingOthers) {
  RpcLimits limits;
  limits.max_line_bytes = 64 * 1024;
  start(limits);
  TestClient other(path_);
  TestClient big(path_);
  // 10 MB without a newline, written from another thread (the server stops reading early).
  std::thread writer([&] { big.send(std::string(10 << 20, 'x')); });
  EXPECT_TRUE(echo_works(other));
  auto line = big.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["error"]["code"], -32700);
  EXPECT_TRUE(big.closed_by_peer());
  writer.join();
  EXPECT_TRUE(echo_works(other, 2));
  EXPECT_EQ(on_io([&] { return server_->stats().oversize; }), 1u);
}

TEST_F(RpcServerTest, ClientThatNeverReadsIsDropped) {
  RpcLimits limits;
  limits.max_pending_reply_bytes = 256 * 1024;
  start(limits);
  TestClient lazy(path_);
  int small = 4096;
  ::setsockopt(lazy.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  TestClient other(path_);
  // Each request asks for a ~64 KiB reply; never read any of them.
  const std::string req =
      request(1, "test.echo", {{"text", std::string(64, 'y')}, {"repeat", 1024}});
  std::string many;
  for (int i = 0; i < 200; ++i) many += req;
  lazy.send(many);
  EXPECT_TRUE(echo_works(other));
  // The server gives up on the lazy client once too much is queued.
  for (int i = 0; i < 100 && on_io([&] { return server_->stats().slow; }) == 0; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(on_io([&] { return server_->stats().slow; }), 1u);
  EXPECT_TRUE(echo_works(other, 2));
}

TEST_F(RpcServerTest, AtTheClientLimitTheLongestIdleClientMakesRoom) {
  RpcLimits limits;
  limits.max_clients = 2;
  start(limits);
  TestClient a(path_), b(path_);
  ASSERT_TRUE(echo_works(a));
  ASSERT_TRUE(echo_works(b));  // a is now the longest idle
  TestClient c(path_);
  ASSERT_TRUE(echo_works(c));
  auto line = a.read_line();
  ASSERT_TRUE(line);
  json r = json::parse(*line);
  EXPECT_EQ(r["error"]["data"]["errc"], "unavailable");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("longest-idle"), std::string::npos);
  EXPECT_TRUE(a.closed_by_peer());
  EXPECT_TRUE(echo_works(b, 2));
  EXPECT_EQ(on_io([&] { return server_->stats().evicted; }), 1u);
  EXPECT_EQ(on_io([&] { return server_->client_count(); }), 2u);
}

TEST_F(RpcServerTest, NoRoomAtAllRefusesWithAnError) {
  RpcLimits limits;
  limits.max_clients = 0;
  start(limits);
  TestClient c(path_);
  auto line = c.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["error"]["data"]["errc"], "unavailable");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(on_io([&] { return server_->stats().refused; }), 1u);
}

// Connects to `path` as uid/gid 65534 (nobody) in a child process: one connection per byte read
// from go[0], each acknowledged with a byte on done[1]; exits when go[1] closes.
pid_t spawn_unprivileged_clients(const fs::path& path, const int go[2], const int done[2]) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(go[1]);  // else the child keeps its own pipe open and never sees the end
  ::close(done[0]);
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  char byte;
  while (::read(go[0], &byte, 1) == 1) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    byte = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 'y' : 'n';
    if (::write(done[1], &byte, 1) != 1) ::_exit(3);
  }
  ::_exit(0);
}

TEST_F(RpcServerTest, AUserFloodingTheSocketEvictsOnlyItsOwnConnections) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  RpcLimits limits;
  limits.max_clients = 3;
  start(limits);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  TestClient root_old(path_);
  ASSERT_TRUE(echo_works(root_old));  // the longest idle of all from here on
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = spawn_unprivileged_clients(path_, go, done);
  ASSERT_GT(child, 0);
  auto connect_one = [&] {
    char b = 'c';
    if (::write(go[1], &b, 1) != 1 || ::read(done[0], &b, 1) != 1) return false;
    return b == 'y';
  };
  auto wait_accepted = [&](uint64_t n) {
    for (int i = 0; i < 300; ++i) {
      if (on_io([&] { return server_->stats().accepted; }) >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  ASSERT_TRUE(connect_one());
  ASSERT_TRUE(wait_accepted(2));
  ASSERT_TRUE(connect_one());
  ASSERT_TRUE(wait_accepted(3));
  // The limit is reached: nobody's third connection evicts nobody's oldest, not root's.
  ASSERT_TRUE(connect_one());
  ASSERT_TRUE(wait_accepted(4));
  EXPECT_EQ(on_io([&] { return server_->stats().evicted; }), 1u);
  EXPECT_TRUE(echo_works(root_old, 2));
  // The operator's new connection gets in, again at nobody's expense.
  TestClient root_new(path_);
  EXPECT_TRUE(echo_works(root_new, 3));
  EXPECT_TRUE(echo_works(root_old, 4));
  EXPECT_EQ(on_io([&] { return server_->stats().evicted; }), 2u);
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(go[0]);
  ::close(done[0]);
  ::close(done[1]);
}

TEST_F(RpcServerTest, IdleClientsAreDropped) {
  RpcLimits limits;
  limits.idle_timeout = 200ms;
  start(limits);
  TestClient c(path_);
  ASSERT_TRUE(echo_works(c));
  EXPECT_TRUE(c.closed_by_peer(3000ms));
  EXPECT_EQ(on_io([&] { return server_->stats().idle; }), 1u);
  EXPECT_EQ(on_io([&] { return server_->client_count(); }), 0u);
}

TEST_F(RpcServerTest, StaleSocketIsReplaced) {
  {
    // A socket file nobody listens on any more.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  start();
  TestClient c(path_);
  EXPECT_TRUE(echo_works(c));
}

TEST_F(RpcServerTest, LiveSocketIsNotStolen) {
  start();
  boost::asio::io_context io2;
  RpcServer second(io2, path_, dispatcher_);
  Status st = second.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Unavailable);
  TestClient c(path_);
  EXPECT_TRUE(echo_works(c));
}

TEST_F(RpcServerTest, RegularFileIsNotRemoved) {
  { std::ofstream(path_) << "precious"; }
  boost::asio::io_context io2;
  RpcServer server(io2, path_, dispatcher_);
  EXPECT_FALSE(server.start());
  EXPECT_TRUE(fs::is_regular_file(path_));
}

TEST_F(RpcServerTest, StopUnlinksTheSocket) {
  boost::asio::io_context io2;
  {
    RpcServer server(io2, dir_ / "x" / "s.sock", dispatcher_);
    ASSERT_TRUE(server.start());
    EXPECT_TRUE(fs::exists(dir_ / "x" / "s.sock"));
    server.stop();
    EXPECT_FALSE(fs::exists(dir_ / "x" / "s.sock"));
  }
  io2.run();  // the cancelled accept completes after the server is gone: must be harmless
}

}  // namespace
}  // namespace vsw::control
