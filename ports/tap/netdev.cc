// ports/tap/netdev.cc — netdevice(7) ioctls on a throw-away AF_INET datagram socket.
#include "ports/tap/netdev.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vsw::ports::netdev {

namespace {

// Any socket accepts the SIOC*IF* ioctls (netdevice(7)); this one only lives for one call.
class CtlSocket {
 public:
  CtlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~CtlSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  CtlSocket(const CtlSocket&) = delete;
  CtlSocket& operator=(const CtlSocket&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

ifreq make_ifreq(const std::string& name) noexcept {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

Error ioctl_error(const char* what, const std::string& name, int err) {
  if (err == ENODEV) {
    return make_error(Errc::NotFound, "kernel interface '{}' does not exist", name);
  }
  return make_sys_error(Errc::Io, err, fmt::format("{} on interface '{}' failed", what, name));
}

// Runs one ioctl on a fresh control socket; returns 0 or the errno.
int run_ioctl(unsigned long request, ifreq& ifr) noexcept {
  CtlSocket s;
  if (s.fd() < 0) return errno;
  return ::ioctl(s.fd(), request, &ifr) == 0 ? 0 : errno;
}

}  // namespace

Status check_ifname(std::string_view name) {
  // Mirrors the kernel's dev_valid_name() (net/core/dev.c).
  bool valid = !name.empty() && name.size() <= kMaxIfnameLen && name != "." && name != "..";
  for (char c : name) valid = valid && c != '/' && c != ':' && c != '%' && c > ' ' && c != 0x7F;
  if (!valid) {
    return make_error(Errc::InvalidArgument,
                      "invalid interface name '{}': 1..{} characters without '/', ':', '%' or "
                      "white space",
                      name, kMaxIfnameLen);
  }
  return ok();
}

bool exists(const std::string& name) noexcept { return ::if_nametoindex(name.c_str()) != 0; }

Result<int> ifindex(const std::string& name) {
  ifreq ifr = make_ifreq(name);
  if (int err = run_ioctl(SIOCGIFINDEX, ifr); err != 0) return ioctl_error("SIOCGIFINDEX", name, err);
  return ifr.ifr_ifindex;
}

Result<uint32_t> mtu(const std::string& name) {
  ifreq ifr = make_ifreq(name);
  if (int err = run_ioctl(SIOCGIFMTU, ifr); err != 0) return ioctl_error("SIOCGIFMTU", name, err);
  return static_cast<uint32_t>(ifr.ifr_mtu);
}

Status set_mtu(const std::string& name, uint32_t mtu) {
  ifreq ifr = make_ifreq(name);
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (int err = run_ioctl(SIOCSIFMTU, ifr); err != 0) {
    if (err == EINVAL) {
      return make_error(Errc::InvalidArgument, "interface '{}' does not accept MTU {}", name, mtu);
    }
    return ioctl_error("SIOCSIFMTU", name, err);
  }
  return ok();
}

Result<uint16_t> hw_type(const std::string& name) {
  ifreq ifr = make_ifreq(name);
  if (int err = run_ioctl(SIOCGIFHWADDR, ifr); err != 0) {
    return ioctl_error("SIOCGIFHWADDR", name, err);
  }
  return static_cast<uint16_t>(ifr.ifr_hwaddr.sa_family);
}

Result<uint32_t> flags(const std::string& name) {
  ifreq ifr = make_ifreq(name);
  if (int err = run_ioctl(SIOCGIFFLAGS, ifr); err != 0) return ioctl_error("SIOCGIFFLAGS", name, err);
  return static_cast<uint32_t>(static_cast<uint16_t>(ifr.ifr_flags));
}

Status set_up(const std::string& name, bool up) {
  ifreq ifr = make_ifreq(name);
  CtlSocket s;
  if (s.fd() < 0) return make_sys_error(Errc::Io, errno, "socket(AF_INET) failed");
  if (::ioctl(s.fd(), SIOCGIFFLAGS, &ifr) != 0) return ioctl_error("SIOCGIFFLAGS", name, errno);
  const short before = ifr.ifr_flags;
  ifr.ifr_flags = static_cast<short>(up ? (before | IFF_UP) : (before & ~IFF_UP));
  if (ifr.ifr_flags == before) return ok();
  if (::ioctl(s.fd(), SIOCSIFFLAGS, &ifr) != 0) return ioctl_error("SIOCSIFFLAGS", name, errno);
  return ok();
}

LinkState link_state(const std::string& name) noexcept {
  ifreq ifr = make_ifreq(name);
  if (run_ioctl(SIOCGIFFLAGS, ifr) != 0) return LinkState::Down;
  const unsigned f = static_cast<uint16_t>(ifr.ifr_flags);
  return (f & IFF_UP) && (f & IFF_RUNNING) ? LinkState::Up : LinkState::Down;
}

}  // namespace vsw::ports::netdev
