// dataplane/offload/checksum.h — the Internet checksum and the pseudo-headers TCP and UDP cover.
//
// Sums are kept as plain numbers: the ones'-complement sum of the region read as big-endian
// 16-bit words (RFC 1071 §1), accumulated in a uint32_t that may still carry beyond 16 bits.
// fold() reduces it to 16 bits; finish() returns the value to store big-endian in a header.
// Every span passed to sum_bytes() must start at an even offset of the checksummed region (all
// IP, TCP and UDP headers do), so partial sums of consecutive spans simply add up.
//
// Pure functions on bytes; no allocation, no state; safe on the fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet.h"

namespace vsw::offload {

// Adds the bytes of `data` to `sum` (RFC 1071 §4.1, with an odd trailing byte padded by a zero
// octet on the right). The result is partially folded and safe to pass back in as `sum`.
uint32_t sum_bytes(std::span<const std::byte> data, uint32_t sum = 0) noexcept;

// Reduces a sum to 16 bits with end-around carries (RFC 1071 §2(C)).
constexpr uint16_t fold(uint32_t sum) noexcept {
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum field value: the ones' complement of the folded sum.
constexpr uint16_t finish(uint32_t sum) noexcept { return static_cast<uint16_t>(~fold(sum)); }

// Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768): source and destination address taken
// from the IPv4 header at `ip`, zero, protocol, and the L4 length `l4_len`.
uint32_t pseudo_header_sum_ipv4(const std::byte* ip, uint8_t proto, uint32_t l4_len) noexcept;

// Sum of the IPv6 pseudo-header (RFC 8200 §8.1): addresses from the fixed IPv6 header at `ip`,
// the 32-bit upper-layer length and the next-header value `proto`.
uint32_t pseudo_header_sum_ipv6(const std::byte* ip, uint8_t proto, uint32_t l4_len) noexcept;

// Recomputes the IPv4 header checksum in place (RFC 791 §3.1 "Header Checksum"); `ip` points at
// a header of `ihl_bytes` bytes.
void set_ipv4_header_checksum(std::byte* ip, uint32_t ihl_bytes) noexcept;

// Completes a partial checksum as a virtio-net device does for VIRTIO_NET_HDR_F_NEEDS_CSUM
// (virtio 1.0 §5.1.6.2): sums frame[csum_start..end), which already holds the pseudo-header seed
// in the checksum field, and stores its complement at csum_start + csum_offset. A result of zero
// is stored as 0xFFFF (equivalent for TCP; required for UDP, RFC 768). Returns false, leaving the
// frame untouched, when the field would lie outside the frame.
bool complete_partial_checksum(std::span<std::byte> frame, uint32_t csum_start,
                               uint32_t csum_offset) noexcept;

// The same on a frame spread over a chain of segments (first segment `frame`, frame_len bytes
// in all); segment lengths may be odd (RFC 1071 §2(B): a sum over bytes shifted by one position
// is the byte-swapped sum). Writes the two checksum bytes wherever they fall, so the caller must
// hold the frame alone (refs == 1) in owned memory.
bool complete_partial_checksum(Packet& frame, uint32_t csum_start, uint32_t csum_offset) noexcept;

}  // namespace vsw::offload
