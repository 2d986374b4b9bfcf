// ports/vhost_user/desc_chain.cc — the checked descriptor-chain walk (virtio 1.1 §2.6.5,
// §2.6.5.3; vhost-user.md §8) and the violation texts.
#include "ports/vhost_user/desc_chain.h"

namespace vsw::ports::vhost_user {

using virtio::kDescFlagIndirect;
using virtio::kDescFlagNext;
using virtio::kDescFlagWrite;

Violation walk_chain(const ChainRing& ring, uint16_t head, Access access, uint64_t budget,
                     BufferPiece* out, uint32_t max_pieces, ChainWalk& w) noexcept {
  w = ChainWalk{};
  const uint16_t want_write = access == Access::DeviceWrites ? kDescFlagWrite : 0;
  // The table being walked: the ring's own, or an indirect one (then `table` is set).
  const std::byte* table = nullptr;
  uint32_t entries = ring.size;
  uint32_t idx = head;
  uint32_t seen = 0;
  for (;;) {
    // Loop detection (vhost-user.md §8): a chain of more descriptors than its table holds must
    // revisit one.
    if (++seen > entries) return Violation::BadChain;
    const VringDesc d = table == nullptr
                            ? virtio::load_desc(&ring.desc[idx])
                            : virtio::load_desc_unaligned(table + uint64_t{idx} * sizeof(VringDesc));
    if ((d.flags & kDescFlagIndirect) != 0) {
      // virtio 1.1 §2.6.5.3.1: not inside a table, not with NEXT; vsw takes a table only as the
      // whole chain (its head), as Linux and DPDK drivers build them.
      if (!ring.indirect || table != nullptr || seen != 1 || (d.flags & kDescFlagNext) != 0) {
        return Violation::BadIndirect;
      }
      if (d.len == 0 || d.len % sizeof(VringDesc) != 0 || d.len / sizeof(VringDesc) > ring.size) {
        return Violation::BadIndirect;
      }
      table = ring.mem->translate(d.addr, d.len);
      if (table == nullptr) return Violation::BadDescriptor;
      entries = d.len / sizeof(VringDesc);
      idx = 0;
      seen = 0;
      continue;
    }
    if ((d.flags & kDescFlagWrite) != want_write) return Violation::BadDirection;
    if (d.len != 0) {
      std::byte* host = ring.mem->translate(d.addr, d.len);
      if (host == nullptr) return Violation::BadDescriptor;
      if (w.pieces == max_pieces) {
        w.truncated = true;
        w.too_many = true;
        return Violation::None;
      }
      out[w.pieces++] = BufferPiece{host, d.len};
      w.bytes += d.len;
      if (w.bytes >= budget && (d.flags & kDescFlagNext) != 0) {
        w.truncated = true;
        return Violation::None;
      }
    }
    if ((d.flags & kDescFlagNext) == 0) return Violation::None;
    if (d.next >= entries) return Violation::BadChain;
    idx = d.next;
  }
}

}  // namespace vsw::ports::vhost_user
