// tests/unit/dataplane/offload/test_ip_frames.h — builds Ethernet / IPv4-IPv6 / TCP-UDP test
// frames and checks checksums with a reference Internet checksum written independently of
// dataplane/offload: plain 16-bit big-endian byte pairs, explicit pseudo-header bytes, no word
// tricks. Used by the offload unit tests and the kernel port system test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vsw::test {

using Bytes = std::vector<uint8_t>;

// Ones'-complement sum of `n` bytes as big-endian 16-bit words, folded to 16 bits.
inline uint16_t ref_ones_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    s += static_cast<uint32_t>(p[i]) << 8 | p[i + 1];
    s = (s & 0xFFFF) + (s >> 16);
  }
  if (n % 2 == 1) {
    s += static_cast<uint32_t>(p[n - 1]) << 8;
    s = (s & 0xFFFF) + (s >> 16);
  }
  return static_cast<uint16_t>(s);
}

inline uint16_t rd16(const Bytes& f, size_t off) {
  return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}
inline uint32_t rd32(const Bytes& f, size_t off) {
  return static_cast<uint32_t>(rd16(f, off)) << 16 | rd16(f, off + 2);
}
inline void wr16(Bytes& f, size_t off, uint16_t v) {
  f[off] = static_cast<uint8_t>(v >> 8);
  f[off + 1] = static_cast<uint8_t>(v);
}
inline void wr32(Bytes& f, size_t off, uint32_t v) {
  wr16(f, off, static_cast<uint16_t>(v >> 16));
  wr16(f, off + 2, static_cast<uint16_t>(v));
}

// The pseudo-header as explicit bytes (RFC 793 §3.1 for IPv4, RFC 8200 §8.1 for IPv6).
inline Bytes ref_pseudo_header(const Bytes& f, size_t l3, bool ipv6, uint8_t proto,
                               uint32_t l4_len) {
  Bytes ph;
  if (ipv6) {
    ph.insert(ph.end(), f.begin() + l3 + 8, f.begin() + l3 + 40);
    ph.push_back(static_cast<uint8_t>(l4_len >> 24));
    ph.push_back(static_cast<uint8_t>(l4_len >> 16));
    ph.push_back(static_cast<uint8_t>(l4_len >> 8));
    ph.push_back(static_cast<uint8_t>(l4_len));
    ph.insert(ph.end(), {0, 0, 0, proto});
  } else {
    ph.insert(ph.end(), f.begin() + l3 + 12, f.begin() + l3 + 20);
    ph.insert(ph.end(), {0, proto, static_cast<uint8_t>(l4_len >> 8),
                         static_cast<uint8_t>(l4_len)});
  }
  return ph;
}

// True when the L4 checksum of the segment [l4, end) verifies (sum over pseudo-header and
// segment, including the checksum field, is 0xFFFF).
inline bool ref_l4_checksum_ok(const Bytes& f, size_t l3, size_t l4, size_t end, bool ipv6,
                               uint8_t proto) {
  Bytes all = ref_pseudo_header(f, l3, ipv6, proto, static_cast<uint32_t>(end - l4));
  all.insert(all.end(), f.begin() + l4, f.begin() + end);
  return ref_ones_sum(all.data(), all.size()) == 0xFFFF;
}

inline bool ref_ipv4_header_ok(const Bytes& f, size_t l3) {
  const size_t ihl = (f[l3] & 0x0F) * 4u;
  return ref_ones_sum(f.data() + l3, ihl) == 0xFFFF;
}

inline uint8_t payload_byte(size_t i, uint8_t seed) {
  return static_cast<uint8_t>(seed + i * 7 + (i >> 8));
}

struct FrameSpec {
  bool ipv6 = false;
  uint8_t l4 = 6;                // 6 = TCP, 17 = UDP
  int vlan_tags = 0;             // 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q)
  size_t ip_option_bytes = 0;    // IPv4 options (NOPs + EOL), multiple of 4, <= 40
  bool ipv6_dest_opts = false;   // one 8-byte destination-options extension header
  size_t tcp_option_bytes = 0;   // multiple of 4, <= 40 (NOPs)
  uint8_t tcp_flags = 0x18;      // ACK | PSH
  uint32_t seq = 1000;
  uint16_t ip_id = 0x1234;
  uint16_t ip_frag = 0x4000;     // DF
  size_t payload = 100;
  uint8_t seed = 1;
  bool checksums = true;         // fill in valid IP/L4 checksums
  uint16_t ether_type_override = 0;
};

struct BuiltFrame {
  Bytes bytes;
  size_t l3 = 0;
  size_t l4 = 0;
  size_t l4_hdr = 0;
  size_t hdr_len() const { return l4 + l4_hdr; }
};

inline BuiltFrame build_frame(const FrameSpec& s) {
  BuiltFrame b;
  Bytes& f = b.bytes;
  f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};  // dst, src (locally administered)
  if (s.vlan_tags == 2) f.insert(f.end(), {0x88, 0xA8, 0x00, 0x64});
  if (s.vlan_tags >= 1) f.insert(f.end(), {0x81, 0x00, 0x20, 0x0A});
  const uint16_t et = s.ether_type_override ? s.ether_type_override : (s.ipv6 ? 0x86DD : 0x0800);
  f.push_back(static_cast<uint8_t>(et >> 8));
  f.push_back(static_cast<uint8_t>(et));
  b.l3 = f.size();
  const size_t l4_hdr = s.l4 == 6 ? 20 + s.tcp_option_bytes : 8;
  b.l4_hdr = l4_hdr;
  if (s.ipv6) {
    const size_t ext = s.ipv6_dest_opts ? 8 : 0;
    const size_t plen = ext + l4_hdr + s.payload;
    f.insert(f.end(), {0x60, 0x01, 0x23, 0x45, static_cast<uint8_t>(plen >> 8),
                       static_cast<uint8_t>(plen), s.ipv6_dest_opts ? uint8_t{60} : s.l4, 64});
    for (int i = 0; i < 16; ++i) f.push_back(static_cast<uint8_t>(i == 0 ? 0xFD : i));       // src
    for (int i = 0; i < 16; ++i) f.push_back(static_cast<uint8_t>(i == 0 ? 0xFD : 0x80 + i));  // dst
    if (s.ipv6_dest_opts) f.insert(f.end(), {s.l4, 0, 1, 4, 0, 0, 0, 0});  // PadN option
  } else {
    const size_t ihl = 20 + s.ip_option_bytes;
    const size_t total = ihl + l4_hdr + s.payload;
    f.insert(f.end(), {static_cast<uint8_t>(0x40 | (ihl / 4)), 0, static_cast<uint8_t>(total >> 8),
                       static_cast<uint8_t>(total), static_cast<uint8_t>(s.ip_id >> 8),
                       static_cast<uint8_t>(s.ip_id), static_cast<uint8_t>(s.ip_frag >> 8),
                       static_cast<uint8_t>(s.ip_frag), 64, s.l4, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
    for (size_t i = 0; i < s.ip_option_bytes; ++i) {
      f.push_back(i + 1 == s.ip_option_bytes ? 0 : 1);  // NOPs, then EOL
    }
  }
  b.l4 = f.size();
  if (s.l4 == 6) {
    f.insert(f.end(), {0x30, 0x39, 0x01, 0xBB});  // ports 12345 -> 443
    f.resize(f.size() + 16);
    wr32(f, b.l4 + 4, s.seq);
    wr32(f, b.l4 + 8, 0xA0B0C0D0);
    f[b.l4 + 12] = static_cast<uint8_t>((l4_hdr / 4) << 4);
    f[b.l4 + 13] = s.tcp_flags;
    wr16(f, b.l4 + 14, 0xFFFF);
    for (size_t i = 0; i < s.tcp_option_bytes; ++i) f.push_back(1);
  } else {
    f.insert(f.end(), {0x30, 0x39, 0x11, 0x5C, 0, 0, 0, 0});
    wr16(f, b.l4 + 4, static_cast<uint16_t>(8 + s.payload));
  }
  for (size_t i = 0; i < s.payload; ++i) f.push_back(payload_byte(i, s.seed));
  if (s.checksums) {
    if (!s.ipv6) {
      const size_t ihl = (f[b.l3] & 0x0F) * 4u;
      wr16(f, b.l3 + 10, static_cast<uint16_t>(~ref_ones_sum(f.data() + b.l3, ihl)));
    }
    const size_t csum_off = b.l4 + (s.l4 == 6 ? 16 : 6);
    Bytes all = ref_pseudo_header(f, b.l3, s.ipv6, s.l4, static_cast<uint32_t>(f.size() - b.l4));
    all.insert(all.end(), f.begin() + b.l4, f.end());
    uint16_t c = static_cast<uint16_t>(~ref_ones_sum(all.data(), all.size()));
    if (c == 0 && s.l4 == 17) c = 0xFFFF;
    wr16(f, csum_off, c);
  }
  return b;
}

inline std::span<const std::byte> as_span(const Bytes& b) {
  return std::as_bytes(std::span<const uint8_t>(b));
}
inline std::span<std::byte> as_writable(Bytes& b) {
  return std::as_writable_bytes(std::span<uint8_t>(b));
}

}  // namespace vsw::test
