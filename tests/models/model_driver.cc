// tests/models/model_driver.cc — the datasheet init sequence against the model (model_driver.h).
#include "tests/models/model_driver.h"

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace vsw::tests::models {

using namespace ixgbe;

ModelDriver::ModelDriver(ModelPciDevice& dev, unsigned queues, uint32_t ring, uint32_t buf_kib)
    : dev_(dev),
      queues_(queues),
      ring_(ring),
      buf_kib_(buf_kib),
      rx_next_(queues, 0),
      tx_next_(queues, 0) {
  bar_ = *dev.bar(0);
  const size_t bytes = buf_base() + 2 * size_t{queues} * ring * buf_kib * 1024;
  auto m = DmaMemory::allocate(bytes, false);
  if (!m) throw std::runtime_error(m.error().message);
  mem_ = std::move(*m);
  if (!dev.dma_map(*mem_).has_value()) throw std::runtime_error("dma_map");
}

uint32_t ModelDriver::rd(uint32_t off) { return bar_->read32(off); }
void ModelDriver::wr(uint32_t off, uint32_t v) { bar_->write32(off, v); }

bool ModelDriver::wait(uint32_t off, uint32_t mask, uint32_t want) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < until) {
    if ((rd(off) & mask) == want) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return false;
}

void ModelDriver::enable_bus_master(bool on) {
  uint16_t cmd = 0;
  (void)dev_.read_config(0x04, &cmd, 2);
  cmd = on ? cmd | ModelPciDevice::kCommandBusMaster : cmd & ~ModelPciDevice::kCommandBusMaster;
  (void)dev_.write_config(0x04, &cmd, 2);
}

void ModelDriver::reset() {
  wr(reg::EIMC, 0x7FFFFFFF);
  (void)rd(reg::EICR);
  wr(reg::CTRL, bit::CTRL_RST | bit::CTRL_LNK_RST);
  wait(reg::CTRL, bit::CTRL_RST | bit::CTRL_LNK_RST, 0);
  wr(reg::EIMC, 0x7FFFFFFF);
  wait(reg::EEC, bit::EEC_ARD, bit::EEC_ARD);
  wait(reg::RDRXCTL, bit::RDRXCTL_DMAIDONE, bit::RDRXCTL_DMAIDONE);
}

void ModelDriver::init_link() {
  wr(reg::AUTOC, (rd(reg::AUTOC) & ~0xE000u) | (0x3u << 13));
  wr(reg::AUTOC, rd(reg::AUTOC) & ~0x180u);
  wr(reg::AUTOC, rd(reg::AUTOC) | bit::AUTOC_AN_RESTART);
}

void ModelDriver::program_rx_queue(unsigned q) {
  const uint32_t b = reg::RXQ_LOW + q * reg::QSTRIDE;
  wr(b + reg::Q_SRRCTL, buf_kib_ | bit::SRRCTL_DESCTYPE_ADV_ONEBUF | bit::SRRCTL_DROP_EN);
  const uint64_t base = iova(rx_ring(q));
  wr(b + reg::Q_BAL, static_cast<uint32_t>(base));
  wr(b + reg::Q_BAH, static_cast<uint32_t>(base >> 32));
  wr(b + reg::Q_LEN, ring_ * 16);
  wr(b + reg::Q_HEAD, 0);
  wr(b + reg::Q_TAIL, 0);
  wr(b + reg::Q_DCA, rd(b + reg::Q_DCA) & ~bit::DCA_RXCTRL_BIT12);
}

void ModelDriver::init_rx() {
  wr(reg::RXCTRL, 0);
  wr(reg::RXPBSIZE0, 128u << 10);
  wr(reg::HLREG0, rd(reg::HLREG0) | bit::HLREG0_RXCRCSTRP | bit::HLREG0_JUMBOEN);
  wr(reg::MAXFRS, 9018u << 16);
  wr(reg::RDRXCTL, rd(reg::RDRXCTL) | bit::RDRXCTL_CRCSTRIP);
  wr(reg::FCTRL, rd(reg::FCTRL) | bit::FCTRL_BAM);
  for (unsigned q = 0; q < queues_; ++q) program_rx_queue(q);
  wr(reg::CTRL_EXT, rd(reg::CTRL_EXT) | (1u << 16));
  wr(reg::RXCSUM, rd(reg::RXCSUM) | bit::RXCSUM_PCSD);
  wr(reg::RXCTRL, bit::RXCTRL_RXEN);
}

void ModelDriver::init_tx() {
  wr(reg::HLREG0, rd(reg::HLREG0) | bit::HLREG0_TXCRCEN | bit::HLREG0_TXPADEN);
  wr(reg::TXPBSIZE0, 40u << 10);
  wr(reg::DTXMXSZRQ, 0xFFFF);
  wr(reg::RTTDCS, rd(reg::RTTDCS) & ~0x40u);
  for (unsigned q = 0; q < queues_; ++q) {
    const uint32_t b = reg::TXQ + q * reg::QSTRIDE;
    const uint64_t base = iova(tx_ring(q));
    wr(b + reg::Q_BAL, static_cast<uint32_t>(base));
    wr(b + reg::Q_BAH, static_cast<uint32_t>(base >> 32));
    wr(b + reg::Q_LEN, ring_ * 16);
    wr(b + reg::Q_CTL, 36u | (8u << 8) | (4u << 16));
  }
  wr(reg::DMATXCTL, bit::DMATXCTL_TE);
}

void ModelDriver::start_rx(unsigned q) {
  for (uint32_t i = 0; i < ring_; ++i) {
    const uint64_t a = iova(rx_buffer(q, i)), zero = 0;
    std::memcpy(rx_ring(q) + 16 * i, &a, 8);
    std::memcpy(rx_ring(q) + 16 * i + 8, &zero, 8);
  }
  const uint32_t b = reg::RXQ_LOW + q * reg::QSTRIDE;
  wr(b + reg::Q_CTL, rd(b + reg::Q_CTL) | bit::RXDCTL_ENABLE);
  wait(b + reg::Q_CTL, bit::RXDCTL_ENABLE, bit::RXDCTL_ENABLE);
  wr(b + reg::Q_TAIL, ring_ - 1);
}

void ModelDriver::start_tx(unsigned q) {
  const uint32_t b = reg::TXQ + q * reg::QSTRIDE;
  wr(b + reg::Q_HEAD, 0);
  wr(b + reg::Q_TAIL, 0);
  wr(b + reg::Q_CTL, rd(b + reg::Q_CTL) | bit::TXDCTL_ENABLE);
  wait(b + reg::Q_CTL, bit::TXDCTL_ENABLE, bit::TXDCTL_ENABLE);
}

void ModelDriver::set_rss(const RssKey& key, uint32_t fields) {
  for (unsigned i = 0; i < 10; ++i) {
    uint32_t w = 0;
    for (unsigned j = 0; j < 4; ++j) w |= uint32_t{key[4 * i + j]} << (8 * j);
    wr(reg::RSSRK0 + 4 * i, w);
  }
  for (unsigned i = 0; i < 32; ++i) {
    uint32_t w = 0;
    for (unsigned j = 0; j < 4; ++j) w |= uint32_t{(4 * i + j) % queues_} << (8 * j);
    wr(reg::RETA0 + 4 * i, w);
  }
  wr(reg::MRQC, bit::MRQC_RSS | fields);
}

void ModelDriver::init_all() {
  enable_bus_master();
  reset();
  init_link();
  init_rx();
  init_tx();
  for (unsigned q = 0; q < queues_; ++q) start_rx(q);
  for (unsigned q = 0; q < queues_; ++q) start_tx(q);
  wr(reg::FCTRL, rd(reg::FCTRL) | bit::FCTRL_UPE | bit::FCTRL_MPE);
  wait(reg::LINKS, bit::LINKS_UP, bit::LINKS_UP);
}

std::optional<std::vector<uint8_t>> ModelDriver::receive(unsigned q) {
  std::vector<uint8_t> frame;
  for (;;) {
    const uint32_t i = rx_next_[q];
    std::byte* d = rx_ring(q) + 16 * i;
    const uint32_t status = __atomic_load_n(reinterpret_cast<uint32_t*>(d + 8), __ATOMIC_ACQUIRE);
    if (!(status & desc::RX_DD)) {
      if (!frame.empty()) throw std::runtime_error("frame without EOP");
      return std::nullopt;
    }
    uint16_t len;
    std::memcpy(&len, d + 12, 2);
    const auto* b = reinterpret_cast<const uint8_t*>(rx_buffer(q, i));
    frame.insert(frame.end(), b, b + len);
    // Re-arm (read format) and give it back.
    const uint64_t a = iova(rx_buffer(q, i)), zero = 0;
    std::memcpy(d, &a, 8);
    std::memcpy(d + 8, &zero, 8);
    wr(reg::RXQ_LOW + q * reg::QSTRIDE + reg::Q_TAIL, i);
    rx_next_[q] = (i + 1) % ring_;
    if (status & desc::RX_EOP) return frame;
  }
}

void ModelDriver::send(unsigned q, const std::vector<uint8_t>& frame, unsigned segments) {
  const size_t per = (frame.size() + segments - 1) / segments;
  size_t done = 0;
  for (unsigned s = 0; s < segments; ++s) {
    const uint32_t i = tx_next_[q];
    const size_t len = std::min(per, frame.size() - done);
    std::byte* buf = mem_->data() + tx_buf_off(q, i);
    std::memcpy(buf, frame.data() + done, len);
    done += len;
    const uint64_t a = iova(buf);
    const uint32_t cmd = static_cast<uint32_t>(len) | desc::TX_DTYP_DATA | desc::TX_DEXT |
                         desc::TX_IFCS | desc::TX_RS | (done == frame.size() ? desc::TX_EOP : 0);
    const uint32_t olinfo = static_cast<uint32_t>(frame.size()) << desc::TX_PAYLEN_SHIFT;
    std::byte* d = tx_ring(q) + 16 * i;
    std::memcpy(d, &a, 8);
    std::memcpy(d + 8, &cmd, 4);
    std::memcpy(d + 12, &olinfo, 4);
    tx_next_[q] = (i + 1) % ring_;
  }
  wr(reg::TXQ + q * reg::QSTRIDE + reg::Q_TAIL, tx_next_[q]);
}

bool ModelDriver::tx_descriptor_done(unsigned q, uint32_t idx) {
  uint32_t st;
  std::memcpy(&st, tx_ring(q) + 16 * idx + 12, 4);
  return st & desc::TX_STA_DD;
}

}  // namespace vsw::tests::models
