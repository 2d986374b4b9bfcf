// dataplane/capture/port_captures.cc — the capture hooks the workers call once per burst.
#include "dataplane/capture/port_captures.h"

namespace vsw {

void PortCaptures::on_rx(uint16_t worker, const PacketBatch& batch) const noexcept {
  for (uint8_t i = 0; i < rx_count; ++i) {
    rx[i]->copy_burst(worker, batch.packets().data(), batch.size());
  }
}

void PortCaptures::on_tx(uint16_t worker, const PacketBatch& batch) const noexcept {
  for (uint8_t i = 0; i < tx_count; ++i) {
    tx[i]->copy_burst(worker, batch.packets().data(), batch.size());
  }
}

}  // namespace vsw
