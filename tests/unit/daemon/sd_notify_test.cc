// tests/unit/daemon/sd_notify_test.cc — readiness datagrams to a path and to an abstract name.
#include "daemon/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace vsw::daemon {
namespace {

// A datagram socket bound to `address` ('@' = abstract), like systemd's notify socket.
class Receiver {
 public:
  explicit Receiver(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address.data(), address.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    if (address[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ++len;
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  ~Receiver() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string receive() {
    char buf[256];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_;
  bool bound_ = false;
};

TEST(SdNotify, SendsToAPath) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vsw-notify-" + std::to_string(::getpid())))
          .string();
  ::unlink(path.c_str());
  Receiver r(path);
  ASSERT_TRUE(r.bound());
  ASSERT_TRUE(sd_notify_to(path, "READY=1"));
  EXPECT_EQ(r.receive(), "READY=1");
  ::unlink(path.c_str());
}

TEST(SdNotify, SendsToAnAbstractName) {
  const std::string name = "@vsw-notify-test-" + std::to_string(::getpid());
  Receiver r(name);
  ASSERT_TRUE(r.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  ASSERT_TRUE(sd_notify("READY=1\nSTATUS=ok"));
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(r.receive(), "READY=1\nSTATUS=ok");
}

TEST(SdNotify, NoSocketIsANoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sd_notify("READY=1"));
}

TEST(SdNotify, BadAddressesFail) {
  EXPECT_FALSE(sd_notify_to("relative/path", "READY=1"));
  EXPECT_FALSE(sd_notify_to("/nonexistent-dir/notify", "READY=1"));
  EXPECT_FALSE(sd_notify_to("/" + std::string(200, 'x'), "READY=1"));
}

}  // namespace
}  // namespace vsw::daemon
