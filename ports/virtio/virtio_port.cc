// ports/virtio/virtio_port.cc — VirtioPort: the Port face of a VirtioNetDevice.
#include "ports/virtio/virtio_port.h"

#include <unistd.h>

#include <fmt/format.h>

#include "common/log.h"
#include "ports/virtio/transports.h"

namespace vsw::ports::virtio {

Result<std::unique_ptr<VirtioPort>> VirtioPort::open(std::string name, PortId id,
                                                     std::unique_ptr<pci::PciDevice> dev,
                                                     Mempool& pool, DeviceOptions opts) {
  std::unique_ptr<VirtioPort> port(new VirtioPort(std::move(name), id, std::move(dev)));
  opts.port = id;
  auto net = VirtioNetDevice::open(*port->dev_, pool, opts);
  if (!net) return std::move(net).error();
  port->net_ = std::move(*net);
  // Port::transmit then does in software only what the device cannot (dataplane/port.h).
  port->set_offload_caps(port->net_->negotiated().tx_caps(port->net_->max_segments()));
  port->link_.store(port->net_->read_link(), std::memory_order_relaxed);
  port->choose_wakeup();
  return port;
}

void VirtioPort::choose_wakeup() {
  if (dev_->path() == pci::AccessPath::Uio) {
    wakeup_ = "none (uio has no interrupt eventfds)";
    return;
  }
  if (net_->interface() != InterfaceKind::Modern) {
    wakeup_ = "none (the legacy interface is driven without MSI-X)";
    return;
  }
  auto fds = dev_->msix_eventfds(net_->queue_pairs());
  if (!fds) {
    wakeup_ = "none (" + fds.error().message + ")";
    return;
  }
  if (!net_->route_rx_to_vectors()) {
    wakeup_ = "none (the device refused an MSI-X vector for a receive queue)";
    log::port().warn("virtio port without interrupt wake-up port={}: {}", name(), wakeup_);
    return;
  }
  irq_fds_ = std::move(*fds);
  wakeup_ = fmt::format("msix ({} vectors, one per receive queue)", irq_fds_.size());
}

bool VirtioPort::enable_rx_wakeup(QueueId q) noexcept {
  return q >= irq_fds_.size() || net_->rx(q).enable_interrupts();
}

void VirtioPort::disable_rx_wakeup(QueueId q, bool signalled) noexcept {
  if (q >= irq_fds_.size()) return;
  net_->rx(q).disable_interrupts();
  // poll(2) said readable; the eventfd is non-blocking and this worker its only reader.
  uint64_t count;
  if (signalled && ::read(irq_fds_[q], &count, sizeof count) == sizeof count) {
    interrupts_[q].add(1);
  }
}

VirtioPort::~VirtioPort() {
  net_.reset();  // reset, buffers back, memory unmapped — before the PciDevice goes
  dev_.reset();
}

uint16_t VirtioPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  return net_->rx(q).receive(batch, counters_.rx(q));
}

uint16_t VirtioPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  return net_->tx(q).transmit(batch, counters_.tx(q));
}

void VirtioPort::housekeeping() {
  const bool failed = net_->failed();
  const LinkState now = failed ? LinkState::Down : net_->read_link();
  const LinkState before = link_.exchange(now, std::memory_order_relaxed);
  if (failed && !reported_failure_) {
    reported_failure_ = true;
    log::port().error("virtio device failed port={} pci={} (status FAILED/DEVICE_NEEDS_RESET); "
                      "delete and re-add the port", name(), dev_->address().str());
  }
  if (before != now) {
    log::port().info("link {} port={} pci={}", link_state_name(now), name(),
                     dev_->address().str());
  }
}

uint64_t VirtioPort::tx_zero_copy() const noexcept {
  uint64_t n = 0;
  for (uint16_t q = 0; q < net_->queue_pairs(); ++q) n += net_->tx(q).zero_copy();
  return n;
}

uint64_t VirtioPort::tx_copied() const noexcept {
  uint64_t n = 0;
  for (uint16_t q = 0; q < net_->queue_pairs(); ++q) n += net_->tx(q).copied();
  return n;
}

std::vector<std::pair<std::string, std::string>> VirtioPort::details() const {
  const VirtioNetDevice& d = *net_;
  const Negotiated& n = d.negotiated();
  uint64_t no_buffer = 0, rx_notifies = 0, tx_notifies = 0;
  std::string rxq, txq, irq;
  for (uint16_t q = 0; q < d.queue_pairs(); ++q) {
    no_buffer += d.rx(q).no_buffer_events();
    rx_notifies += d.rx(q).notifies();
    tx_notifies += d.tx(q).notifies();
    rxq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.rx(q).packets.get());
    txq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.tx(q).packets.get());
    irq += fmt::format("{}q{}={}", q ? " " : "", q, interrupts_[q].get());
  }
  const OffloadCaps c = offload_caps();
  return {
      {"pci", dev_->address().str()},
      {"driver", std::string(pci::access_path_name(dev_->path()))},
      {"previous_driver", dev_->previous_driver().empty() ? "none" : dev_->previous_driver()},
      {"interface", std::string(interface_name(d.interface()))},
      {"mac", d.mac().to_string()},
      {"features", fmt::format("{:#x}", n.features)},
      {"feature_names", feature_names(n.features)},
      {"offered_features", fmt::format("{:#x}", d.offered_features())},
      {"queues", std::to_string(d.queue_pairs())},
      {"rx_ring_size", std::to_string(d.rx_ring_size())},
      {"tx_ring_size", std::to_string(d.tx_ring_size())},
      {"header_bytes", std::to_string(n.hdr_len)},
      {"promiscuous", d.promiscuous() ? "true" : "false"},
      {"tx_offloads", fmt::format("csum={} tso4={} tso6={} max_segments={}", c.partial_csum,
                                  c.tso4, c.tso6, c.max_segments)},
      {"tx_zero_copy", std::to_string(tx_zero_copy())},
      {"tx_copied", std::to_string(tx_copied())},
      {"rx_no_buffer", std::to_string(no_buffer)},
      {"rx_notifies", std::to_string(rx_notifies)},
      {"tx_notifies", std::to_string(tx_notifies)},
      {"rx_packets_per_queue", rxq},
      {"tx_packets_per_queue", txq},
      {"rx_wakeup", wakeup_},
      {"interrupts_per_queue", irq},
  };
}

}  // namespace vsw::ports::virtio
