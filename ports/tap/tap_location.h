// ports/tap/tap_location.h — where a tap interface is now, found through vsw's own tap fd.
//
// An operator may rename the interface or move it into another network namespace (`ip link set
// vsw-tap0 netns red`) while vsw keeps its fd: the interface lives on, but looking it up by its
// old name in vswitchd's namespace finds nothing (or another interface of that name). The fd
// knows better: TUNGETIFF gives the current name and TUNGETDEVNETNS (Linux 5.2) a handle on the
// namespace it lives in, where its flags and MTU are read (netdevice(7) ioctls issued from a
// socket created inside that namespace: the control thread enters it with setns(2) for the
// duration of one lookup and returns).
//
// Threads: control thread only (setns changes the calling thread's namespace for a moment).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace vsw::ports::tap {

struct TapLocation {
  std::string ifname;              // current name, in `netns`
  bool own_netns = true;           // in vswitchd's network namespace
  std::string netns;               // `ip netns` name (/run/netns), "vswitchd's", or "netns:[inode]"
  std::optional<uint32_t> flags;   // SIOCGIFFLAGS read in that namespace (IFF_UP, IFF_RUNNING)
  std::optional<uint32_t> mtu;     // SIOCGIFMTU read in that namespace
  std::optional<int> ifindex;      // the index in that namespace
};

// Looks the interface behind `tap_fd` up wherever it is. Io when the fd no longer names an
// interface (it was deleted); fields the namespace would not answer stay empty.
Result<TapLocation> locate_tap(int tap_fd);

}  // namespace vsw::ports::tap
