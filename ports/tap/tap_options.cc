// ports/tap/tap_options.cc — the factory entry for type "tap": option parsing and validation.
// Kept apart from the driver so the driver links (and is tested) without the factory table.
#include <algorithm>

#include "common/ether.h"
#include "ports/tap/netdev.h"
#include "ports/tap/tap_port.h"

namespace vsw::ports::tap {

namespace {

constexpr uint32_t kMinMtu = 68;  // RFC 791 §3.2: every IPv4 host must accept 68-byte datagrams

Result<bool> option_bool(const PortSpec& spec, std::string_view key, bool fallback) {
  auto it = spec.options.find(std::string(key));
  if (it == spec.options.end()) return fallback;
  const std::string& v = it->second;
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return make_error(Errc::InvalidArgument, "option {}='{}' must be true or false", key, v);
}

}  // namespace

Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) {
  if (Status s = check_option_keys(spec, {"ifname", "mtu", "up", "queues"}); !s) {
    return std::move(s).error();
  }
  TapConfig cfg;
  cfg.ifname = option_str(spec, "ifname", spec.name);
  if (Status s = netdev::check_ifname(cfg.ifname); !s) return std::move(s).error();
  // A frame of mtu + Ethernet header + one VLAN tag must fit one mempool buffer.
  const uint32_t max_mtu = env.pool.data_room() - kEtherHeaderBytes - kVlanTagBytes;
  auto mtu = option_uint(spec, "mtu", kDefaultMtu, kMinMtu, max_mtu);
  if (!mtu) return std::move(mtu).error();
  cfg.mtu = static_cast<uint32_t>(*mtu);
  auto up = option_bool(spec, "up", true);
  if (!up) return std::move(up).error();
  cfg.up = *up;
  // One queue per worker by default, so every worker receives from and sends to a queue of its
  // own (the kernel spreads flows over the queues by their hash).
  const uint16_t default_queues = std::clamp<uint16_t>(env.workers, 1, TapPort::kMaxQueues);
  auto queues = option_uint(spec, "queues", default_queues, 1, TapPort::kMaxQueues);
  if (!queues) return std::move(queues).error();
  cfg.queues = static_cast<uint16_t>(*queues);
  auto port = TapPort::open(spec.name, id, cfg, env.pool);
  if (!port) return std::move(port).error();
  return std::unique_ptr<Port>(std::move(*port));
}

}  // namespace vsw::ports::tap
