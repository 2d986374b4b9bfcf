// ports/afpacket/afpacket_options.cc — the factory entry for type "afpacket": option parsing.
// Kept apart from the driver so the driver links (and is tested) without the factory table.
#include "common/ether.h"
#include "ports/afpacket/afpacket_port.h"

namespace vsw::ports::afpacket {

namespace {
constexpr uint32_t kMinMtu = 68;  // RFC 791 §3.2
}  // namespace

Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) {
  if (Status s = check_option_keys(spec, {"ifname", "mtu", "rx-frames", "tx-frames"}); !s) {
    return std::move(s).error();
  }
  AfPacketConfig cfg;
  cfg.ifname = option_str(spec, "ifname", "");
  if (cfg.ifname.empty()) {
    return make_error(Errc::InvalidArgument,
                      "port type 'afpacket' needs -o ifname=NAME (an existing kernel interface)");
  }
  const uint32_t max_mtu = env.pool.data_room() - kEtherHeaderBytes - kVlanTagBytes;
  auto mtu = option_uint(spec, "mtu", 0, kMinMtu, max_mtu);
  auto rx_frames = option_uint(spec, "rx-frames", cfg.rx_frames, 7, 4096);
  auto tx_frames = option_uint(spec, "tx-frames", cfg.tx_frames, 16, 4096);
  if (!mtu) return std::move(mtu).error();
  if (!rx_frames) return std::move(rx_frames).error();
  if (!tx_frames) return std::move(tx_frames).error();
  cfg.mtu = static_cast<uint32_t>(*mtu);
  cfg.rx_frames = static_cast<uint32_t>(*rx_frames);
  cfg.tx_frames = static_cast<uint32_t>(*tx_frames);
  auto port = AfPacketPort::open(spec.name, id, cfg, env.pool);
  if (!port) return std::move(port).error();
  return std::unique_ptr<Port>(std::move(*port));
}

}  // namespace vsw::ports::afpacket
