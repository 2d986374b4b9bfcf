// tests/unit/virtio/fake_virtio_device.cc — register emulation and the device side of the rings.
#include "tests/unit/virtio/fake_virtio_device.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace vsw::ports::virtio::testing {

namespace {

uint16_t device_id_of(const FakeConfig& c) {
  if (c.device_id != 0) return c.device_id;
  return c.kind == FakeKind::Modern ? kDeviceIdModernNet : kDeviceIdTransitionalNet;
}

constexpr uint64_t kCommon = 0x0000, kIsr = 0x1000, kDevice = 0x2000, kNotify = 0x3000;
constexpr uint32_t kNotifyMultiplier = 4;

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// A virtio_pci_cap at `at` (virtio 1.1 §4.1.4).
void put_cap(std::array<uint8_t, 256>& cs, uint8_t at, uint8_t next, uint8_t len, uint8_t type,
             uint32_t offset, uint32_t length) {
  cs[at] = pci_cfg::kCapIdVendor;
  cs[at + 1] = next;
  cs[at + 2] = len;
  cs[at + 3] = type;
  cs[at + 4] = 4;  // BAR4
  put32(&cs[at + 8], offset);
  put32(&cs[at + 12], length);
}

}  // namespace

// --- FakeBar -------------------------------------------------------------------------------------
uint8_t FakeBar::read8(uint64_t off) const noexcept {
  return static_cast<uint8_t>(d_.bar_read(index_, off, 1));
}
uint16_t FakeBar::read16(uint64_t off) const noexcept {
  return static_cast<uint16_t>(d_.bar_read(index_, off, 2));
}
uint32_t FakeBar::read32(uint64_t off) const noexcept {
  return static_cast<uint32_t>(d_.bar_read(index_, off, 4));
}
void FakeBar::write8(uint64_t off, uint8_t v) noexcept { d_.bar_write(index_, off, 1, v); }
void FakeBar::write16(uint64_t off, uint16_t v) noexcept { d_.bar_write(index_, off, 2, v); }
void FakeBar::write32(uint64_t off, uint32_t v) noexcept { d_.bar_write(index_, off, 4, v); }

// --- PciDevice -------------------------------------------------------------------------------------
FakeVirtioDevice::FakeVirtioDevice(const FakeConfig& cfg)
    : PciDevice(pci::PciAddress{0, 0, 4, 0}, cfg.vendor, device_id_of(cfg)), cfg_(cfg) {
  auto& cs = config_space_;
  put16(&cs[0], cfg.vendor);
  put16(&cs[2], device_id_of(cfg));
  put16(&cs[6], pci_cfg::kStatusCapList);
  const bool modern = cfg.kind != FakeKind::Legacy;
  if (modern) {
    cs[pci_cfg::kCapPointer] = 0x40;
    put_cap(cs, 0x40, 0x50, 16, cap::kCommonCfg, kCommon, 0x1000);
    put_cap(cs, 0x50, 0x64, 20, cap::kNotifyCfg, kNotify, 0x1000);
    put32(&cs[0x50 + cap::kNotifyOffMultiplier], kNotifyMultiplier);
    put_cap(cs, 0x64, 0x74, 16, cap::kIsrCfg, kIsr, 0x1000);
    put_cap(cs, 0x74, 0x84, 16, cap::kDeviceCfg, kDevice, 0x1000);
  } else {
    cs[pci_cfg::kCapPointer] = 0x84;
  }
  cs[0x84] = pci_cfg::kCapIdMsix;
  cs[0x85] = 0;
  put16(&cs[0x86], cfg.msix_enabled ? pci_cfg::kMsixEnable : 0);
  if (cfg.kind != FakeKind::Modern) bar0_ = std::make_unique<FakeBar>(*this, 0, 64, true);
  if (modern) bar4_ = std::make_unique<FakeBar>(*this, 4, 0x4000, false);
  std::memcpy(&net_config_[net_cfg::kMac], cfg.mac.data(), 6);
  put16(&net_config_[net_cfg::kStatus], cfg.net_status);
  put16(&net_config_[net_cfg::kMaxVirtqueuePairs], cfg.max_pairs);
  queues_.resize(2u * cfg.max_pairs + 1);
  reset();
  resets_ = 0;
}

Status FakeVirtioDevice::read_config(uint32_t off, void* out, size_t len) const {
  if (off + len > config_space_.size()) return make_error(Errc::InvalidArgument, "config offset");
  std::memcpy(out, &config_space_[off], len);
  return ok();
}

Status FakeVirtioDevice::write_config(uint32_t off, const void* in, size_t len) {
  if (off + len > config_space_.size()) return make_error(Errc::InvalidArgument, "config offset");
  std::memcpy(&config_space_[off], in, len);
  return ok();
}

Result<pci::BarAccess*> FakeVirtioDevice::bar(unsigned index) {
  if (index == 0 && bar0_) return static_cast<pci::BarAccess*>(bar0_.get());
  if (index == 4 && bar4_) return static_cast<pci::BarAccess*>(bar4_.get());
  return make_error(Errc::NotFound, "BAR{} absent", index);
}

Status FakeVirtioDevice::dma_map(const DmaMemory& mem) { return dma_.map(mem, cfg_.path); }

void FakeVirtioDevice::dma_unmap(const DmaMemory& mem) noexcept { dma_.unmap(mem); }

uint64_t FakeVirtioDevice::dma_address(const void* p) const noexcept { return dma_.address(p); }

std::byte* FakeVirtioDevice::to_ptr(uint64_t iova) const noexcept {
  std::byte* p = dma_.to_ptr(iova);
  if (p == nullptr) ADD_FAILURE() << "device access to unmapped address " << iova;
  return p;
}

// --- registers -------------------------------------------------------------------------------------
void FakeVirtioDevice::reset() {
  status_ = 0;
  driver_features_ = 0;
  for (uint16_t i = 0; i < queues_.size(); ++i) {
    const uint64_t n = queues_[i].notifies;
    queues_[i] = Queue{};
    queues_[i].notifies = n;
    queues_[i].size = i + 1u == queues_.size() ? 64 : cfg_.queue_size;
  }
  ++resets_;
}

uint16_t FakeVirtioDevice::ctrl_index() const noexcept {
  return static_cast<uint16_t>(negotiated(feature::kMq) ? 2u * cfg_.max_pairs : 2u);
}

uint16_t FakeVirtioDevice::hdr_len() const noexcept {
  return negotiated(feature::kVersion1) || negotiated(feature::kMrgRxbuf) ? 12 : 10;
}

void FakeVirtioDevice::set_net_status(uint16_t s) noexcept {
  put16(&net_config_[net_cfg::kStatus], s);
  ++generation_;
}

uint64_t FakeVirtioDevice::bar_read(unsigned bar, uint64_t off, unsigned width) {
  auto cfg_field = [&](uint64_t o) -> uint64_t {
    uint64_t v = 0;
    if (o + width <= net_config_.size()) std::memcpy(&v, &net_config_[o], width);
    return v;
  };
  const uint16_t qs = queue_sel_;
  Queue* q = qs < queues_.size() ? &queues_[qs] : nullptr;
  if (bar == 0) {
    const uint64_t config = cfg_.msix_enabled ? legacy::kConfigMsix : legacy::kConfigNoMsix;
    if (off >= config) return cfg_field(off - config);
    switch (off) {
      case legacy::kHostFeatures: return static_cast<uint32_t>(cfg_.features);
      case legacy::kGuestFeatures: return static_cast<uint32_t>(driver_features_);
      case legacy::kQueuePfn: return q ? q->desc >> 12 : 0;
      case legacy::kQueueNum: return q ? (qs + 1u == queues_.size() ? 64 : cfg_.queue_size) : 0;
      case legacy::kQueueSel: return queue_sel_;
      case legacy::kDeviceStatus: return status_;
      default: return 0;
    }
  }
  if (off >= kDevice && off < kDevice + 0x1000) return cfg_field(off - kDevice);
  if (off >= kIsr) return 0;
  switch (off) {
    case common::kDeviceFeature:
      return device_feature_select_ == 0 ? static_cast<uint32_t>(cfg_.features)
             : device_feature_select_ == 1 ? static_cast<uint32_t>(cfg_.features >> 32) : 0;
    case common::kDriverFeature:
      return static_cast<uint32_t>(driver_features_ >> (32 * (driver_feature_select_ & 1)));
    case common::kNumQueues: return queues_.size();
    case common::kDeviceStatus: return status_;
    case common::kConfigGeneration: return generation_;
    case common::kQueueSelect: return queue_sel_;
    case common::kQueueSize: return q ? q->size : 0;
    case common::kQueueMsixVector: return q ? q->msix_vector : 0;
    case common::kQueueEnable: return q ? q->enabled : 0;
    case common::kQueueNotifyOff: return qs;
    default: return 0;
  }
}

void FakeVirtioDevice::bar_write(unsigned bar, uint64_t off, unsigned width, uint64_t v) {
  (void)width;
  Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  auto write_status = [&](uint8_t s) {
    status_writes_.push_back(s);
    if (s == 0) return reset();
    if ((s & status::kFeaturesOk) != 0 &&
        (!cfg_.accept_features || (driver_features_ & ~cfg_.features) != 0)) {
      s = static_cast<uint8_t>(s & ~status::kFeaturesOk);
    }
    status_ = s;
  };
  if (bar == 0) {
    switch (off) {
      case legacy::kGuestFeatures: driver_features_ = static_cast<uint32_t>(v); break;
      case legacy::kQueuePfn:
        if (q) {
          q->size = queue_sel_ + 1u == queues_.size() ? 64 : cfg_.queue_size;
          q->desc = v << 12;
          q->avail = q->desc + 16ull * q->size;
          q->used = (q->avail + 6 + 2ull * q->size + 4095) & ~uint64_t{4095};
          q->enabled = v != 0;
        }
        break;
      case legacy::kQueueSel: queue_sel_ = static_cast<uint16_t>(v); break;
      case legacy::kQueueNotify: notify(static_cast<uint16_t>(v)); break;
      case legacy::kDeviceStatus: write_status(static_cast<uint8_t>(v)); break;
      default: break;
    }
    return;
  }
  if (off >= kNotify) {
    const uint16_t queue = static_cast<uint16_t>((off - kNotify) / kNotifyMultiplier);
    if (queue == v) notify(queue);
    return;
  }
  auto half = [&](uint64_t& field, bool high) {
    field = high ? (field & 0xFFFFFFFFull) | (v << 32) : (field & ~0xFFFFFFFFull) | v;
  };
  switch (off) {
    case common::kDeviceFeatureSelect: device_feature_select_ = static_cast<uint32_t>(v); break;
    case common::kDriverFeatureSelect: driver_feature_select_ = static_cast<uint32_t>(v); break;
    case common::kDriverFeature: half(driver_features_, driver_feature_select_ == 1); break;
    case common::kDeviceStatus: write_status(static_cast<uint8_t>(v)); break;
    case common::kQueueSelect: queue_sel_ = static_cast<uint16_t>(v); break;
    case common::kQueueSize: if (q) q->size = static_cast<uint16_t>(v); break;
    case common::kQueueMsixVector: if (q) q->msix_vector = static_cast<uint16_t>(v); break;
    case common::kQueueEnable: if (q) q->enabled = v != 0; break;
    case common::kQueueDesc: if (q) half(q->desc, false); break;
    case common::kQueueDesc + 4: if (q) half(q->desc, true); break;
    case common::kQueueDriver: if (q) half(q->avail, false); break;
    case common::kQueueDriver + 4: if (q) half(q->avail, true); break;
    case common::kQueueDevice: if (q) half(q->used, false); break;
    case common::kQueueDevice + 4: if (q) half(q->used, true); break;
    default: break;
  }
}

void FakeVirtioDevice::notify(uint16_t q) {
  if (q >= queues_.size()) return;
  ++queues_[q].notifies;
  if (q == ctrl_index() && negotiated(feature::kCtrlVq) && queues_[q].enabled) process_ctrl();
}

// --- device side of the rings ------------------------------------------------------------------
void FakeVirtioDevice::update_avail_event(Queue& q) {
  if (negotiated(feature::kRingEventIdx)) {
    // §2.6.10.1: the driver notifies when avail.idx moves past avail_event. A device waiting for
    // work asks for the next entry after what is there now (as QEMU does); a polling one puts it
    // out of reach.
    const uint16_t ev = q.polling ? static_cast<uint16_t>(q.last_avail + 0x7FFF)
                                  : load_acquire(&avail(q)->idx);
    store_relaxed(avail_event_field(used(q), q.size), ev);
  } else {
    store_relaxed(&used(q)->flags, q.polling ? kUsedFlagNoNotify : 0);
  }
}

void FakeVirtioDevice::publish_used(Queue& q, uint16_t old_used) {
  update_avail_event(q);
  store_release(&used(q)->idx, q.used_idx);
  const bool want =
      negotiated(feature::kRingEventIdx)
          ? vring_need_event(load_relaxed(used_event_field(avail(q), q.size)), q.used_idx, old_used)
          : (load_relaxed(&avail(q)->flags) & kAvailFlagNoInterrupt) == 0;
  if (want && q.used_idx != old_used) ++q.interrupts;
}

void FakeVirtioDevice::push_used_raw(uint16_t qi, uint32_t id, uint32_t len) {
  Queue& q = queues_.at(qi);
  const uint16_t old = q.used_idx;
  used(q)->ring[q.used_idx++ & (q.size - 1)] = {id, len};
  publish_used(q, old);
}

bool FakeVirtioDevice::return_rx_raw(uint16_t pair, uint32_t len) {
  Queue& q = queues_.at(2u * pair);
  if (avail_pending(q) == 0) return false;
  const uint16_t head = next_avail(q);
  push_used_raw(static_cast<uint16_t>(2u * pair), head, len);
  return true;
}

uint16_t FakeVirtioDevice::rx_posted(uint16_t pair) const {
  auto& self = const_cast<FakeVirtioDevice&>(*this);
  Queue& q = self.queues_.at(2u * pair);
  return self.avail_pending(q);
}

bool FakeVirtioDevice::deliver(uint16_t pair, const std::vector<uint8_t>& frame,
                               vnet::VirtioNetHdr hdr) {
  Queue& q = queues_.at(2u * pair);
  const uint16_t hl = hdr_len();
  std::vector<uint8_t> bytes(hl, 0);
  std::memcpy(bytes.data(), &hdr, sizeof hdr);
  bytes.insert(bytes.end(), frame.begin(), frame.end());
  const bool mrg = negotiated(feature::kMrgRxbuf);
  const uint16_t saved = q.last_avail;
  std::vector<VringUsedElem> elems;
  uint8_t* first_hdr = nullptr;
  size_t done = 0;
  while (done < bytes.size()) {
    if (avail_pending(q) == 0 || (!mrg && !elems.empty())) {
      q.last_avail = saved;  // not enough room: the device drops the frame
      return false;
    }
    const uint16_t head = next_avail(q);
    uint32_t written = 0;
    for (uint16_t d = head;;) {
      const VringDesc v = load_desc(&desc(q)[d & (q.size - 1)]);
      auto* dst = ptr<uint8_t>(v.addr);
      const size_t n = std::min<size_t>(v.len, bytes.size() - done);
      std::memcpy(dst, bytes.data() + done, n);
      if (first_hdr == nullptr) first_hdr = dst;
      done += n;
      written += static_cast<uint32_t>(n);
      if ((v.flags & kDescFlagNext) == 0 || done == bytes.size()) break;
      d = v.next;
    }
    elems.push_back({head, written});
  }
  if (hl == 12) {
    const uint16_t nb = static_cast<uint16_t>(elems.size());
    std::memcpy(first_hdr + 10, &nb, 2);
  }
  const uint16_t old = q.used_idx;
  for (const auto& e : elems) used(q)->ring[q.used_idx++ & (q.size - 1)] = e;
  publish_used(q, old);
  return true;
}

std::vector<TxFrame> FakeVirtioDevice::walk_tx(uint16_t pair, size_t max, bool complete) {
  Queue& q = queues_.at(2u * pair + 1);
  const uint16_t hl = hdr_len();
  const uint16_t saved = q.last_avail;
  const uint16_t old_used = q.used_idx;
  std::vector<TxFrame> out;
  while (avail_pending(q) > 0 && out.size() < max) {
    const uint16_t head = next_avail(q);
    std::vector<uint8_t> bytes;
    TxFrame f;
    for (uint16_t d = head;;) {
      const VringDesc v = load_desc(&desc(q)[d & (q.size - 1)]);
      const auto* src = ptr<const uint8_t>(v.addr);
      bytes.insert(bytes.end(), src, src + v.len);
      ++f.descriptors;
      if ((v.flags & kDescFlagNext) == 0) break;
      d = v.next;
    }
    if (bytes.size() >= hl) {
      std::memcpy(&f.hdr, bytes.data(), sizeof f.hdr);
      f.bytes.assign(bytes.begin() + hl, bytes.end());
    }
    out.push_back(std::move(f));
    if (complete) used(q)->ring[q.used_idx++ & (q.size - 1)] = {head, 0};
  }
  if (!complete) {
    q.last_avail = saved;
    return out;
  }
  publish_used(q, old_used);
  return out;
}

std::vector<TxFrame> FakeVirtioDevice::consume_tx(uint16_t pair, size_t max) {
  return walk_tx(pair, max, true);
}
std::vector<TxFrame> FakeVirtioDevice::peek_tx(uint16_t pair, size_t max) {
  return walk_tx(pair, max, false);
}

void FakeVirtioDevice::set_polling(uint16_t qi, bool polling) {
  Queue& q = queues_.at(qi);
  q.polling = polling;
  update_avail_event(q);
}

void FakeVirtioDevice::process_ctrl() {
  Queue& q = queues_.at(ctrl_index());
  const uint16_t old = q.used_idx;
  while (avail_pending(q) > 0) {
    const uint16_t head = next_avail(q);
    std::vector<uint8_t> in;
    uint8_t* ack = nullptr;
    for (uint16_t d = head;;) {
      const VringDesc v = load_desc(&desc(q)[d & (q.size - 1)]);
      auto* p = ptr<uint8_t>(v.addr);
      if ((v.flags & kDescFlagWrite) != 0) ack = p;
      else in.insert(in.end(), p, p + v.len);
      if ((v.flags & kDescFlagNext) == 0) break;
      d = v.next;
    }
    ControlCommand c;
    if (in.size() >= 2) {
      c.cls = in[0];
      c.cmd = in[1];
      c.data.assign(in.begin() + 2, in.end());
    }
    commands_.push_back(c);
    if (ack != nullptr) *ack = cfg_.ctrl_ack;
    used(q)->ring[q.used_idx++ & (q.size - 1)] = {head, 1};
  }
  publish_used(q, old);
}

}  // namespace vsw::ports::virtio::testing
