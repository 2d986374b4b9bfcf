// ports/intel/intel_port.cc — IntelPort: bring-up through a NicLayer, the descriptor engine on
// top, housekeeping (link, hardware statistics) and port-show details.
#include "ports/intel/intel_port.h"

#include <fmt/format.h>
#include <unistd.h>

#include <bit>

#include "common/log.h"

namespace vsw::ports::intel {

namespace {

constexpr uint32_t kPciCommand = 0x04;          // PCI Local Bus 3.0 §6.2.2 command register
constexpr uint16_t kPciCommandBusMaster = 0x4;  // bit 2
constexpr uint32_t kMaxFrameBytes = 9728;       // longest frame received, FCS included
constexpr uint32_t kLinkPollMs = 10;

// The Toeplitz key of Microsoft's RSS verification suite ("Verifying the RSS Hash
// Calculation"): any key works; this one lets a model check its hash against published vectors.
constexpr std::array<uint8_t, 40> kRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

}  // namespace

Result<std::unique_ptr<IntelPort>> IntelPort::open(std::string name, PortId id, NicFamily family,
                                                   std::unique_ptr<pci::PciDevice> dev,
                                                   Mempool& pool, IntelOptions opts) {
  if (!std::has_single_bit(opts.ring_size) || opts.ring_size < 8 || opts.ring_size > 8192) {
    return make_error(Errc::InvalidArgument,
                      "ring size {} must be a power of two from 8 to 8192 (the rings' length is "
                      "a multiple of 128 bytes)",
                      opts.ring_size);
  }
  if (opts.mtu < 68 || opts.mtu > kMaxMtu) {
    return make_error(Errc::InvalidArgument, "mtu {} must be within 68..{}", opts.mtu, kMaxMtu);
  }
  std::unique_ptr<IntelPort> port(
      new IntelPort(std::move(name), id, opts.mtu, family, std::move(dev), pool));
  if (auto st = port->bring_up(opts); !st) return std::move(st).error();  // ~IntelPort cleans up
  return port;
}

Status IntelPort::enable_bus_master() {
  auto cmd = dev_->config16(kPciCommand);
  if (!cmd) return std::move(cmd).error();
  if ((*cmd & kPciCommandBusMaster) != 0) return ok();
  const uint16_t v = static_cast<uint16_t>(*cmd | kPciCommandBusMaster);
  return dev_->write_config(kPciCommand, &v, sizeof v);
}

Status IntelPort::bring_up(const IntelOptions& opts) {
  auto bar = dev_->bar(0);
  if (!bar) return std::move(bar).error();
  regs_ = std::make_unique<Registers>(**bar);
  nic_ = family_ == NicFamily::Ixgbe82599 ? make_ixgbe_layer(*regs_) : make_igb_layer(*regs_);
  promiscuous_ = opts.promiscuous;

  const uint16_t max_rx = nic_->max_rx_queues();
  if (opts.rx_queues > max_rx) {
    return make_error(Errc::InvalidArgument, "rx-queues={} is more than the {} supports ({})",
                      opts.rx_queues, nic_->family(), max_rx);
  }
  const uint16_t workers = std::max<uint16_t>(opts.workers, 1);
  const uint16_t nrx = opts.rx_queues != 0 ? opts.rx_queues : std::min(workers, max_rx);
  const uint16_t ntx = std::min(workers, nic_->max_tx_queues());

  // Device buffers are whole KiB (SRRCTL.BSIZEPACKET); DMA goes to data(), after the header
  // and headroom of each mempool buffer.
  const uint32_t kib = std::min(pool_.data_room() / 1024, nic_->max_buffer_kib());
  if (kib == 0) {
    return make_error(Errc::InvalidArgument,
                      "mempool '{}' has {}-byte buffers; the NIC needs at least {} (1 KiB of data "
                      "room after the {}-byte header and headroom)",
                      pool_.name(), pool_.buffer_bytes(), 1024 + kDefaultDataOffset,
                      kDefaultDataOffset);
  }
  rx_buffer_bytes_ = kib * 1024;

  if (auto st = enable_bus_master(); !st) return st;
  auto mac = nic_->reset();
  if (!mac) return std::move(mac).error();
  mac_ = *mac;
  started_ = true;  // from here on the destructor resets the device first

  if (dev_->path() == pci::AccessPath::Uio && !pool_.physical_iova()) {
    return make_error(Errc::Unavailable,
                      "driver=uio needs the mempool in hugepages with physical addresses; "
                      "reserve hugepages before starting vswitchd (echo 64 > "
                      "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages), or use "
                      "driver=vfio");
  }
  if (auto st = dev_->dma_map(pool_.memory()); !st) return st;
  pool_mapped_ = true;
  if (auto st = rings_.allocate(*dev_, static_cast<uint16_t>(nrx + ntx), opts.ring_size); !st) {
    return st;
  }

  RxSetup rx;
  rx.buffer_bytes = rx_buffer_bytes_;
  rx.max_frame = kMaxFrameBytes;
  rx.rss_key = kRssKey;
  for (uint16_t q = 0; q < nrx; ++q) {
    auto ring = std::make_unique<RxRing>();
    RxRingConfig cfg{dev_.get(), &pool_, this->id(), rx_buffer_bytes_};
    ring->attach(reinterpret_cast<AdvRxDesc*>(rings_.ring(q)), opts.ring_size, *bar, nic_->rdt(q),
                 cfg);
    if (auto st = ring->prefill(); !st) return st;
    rx.rings.push_back({rings_.iova(q), opts.ring_size});
    rx_.push_back(std::move(ring));
  }
  std::vector<RingSetup> txs;
  for (uint16_t q = 0; q < ntx; ++q) {
    const auto k = static_cast<uint16_t>(nrx + q);
    auto ring = std::make_unique<TxRing>();
    ring->attach(reinterpret_cast<AdvTxDesc*>(rings_.ring(k)), opts.ring_size, *bar, nic_->tdt(q),
                 TxRingConfig{dev_.get(), &pool_});
    txs.push_back({rings_.iova(k), opts.ring_size});
    tx_.push_back(std::move(ring));
  }

  // The order of nic_layer.h (82599 §4.6.3; 82576 §4.5).
  if (auto st = nic_->start_link(); !st) return st;
  if (auto st = nic_->init_rx(rx); !st) return st;
  if (auto st = nic_->init_tx(txs); !st) return st;
  for (uint16_t q = 0; q < nrx; ++q) {
    if (auto st = nic_->enable_rx_queue(q); !st) return st;
    rx_[q]->start();
  }
  for (uint16_t q = 0; q < ntx; ++q) {
    if (auto st = nic_->enable_tx_queue(q); !st) return st;
  }
  if (auto st = nic_->start(opts.promiscuous); !st) return st;
  bar_ = *bar;
  choose_wakeup();

  OffloadCaps caps;
  caps.max_segments = TxRing::kMaxSegments;
  set_offload_caps(caps);

  // Fact sheet §2 step 14: wait for the link (ixy: up to 10 s), then go on either way.
  LinkStatus link = nic_->read_link();
  for (uint32_t waited = 0; !link.up && waited < opts.link_wait_ms; waited += kLinkPollMs) {
    Registers::sleep_ms(kLinkPollMs);
    link = nic_->read_link();
  }
  link_.store(link.up ? LinkState::Up : LinkState::Down, std::memory_order_relaxed);
  speed_mbps_ = link.speed_mbps;
  log::port().info("{} port={} pci={} mac={} rx_queues={} tx_queues={} link={} speed={}Mb/s",
                   nic_->family(), name(), dev_->address().str(), mac_.to_string(), nrx, ntx,
                   link_state_name(link_state()), speed_mbps_);
  return ok();
}

void IntelPort::choose_wakeup() {
  if (dev_->path() == pci::AccessPath::Uio) {
    wakeup_ = "none (uio has no interrupt eventfds)";
    return;
  }
  const auto n = static_cast<uint16_t>(rx_.size());
  auto fds = dev_->msix_eventfds(n);
  if (!fds) {
    wakeup_ = "none (" + fds.error().message + ")";
    log::port().warn("{} port without interrupt wake-up port={}: {}", nic_->family(), name(),
                     wakeup_);
    return;
  }
  if (auto st = nic_->enable_msix(n); !st) {
    wakeup_ = "none (" + st.error().message + ")";
    log::port().warn("{} port without interrupt wake-up port={}: {}", nic_->family(), name(),
                     wakeup_);
    return;
  }
  vec_regs_ = nic_->rx_vector_regs();
  irq_fds_ = std::move(*fds);
  wakeup_ = fmt::format("msix ({} vectors, one per receive queue)", irq_fds_.size());
}

bool IntelPort::enable_rx_wakeup(QueueId q) noexcept {
  if (q >= irq_fds_.size()) return true;
  const uint32_t bit = 1u << q;
  bar_->write32(vec_regs_.eicr, bit);  // a cause left from frames received while polling
  bar_->write32(vec_regs_.eims, bit);
  // A read does not pass the posted writes before it (PCIe ordering): once it returns the
  // device has the vector unmasked, so a frame written back from now on raises it, and one
  // written back before is seen by the check below.
  (void)bar_->read32(vec_regs_.flush);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return !rx_[q]->frame_waiting();
}

void IntelPort::disable_rx_wakeup(QueueId q, bool signalled) noexcept {
  if (q >= irq_fds_.size()) return;
  bar_->write32(vec_regs_.eimc, 1u << q);
  // poll(2) said readable; the eventfd is non-blocking and this worker its only reader.
  uint64_t count;
  if (signalled && ::read(irq_fds_[q], &count, sizeof count) == sizeof count) {
    interrupts_[q].add(1);
  }
}

IntelPort::~IntelPort() {
  if (started_) nic_->shutdown();  // no DMA after this
  tx_.clear();                     // frames in flight back to their owners
  rx_.clear();                     // posted buffers back to the pool
  if (pool_mapped_) dev_->dma_unmap(pool_.memory());
  // rings_ unmaps itself (member destruction), then dev_ gives the device back.
}

void IntelPort::fold_hw_stats() {
  const HwStats before = hw_;
  nic_->read_stats(hw_);
  QueueCounters& c = counters_.rx(kHardwareSlot);
  c.drop(DropReason::NoBuffer, hw_.missed - before.missed);
  c.drop(DropReason::Invalid,
         (hw_.crc_errors - before.crc_errors) + (hw_.length_errors - before.length_errors));
}

void IntelPort::housekeeping() {
  fold_hw_stats();
  const LinkStatus link = nic_->read_link();
  const LinkState now = link.up ? LinkState::Up : LinkState::Down;
  speed_mbps_ = link.speed_mbps;
  if (link_.exchange(now, std::memory_order_relaxed) != now) {
    log::port().info("link {} port={} pci={} speed={}Mb/s", link_state_name(now), name(),
                     dev_->address().str(), speed_mbps_);
  }
}

uint64_t IntelPort::tx_zero_copy() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tx_) n += t->zero_copy();
  return n;
}

uint64_t IntelPort::tx_copied() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tx_) n += t->copied();
  return n;
}

std::vector<std::pair<std::string, std::string>> IntelPort::details() const {
  uint64_t no_buffer = 0, rx_tail = 0, tx_tail = 0;
  std::string rxq, txq, irq;
  for (uint16_t q = 0; q < rx_.size(); ++q) {
    irq += fmt::format("{}q{}={}", q ? " " : "", q, interrupts_[q].get());
    no_buffer += rx_[q]->no_buffer_events();
    rx_tail += rx_[q]->tail_writes();
    rxq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.rx(q).packets.get());
  }
  for (uint16_t q = 0; q < tx_.size(); ++q) {
    tx_tail += tx_[q]->tail_writes();
    txq += fmt::format("{}q{}={}", q ? " " : "", q, counters_.tx(q).packets.get());
  }
  return {
      {"pci", dev_->address().str()},
      {"driver", std::string(pci::access_path_name(dev_->path()))},
      {"previous_driver", dev_->previous_driver().empty() ? "none" : dev_->previous_driver()},
      {"family", std::string(nic_->family())},
      {"device_id", fmt::format("{:04x}:{:04x}", dev_->vendor_id(), dev_->device_id())},
      {"mac", mac_.to_string()},
      {"link_speed", speed_mbps_ != 0 ? fmt::format("{}Mb/s", speed_mbps_) : "unknown"},
      {"rx_queues", std::to_string(rx_.size())},
      {"tx_queues", std::to_string(tx_.size())},
      {"rss", rx_.size() > 1 ? fmt::format("on ({} queues, 128-entry table)", rx_.size()) : "off"},
      {"ring_size", std::to_string(rx_.empty() ? 0 : rx_[0]->size())},
      {"rx_buffer_bytes", std::to_string(rx_buffer_bytes_)},
      {"promiscuous", promiscuous_ ? "true" : "false"},
      {"tx_zero_copy", std::to_string(tx_zero_copy())},
      {"tx_copied", std::to_string(tx_copied())},
      {"rx_no_buffer", std::to_string(no_buffer)},
      {"rx_tail_writes", std::to_string(rx_tail)},
      {"tx_tail_writes", std::to_string(tx_tail)},
      {"rx_packets_per_queue", rxq},
      {"tx_packets_per_queue", txq},
      {"hw_rx_packets", std::to_string(hw_.rx_packets)},
      {"hw_tx_packets", std::to_string(hw_.tx_packets)},
      {"hw_rx_bytes", std::to_string(hw_.rx_bytes)},
      {"hw_tx_bytes", std::to_string(hw_.tx_bytes)},
      {"hw_missed", std::to_string(hw_.missed)},
      {"hw_crc_errors", std::to_string(hw_.crc_errors)},
      {"rx_wakeup", wakeup_},
      {"interrupts_per_queue", irq},
  };
}

}  // namespace vsw::ports::intel
