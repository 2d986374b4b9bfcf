// tests/models/model_driver.h — a minimal register-level 82599 driver for the model's own unit
// tests: the datasheet's init sequence (§4.6.3 reset, §4.6.4 link, §4.6.7 rx, §4.6.8 tx) step
// by step, so a test can do it right, or skip / reorder one step and see the model object.
// Not vsw's driver (ports/intel/): that one is tested by the integration tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "dataplane/dma_memory.h"
#include "tests/models/model_pci_device.h"

namespace vsw::tests::models {

class ModelDriver {
 public:
  // `ring` descriptors per queue, buffers of `buf_kib` KiB.
  ModelDriver(ModelPciDevice& dev, unsigned queues, uint32_t ring = 64, uint32_t buf_kib = 2);

  uint32_t rd(uint32_t off);
  void wr(uint32_t off, uint32_t v);
  // Polls `off` until (value & mask) == want; false after a second.
  bool wait(uint32_t off, uint32_t mask, uint32_t want);

  void enable_bus_master(bool on = true);
  void reset();      // §4.6.3: interrupts off, CTRL.RST, poll, interrupts off, ARD, DMAIDONE
  void init_link();  // §4.6.4: AUTOC LMS 10G serial, AN_RESTART
  void program_rx_queue(unsigned q);  // SRRCTL, ring base/len, RDH = RDT = 0, DCA bit 12
  void init_rx();             // §4.6.7: RXEN off, CRC strip, BAM, every queue, NS_DIS, RXEN on
  void init_tx();             // §4.6.8: CRC/pad, DTXMXSZRQ, ARBDIS off, rings, TE
  void start_rx(unsigned q);  // buffers into descriptors, ENABLE, RDT = N-1
  void start_tx(unsigned q);  // ENABLE
  void set_rss(const RssKey& key, uint32_t mrqc_fields);  // RETA round robin over the queues
  void init_all();  // everything above, in order, then promiscuous
  // The next received frame of queue q (consumed descriptors are re-armed and RDT bumped).
  std::optional<std::vector<uint8_t>> receive(unsigned q);
  // Puts `frame` into queue q's transmit ring in `segments` descriptors and writes TDT.
  void send(unsigned q, const std::vector<uint8_t>& frame, unsigned segments = 1);
  bool tx_descriptor_done(unsigned q, uint32_t idx);

  uint64_t iova(const void* p) const { return dev_.dma_address(p); }
  std::byte* rx_ring(unsigned q) { return mem_->data() + rx_ring_off(q); }
  std::byte* tx_ring(unsigned q) { return mem_->data() + tx_ring_off(q); }
  std::byte* rx_buffer(unsigned q, uint32_t i) { return mem_->data() + rx_buf_off(q, i); }
  uint32_t ring() const { return ring_; }
  unsigned queues() const { return queues_; }

 private:
  size_t rx_ring_off(unsigned q) const { return q * ring_ * 16; }
  size_t tx_ring_off(unsigned q) const { return (queues_ + q) * ring_ * 16; }
  size_t buf_base() const { return 2 * queues_ * ring_ * 16; }
  size_t rx_buf_off(unsigned q, uint32_t i) const {
    return buf_base() + (q * ring_ + i) * size_t{buf_kib_} * 1024;
  }
  size_t tx_buf_off(unsigned q, uint32_t i) const {
    return buf_base() + ((queues_ + q) * ring_ + i) * size_t{buf_kib_} * 1024;
  }

  ModelPciDevice& dev_;
  ports::pci::BarAccess* bar_;
  unsigned queues_;
  uint32_t ring_, buf_kib_;
  std::unique_ptr<DmaMemory> mem_;
  std::vector<uint32_t> rx_next_, tx_next_;
};

}  // namespace vsw::tests::models
