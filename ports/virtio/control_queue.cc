// ports/virtio/control_queue.cc — one control command, posted and waited for (§5.1.6.5).
#include "ports/virtio/control_queue.h"

#include <cstring>
#include <thread>

namespace vsw::ports::virtio {

namespace {
constexpr uint32_t kDataOffset = 8;
constexpr uint32_t kAckOffset = 16;
constexpr uint8_t kNoAck = 0xFF;
}  // namespace

void ControlQueue::attach(const RingArena& arena, const VringOffsets& v, uint64_t buffer,
                          Doorbell bell, bool event_idx) {
  ring_.attach(arena, v, bell, event_idx);
  buf_ = arena.at(buffer);
  buf_iova_ = arena.iova(buffer);
}

Status ControlQueue::command(uint8_t cls, uint8_t cmd, const void* data, uint32_t len,
                             std::chrono::milliseconds timeout) {
  if (buf_ == nullptr) return make_error(Errc::Unsupported, "the device has no control queue");
  if (len == 0 || len > 8) return make_error(Errc::Internal, "control command data of {} bytes", len);
  buf_[0] = static_cast<std::byte>(cls);
  buf_[1] = static_cast<std::byte>(cmd);
  std::memcpy(buf_ + kDataOffset, data, len);
  buf_[kAckOffset] = static_cast<std::byte>(kNoAck);
  ring_.desc(0) = {buf_iova_, 2, kDescFlagNext, 1};
  ring_.desc(1) = {buf_iova_ + kDataOffset, len, kDescFlagNext, 2};
  ring_.desc(2) = {buf_iova_ + kAckOffset, 1, kDescFlagWrite, 0};
  ring_.push_avail(0);
  ring_.publish_and_notify();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ring_.used_pending() == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::Unavailable,
                        "virtio control command class={} cmd={} got no answer within {} ms", cls,
                        cmd, timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ring_.consume(ring_.used_pending());
  const uint8_t ack = static_cast<uint8_t>(
      __atomic_load_n(reinterpret_cast<uint8_t*>(buf_ + kAckOffset), __ATOMIC_ACQUIRE));
  if (ack != 0) {
    return make_error(Errc::Unsupported,
                      "virtio device refused control command class={} cmd={} (ack {})", cls, cmd,
                      ack);
  }
  return ok();
}

}  // namespace vsw::ports::virtio
