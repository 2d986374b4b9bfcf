// tests/unit/intel/intel_test_rig.h — a mempool, a fake Intel NIC (owned by the test, lent to
// the port through BorrowedDevice so it can be inspected after the port is gone) and an
// IntelPort on it, plus frame helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/mempool.h"
#include "ports/intel/intel_port.h"
#include "tests/unit/intel/fake_intel_device.h"
#include "tests/unit/support/pool_frames.h"

namespace vsw::ports::intel::testing {

// A PciDevice that forwards to a FakeIntelDevice it does not own.
class BorrowedDevice : public pci::PciDevice {
 public:
  explicit BorrowedDevice(FakeIntelDevice& d)
      : PciDevice(d.address(), d.vendor_id(), d.device_id()), d_(d) {}
  pci::AccessPath path() const noexcept override { return d_.path(); }
  const std::string& previous_driver() const noexcept override { return d_.previous_driver(); }
  Status read_config(uint32_t off, void* out, size_t len) const override {
    return d_.read_config(off, out, len);
  }
  Status write_config(uint32_t off, const void* in, size_t len) override {
    return d_.write_config(off, in, len);
  }
  Result<pci::BarAccess*> bar(unsigned index) override { return d_.bar(index); }
  Status dma_map(const DmaMemory& mem) override { return d_.dma_map(mem); }
  void dma_unmap(const DmaMemory& mem) noexcept override { d_.dma_unmap(mem); }
  uint64_t dma_address(const void* p) const noexcept override { return d_.dma_address(p); }
  Result<int> interrupt_eventfd() override { return -1; }
  Result<std::vector<int>> msix_eventfds(uint16_t n) override { return d_.msix_eventfds(n); }

 private:
  FakeIntelDevice& d_;
};

inline std::unique_ptr<Mempool> make_pool(uint32_t buffers = 2048,
                                          const char* name = "intel-test") {
  return vsw::test::make_pool(buffers, name);
}
using vsw::test::make_frame;
using vsw::test::packet_bytes;
using vsw::test::pool_packet;

struct Rig {
  explicit Rig(FakeIntelConfig cfg = {}, IntelOptions opts = small_opts(), uint32_t buffers = 2048)
      : pool(make_pool(buffers)), dev(std::make_unique<FakeIntelDevice>(cfg)) {
    auto p =
        IntelPort::open("nic0", 5, cfg.family, std::make_unique<BorrowedDevice>(*dev), *pool, opts);
    if (p) {
      port = std::move(*p);
    } else {
      error = p.error().message;
    }
  }
  ~Rig() {
    port.reset();
    dev.reset();
  }
  static IntelOptions small_opts() {
    IntelOptions o;
    o.ring_size = 64;
    o.link_wait_ms = 0;
    return o;
  }
  uint16_t rx(QueueId q, PacketBatch& b) { return port->rx_burst(q, b); }
  size_t writes_to(uint32_t off) const {
    size_t n = 0;
    for (const auto& w : dev->writes()) n += w.first == off;
    return n;
  }

  std::unique_ptr<Mempool> pool;
  std::unique_ptr<FakeIntelDevice> dev;
  std::unique_ptr<IntelPort> port;
  std::string error;
};

}  // namespace vsw::ports::intel::testing
