// fuzz/virtio_net_hdr_fuzz.cc — what a kernel or a guest puts in front of a frame, a virtio-net
// header (virtio 1.0 §5.1.6), through its import into Packet metadata (ports/vnet/) and the
// software offloads (dataplane/offload/), on the frame as one span and as a chain of buffers.
//
// Input: the 10-byte VirtioNetHdr (legacy layout, host byte order as over AF_PACKET/tun), two
// bytes choosing the egress segment limit, one byte choosing the chain's segment size, then the
// frame from its Ethernet header on.
//
// Checked:
//   * parse_frame: offsets in order and inside the frame (l3 < l4, l4 + l4 header <= ip_end <=
//     frame size), TCP header 20..60 bytes in steps of 4, UDP header 8 bytes;
//   * sum_bytes against an independent RFC 1071 reference, split at every even offset;
//   * complete_partial_checksum (NEEDS_CSUM): refuses exactly the fields outside the frame,
//     changes only the two checksum bytes, and the stored value verifies (RFC 1071 §1) against
//     the seed the field held;
//   * plan_gso + every build_segment (gso_type != NONE): each segment at most the limit and at
//     most gso_size payload bytes (UDP: exactly gso_size but the last), the payloads concatenate
//     to the super-frame's payload, each segment parses again with the same layout and ends
//     where its IP length says, IPv4 header and TCP/UDP checksums verify, sequence numbers and
//     IPv4 ids advance, FIN/PSH only on the last and CWR only on the first segment, and a buffer
//     one byte short is refused untouched;
//   * import_vnet: refuses exactly the gso types vsw cannot segment, accepts only headers whose
//     checksum field lies inside the frame and whose headers match the gso type (the metadata it
//     sets then plans with plan_gso, with the same header length), leaves refused frames without
//     offload metadata, and survives export_vnet + import_vnet unchanged;
//   * chains: parse_frame, plan_gso, build_segment and complete_partial_checksum on the frame
//     split into mempool buffers give the same results and bytes as on the contiguous frame.
#include <algorithm>
#include <cstring>
#include <vector>

#include <memory>

#include "dataplane/mempool.h"
#include "dataplane/offload/bytes.h"
#include "dataplane/offload/checksum.h"
#include "dataplane/offload/frame_layout.h"
#include "dataplane/offload/gso.h"
#include "fuzz/fuzz_support.h"
#include "ports/vnet/virtio_net_hdr.h"
#include "ports/vnet/vnet_metadata.h"

namespace {

using namespace vsw;
using namespace vsw::offload;
using namespace vsw::ports::vnet;
using vsw::fuzz::ByteReader;
using Bytes = std::vector<std::byte>;

// RFC 1071 §4.1, written the plain way (16-bit words, odd byte padded with a zero on the right).
uint32_t ref_sum(const std::byte* p, size_t n, uint32_t sum = 0) {
  for (; n >= 2; p += 2, n -= 2) {
    sum += (std::to_integer<uint32_t>(p[0]) << 8) | std::to_integer<uint32_t>(p[1]);
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  if (n == 1) sum += std::to_integer<uint32_t>(p[0]) << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum;
}
uint16_t ref_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint32_t segment_limit(uint16_t sel) {
  // Egress limits the ports use: MTU 1500 (+VLAN tags), a 2 KiB mempool buffer's data room, jumbo;
  // or any value, to reach the edges.
  static constexpr uint32_t kCommon[] = {1514, 1518, 1522, 1920, 9018, 65535};
  if (sel & 0x8000) return 1 + (sel & 0x7FFF) % 65535;
  return kCommon[sel % std::size(kCommon)];
}

void check_layout(std::span<const std::byte> f, const FrameLayout& l) {
  FUZZ_CHECK(l.l3_off >= 14 && l.l3_off < l.l4_off, "l3 {} l4 {}", l.l3_off, l.l4_off);
  FUZZ_CHECK(l.l4_off + l.l4_hdr_len <= l.ip_end && l.ip_end <= f.size(),
             "l4 {}+{} ip_end {} frame {}", l.l4_off, l.l4_hdr_len, l.ip_end, f.size());
  if (l.l4_proto == kIpProtoTcp) {
    FUZZ_CHECK(l.l4_hdr_len >= 20 && l.l4_hdr_len <= 60 && l.l4_hdr_len % 4 == 0,
               "tcp header {}", l.l4_hdr_len);
  } else {
    FUZZ_CHECK(l.l4_proto == kIpProtoUdp && l.l4_hdr_len == 8, "proto {} header {}", l.l4_proto,
               l.l4_hdr_len);
  }
  FUZZ_CHECK(l.ipv6 ? l.l4_off - l.l3_off >= 40 : l.l4_off - l.l3_off >= 20, "ip header");
}

void check_sum_bytes(std::span<const std::byte> f) {
  const size_t n = std::min<size_t>(f.size(), 4096);
  FUZZ_CHECK(fold(sum_bytes(f.first(n))) == ref_sum(f.data(), n), "sum_bytes over {} bytes", n);
  const size_t cut = (f.size() / 2) & ~size_t{1};  // partial sums of spans at even offsets add up
  const uint32_t split = sum_bytes(f.subspan(cut), sum_bytes(f.first(cut)));
  FUZZ_CHECK(fold(split) == ref_sum(f.data(), f.size()), "split sum at {}", cut);
}

void check_partial_checksum(std::span<const std::byte> f, const VirtioNetHdr& h) {
  Bytes copy(f.begin(), f.end());
  const bool ok = complete_partial_checksum(copy, h.csum_start, h.csum_offset);
  const uint64_t field = uint64_t{h.csum_start} + h.csum_offset;
  FUZZ_CHECK(ok == (field + 2 <= f.size()), "csum field at {} in {} bytes: ok={}", field,
             f.size(), ok);
  if (!ok) {
    FUZZ_CHECK(std::equal(copy.begin(), copy.end(), f.begin()), "refused but changed the frame");
    return;
  }
  for (size_t i = 0; i < copy.size(); ++i) {
    FUZZ_CHECK(i == field || i == field + 1 || copy[i] == f[i], "byte {} changed", i);
  }
  if (h.csum_offset % 2 == 0) {  // TCP (16) and UDP (6): the field is a word of the region
    const uint32_t seed = load_be16(f.data() + field);
    const uint32_t after = ref_sum(copy.data() + h.csum_start, copy.size() - h.csum_start);
    FUZZ_CHECK(ref_fold(uint64_t{after} + seed) == 0xFFFF, "checksum does not verify");
    FUZZ_CHECK(load_be16(copy.data() + field) != 0, "zero stored (RFC 768 wants 0xFFFF)");
  }
}

uint32_t pseudo_sum(const std::byte* seg, const FrameLayout& l, uint32_t l4_len) {
  const std::byte* ip = seg + l.l3_off;
  uint32_t s = l.ipv6 ? ref_sum(ip + 8, 32) : ref_sum(ip + 12, 8);
  return s + l.l4_proto + (l4_len >> 16) + (l4_len & 0xFFFF);
}

// vsw's GsoType for a virtio gso_type; false for the ones vsw cannot segment (UFO, unknown).
bool gso_type_of(uint8_t raw, GsoType& t) {
  switch (raw & static_cast<uint8_t>(~kVnetGsoEcn)) {
    case kVnetGsoNone: t = GsoType::None; return true;
    case kVnetGsoTcpv4: t = GsoType::Tcpv4; return true;
    case kVnetGsoTcpv6: t = GsoType::Tcpv6; return true;
    case kVnetGsoUdpL4: t = GsoType::UdpL4; return true;
    default: return false;
  }
}

void check_gso(std::span<const std::byte> f, const VirtioNetHdr& h, GsoType type, uint32_t limit) {
  GsoPlan plan;
  const GsoStatus st = plan_gso(f, type, h.gso_size, limit, plan);
  if (st != GsoStatus::Ok) return;
  const FrameLayout& l = plan.layout;
  check_layout(f, l);
  FUZZ_CHECK(plan.hdr_len == l.l4_off + l.l4_hdr_len && plan.payload_len == l.ip_end - plan.hdr_len,
             "plan lengths");
  FUZZ_CHECK(plan.seg_payload > 0 && plan.seg_payload <= h.gso_size, "segment payload {}",
             plan.seg_payload);
  const uint32_t expect_segs =
      plan.payload_len == 0 ? 1 : (plan.payload_len + plan.seg_payload - 1) / plan.seg_payload;
  FUZZ_CHECK(plan.segments == expect_segs, "{} segments for {} bytes", plan.segments,
             plan.payload_len);
  const bool tcp = l.l4_proto == kIpProtoTcp;
  const std::byte* orig_l4 = f.data() + l.l4_off;

  Bytes payload;
  Bytes seg(limit + 1);
  for (uint32_t i = 0; i < plan.segments; ++i) {
    const uint32_t len = segment_len(plan, i);
    FUZZ_CHECK(len <= limit, "segment {} is {} bytes, limit {}", i, len, limit);
    FUZZ_CHECK(len > plan.hdr_len || plan.payload_len == 0, "empty segment {}", i);
    // One byte short: refused, nothing written.
    std::fill_n(seg.begin(), len, std::byte{0xA5});
    FUZZ_CHECK(build_segment(plan, f, i, {seg.data(), len - 1}) == 0, "short buffer accepted");
    FUZZ_CHECK(std::all_of(seg.begin(), seg.begin() + len,
                           [](std::byte b) { return b == std::byte{0xA5}; }),
               "short buffer written");
    FUZZ_CHECK(build_segment(plan, f, i, {seg.data(), len}) == len, "segment {} not built", i);
    const std::span<const std::byte> s(seg.data(), len);
    const uint32_t pay = len - plan.hdr_len;
    if (!tcp && i + 1 < plan.segments) {
      FUZZ_CHECK(pay == h.gso_size, "UDP datagram {} carries {} not {}", i, pay, h.gso_size);
    }
    payload.insert(payload.end(), s.begin() + plan.hdr_len, s.end());

    FrameLayout sl;
    FUZZ_CHECK(parse_frame(s, sl) == ParseStatus::Ok, "segment {} does not parse", i);
    FUZZ_CHECK(sl.l3_off == l.l3_off && sl.l4_off == l.l4_off && sl.l4_hdr_len == l.l4_hdr_len &&
                   sl.l4_proto == l.l4_proto && sl.ipv6 == l.ipv6 && sl.ip_end == len,
               "segment {} layout differs (ip_end {} len {})", i, sl.ip_end, len);
    if (!l.ipv6) {
      FUZZ_CHECK(ref_sum(s.data() + l.l3_off, l.l4_off - l.l3_off) == 0xFFFF,
                 "IPv4 header checksum of segment {}", i);
      const uint16_t id0 = load_be16(f.data() + l.l3_off + 4);
      FUZZ_CHECK(load_be16(s.data() + l.l3_off + 4) == static_cast<uint16_t>(id0 + i), "IPv4 id");
    }
    const uint32_t l4_len = len - l.l4_off;
    const uint32_t sum = ref_sum(s.data() + l.l4_off, l4_len, pseudo_sum(s.data(), l, l4_len));
    FUZZ_CHECK(ref_fold(sum) == 0xFFFF, "L4 checksum of segment {}", i);
    const std::byte* l4 = s.data() + l.l4_off;
    if (tcp) {
      const uint32_t seq = load_be32(orig_l4 + 4) + i * plan.seg_payload;
      FUZZ_CHECK(load_be32(l4 + 4) == seq, "sequence number of segment {}", i);
      const uint8_t of = std::to_integer<uint8_t>(orig_l4[13]);
      uint8_t want = of;
      if (i + 1 < plan.segments) want &= static_cast<uint8_t>(~0x09);  // FIN, PSH: last only
      if (i != 0) want &= static_cast<uint8_t>(~0x80);                 // CWR: first only
      FUZZ_CHECK(std::to_integer<uint8_t>(l4[13]) == want, "TCP flags of segment {}", i);
    } else {
      FUZZ_CHECK(load_be16(l4 + 4) == l4_len, "UDP length of segment {}", i);
      FUZZ_CHECK(load_be16(l4 + 6) != 0, "UDP checksum 0 on the wire");
    }
  }
  FUZZ_CHECK(build_segment(plan, f, plan.segments, seg) == 0, "segment past the end built");
  FUZZ_CHECK(payload.size() == plan.payload_len &&
                 std::equal(payload.begin(), payload.end(), f.begin() + plan.hdr_len),
             "segment payloads ({} bytes) differ from the super-frame's ({})", payload.size(),
             plan.payload_len);
}

Mempool& pool() {
  static std::unique_ptr<Mempool> p = [] {
    Mempool::Config cfg;
    cfg.buffers = 1024;
    cfg.hugepages = false;
    auto r = Mempool::create("vnet-fuzz", cfg);
    FUZZ_CHECK(r.has_value(), "mempool: {}", r ? "" : r.error().message);
    return std::move(r.value());
  }();
  return *p;
}

// The frame in a chain of mempool buffers of `seg` bytes each (the last one shorter).
Packet* make_chain(std::span<const std::byte> f, uint32_t seg) {
  Packet* first = nullptr;
  Packet* prev = nullptr;
  for (uint32_t off = 0; off < f.size() || first == nullptr; off += seg) {
    Packet* p = nullptr;
    FUZZ_CHECK(pool().alloc(&p, 1) == 1, "mempool exhausted");
    p->len = static_cast<uint16_t>(std::min<size_t>(seg, f.size() - off));
    if (p->len != 0) std::memcpy(p->data(), f.data() + off, p->len);
    (prev == nullptr ? first : prev->next) = p;
    prev = p;
  }
  first->frame_len = static_cast<uint32_t>(f.size());
  return first;
}

Bytes gather(const Packet* p) {
  Bytes out;
  for (; p != nullptr; p = p->next) out.insert(out.end(), p->data(), p->data() + p->len);
  return out;
}

void check_chain(std::span<const std::byte> f, const VirtioNetHdr& h, uint32_t limit,
                 uint32_t seg) {
  Packet* p = make_chain(f, seg);
  const std::span<const std::byte> head(p->data(), p->len);

  FrameLayout whole, chained;
  const ParseStatus ws = parse_frame(f, whole);
  const ParseStatus cs = parse_frame(head, p->frame_len, chained);
  if (cs == ParseStatus::Ok) {
    FUZZ_CHECK(ws == ParseStatus::Ok && whole.l3_off == chained.l3_off &&
                   whole.l4_off == chained.l4_off && whole.l4_hdr_len == chained.l4_hdr_len &&
                   whole.ip_end == chained.ip_end && whole.l4_proto == chained.l4_proto,
               "chained parse differs from the contiguous one");
  }
  if (ws == ParseStatus::Ok && whole.l4_off + whole.l4_hdr_len <= p->len) {
    FUZZ_CHECK(cs == ParseStatus::Ok, "headers in the first segment but the chain does not parse");
  }

  // import_vnet and its round trip through export_vnet.
  GsoType type = GsoType::None;
  const bool known = gso_type_of(h.gso_type, type);
  const ImportStatus is = import_vnet(h, *p);
  if (!known) FUZZ_CHECK(is == ImportStatus::Unsupported, "gso_type {:#x} imported", h.gso_type);
  if (is != ImportStatus::Ok) {
    FUZZ_CHECK(!p->has_offload() && p->hdr_len == 0, "refused header left metadata behind");
  } else {
    const bool csum = (h.flags & kVnetFlagNeedsCsum) != 0;
    FUZZ_CHECK(p->needs_csum() == csum && p->gso_type == type, "imported metadata differs");
    if (csum) {
      FUZZ_CHECK(p->csum_start == h.csum_start && p->csum_offset == h.csum_offset &&
                     uint64_t{h.csum_start} + h.csum_offset + 2 <= f.size(),
                 "checksum field {}+{} accepted in {} bytes", h.csum_start, h.csum_offset,
                 f.size());
    }
    if (type != GsoType::None) {
      GsoPlan plan;
      FUZZ_CHECK(h.gso_size != 0 && p->gso_size == h.gso_size, "gso_size {}", p->gso_size);
      FUZZ_CHECK(plan_gso(head, p->frame_len, type, p->gso_size, UINT32_MAX, plan) ==
                         GsoStatus::Ok && plan.hdr_len == p->hdr_len,
                 "imported super-frame does not plan (hdr_len {})", p->hdr_len);
    }
    const VirtioNetHdr back = export_vnet(*p);
    Packet copy{};  // a second header over the same bytes
    copy.base = p->base;
    copy.data_off = p->data_off;
    copy.len = p->len;
    copy.frame_len = p->frame_len;
    copy.next = p->next;
    FUZZ_CHECK(import_vnet(back, copy) == ImportStatus::Ok, "exported header refused");
    // DATA_VALID is not exported next to NEEDS_CSUM, nor the ECN bit without a GSO type
    // (import_vnet keeps ECN from a GSO_NONE|ECN header; it has no effect on such a frame).
    uint8_t keep = kPacketOffloadFlags;
    if (csum) keep = static_cast<uint8_t>(keep & ~kPacketCsumValid);
    if (!p->is_gso()) keep = static_cast<uint8_t>(keep & ~kPacketGsoEcn);
    FUZZ_CHECK((copy.flags & keep) == (p->flags & keep) && copy.gso_type == p->gso_type &&
                   copy.gso_size == p->gso_size && copy.csum_start == p->csum_start &&
                   copy.csum_offset == p->csum_offset && copy.hdr_len == p->hdr_len,
               "metadata changed through export_vnet + import_vnet");
  }

  // Partial checksum on the chain and on the contiguous frame.
  if (h.flags & kVnetFlagNeedsCsum) {
    Bytes flat(f.begin(), f.end());
    const bool a = complete_partial_checksum(flat, h.csum_start, h.csum_offset);
    const bool b = complete_partial_checksum(*p, h.csum_start, h.csum_offset);
    FUZZ_CHECK(a == b && gather(p) == flat, "chained checksum differs (ok {} vs {})", a, b);
  }

  // Segments built from the chain equal those built from the contiguous frame.
  if (known && type != GsoType::None && cs == ParseStatus::Ok) {
    Bytes flat = gather(p);  // the checksum step above may have completed a checksum
    GsoPlan pw, pc;
    const GsoStatus a = plan_gso(flat, type, h.gso_size, limit, pw);
    const GsoStatus b = plan_gso({p->data(), p->len}, p->frame_len, type, h.gso_size, limit, pc);
    FUZZ_CHECK(a == b, "chained plan {} vs contiguous {}", static_cast<int>(b), static_cast<int>(a));
    if (a == GsoStatus::Ok) {
      FUZZ_CHECK(pw.segments == pc.segments && pw.hdr_len == pc.hdr_len, "plans differ");
      ChainReader reader(*p);
      FUZZ_CHECK(reader.skip(pc.hdr_len), "chain shorter than its headers");
      Bytes x(limit), y(limit);
      for (uint32_t i = 0; i < pc.segments; ++i) {
        const uint32_t lx = build_segment(pw, flat, i, x);
        const uint32_t ly = build_segment(pc, {p->data(), p->len}, reader, i, y);
        FUZZ_CHECK(lx == ly && lx != 0 && std::equal(x.begin(), x.begin() + lx, y.begin()),
                   "segment {} from the chain differs", i);
      }
    }
  }
  release_packet(p);
  FUZZ_CHECK(pool().available() == pool().capacity(), "chain not returned to the mempool");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  VirtioNetHdr h;
  in.fill({reinterpret_cast<std::byte*>(&h), sizeof h});
  const uint32_t limit = segment_limit(in.u16());
  const uint32_t seg = std::min<uint32_t>(64 + in.u8() * 8u, pool().data_room());
  const auto rest = in.rest();
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(rest.data()),
                                         rest.size());
  if (frame.size() > 65535 + 64) return 0;  // longer than any frame_len a port accepts

  FrameLayout layout;
  if (parse_frame(frame, layout) == ParseStatus::Ok) check_layout(frame, layout);
  check_sum_bytes(frame);
  if (h.flags & kVnetFlagNeedsCsum) check_partial_checksum(frame, h);
  GsoType type = GsoType::None;
  if (gso_type_of(h.gso_type, type) && type != GsoType::None) check_gso(frame, h, type, limit);
  check_chain(frame, h, limit, seg);
  return 0;
}
