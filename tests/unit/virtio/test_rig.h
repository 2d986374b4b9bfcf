// tests/unit/virtio/test_rig.h — a mempool, a fake virtio-net function and the driver on it,
// plus helpers to build and read frames.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/mempool.h"
#include "ports/virtio/virtio_net_device.h"
#include "tests/unit/virtio/fake_virtio_device.h"
#include "tests/unit/support/pool_frames.h"

namespace vsw::ports::virtio::testing {

using feature::bit;

// Everything QEMU's virtio-net-pci offers on the modern interface (plus ACCESS_PLATFORM).
constexpr uint64_t kModernOffer =
    bit(feature::kCsum) | bit(feature::kGuestCsum) | bit(feature::kMac) |
    bit(feature::kGuestTso4) | bit(feature::kGuestTso6) | bit(feature::kGuestEcn) |
    bit(feature::kHostTso4) | bit(feature::kHostTso6) | bit(feature::kHostEcn) |
    bit(feature::kMrgRxbuf) | bit(feature::kStatus) | bit(feature::kCtrlVq) |
    bit(feature::kCtrlRx) | bit(feature::kMq) | bit(feature::kRingIndirectDesc) |
    bit(feature::kRingEventIdx) | bit(feature::kVersion1) | bit(feature::kAccessPlatform);
// What a legacy device offers in its 32 bits: the same without VERSION_1 and ACCESS_PLATFORM,
// with ANY_LAYOUT and NOTIFY_ON_EMPTY.
constexpr uint64_t kLegacyOffer =
    (kModernOffer & 0xFFFFFFFFull) | bit(feature::kAnyLayout) | bit(feature::kNotifyOnEmpty);

// A fake device of `kind` offering `features`, everything else at its default.
inline FakeConfig cfg(FakeKind kind, uint64_t features) {
  FakeConfig c;
  c.kind = kind;
  c.features = features;
  return c;
}

inline std::unique_ptr<Mempool> make_pool(uint32_t buffers = 1024) {
  return vsw::test::make_pool(buffers, "virtio-test");
}
using vsw::test::make_frame;
using vsw::test::packet_bytes;
using vsw::test::pool_packet;

// A fake device (owned by the rig) with the driver opened on it.
struct Rig {
  explicit Rig(const FakeConfig& cfg, DeviceOptions opts = {}, uint32_t buffers = 1024)
      : pool(make_pool(buffers)), dev(std::make_unique<FakeVirtioDevice>(cfg)) {
    opts.port = 7;
    auto d = VirtioNetDevice::open(*dev, *pool, opts);
    if (d) net = std::move(*d);
    else error = d.error().message;
  }
  ~Rig() {
    net.reset();
    dev.reset();
  }
  std::unique_ptr<Mempool> pool;
  std::unique_ptr<FakeVirtioDevice> dev;
  std::unique_ptr<VirtioNetDevice> net;
  std::string error;
};

}  // namespace vsw::ports::virtio::testing
