// ports/tap/netdev.h — small control-thread helpers for kernel network interfaces (netdevice(7)
// ioctls): existence, index, MTU, flags. Shared by the tap and afpacket ports, which both face a
// kernel interface; nothing here runs on the fast path (each call opens a short-lived socket).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "dataplane/port.h"

namespace vsw::ports::netdev {

// IFNAMSIZ - 1: the kernel's limit on interface names (netdevice(7)).
constexpr size_t kMaxIfnameLen = 15;

// InvalidArgument unless `name` is 1..15 bytes with no '/', ':', '%' or white space and is not
// "." or ".." (the kernel's dev_valid_name(), plus '%', which would make the kernel pick a name).
Status check_ifname(std::string_view name);

// True when an interface called `name` exists in the caller's network namespace.
bool exists(const std::string& name) noexcept;

// The interface index; NotFound with a clear message when it does not exist.
Result<int> ifindex(const std::string& name);

// SIOCGIFMTU / SIOCSIFMTU.
Result<uint32_t> mtu(const std::string& name);
Status set_mtu(const std::string& name, uint32_t mtu);

// The link-layer type from SIOCGIFHWADDR (ARPHRD_ETHER for Ethernet and veth).
Result<uint16_t> hw_type(const std::string& name);

// SIOCGIFFLAGS (IFF_UP, IFF_RUNNING, IFF_PROMISC, ...).
Result<uint32_t> flags(const std::string& name);
// Sets or clears IFF_UP with SIOCSIFFLAGS (read-modify-write of the flags).
Status set_up(const std::string& name, bool up);

// Up when the interface is administratively up and has carrier (IFF_UP and IFF_RUNNING); Down
// otherwise, including when it vanished.
LinkState link_state(const std::string& name) noexcept;

}  // namespace vsw::ports::netdev
