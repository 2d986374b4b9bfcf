// tests/vm/virtio_tx_check.cc — one virtio transmit queue driven far enough to prove DMA
// (see virtio_tx_check.h). Section numbers: virtio 1.0 (OASIS, 2016).
#include "tests/vm/virtio_tx_check.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace vsw::ports::pci::probe {

namespace {

// §2.1 device status bits.
constexpr uint8_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8;
constexpr unsigned kTxQueue = 1;  // §5.1.2: receiveq1 = 0, transmitq1 = 1
constexpr size_t kNetHdrBytes = 10;  // §5.1.6 struct virtio_net_hdr without MRG_RXBUF
constexpr size_t kFrameBytes = 60;
constexpr size_t kBufferOffset = 64 << 10;

// §2.4.5 descriptor, §2.4.6 avail ring, §2.4.8 used ring.
struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Desc) == 16);

// The registers both interfaces need, behind one small façade.
struct Regs {
  BarAccess* common = nullptr;  // legacy: BAR0; modern: common cfg BAR
  uint64_t common_off = 0;
  BarAccess* notify = nullptr;
  uint64_t notify_off = 0;
  BarAccess* isr = nullptr;
  uint64_t isr_off = 0;
  bool legacy = false;
};

struct Cap {
  uint8_t bar = 0;
  uint32_t offset = 0;
  uint32_t multiplier = 0;  // notify cap only
  bool found = false;
};

// §4.1.4: vendor-specific capabilities (ID 09h) with cfg_type at +3, bar at +4, offset at +8;
// the notify capability adds notify_off_multiplier at +16.
Result<Cap> find_cap(PciDevice& d, uint8_t type) {
  auto ptr = d.config8(0x34);  // PCI 3.0 §6.7 Capabilities Pointer
  if (!ptr) return ptr.error();
  uint8_t at = *ptr;
  for (int guard = 0; at && guard < 48; ++guard) {
    auto id = d.config8(at), next = d.config8(at + 1u), t = d.config8(at + 3u),
         bar = d.config8(at + 4u);
    auto off = d.config32(at + 8u);
    if (!id || !next || !t || !bar || !off) return make_error(Errc::Io, "config read failed");
    if (*id == 0x09 && *t == type) {
      Cap c{*bar, *off, 0, true};
      if (type == 2) {
        auto m = d.config32(at + 16u);
        if (!m) return m.error();
        c.multiplier = *m;
      }
      return c;
    }
    at = *next;
  }
  return Cap{};
}

void write64(BarAccess* b, uint64_t off, uint64_t v) {
  b->write32(off, static_cast<uint32_t>(v));  // §4.1.3.1: 64-bit fields as two 32-bit writes
  b->write32(off + 4, static_cast<uint32_t>(v >> 32));
}

// Legacy register block (§4.1.4.8) / modern common configuration (§4.1.4.3) offsets.
namespace legacy {
constexpr uint64_t kHostFeatures = 0, kGuestFeatures = 4, kQueuePfn = 8, kQueueNum = 12,
                   kQueueSel = 14, kQueueNotify = 16, kStatus = 18, kIsr = 19;
}
namespace modern {
constexpr uint64_t kDeviceFeatureSelect = 0, kDeviceFeature = 4, kDriverFeatureSelect = 8,
                   kDriverFeature = 12, kStatus = 20, kQueueSelect = 22, kQueueSize = 24,
                   kQueueEnable = 28, kQueueNotifyOff = 30, kQueueDesc = 32, kQueueDriver = 40,
                   kQueueDevice = 48;
}

uint8_t read_status(const Regs& r) {
  return r.common->read8(r.common_off + (r.legacy ? legacy::kStatus : modern::kStatus));
}
void write_status(const Regs& r, uint8_t v) {
  r.common->write8(r.common_off + (r.legacy ? legacy::kStatus : modern::kStatus), v);
}

Status reset(const Regs& r) {
  write_status(r, 0);
  // §4.1.4.3.2: after writing 0 the driver waits until status reads 0.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (read_status(r) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::Io, "device did not reset");
    }
    std::this_thread::yield();
  }
  return ok();
}

Result<Regs> locate(PciDevice& d) {
  Regs r;
  auto bar0 = d.bar(0);
  if (bar0 && (*bar0)->is_io()) {
    r.legacy = true;
    r.common = r.notify = r.isr = *bar0;
    r.notify_off = legacy::kQueueNotify;
    r.isr_off = legacy::kIsr;
    return r;
  }
  Cap caps[3];
  const uint8_t types[3] = {1, 2, 3};  // common, notify, ISR (§4.1.4)
  BarAccess* bars[3];
  for (int i = 0; i < 3; ++i) {
    auto c = find_cap(d, types[i]);
    if (!c) return c.error();
    if (!c->found) return make_error(Errc::NotFound, "no virtio capability of type {}", types[i]);
    caps[i] = *c;
    auto b = d.bar(c->bar);
    if (!b) return b.error();
    bars[i] = *b;
  }
  r.common = bars[0];
  r.common_off = caps[0].offset;
  r.notify = bars[1];
  r.isr = bars[2];
  r.isr_off = caps[2].offset;
  r.common->write16(r.common_off + modern::kQueueSelect, kTxQueue);
  const uint16_t notify_index = r.common->read16(r.common_off + modern::kQueueNotifyOff);
  r.notify_off = caps[1].offset + uint64_t{notify_index} * caps[1].multiplier;  // §4.1.4.4
  return r;
}

}  // namespace

Result<TxCheck> virtio_tx_check(PciDevice& dev, const DmaMemory& mem, int frames) {
  auto located = locate(dev);
  if (!located) return located.error();
  const Regs r = *located;
  if (auto st = reset(r); !st) return st.error();
  write_status(r, kAcknowledge);
  write_status(r, kAcknowledge | kDriver);
  uint16_t num;
  if (r.legacy) {
    (void)r.common->read32(legacy::kHostFeatures);
    r.common->write32(legacy::kGuestFeatures, 0);
    r.common->write16(legacy::kQueueSel, kTxQueue);
    num = r.common->read16(legacy::kQueueNum);
  } else {
    const uint64_t c = r.common_off;
    r.common->write32(c + modern::kDeviceFeatureSelect, 1);
    const uint32_t high = r.common->read32(c + modern::kDeviceFeature);
    // §6.1: VIRTIO_F_VERSION_1 (32) required; VIRTIO_F_ACCESS_PLATFORM (33) accepted if offered
    // (the device then DMAs through the IOMMU).
    r.common->write32(c + modern::kDriverFeatureSelect, 1);
    r.common->write32(c + modern::kDriverFeature, 0x1u | (high & 0x2u));
    r.common->write32(c + modern::kDriverFeatureSelect, 0);
    r.common->write32(c + modern::kDriverFeature, 0);
    write_status(r, kAcknowledge | kDriver | kFeaturesOk);
    if (!(read_status(r) & kFeaturesOk)) return make_error(Errc::Io, "FEATURES_OK refused");
    r.common->write16(c + modern::kQueueSelect, kTxQueue);
    num = r.common->read16(c + modern::kQueueSize);
  }
  if (num == 0 || num > 1024) return make_error(Errc::Io, "transmit queue size {}", num);

  // Ring at the start of `mem` in the legacy layout (§2.4.2: used ring 4096-aligned), which
  // satisfies the modern alignment too; buffers from 64 KiB.
  std::byte* base = mem.data();
  std::memset(base, 0, kBufferOffset);
  auto* desc = reinterpret_cast<Desc*>(base);
  auto* avail = reinterpret_cast<uint16_t*>(base + 16 * num);  // flags, idx, ring[num]
  const size_t used_off = (16 * num + 2 * (3 + num) + 4095) & ~size_t{4095};
  auto* used = reinterpret_cast<volatile uint16_t*>(base + used_off);  // flags, idx, elems
  const uint64_t ring_dma = dev.dma_address(base);
  if (ring_dma == 0) return make_error(Errc::InvalidArgument, "ring memory has no DMA address");
  if (r.legacy) {
    r.common->write32(legacy::kQueuePfn, static_cast<uint32_t>(ring_dma >> 12));  // §4.1.4.8
  } else {
    const uint64_t c = r.common_off;
    write64(r.common, c + modern::kQueueDesc, ring_dma);
    write64(r.common, c + modern::kQueueDriver, dev.dma_address(avail));
    write64(r.common, c + modern::kQueueDevice, dev.dma_address(base + used_off));
    r.common->write16(c + modern::kQueueEnable, 1);
  }
  write_status(r, kAcknowledge | kDriver | (r.legacy ? 0 : kFeaturesOk) | kDriverOk);

  TxCheck out;
  auto irq = dev.interrupt_eventfd();
  const int irq_fd = irq ? *irq : -1;
  if (irq_fd >= 0) out.interrupts = 0;
  Status result = ok();
  for (int i = 0; i < frames && result; ++i) {
    std::byte* buf = base + kBufferOffset + static_cast<size_t>(i) * 2048;
    std::memset(buf, 0, kNetHdrBytes);
    std::memset(buf + kNetHdrBytes, 0xff, 6);  // broadcast destination
    std::memset(buf + kNetHdrBytes + 6, 0x5c, kFrameBytes - 6);
    const uint16_t slot = static_cast<uint16_t>(i % num);
    desc[slot] = Desc{dev.dma_address(buf), kNetHdrBytes + kFrameBytes, 0, 0};
    avail[2 + slot] = slot;
    std::atomic_thread_fence(std::memory_order_release);  // §2.4.7.2: ring entry before idx
    reinterpret_cast<volatile uint16_t*>(avail)[1] = static_cast<uint16_t>(i + 1);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // §2.4.7.2: idx before the notify
    r.notify->write16(r.notify_off, kTxQueue);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (used[1] != static_cast<uint16_t>(i + 1)) {
      if (std::chrono::steady_clock::now() > deadline) {
        result = make_error(Errc::Io, "frame {} not completed by the device (used idx {})", i,
                            used[1]);
        break;
      }
      std::this_thread::yield();
    }
    if (!result) break;
    const uint32_t id = reinterpret_cast<volatile uint32_t*>(base + used_off + 4)[2 * slot];
    if (id != slot) {
      result = make_error(Errc::Io, "used ring names descriptor {}, expected {}", id, slot);
      break;
    }
    ++out.frames_completed;
    if (irq_fd >= 0) {
      pollfd p{irq_fd, POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) {
        result = make_error(Errc::Io, "no interrupt after frame {}", i);
        break;
      }
      uint64_t count;
      (void)!read(irq_fd, &count, sizeof count);
      (void)r.isr->read8(r.isr_off);  // §4.1.4.5: reading the ISR de-asserts INTx
      if (auto st = dev.unmask_interrupt(); !st) {
        result = st.error();
        break;
      }
      ++out.interrupts;
    }
  }
  if (auto st = reset(r); !st && result) result = st.error();
  if (!result) return result.error();
  return out;
}

}  // namespace vsw::ports::pci::probe
