// dataplane/offload/checksum.cc — Internet checksum arithmetic (RFC 1071) and pseudo-header sums.
#include "dataplane/offload/checksum.h"

#include <algorithm>

#include "dataplane/offload/bytes.h"

namespace vsw::offload {

uint32_t sum_bytes(std::span<const std::byte> data, uint32_t sum) noexcept {
  // RFC 1071 §2(C) "parallel summation": adding 32-bit big-endian words and folding later gives
  // the same ones'-complement sum as adding 16-bit words, because 2^16 == 1 (mod 2^16 - 1).
  uint64_t acc = sum;
  const std::byte* p = data.data();
  size_t n = data.size();
  while (n >= 16) {
    acc += load_be32(p);
    acc += load_be32(p + 4);
    acc += load_be32(p + 8);
    acc += load_be32(p + 12);
    p += 16;
    n -= 16;
  }
  while (n >= 4) {
    acc += load_be32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += load_be16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += static_cast<uint32_t>(std::to_integer<uint8_t>(*p)) << 8;
  // Fold the 64-bit accumulator back to at most 17 bits so callers can keep adding.
  acc = (acc & 0xFFFFFFFF) + (acc >> 32);
  acc = (acc & 0xFFFFFFFF) + (acc >> 32);
  acc = (acc & 0xFFFF) + (acc >> 16);
  acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint32_t>(acc);
}

uint32_t pseudo_header_sum_ipv4(const std::byte* ip, uint8_t proto, uint32_t l4_len) noexcept {
  // RFC 791 §3.1: source address at offset 12, destination at 16.
  uint32_t sum = sum_bytes({ip + 12, 8});
  return sum + proto + l4_len;  // l4_len < 2^16 for IPv4
}

uint32_t pseudo_header_sum_ipv6(const std::byte* ip, uint8_t proto, uint32_t l4_len) noexcept {
  // RFC 8200 §3: source address at offset 8, destination at 24 (16 bytes each).
  uint32_t sum = sum_bytes({ip + 8, 32});
  return sum + (l4_len >> 16) + (l4_len & 0xFFFF) + proto;
}

void set_ipv4_header_checksum(std::byte* ip, uint32_t ihl_bytes) noexcept {
  store_be16(ip + 10, 0);
  store_be16(ip + 10, finish(sum_bytes({ip, ihl_bytes})));
}

bool complete_partial_checksum(std::span<std::byte> frame, uint32_t csum_start,
                               uint32_t csum_offset) noexcept {
  if (csum_start > frame.size() || csum_offset > frame.size() - csum_start ||
      frame.size() - csum_start - csum_offset < 2) {
    return false;
  }
  const uint16_t c = finish(sum_bytes(frame.subspan(csum_start)));
  store_be16(frame.data() + csum_start + csum_offset, c == 0 ? 0xFFFF : c);
  return true;
}

bool complete_partial_checksum(Packet& frame, uint32_t csum_start,
                               uint32_t csum_offset) noexcept {
  const uint32_t total = frame.frame_len;
  if (frame.next == nullptr) {
    return complete_partial_checksum({frame.data(), std::min<uint32_t>(frame.len, total)},
                                     csum_start, csum_offset);
  }
  if (csum_start > total || csum_offset > total - csum_start || total - csum_start - csum_offset < 2) {
    return false;
  }
  // The field already holds the pseudo-header seed (virtio 1.0 §5.1.6.2), which is part of the
  // sum: sum csum_start..end as it is, remembering where the two field bytes lie.
  std::byte* field[2] = {nullptr, nullptr};
  const uint32_t field_off = csum_start + csum_offset;
  uint64_t acc = 0;
  uint32_t pos = 0;     // frame offset of the current segment's first byte
  bool odd = false;     // the bytes summed so far have odd length
  for (Packet* s = &frame; s != nullptr && pos < total; s = s->next) {
    const uint32_t len = std::min<uint32_t>(s->len, total - pos);
    for (uint32_t k = 0; k < 2; ++k) {
      if (field_off + k >= pos && field_off + k < pos + len) field[k] = s->data() + (field_off + k - pos);
    }
    if (pos + len > csum_start) {
      const uint32_t from = csum_start > pos ? csum_start - pos : 0;
      const std::span<const std::byte> piece(s->data() + from, len - from);
      const uint32_t part = fold(sum_bytes(piece));
      // A piece starting at an odd offset of the summed region contributes its sum byte-swapped.
      acc += odd ? static_cast<uint32_t>(__builtin_bswap16(static_cast<uint16_t>(part))) : part;
      odd ^= (piece.size() & 1) != 0;
    }
    pos += len;
  }
  if (pos < total || field[0] == nullptr || field[1] == nullptr) return false;  // chain too short
  uint16_t c = finish(static_cast<uint32_t>((acc & 0xFFFFFFFF) + (acc >> 32)));
  if (c == 0) c = 0xFFFF;
  *field[0] = std::byte{static_cast<uint8_t>(c >> 8)};
  *field[1] = std::byte{static_cast<uint8_t>(c & 0xFF)};
  return true;
}

}  // namespace vsw::offload
