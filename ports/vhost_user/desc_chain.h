// ports/vhost_user/desc_chain.h — walking one descriptor chain of a guest's virtqueue with every
// check vhost-user.md §8 asks for, into a list of host buffers (the general path of both
// directions; the fast loops of guest_tx_queue.cc / guest_rx_queue.cc handle the one-descriptor
// case themselves with the same checks).
//
// Checks (virtio 1.1 §2.6.5, §2.6.5.3):
//   * each descriptor is read once (virtio::load_desc) and only the copy is used;
//   * next < table size; at most `size` descriptors per direct chain and at most the table's
//     entries inside an indirect table (a loop can go no further) -> BadChain;
//   * an indirect descriptor only when negotiated, only as the chain's head (what Linux and DPDK
//     drivers produce), never with NEXT, never inside a table, len a non-zero multiple of 16 of
//     at most `size` entries -> BadIndirect; the table itself inside one region -> BadDescriptor;
//   * every non-empty buffer inside one region (GuestMemory::translate) -> BadDescriptor;
//     empty descriptors are skipped;
//   * the direction: only device-readable buffers on a guest tx ring, only device-writable
//     ones on a guest rx ring -> BadDirection (the WRITE flag of a descriptor pointing at an
//     indirect table is ignored, §2.6.5.3.2).
// The walk stops early (without reading the rest of the chain) once `budget` bytes were found
// or `max_pieces` non-empty buffers were collected: what the caller needs to drop a frame
// (guest tx) or has enough room for one (guest rx).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ports/vhost_user/guest_memory.h"
#include "ports/vhost_user/queue_config.h"

namespace vsw::ports::vhost_user {

struct BufferPiece {
  std::byte* host;
  uint32_t len;  // > 0
};

struct ChainRing {
  const GuestMemory* mem = nullptr;
  const VringDesc* desc = nullptr;
  uint16_t size = 0;
  bool indirect = false;  // VIRTIO_RING_F_INDIRECT_DESC negotiated
};

enum class Access : uint8_t { DeviceReads, DeviceWrites };

struct ChainWalk {
  uint32_t pieces = 0;      // entries filled in the caller's array
  uint64_t bytes = 0;       // their total length
  bool truncated = false;   // stopped early: budget reached or too many buffers (more to come)
  bool too_many = false;    // stopped because a max_pieces + 1st non-empty buffer was found
};

// Walks the chain at `head` (< ring.size, checked by the caller) into out[0..max_pieces).
// Returns Violation::None or what the chain broke; `w` says what was collected.
Violation walk_chain(const ChainRing& ring, uint16_t head, Access access, uint64_t budget,
                     BufferPiece* out, uint32_t max_pieces, ChainWalk& w) noexcept;

}  // namespace vsw::ports::vhost_user
