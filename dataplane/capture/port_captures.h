// dataplane/capture/port_captures.h — the captures running on one port, as the fast path sees
// them: an immutable list the control thread replaces as a whole (CaptureRegistry).
//
// A port without capture has none (Port::captures() is nullptr): the whole cost of the feature
// on the fast path is that load and one predictable branch per rx burst (Worker::poll_once) and
// per transmit batch (Port::transmit). With captures, the worker calls on_rx()/on_tx() for the
// burst, which copies what each capture's filter selects (Capture::copy_burst).
//
// Threads: built and freed by the control thread; read by workers between two quiescent points.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/capture/capture.h"
#include "dataplane/packet_batch.h"

namespace vsw {

struct PortCaptures {
  static constexpr uint32_t kMax = 8;  // at most this many captures in the whole switch

  std::array<Capture*, kMax> rx{};  // captures that want frames received on the port
  std::array<Capture*, kMax> tx{};  // captures that want frames the port transmits
  uint8_t rx_count = 0, tx_count = 0;

  // The worker that received `batch` (before the bridge sees it). Out of line (port_captures.cc):
  // the fast path without capture carries only the call, and callgrind can count it apart.
  void on_rx(uint16_t worker, const PacketBatch& batch) const noexcept;
  // The worker handing `batch` to Port::transmit (after the bridge, before egress offloads).
  void on_tx(uint16_t worker, const PacketBatch& batch) const noexcept;
};

}  // namespace vsw
