// ports/vhost_user/queue_config.h — what the control layer hands a guest virtqueue when the
// ring starts, the limits the data path enforces on the guest, and the ways a guest can break
// the rules (Violation).
//
// The session (vhost_session*) fills QueueConfig from the negotiated features and the ring
// messages (vhost-user.md §3, §5) and starts GuestTxQueue (vring 2q+1) / GuestRxQueue (vring 2q)
// with it; the queues never look at the features themselves.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "dataplane/packet.h"
#include "ports/virtio_common/vring.h"

namespace vsw {
class Mempool;
}

namespace vsw::ports::vhost_user {

using virtio::VringAvail;
using virtio::VringDesc;
using virtio::VringUsed;

// Why the data path stops using a guest's ring (vhost-user.md §8). The port stops the device,
// logs violation_text() once and counts it; the ring must not be used again until it is started
// afresh.
enum class Violation : uint8_t {
  None,
  BadAvailIndex,  // avail->idx more than the ring size ahead of the last used entry, or moved back
  BadHead,        // a head index (avail->ring[]) >= the ring size
  BadDescriptor,  // a buffer or indirect table [addr, addr + len) not inside one region
  BadChain,       // a loop: more descriptors than the ring (or table) holds, or next >= size
  BadIndirect,    // INDIRECT not negotiated, nested, not the whole chain, with NEXT, len 0,
                  // not a multiple of 16 or more entries than the ring size
  BadDirection,   // a device-writable descriptor on the guest's tx ring, or a read-only one on
                  // its rx ring (the device must write there)
};
std::string_view violation_text(Violation v) noexcept;

// Largest frame vsw takes from a guest (a TSO super-frame is at most 64 KiB - 1 including its
// headers, as Packet::len is 16 bits), not counting the virtio-net header in front of it.
constexpr uint32_t kMaxGuestFrameBytes = 65535;
// A frame is at least an Ethernet header (shorter ones are dropped, counted Invalid).
constexpr uint32_t kMinGuestFrameBytes = 14;
// The first lent segment of a received frame holds at least its first kMinHeadBytes (or the whole
// frame) so that header parsing never reads past a guest buffer (as memif's kMinHeadBytes); a
// frame that does not get its first kHeadCopyBytes copied into a mempool buffer instead. GSO
// super-frames always do: their headers are parsed (import_vnet) and must not change afterwards.
constexpr uint32_t kMinHeadBytes = 64;
constexpr uint32_t kHeadCopyBytes = 256;
// Most non-empty descriptors one frame may use (on guest rx: over all its merged buffers).
// Linux sends at most MAX_SKB_FRAGS + 2 (19); a longer chain is dropped (counted Invalid on tx,
// Mtu on rx), not a violation.
constexpr uint32_t kMaxFramePieces = 128;

// Filled by the control thread when a ring starts (SET_VRING_KICK), from the ring messages and
// the negotiated features.
struct QueueConfig {
  uint16_t size = 0;               // SET_VRING_NUM: a power of two <= 32768
  // Host pointers (SET_VRING_ADDR translated with GuestMemory::translate_user), each whole ring
  // (virtio::*_bytes(size, event_idx)) inside one region, aligned as virtio 1.1 §2.6 requires
  // (desc 16, avail 2, used 4). Checked by start() (alignment) and by the caller (bounds).
  VringDesc* desc = nullptr;
  VringAvail* avail = nullptr;
  VringUsed* used = nullptr;
  uint16_t last_avail = 0;         // SET_VRING_BASE
  uint8_t hdr_len = 12;            // 12 with VERSION_1 or MRG_RXBUF, else 10
  bool mrg_rxbuf = false;          // VIRTIO_NET_F_MRG_RXBUF
  bool event_idx = false;          // VIRTIO_RING_F_EVENT_IDX
  bool indirect = false;           // VIRTIO_RING_F_INDIRECT_DESC
  bool notify_on_empty = false;    // VIRTIO_F_NOTIFY_ON_EMPTY: signal when every entry is used
  // Guest tx ring: the offloads the guest may ask for in its virtio-net header (what vsw offered
  // and the guest accepted); a header asking for another is dropped, counted Invalid.
  bool host_csum = false;          // VIRTIO_NET_F_CSUM: NEEDS_CSUM
  bool host_tso4 = false;          // VIRTIO_NET_F_HOST_TSO4
  bool host_tso6 = false;          // VIRTIO_NET_F_HOST_TSO6
  bool host_ecn = false;           // VIRTIO_NET_F_HOST_ECN: GSO with the ECN bit
  bool host_uso = false;           // VIRTIO_NET_F_HOST_USO
  // Guest rx ring: what the guest accepts.
  bool guest_csum = false;         // VIRTIO_NET_F_GUEST_CSUM: NEEDS_CSUM / DATA_VALID
  bool guest_tso4 = false;         // VIRTIO_NET_F_GUEST_TSO4
  bool guest_tso6 = false;         // VIRTIO_NET_F_GUEST_TSO6
  bool guest_ecn = false;          // VIRTIO_NET_F_GUEST_ECN
  bool guest_uso = false;          // VIRTIO_NET_F_GUEST_USO4 and USO6
  int call_fd = -1;                // SET_VRING_CALL eventfd; -1: the guest polls (NOFD)
  // Guest tx ring: the SET_VRING_KICK eventfd (non-blocking) a sleeping worker waits on; -1
  // when the front-end sent none (NOFD: it never kicks).
  int kick_fd = -1;
  PortId port = kNoPort;           // in_port of received frames
  // Guest tx ring: buffers for the frames that cannot be lent as they are (headers copied,
  // Packet headers for chains exhausted); nullptr: such frames are dropped (NoBuffer).
  Mempool* pool = nullptr;
};

class GuestMemory;

// What both queues' start() check before using `cfg`: a valid size and header length, memory
// and all three rings present, aligned as virtio 1.1 §2.6 requires.
Status check_queue_config(const GuestMemory* mem, const QueueConfig& cfg);

}  // namespace vsw::ports::vhost_user
