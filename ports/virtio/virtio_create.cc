// ports/virtio/virtio_create.cc — `vswctl add-port BR NAME --type virtio -o pci=... ...`: the
// options, then the PCI layer (open_device), then VirtioPort::open.
#include "ports/virtio/virtio_port.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

namespace {

Result<InterfacePreference> parse_interface(const std::string& s) {
  if (s == "auto") return InterfacePreference::Auto;
  if (s == "legacy") return InterfacePreference::Legacy;
  if (s == "modern") return InterfacePreference::Modern;
  return make_error(Errc::InvalidArgument, "option interface={} must be auto, legacy or modern", s);
}

Result<pci::AccessPath> parse_driver(const std::string& s) {
  if (s == "vfio") return pci::AccessPath::Vfio;
  if (s == "uio") return pci::AccessPath::Uio;
  return make_error(Errc::InvalidArgument, "option driver={} must be vfio or uio", s);
}

Result<bool> parse_on_off(const PortSpec& spec, std::string_view key, bool fallback) {
  const std::string v = option_str(spec, key, fallback ? "on" : "off");
  if (v == "on" || v == "true") return true;
  if (v == "off" || v == "false") return false;
  return make_error(Errc::InvalidArgument, "option {}={} must be on or off", key, v);
}

constexpr pci::OpenOptions::Id kIds[] = {{kVendorId, kDeviceIdTransitionalNet},
                                         {kVendorId, kDeviceIdModernNet}};

}  // namespace

Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) {
  if (auto st = check_option_keys(spec, {"pci", "driver", "queues", "interface", "offloads"});
      !st) {
    return std::move(st).error();
  }
  const auto pci_it = spec.options.find("pci");
  if (pci_it == spec.options.end()) {
    return make_error(Errc::InvalidArgument,
                      "a virtio port needs -o pci=DDDD:BB:DD.F (the device's PCI address, see "
                      "lspci -D)");
  }
  auto addr = pci::PciAddress::parse(pci_it->second);
  if (!addr) return std::move(addr).error();
  auto path = parse_driver(option_str(spec, "driver", "vfio"));
  if (!path) return std::move(path).error();
  auto iface = parse_interface(option_str(spec, "interface", "auto"));
  if (!iface) return std::move(iface).error();
  auto queues = option_uint(spec, "queues", 0, 1, PortCounters::kMaxQueues);
  if (!queues) return std::move(queues).error();
  auto offloads = parse_on_off(spec, "offloads", true);
  if (!offloads) return std::move(offloads).error();

  DeviceOptions opts;
  opts.interface = *iface;
  opts.queues = static_cast<uint16_t>(*queues);
  opts.workers = env.workers;
  opts.offloads = *offloads;

  pci::OpenOptions po;
  po.path = *path;
  po.ids = kIds;
  po.id_count = std::size(kIds);
  po.driver_name = "virtio-net";
  auto dev = pci::open_device(*addr, po);
  if (!dev) return std::move(dev).error();
  auto port = VirtioPort::open(spec.name, id, std::move(*dev), env.pool, opts);
  if (!port) return std::move(port).error();
  return std::unique_ptr<Port>(std::move(*port));
}

}  // namespace vsw::ports::virtio
