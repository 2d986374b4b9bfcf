// ports/virtio/virtio_net_device.cc — the initialisation sequence (virtio 1.1 §3.1.1) and
// teardown of one virtio-net function.
#include "ports/virtio/virtio_net_device.h"

#include <array>

#include "common/log.h"
#include "ports/virtio/transports.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

namespace {

constexpr uint32_t kMinDataRoom = 1518;  // an Ethernet frame with one VLAN tag, without FCS

// The largest power of two <= n (n > 0).
uint16_t floor_pow2(uint16_t n) noexcept {
  uint16_t p = 1;
  while (static_cast<uint32_t>(p) * 2 <= n) p = static_cast<uint16_t>(p * 2);
  return p;
}

}  // namespace

template <class F>
auto VirtioNetDevice::read_config(F&& f) const noexcept {
  // §4.1.4.3.1 / §2.4.1: a multi-field read is consistent when config_generation is the same
  // before and after it. Legacy devices have no counter (it reads 0 both times).
  for (int tries = 0;; ++tries) {
    const uint8_t before = transport_->config_generation();
    auto v = f();
    if (transport_->config_generation() == before || tries == 100) return v;
  }
}

Result<std::unique_ptr<VirtioNetDevice>> VirtioNetDevice::open(pci::PciDevice& dev, Mempool& pool,
                                                               const DeviceOptions& opts) {
  std::unique_ptr<VirtioNetDevice> d(new VirtioNetDevice(dev, pool));
  if (auto st = d->init(opts); !st) return std::move(st).error();  // ~VirtioNetDevice undoes it
  return d;
}

VirtioNetDevice::~VirtioNetDevice() {
  // §2.1.2 / fact sheet §4 step 7: after a reset the device neither reads nor writes the rings,
  // so their buffers may go back to the pool and the memory may be unmapped.
  if (transport_) (void)transport_->reset();
  rx_.reset();
  tx_.reset();
  if (pool_mapped_) dev_.dma_unmap(pool_.memory());
}

Status VirtioNetDevice::init(const DeviceOptions& opts) {
  const std::string name = dev_.address().str();
  // Refusals that need no device access come first, so the device is not even reset for them.
  if (auto st = check_pool(); !st) return st;
  auto t = open_transport(dev_, opts.interface);
  if (!t) return std::move(t).error();
  transport_ = std::move(*t);

  // §3.1.1 steps 1–3.
  if (auto st = transport_->reset(); !st) return st;
  transport_->add_status(status::kAcknowledge);
  transport_->add_status(status::kDriver);

  // Step 4: what the device offers; max_virtqueue_pairs exists only with MQ (§5.1.4).
  offered_ = transport_->device_features();
  NegotiationRequest req;
  req.kind = transport_->kind();
  req.offered = offered_;
  req.offloads = opts.offloads;
  req.queues = opts.queues;
  req.workers = opts.workers;
  if ((offered_ & feature::bit(feature::kMq)) != 0) {
    req.max_virtqueue_pairs =
        read_config([&] { return transport_->config16(net_cfg::kMaxVirtqueuePairs); });
  }
  auto neg = negotiate(req);
  if (!neg) return make_error(neg.error().code, "device {}: {}", name, neg.error().message);
  neg_ = *neg;
  // Steps 5–6.
  if (auto st = transport_->set_driver_features(neg_.features); !st) {
    return make_error(st.error().code, "device {}: {}", name, st.error().message);
  }
  if (dev_.path() == pci::AccessPath::Vfio && !neg_.has(feature::kAccessPlatform)) {
    log::port().warn("virtio device {} does not offer VIRTIO_F_ACCESS_PLATFORM: behind a "
                     "translating IOMMU its DMA bypasses the IOVAs vfio programs (QEMU: "
                     "iommu_platform=on)", name);
  }
  if (neg_.has(feature::kMac)) {
    std::array<uint8_t, 6> b{};
    b = read_config([&] {
      std::array<uint8_t, 6> m{};
      for (uint32_t i = 0; i < 6; ++i) m[i] = transport_->config8(net_cfg::kMac + i);
      return m;
    });
    mac_ = MacAddress::from_bytes(b.data());
  }

  // Step 7: DMA memory and queues.
  if (auto st = dev_.dma_map(pool_.memory()); !st) return st;
  pool_mapped_ = true;
  if (auto st = setup_queues(opts); !st) return make_error(st.error().code, "device {}: {}", name,
                                                           st.error().message);
  // Step 8.
  transport_->add_status(status::kDriverOk);
  if (failed()) {
    return make_error(Errc::Unavailable, "device {} failed after DRIVER_OK (status {:#x})", name,
                      transport_->status());
  }
  if (auto st = control_commands(); !st) {
    return make_error(st.error().code, "device {}: {}", name, st.error().message);
  }
  log::port().info("virtio device {} ready interface={} path={} features={:#x} queues={} "
                   "ring={} mac={}", name, interface_name(transport_->kind()),
                   pci::access_path_name(dev_.path()), neg_.features, neg_.queue_pairs,
                   rx_ring_size_, mac_.to_string());
  return ok();
}

Status VirtioNetDevice::check_pool() const {
  if (pool_.data_room() < kMinDataRoom) {
    return make_error(Errc::InvalidArgument,
                      "mempool buffers hold {} bytes of frame; the virtio driver needs {}",
                      pool_.data_room(), kMinDataRoom);
  }
  if (dev_.path() == pci::AccessPath::Uio && !pool_.physical_iova()) {
    return make_error(Errc::Unavailable,
                      "driver=uio needs the packet buffers in hugepages with physical addresses, "
                      "but mempool '{}' has none (hugepage_backed={}): reserve hugepages before "
                      "starting vswitchd (echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
                      "nr_hugepages), or use driver=vfio",
                      pool_.name(), pool_.hugepage_backed());
  }
  return ok();
}

Status VirtioNetDevice::setup_queues(const DeviceOptions& opts) {
  const uint16_t pairs = neg_.queue_pairs;
  const bool has_ctrl = neg_.has(feature::kCtrlVq);
  const uint16_t count = static_cast<uint16_t>(2 * pairs + (has_ctrl ? 1 : 0));
  // Sizes first, to plan the arena.
  std::vector<uint16_t> sizes(count);
  std::vector<uint16_t> index(count);
  for (uint16_t i = 0; i < count; ++i) {
    index[i] = i < 2 * pairs ? i : neg_.ctrl_queue;
    uint16_t n = transport_->queue_max_size(index[i]);
    if (n == 0) return make_error(Errc::InvalidArgument, "virtqueue {} does not exist", index[i]);
    if (transport_->can_shrink_queues()) n = floor_pow2(std::min(n, opts.max_ring_size));
    if (!is_valid_queue_size(n) || (n < 2 && i < 2 * pairs)) {
      return make_error(Errc::Unsupported, "virtqueue {} has size {}, not a power of two",
                        index[i], n);
    }
    sizes[i] = n;
  }
  std::vector<VringOffsets> rings(count);
  std::vector<uint64_t> extra(count, 0);
  for (uint16_t i = 0; i < count; ++i) {
    rings[i] = arena_.reserve_vring(sizes[i]);
    if (i >= 2 * pairs) extra[i] = arena_.reserve(ControlQueue::kBufferBytes, 64);
    else if (i % 2 == 1) extra[i] = arena_.reserve(uint64_t{sizes[i]} * TxQueue::kHeaderSlotBytes, 64);
  }
  if (auto st = arena_.allocate(dev_); !st) return st;

  rx_ = std::make_unique<RxQueue[]>(pairs);
  tx_ = std::make_unique<TxQueue[]>(pairs);
  rx_ring_size_ = sizes[0];
  tx_ring_size_ = sizes[1];
  const bool any_layout = neg_.any_layout();
  for (uint16_t i = 0; i < count; ++i) {
    auto bell = transport_->doorbell(index[i]);
    if (!bell) return std::move(bell).error();
    if (i >= 2 * pairs) {
      ctrl_.attach(arena_, rings[i], extra[i], *bell, neg_.event_idx());
    } else if (i % 2 == 0) {
      RxQueueConfig rc;
      rc.dev = &dev_;
      rc.pool = &pool_;
      rc.port = opts.port;
      rc.hdr_len = neg_.hdr_len;
      rc.header_own_desc = !any_layout;
      rc.mergeable = neg_.has(feature::kMrgRxbuf);
      rc.offloads = neg_.has(feature::kGuestCsum);
      rx_[i / 2].attach(arena_, rings[i], *bell, neg_.event_idx(), rc);
    } else {
      TxQueueConfig tc;
      tc.dev = &dev_;
      tc.pool = &pool_;
      tc.hdr_len = neg_.hdr_len;
      tc.any_layout = any_layout;
      tx_[i / 2].attach(arena_, rings[i], extra[i], *bell, neg_.event_idx(), tc);
    }
    if (auto st = transport_->setup_queue(index[i], sizes[i], arena_.addresses(rings[i])); !st) {
      return st;
    }
  }
  // Receive buffers are posted before DRIVER_OK (fact sheet §4 step 6).
  for (uint16_t q = 0; q < pairs; ++q) {
    if (auto st = rx_[q].prefill(); !st) return st;
  }
  return ok();
}

Status VirtioNetDevice::control_commands() {
  if (neg_.has(feature::kCtrlRx)) {
    // §5.1.6.5.1: promiscuous mode, so frames for every MAC behind the switch are received.
    const uint8_t on = 1;
    if (auto st = ctrl_.command(ctrl::kClassRx, ctrl::kRxPromisc, &on, 1); !st) return st;
    promiscuous_ = true;
  }
  if (neg_.queue_pairs > 1) {
    // §5.1.6.5.5: until VQ_PAIRS_SET the device uses pair 0 only.
    const uint16_t pairs = neg_.queue_pairs;
    if (auto st = ctrl_.command(ctrl::kClassMq, ctrl::kMqVqPairsSet, &pairs, 2); !st) return st;
  }
  return ok();
}

LinkState VirtioNetDevice::read_link() const noexcept {
  if (!neg_.has(feature::kStatus)) return LinkState::Up;  // §5.1.4: link assumed up
  const uint16_t s = read_config([&] { return transport_->config16(net_cfg::kStatus); });
  return (s & net_cfg::kStatusLinkUp) != 0 ? LinkState::Up : LinkState::Down;
}

bool VirtioNetDevice::failed() const noexcept {
  return (transport_->status() & (status::kFailed | status::kDeviceNeedsReset)) != 0;
}

bool VirtioNetDevice::route_rx_to_vectors() noexcept {
  for (uint16_t k = 0; k < queue_pairs(); ++k) {
    if (!transport_->set_queue_vector(static_cast<uint16_t>(2 * k), k)) return false;
  }
  return true;
}

}  // namespace vsw::ports::virtio
