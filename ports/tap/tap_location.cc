// ports/tap/tap_location.cc — TUNGETIFF, TUNGETDEVNETNS and a brief setns(2) into the interface's
// namespace for its flags.
#include "ports/tap/tap_location.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "ports/shm/unique_fd.h"
#include "ports/tap/netdev.h"

namespace vsw::ports::tap {

namespace {

// The inode of `fd`'s file, 0 when unknown (no inode is 0 on nsfs).
ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// The `ip netns` name of the namespace with inode `ino` (ip-netns(8) bind-mounts each named
// namespace at /run/netns/NAME), or "netns:[ino]" when it has none.
std::string netns_name(ino_t ino) {
  if (DIR* dir = ::opendir("/run/netns")) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      struct stat st {};
      const std::string path = std::string("/run/netns/") + e->d_name;
      if (::stat(path.c_str(), &st) == 0 && st.st_ino == ino) {
        std::string name = e->d_name;
        ::closedir(dir);
        return name;
      }
    }
    ::closedir(dir);
  }
  return fmt::format("netns:[{}]", ino);
}

void read_netdev(TapLocation& where) {
  if (auto f = netdev::flags(where.ifname)) where.flags = *f;
  if (auto m = netdev::mtu(where.ifname)) where.mtu = *m;
  if (auto i = netdev::ifindex(where.ifname)) where.ifindex = *i;
}

}  // namespace

Result<TapLocation> locate_tap(int tap_fd) {
  TapLocation where;
  ifreq ifr{};
  if (::ioctl(tap_fd, TUNGETIFF, &ifr) != 0) {
    return make_sys_error(Errc::Io, errno, "the tap interface is gone (TUNGETIFF)");
  }
  where.ifname.assign(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  UniqueFd dev_ns(::ioctl(tap_fd, TUNGETDEVNETNS));
  UniqueFd own_ns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  const ino_t dev_ino = dev_ns ? inode_of(dev_ns.get()) : 0;
  const ino_t own_ino = own_ns ? inode_of(own_ns.get()) : 0;
  if (dev_ino == 0 || own_ino == 0 || dev_ino == own_ino) {
    // Same namespace (or a kernel without TUNGETDEVNETNS: assume so).
    where.netns = "vswitchd's";
    read_netdev(where);
    return where;
  }
  where.own_netns = false;
  where.netns = netns_name(dev_ino);
  if (::setns(dev_ns.get(), CLONE_NEWNET) != 0) return where;  // flags stay unknown
  read_netdev(where);
  if (::setns(own_ns.get(), CLONE_NEWNET) != 0) {
    // Cannot happen for a root process that just left this namespace; if it did, the control
    // thread would go on in the wrong namespace, which is worse than stopping.
    log::port().critical("cannot return to vswitchd's network namespace: {}", std::strerror(errno));
    std::abort();
  }
  return where;
}

}  // namespace vsw::ports::tap
