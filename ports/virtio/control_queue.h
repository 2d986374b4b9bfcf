// ports/virtio/control_queue.h — the virtio-net control virtqueue (virtio 1.1 §5.1.6.5): one
// command at a time, on the control thread, waited for with a deadline.
//
// A command is three descriptors over a 64-byte buffer in ring memory (fact sheet §6: a device
// may insist on this split when ANY_LAYOUT is absent, and it is always valid):
//   desc 0  {u8 class, u8 command}      device-readable
//   desc 1  command data (1..8 bytes)   device-readable
//   desc 2  {u8 ack}                    device-writable: VIRTIO_NET_OK (0) or ERR (1)
// vsw uses it for VIRTIO_NET_CTRL_RX_PROMISC (on: a switch port takes every frame) and
// VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (the device uses only pair 0 until told, §5.1.6.5.5).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "ports/virtio/driver_vring.h"

namespace vsw::ports::virtio {

class ControlQueue {
 public:
  static constexpr uint32_t kBufferBytes = 64;

  // `buffer` is the offset of kBufferBytes (8-aligned) reserved in `arena`.
  void attach(const RingArena& arena, const VringOffsets& v, uint64_t buffer, Doorbell bell,
              bool event_idx);

  // Sends one command and waits for the device's ack (at most `timeout`). Unavailable on
  // timeout, Unsupported when the device answers ERR. `len` is 1..8.
  Status command(uint8_t cls, uint8_t cmd, const void* data, uint32_t len,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  bool attached() const noexcept { return buf_ != nullptr; }

 private:
  DriverVring ring_;
  std::byte* buf_ = nullptr;
  uint64_t buf_iova_ = 0;
};

}  // namespace vsw::ports::virtio
