// tests/unit/vhost_user/fake_guest.h — an in-process virtio driver for the vhost-user data path
// tests, the fuzzer and the benchmark: guest memory in a local buffer presented as two
// GuestMemory regions (guest-physical addresses != host addresses, front-end user addresses !=
// guest-physical ones, as with QEMU), one split virtqueue in it (ports/virtio_common/vring.h),
// and the driver's moves: write descriptors, post chains, read the used ring.
//
//   region 0: gpa kGpaBase,            user kUserBase          [desc | avail | used | buffers...]
//   region 1: gpa kGpaBase + half,     user kUserBase + 2·half  (separate host memory: a buffer
//             crossing from region 0 into region 1 is contiguous in GPA but not in vsw)
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ports/vhost_user/guest_memory.h"
#include "ports/vhost_user/queue_config.h"

namespace vsw::test {

using ports::vhost_user::GuestMemory;
using ports::vhost_user::GuestRegion;
using ports::vhost_user::QueueConfig;
namespace virtio = ports::virtio;

class FakeGuest {
 public:
  static constexpr uint64_t kGpaBase = 0x40000000;
  static constexpr uint64_t kUserBase = 0x7f1234560000;

  explicit FakeGuest(uint16_t size, uint64_t half_bytes = 1 << 20)
      : size_(size),
        half_(half_bytes),
        mem0_(half_bytes / 8, 0),
        mem1_(half_bytes / 8, 0) {
    const GuestRegion regions[2] = {
        {kGpaBase, half_, kUserBase, reinterpret_cast<std::byte*>(mem0_.data())},
        {kGpaBase + half_, half_, kUserBase + 2 * half_, reinterpret_cast<std::byte*>(mem1_.data())}};
    memory_ = GuestMemory(regions, 2);
    desc_off_ = 0;
    avail_off_ = virtio::desc_table_bytes(size);
    used_off_ = align(avail_off_ + virtio::avail_ring_bytes(size, true), 64);
    buf_off_ = align(used_off_ + virtio::used_ring_bytes(size, true), 4096);
    next_buf_ = buf_off_;
  }

  const GuestMemory& memory() const { return memory_; }
  uint16_t size() const { return size_; }

  // The QueueConfig the session would build (rings translated from their user addresses).
  QueueConfig config() const {
    QueueConfig c;
    c.size = size_;
    c.desc = reinterpret_cast<virtio::VringDesc*>(memory_.translate_user(kUserBase + desc_off_, 16));
    c.avail = reinterpret_cast<virtio::VringAvail*>(memory_.translate_user(kUserBase + avail_off_, 4));
    c.used = reinterpret_cast<virtio::VringUsed*>(memory_.translate_user(kUserBase + used_off_, 4));
    c.hdr_len = 12;
    return c;
  }

  virtio::VringDesc* desc() { return reinterpret_cast<virtio::VringDesc*>(host(kGpaBase + desc_off_)); }
  virtio::VringAvail* avail() { return reinterpret_cast<virtio::VringAvail*>(host(kGpaBase + avail_off_)); }
  virtio::VringUsed* used() { return reinterpret_cast<virtio::VringUsed*>(host(kGpaBase + used_off_)); }
  uint16_t& used_event() { return *virtio::used_event_field(avail(), size_); }
  uint16_t avail_event() { return *virtio::avail_event_field(used(), size_); }
  uint16_t used_idx() { return virtio::load_acquire(&used()->idx); }
  virtio::VringUsedElem used_elem(uint16_t pos) { return used()->ring[pos & (size_ - 1)]; }

  // Host address of guest-physical `gpa` (region 0 or 1), for the test to look at.
  std::byte* host(uint64_t gpa) { return memory_.translate(gpa, 0); }
  uint64_t region1_gpa() const { return kGpaBase + half_; }
  uint64_t half_bytes() const { return half_; }
  std::byte* region_base(int r) {
    return reinterpret_cast<std::byte*>(r == 0 ? mem0_.data() : mem1_.data());
  }

  // A fresh guest buffer of `len` bytes in region 0 (a bump allocator, `align`-aligned).
  uint64_t alloc(uint32_t len, uint32_t alignment = 8) {
    next_buf_ = align(next_buf_, alignment);
    if (next_buf_ + len > half_) next_buf_ = buf_off_;  // wrap: tests use far less at a time
    const uint64_t gpa = kGpaBase + next_buf_;
    next_buf_ += len;
    return gpa;
  }
  void reset_buffers() { next_buf_ = buf_off_; }

  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    desc()[i] = virtio::VringDesc{addr, len, flags, next};
  }
  // The next `n` descriptor indices (consecutive modulo the size).
  uint16_t take_descs(uint16_t n) {
    const uint16_t first = next_desc_;
    next_desc_ = static_cast<uint16_t>((next_desc_ + n) & (size_ - 1));
    return first;
  }
  // Puts `head` in the avail ring and publishes it.
  void post(uint16_t head) {
    const uint16_t idx = avail()->idx;
    avail()->ring[idx & (size_ - 1)] = head;
    virtio::store_release(&avail()->idx, static_cast<uint16_t>(idx + 1));
  }

  // Writes `bytes` into fresh buffers of the given sizes (the last one takes the rest), chained
  // with NEXT over consecutive descriptors (`extra_flags` on each, e.g. WRITE); returns the head.
  uint16_t chain(std::span<const uint8_t> bytes, const std::vector<uint32_t>& pieces,
                 uint16_t extra_flags = 0) {
    const uint16_t n = static_cast<uint16_t>(pieces.size());
    const uint16_t head = take_descs(n);
    size_t off = 0;
    for (uint16_t i = 0; i < n; ++i) {
      const uint32_t len = pieces[i];
      const uint64_t gpa = alloc(len);
      const size_t copy = off < bytes.size() ? std::min<size_t>(len, bytes.size() - off) : 0;
      if (copy != 0) std::memcpy(host(gpa), bytes.data() + off, copy);
      off += copy;
      const uint16_t idx = static_cast<uint16_t>((head + i) & (size_ - 1));
      const bool more = i + 1 < n;
      set_desc(idx, gpa, len,
               static_cast<uint16_t>(extra_flags | (more ? virtio::kDescFlagNext : 0)),
               static_cast<uint16_t>((idx + 1) & (size_ - 1)));
    }
    return head;
  }
  // The same pieces as an indirect table: one ring descriptor pointing at a table in guest
  // memory (entries numbered 0..n-1); returns the head.
  uint16_t indirect(std::span<const uint8_t> bytes, const std::vector<uint32_t>& pieces,
                    uint16_t extra_flags = 0) {
    const uint16_t n = static_cast<uint16_t>(pieces.size());
    const uint64_t table = alloc(16u * n, 16);
    auto* t = reinterpret_cast<virtio::VringDesc*>(host(table));
    size_t off = 0;
    for (uint16_t i = 0; i < n; ++i) {
      const uint64_t gpa = alloc(pieces[i]);
      const size_t copy = off < bytes.size() ? std::min<size_t>(pieces[i], bytes.size() - off) : 0;
      if (copy != 0) std::memcpy(host(gpa), bytes.data() + off, copy);
      off += copy;
      t[i] = virtio::VringDesc{gpa, pieces[i],
                               static_cast<uint16_t>(extra_flags | (i + 1 < n ? virtio::kDescFlagNext : 0)),
                               static_cast<uint16_t>(i + 1)};
    }
    const uint16_t head = take_descs(1);
    set_desc(head, table, 16u * n, virtio::kDescFlagIndirect, 0);
    return head;
  }
  // Bytes the device wrote into the chain at `head` (guest rx): `len` bytes gathered over its
  // descriptors.
  std::vector<uint8_t> read_chain(uint16_t head, uint32_t len) {
    std::vector<uint8_t> out;
    uint16_t i = head;
    while (out.size() < len) {
      const virtio::VringDesc d = desc()[i];
      const auto* p = reinterpret_cast<const uint8_t*>(host(d.addr));
      const size_t n = std::min<size_t>(d.len, len - out.size());
      out.insert(out.end(), p, p + n);
      if ((d.flags & virtio::kDescFlagNext) == 0) break;
      i = d.next;
    }
    return out;
  }

 private:
  static uint64_t align(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

  uint16_t size_;
  uint64_t half_;
  std::vector<uint64_t> mem0_, mem1_;  // uint64_t: 8-byte aligned host memory
  GuestMemory memory_;
  uint64_t desc_off_, avail_off_, used_off_, buf_off_, next_buf_;
  uint16_t next_desc_ = 0;
};

// A virtio-net header (virtio 1.1 §5.1.6) of `len` bytes (10 or 12) followed by `frame`.
inline std::vector<uint8_t> with_vnet_hdr(std::span<const uint8_t> frame, uint8_t len = 12,
                                          uint8_t flags = 0, uint8_t gso_type = 0,
                                          uint16_t gso_size = 0, uint16_t csum_start = 0,
                                          uint16_t csum_offset = 0, uint16_t hdr_len = 0) {
  std::vector<uint8_t> out(len, 0);
  out[0] = flags;
  out[1] = gso_type;
  std::memcpy(&out[2], &hdr_len, 2);
  std::memcpy(&out[4], &gso_size, 2);
  std::memcpy(&out[6], &csum_start, 2);
  std::memcpy(&out[8], &csum_offset, 2);
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

// An Ethernet frame of `len` bytes with recognisable contents.
inline std::vector<uint8_t> test_frame(uint32_t len, uint8_t seed = 1) {
  std::vector<uint8_t> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 8));
  if (len >= 14) {
    const uint8_t hdr[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
    std::memcpy(f.data(), hdr, 14);
  }
  return f;
}

}  // namespace vsw::test
