// ports/memif/client/memif_client_rings.cc — the client's data path: producing on C2S rings,
// consuming and refilling S2C rings (memif.md §8, §9).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ports/memif/client/memif_client.h"

namespace vsw::memif {

namespace pm = ports::memif;

uint64_t Client::buffer_offset(const Ring& r, uint16_t slot) const noexcept {
  return buffers_offset_ + (uint64_t{r.first_buffer} + slot) * cfg_.buffer_size;
}

std::byte* Client::buffer(const Ring& r, uint16_t slot) const noexcept {
  return region_ + buffer_offset(r, slot);
}

uint16_t Client::tx_alloc(uint16_t q, std::span<Buffer> out) noexcept {
  Ring& r = tx_[q];
  const uint16_t tail = r.hdr->tail.load(std::memory_order_acquire);
  // memif.md §8: free slots for the producer = size - (head - tail).
  const uint16_t free = static_cast<uint16_t>(ring_size_ - static_cast<uint16_t>(r.pos - tail));
  const uint16_t n = static_cast<uint16_t>(std::min<size_t>(out.size(), free));
  for (uint16_t i = 0; i < n; ++i) {
    const uint16_t slot = static_cast<uint16_t>(r.pos + i) & mask_;
    out[i] = Buffer{buffer(r, slot), 0, cfg_.buffer_size, false};
  }
  return n;
}

void Client::tx_commit(uint16_t q, std::span<const Buffer> bufs) noexcept {
  Ring& r = tx_[q];
  if (bufs.empty()) return;
  for (size_t i = 0; i < bufs.size(); ++i) {
    const uint16_t slot = static_cast<uint16_t>(r.pos + i) & mask_;
    Desc& d = r.desc[slot];
    d.flags = bufs[i].more ? pm::kDescFlagNext : 0;
    d.region = 0;
    d.length = std::min(bufs[i].len, cfg_.buffer_size);
    d.offset = static_cast<uint32_t>(buffer_offset(r, slot));
    d.metadata = 0;
  }
  r.pos = static_cast<uint16_t>(r.pos + bufs.size());
  r.hdr->head.store(r.pos, std::memory_order_release);
  // memif.md §9: signal only when vsw has not masked interrupts (it polls while busy). The
  // fence keeps the flags load after the head store: vsw, going to sleep, clears the mask and
  // then reads head (the store-buffer pattern), so one of the two sides sees the other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if ((r.hdr->flags.load(std::memory_order_relaxed) & pm::kRingFlagMaskInt) == 0) {
    const uint64_t one = 1;
    (void)::write(r.eventfd.get(), &one, sizeof(one));
  }
}

uint16_t Client::tx_copy(uint16_t q, std::span<const std::span<const std::byte>> frames) noexcept {
  Buffer bufs[256];
  uint16_t used = 0;
  uint16_t sent = 0;
  const uint16_t avail = tx_alloc(q, std::span<Buffer>(bufs, std::size(bufs)));
  for (const auto& f : frames) {
    const uint32_t need = std::max<uint32_t>(
        1, static_cast<uint32_t>((f.size() + cfg_.buffer_size - 1) / cfg_.buffer_size));
    if (used + need > avail) break;
    size_t off = 0;
    for (uint32_t i = 0; i < need; ++i) {
      Buffer& b = bufs[used++];
      b.len = static_cast<uint32_t>(std::min<size_t>(cfg_.buffer_size, f.size() - off));
      std::memcpy(b.data, f.data() + off, b.len);
      off += b.len;
      b.more = i + 1 < need;
    }
    ++sent;
  }
  tx_commit(q, std::span<const Buffer>(bufs, used));
  return sent;
}

uint16_t Client::tx_in_flight(uint16_t q) const noexcept {
  const Ring& r = tx_[q];
  return static_cast<uint16_t>(r.pos - r.hdr->tail.load(std::memory_order_acquire));
}

uint16_t Client::rx_burst(uint16_t q, std::span<Buffer> out) noexcept {
  Ring& r = rx_[q];
  const uint16_t tail = r.hdr->tail.load(std::memory_order_acquire);
  const uint16_t next = static_cast<uint16_t>(r.pos + r.seen);
  const uint16_t avail = static_cast<uint16_t>(tail - next);
  const uint16_t n = static_cast<uint16_t>(std::min<size_t>(out.size(), avail));
  for (uint16_t i = 0; i < n; ++i) {
    const uint16_t slot = static_cast<uint16_t>(next + i) & mask_;
    const Desc d = pm::load_desc(&r.desc[slot]);
    out[i] = Buffer{buffer(r, slot), std::min(d.length, cfg_.buffer_size), cfg_.buffer_size,
                    (d.flags & pm::kDescFlagNext) != 0};
  }
  r.seen = static_cast<uint16_t>(r.seen + n);
  return n;
}

void Client::refill(Ring& r) noexcept {
  // memif.md §8: offer every buffer not held by the application (head - pos == size).
  const uint16_t head = r.hdr->head.load(std::memory_order_relaxed);
  const uint16_t target = static_cast<uint16_t>(r.pos + ring_size_);
  for (uint16_t h = head; h != target; ++h) {
    const uint16_t slot = h & mask_;
    Desc& d = r.desc[slot];
    d.flags = 0;
    d.region = 0;
    d.length = cfg_.buffer_size;  // capacity offered
    d.offset = static_cast<uint32_t>(buffer_offset(r, slot));
    d.metadata = 0;
  }
  r.hdr->head.store(target, std::memory_order_release);
}

void Client::rx_release(uint16_t q, uint16_t n) noexcept {
  Ring& r = rx_[q];
  n = std::min(n, r.seen);
  r.pos = static_cast<uint16_t>(r.pos + n);
  r.seen = static_cast<uint16_t>(r.seen - n);
  refill(r);
}

bool Client::wait_rx(uint16_t q, std::chrono::milliseconds timeout) noexcept {
  Ring& r = rx_[q];
  const auto waiting = [&] {
    return r.hdr->tail.load(std::memory_order_acquire) != static_cast<uint16_t>(r.pos + r.seen);
  };
  if (waiting() || !cfg_.interrupt_mode) return waiting();
  pollfd pfd{r.eventfd.get(), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return waiting();
  uint64_t count;
  (void)::read(r.eventfd.get(), &count, sizeof(count));
  return true;
}

int Client::rx_eventfd(uint16_t q) const noexcept { return rx_[q].eventfd.get(); }

}  // namespace vsw::memif
