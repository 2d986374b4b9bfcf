// ports/vhost_user/piece_copy.h — byte copies between a list of guest buffers (BufferPiece, from
// desc_chain.h) and vsw memory: the gather of a guest tx frame's header and copied parts, the
// scatter of a frame into a guest's rx buffers. Plus the small-frame copy both fast loops use.
#pragma once

#include <cstdint>
#include <cstring>

#include "ports/shm/frame_copy.h"
#include "ports/vhost_user/desc_chain.h"

namespace vsw::ports::vhost_user {

using shm::copy_frame_bytes;  // the small-frame copy of both fast loops (ports/shm/frame_copy.h)

// A position in a list of pieces, moved forward by the copies.
struct PieceCursor {
  const BufferPiece* pieces;
  uint32_t count;
  uint32_t index = 0;   // current piece
  uint32_t offset = 0;  // bytes of it already consumed

  PieceCursor(const BufferPiece* p, uint32_t n) noexcept : pieces(p), count(n) {}
  bool at_end() const noexcept { return index == count; }
  uint32_t left_in_piece() const noexcept { return pieces[index].len - offset; }
  std::byte* here() const noexcept { return pieces[index].host + offset; }
  void advance(uint32_t n) noexcept {
    offset += n;
    if (offset == pieces[index].len) {
      ++index;
      offset = 0;
    }
  }

  // Copies the next `n` bytes out of the pieces into `dst` (the caller knows they exist).
  void gather(std::byte* dst, uint32_t n) noexcept {
    while (n != 0) {
      const uint32_t chunk = n < left_in_piece() ? n : left_in_piece();
      std::memcpy(dst, here(), chunk);
      dst += chunk;
      n -= chunk;
      advance(chunk);
    }
  }
  // Copies `n` bytes from `src` into the next bytes of the pieces (the caller knows they fit).
  void scatter(const std::byte* src, uint32_t n) noexcept {
    while (n != 0) {
      const uint32_t chunk = n < left_in_piece() ? n : left_in_piece();
      std::memcpy(here(), src, chunk);
      src += chunk;
      n -= chunk;
      advance(chunk);
    }
  }
};

}  // namespace vsw::ports::vhost_user
