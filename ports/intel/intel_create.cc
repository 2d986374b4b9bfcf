// ports/intel/intel_create.cc — `vswctl add-port BR NAME --type ixgbe|igb -o pci=... ...`: the
// options, then the PCI layer (open_device), then IntelPort::open.
#include "ports/intel/intel_port.h"

namespace vsw::ports::intel {

namespace {

constexpr uint16_t kIntel = 0x8086;

// 82599 device ids (Linux ixgbe_type.h IXGBE_DEV_ID_82599_*) whose link vsw's bring-up can
// drive: the SFP+ and KX4/backplane parts (10 Gb/s serial link mode, §4.6.4). Not the X540/X550
// (other PHYs and link setup) and not the 82599 virtual function.
constexpr pci::OpenOptions::Id kIxgbeIds[] = {
    {kIntel, 0x10FB},  // 82599ES SFP+ (X520)
    {kIntel, 0x10F7},  // 82599 KX4
    {kIntel, 0x10F8},  // 82599 combined backplane
    {kIntel, 0x154D},  // 82599 SFP SF2
    {kIntel, 0x151C},  // 82599 T3 LOM
    {kIntel, 0x1529},  // 82599 SFP FCoE
    {kIntel, 0x1557},  // 82599EN SFP
};

// 82576 copper (the part QEMU's igb model is); the fibre/serdes parts need a different link
// setup (no MDIC PHY).
constexpr pci::OpenOptions::Id kIgbIds[] = {
    {kIntel, 0x10C9},  // 82576 copper
};

Result<pci::AccessPath> parse_driver(const std::string& s) {
  if (s == "vfio") return pci::AccessPath::Vfio;
  if (s == "uio") return pci::AccessPath::Uio;
  return make_error(Errc::InvalidArgument, "option driver={} must be vfio or uio", s);
}

Result<std::unique_ptr<Port>> create(NicFamily family, const PortSpec& spec, PortId id,
                                     PortEnv& env) {
  if (auto st = check_option_keys(spec, {"pci", "driver", "rx-queues", "mtu"}); !st) {
    return std::move(st).error();
  }
  const auto pci_it = spec.options.find("pci");
  if (pci_it == spec.options.end()) {
    return make_error(Errc::InvalidArgument,
                      "an {} port needs -o pci=DDDD:BB:DD.F (the device's PCI address, see "
                      "lspci -D)",
                      nic_family_name(family));
  }
  auto addr = pci::PciAddress::parse(pci_it->second);
  if (!addr) return std::move(addr).error();
  auto path = parse_driver(option_str(spec, "driver", "vfio"));
  if (!path) return std::move(path).error();
  const uint16_t limit = family == NicFamily::Ixgbe82599 ? 16 : 8;  // the RSS limits
  auto rxq = option_uint(spec, "rx-queues", 0, 1, limit);
  if (!rxq) return std::move(rxq).error();
  auto mtu = option_uint(spec, "mtu", kDefaultMtu, 68, kMaxMtu);
  if (!mtu) return std::move(mtu).error();

  IntelOptions opts;
  opts.rx_queues = static_cast<uint16_t>(*rxq);
  opts.workers = env.workers;
  opts.mtu = static_cast<uint32_t>(*mtu);

  pci::OpenOptions po;
  po.path = *path;
  if (family == NicFamily::Ixgbe82599) {
    po.ids = kIxgbeIds;
    po.id_count = std::size(kIxgbeIds);
    po.driver_name = "ixgbe (82599)";
  } else {
    po.ids = kIgbIds;
    po.id_count = std::size(kIgbIds);
    po.driver_name = "igb (82576)";
  }
  auto dev = pci::open_device(*addr, po);
  if (!dev) return std::move(dev).error();
  auto port = IntelPort::open(spec.name, id, family, std::move(*dev), env.pool, opts);
  if (!port) return std::move(port).error();
  return std::unique_ptr<Port>(std::move(*port));
}

}  // namespace

Result<std::unique_ptr<Port>> create_ixgbe(const PortSpec& spec, PortId id, PortEnv& env) {
  return create(NicFamily::Ixgbe82599, spec, id, env);
}

Result<std::unique_ptr<Port>> create_igb(const PortSpec& spec, PortId id, PortEnv& env) {
  return create(NicFamily::Igb82576, spec, id, env);
}

}  // namespace vsw::ports::intel
