// ports/port_factory.cc — every port type vsw knows, in one table.
#include "ports/port_factory.h"

#include "ports/afpacket/afpacket_port.h"
#include "ports/intel/intel_port.h"
#include "ports/memif/memif_port.h"
#include "ports/ring/ring_port.h"
#include "ports/tap/tap_port.h"
#include "ports/vhost_user/vhost_user_port.h"
#include "ports/virtio/virtio_port.h"

namespace vsw::ports {

PortFactory::PortFactory()
    : types_{
          {"tap", "kernel tap interface created by vsw (-o ifname=NAME -o mtu=N)", &tap::create},
          {"afpacket", "existing kernel interface through AF_PACKET rings (-o ifname=NAME)",
           &afpacket::create},
          {"memif", "shared-memory port speaking memif, vsw as server (-o id=N -o socket=PATH)",
           &memif::create},
          {"vhost-user",
           "a VM's virtio-net (QEMU) or a DPDK virtio_user, vsw as vhost-user back-end "
           "(-o path=SOCK -o mode=client|server -o queues=N)",
           &vhost_user::create},
          {"virtio",
           "a virtio-net PCI device driven from user space, poll mode "
           "(-o pci=DDDD:BB:DD.F -o driver=vfio|uio -o queues=N -o interface=auto|legacy|modern)",
           &virtio::create},
          {"ixgbe",
           "an Intel 82599 10 GbE NIC driven from user space, poll mode, RSS "
           "(-o pci=DDDD:BB:DD.F -o driver=vfio|uio -o rx-queues=N -o mtu=N)",
           &intel::create_ixgbe},
          {"igb",
           "an Intel 82576 GbE NIC (or QEMU's igb) driven from user space, poll mode, RSS "
           "(-o pci=DDDD:BB:DD.F -o driver=vfio|uio -o rx-queues=N -o mtu=N)",
           &intel::create_igb},
          {"loopback", "in-memory port that sends back what it is given (tests, benchmarks)",
           &ring::create_loopback},
      } {}

Result<std::unique_ptr<Port>> PortFactory::create(const PortSpec& spec, PortId id,
                                                  PortEnv& env) const {
  for (const PortType& t : types_) {
    if (t.name == spec.type) return t.create(spec, id, env);
  }
  return make_error(Errc::NotFound, "unknown port type '{}' (known types: {})", spec.type,
                    type_list());
}

Status PortFactory::add_type(PortType type) {
  if (has_type(type.name)) {
    return make_error(Errc::AlreadyExists, "port type '{}' exists already", type.name);
  }
  types_.push_back(type);
  return ok();
}

bool PortFactory::has_type(std::string_view name) const noexcept {
  for (const PortType& t : types_) {
    if (t.name == name) return true;
  }
  return false;
}

std::string PortFactory::type_list() const {
  std::string known;
  for (const PortType& t : types_) {
    if (!known.empty()) known += ", ";
    known += t.name;
  }
  return known;
}

}  // namespace vsw::ports
