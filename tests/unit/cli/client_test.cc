// tests/unit/cli/client_test.cc — control/protocol/client against a fake daemon on a temporary
// Unix socket: framing, id matching, error-reply mapping, and the connect/transport failures that
// decide vswctl's exit codes.
#include "control/protocol/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "cli/exit_code.h"
#include "tests/unit/cli/fake_daemon.h"

namespace vsw::protocol {
namespace {

using cli::exit_code_for;
using cli::ExitCode;
using cli::testing::FakeDaemon;
using cli::testing::TempDir;
using json = nlohmann::json;
using namespace std::chrono_literals;

FakeDaemon::Reply echo_params(const json& req) { return FakeDaemon::result(req, req["params"]); }

TEST(Client, CallSendsOneJsonRpcLineAndReturnsTheResult) {
  FakeDaemon daemon(echo_params);
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.add", {{"name", "br0"}, {"aging_s", 60}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, json({{"name", "br0"}, {"aging_s", 60}}));
  EXPECT_EQ(client.last_failure().kind, FailureKind::None);

  ASSERT_EQ(daemon.requests().size(), 1u);
  const json req = daemon.requests()[0];
  EXPECT_EQ(req["jsonrpc"], "2.0");
  EXPECT_EQ(req["method"], "bridge.add");
  EXPECT_TRUE(req["id"].is_number_integer());
  EXPECT_TRUE(req["params"].is_object());
  // One request per line: the line the daemon split off is the whole request.
  EXPECT_EQ(json::parse(daemon.raw_lines()[0]), req);
}

TEST(Client, ParamsDefaultToAnEmptyObject) {
  FakeDaemon daemon(echo_params);
  Client client(daemon.socket_path(), 5s);
  ASSERT_TRUE(client.call("bridge.list"));
  EXPECT_EQ(daemon.requests()[0]["params"], json::object());
}

TEST(Client, ReplySplitAcrossManyWritesIsReassembled) {
  json big = json::array();
  for (int i = 0; i < 50; ++i) big.push_back({{"mac", "02:00:00:00:00:01"}, {"age_s", i}});
  FakeDaemon daemon([&](const json& req) { return FakeDaemon::result(req, big); },
                    /*chunk_bytes=*/7);
  Client client(daemon.socket_path(), 10s);
  Result<json> r = client.call("fdb.show", {{"bridge", "br0"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, big);
}

TEST(Client, SeveralCallsShareOneConnectionWithFreshIds) {
  FakeDaemon daemon(echo_params);
  Client client(daemon.socket_path(), 5s);
  for (int i = 0; i < 3; ++i) {
    Result<json> r = client.call("port.show", {{"name", "p" + std::to_string(i)}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)["name"], "p" + std::to_string(i));
  }
  EXPECT_EQ(daemon.connections(), 1);
  auto reqs = daemon.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[0]["id"], reqs[1]["id"]);
  EXPECT_NE(reqs[1]["id"], reqs[2]["id"]);
}

TEST(Client, ErrorReplyIsRemoteFailureWithErrcFromData) {
  FakeDaemon daemon([](const json& req) {
    return FakeDaemon::error(req, -32002, "bridge 'br9' does not exist", "not_found");
  });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.del", {{"name", "br9"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().message, "bridge 'br9' does not exist");
  EXPECT_EQ(client.last_failure().kind, FailureKind::Remote);
  EXPECT_EQ(client.last_failure().rpc_code, -32002);
  EXPECT_EQ(client.last_failure().data["errc"], "not_found");
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::DaemonError);
  // A daemon error leaves the connection usable.
  EXPECT_TRUE(client.is_connected());
}

TEST(Client, ErrorCodeWithoutDataStillMapsToErrc) {
  std::atomic<int> code{-32003};  // read on the fake daemon's thread
  FakeDaemon daemon([&](const json& req) { return FakeDaemon::error(req, code.load(), "x"); });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.add", {{"name", "br0"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::AlreadyExists);

  code = -32601;
  r = client.call("no.such", json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unsupported);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Remote);

  code = -32602;
  r = client.call("bridge.add", json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
}

TEST(Client, ParseErrorReplyWithNullIdIsRemoteFailure) {
  FakeDaemon daemon([](const json&) {
    return FakeDaemon::Reply{
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}})"
        "\n"};
  });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.list");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Remote);
  EXPECT_EQ(r.error().message, "parse error");
}

TEST(Client, MissingSocketIsConnectFailureNamingThePath) {
  TempDir dir;
  std::string path = dir.path() + "/absent.sock";
  Client client(path, 5s);
  Result<json> r = client.call("bridge.list");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Connect);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("vswitchd running"), std::string::npos) << r.error().message;
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::NoDaemon);
}

TEST(Client, RefusedConnectionIsConnectFailure) {
  // A socket file nobody listens on: what a crashed daemon leaves behind.
  TempDir dir;
  std::string path = dir.path() + "/stale.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);

  Client client(path, 5s);
  Status s = client.connect();
  ASSERT_FALSE(s);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Connect);
  EXPECT_EQ(s.error().sys_errno, ECONNREFUSED);
  EXPECT_NE(s.error().message.find("refused"), std::string::npos) << s.error().message;
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::NoDaemon);
}

TEST(Client, OverlongSocketPathIsConnectFailure) {
  Client client("/tmp/" + std::string(200, 'x'), 5s);
  Status s = client.connect();
  ASSERT_FALSE(s);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Connect);
  EXPECT_NE(s.error().message.find("limit"), std::string::npos) << s.error().message;
}

TEST(Client, SilentDaemonTimesOutAsTransportFailure) {
  FakeDaemon daemon([](const json&) { return FakeDaemon::Reply{}; });
  Client client(daemon.socket_path(), 200ms);
  Result<json> r = client.call("dp.show");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Transport);
  EXPECT_NE(r.error().message.find("--timeout"), std::string::npos) << r.error().message;
  EXPECT_FALSE(client.is_connected());
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::NoDaemon);
}

TEST(Client, DaemonHangingUpMidCallIsTransportFailure) {
  FakeDaemon daemon([](const json&) { return FakeDaemon::Reply{"", true}; });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.list");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Transport);
  EXPECT_NE(r.error().message.find("closed the connection"), std::string::npos);
}

TEST(Client, GarbageReplyIsProtocolFailure) {
  FakeDaemon daemon([](const json&) { return FakeDaemon::Reply{"hello there\n"}; });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.list");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Protocol);
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::DaemonError);
}

TEST(Client, ReplyWithAnotherIdIsProtocolFailure) {
  FakeDaemon daemon([](const json&) {
    return FakeDaemon::Reply{R"({"jsonrpc":"2.0","id":999,"result":{}})"
                             "\n"};
  });
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.list");
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Protocol);
}

TEST(Client, NonObjectParamsAreLocalFailureAndNothingIsSent) {
  FakeDaemon daemon(echo_params);
  Client client(daemon.socket_path(), 5s);
  Result<json> r = client.call("bridge.add", json::array({1, 2}));
  ASSERT_FALSE(r);
  EXPECT_EQ(client.last_failure().kind, FailureKind::Local);
  EXPECT_EQ(exit_code_for(client.last_failure().kind), ExitCode::Usage);
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(Client, ReconnectsAfterTheDaemonHungUp) {
  int n = 0;
  FakeDaemon daemon([&](const json& req) {
    return ++n == 1 ? FakeDaemon::Reply{"", true} : FakeDaemon::result(req, json::object());
  });
  Client client(daemon.socket_path(), 5s);
  EXPECT_FALSE(client.call("bridge.list"));
  Result<json> r = client.call("bridge.list");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(daemon.connections(), 2);
}

}  // namespace
}  // namespace vsw::protocol
