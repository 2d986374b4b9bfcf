// ports/memif/client/memif_client.h — a small memif client (the "slave" role) for applications,
// tools (vsw-pktgen) and tests. Static library `vsw_memif_client`; needs no daemon code.
//
//   auto c = vsw::memif::Client::connect({.socket = "/run/vsw/memif.sock", .id = 1});
//   vsw::memif::Buffer b[32];
//   uint16_t n = (*c)->tx_alloc(0, b);            // empty buffers in shared memory
//   ... write frames into b[i].data, set b[i].len ...
//   (*c)->tx_commit(0, {b, n});                    // publish them to vsw
//   n = (*c)->rx_burst(0, b);                      // frames vsw wrote, read in place
//   ... use b[i].data / b[i].len ...
//   (*c)->rx_release(0, n);                        // hand the buffers back for refill
//
// Memory: the client owns all shared memory (memif.md §1). One memfd region (sealed against
// shrinking) holds every ring and every buffer in the copy-mode layout of memif.md §7; each ring
// slot owns one fixed buffer of buffer_size bytes, so buffers are addressed without allocation.
//
// Directions in the client's own view: tx = client -> vsw (C2S rings), rx = vsw -> client (S2C).
// A frame larger than one buffer spans several consecutive buffers; all but the last have
// `more` set (memif.md §7 kDescFlagNext).
//
// Modes: polling (default: the client masks interrupts on its rx rings and vsw never signals) or
// interrupt (rx rings unmasked; wait_rx() sleeps on the ring's eventfd until vsw signals).
//
// Threads: queue q's rx_* and tx_* calls from one thread at a time (different queues may run on
// different threads); connect, poll_control and destruction from one control thread. Nothing on
// the data path allocates, locks or makes a system call (wait_rx and interrupt signalling aside).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "ports/memif/memif_protocol.h"
#include "ports/shm/unique_fd.h"

namespace vsw::memif {

using ports::memif::Desc;
using ports::memif::RingHeader;
using ports::UniqueFd;

struct ClientConfig {
  std::string socket = "/run/vsw/memif.sock";  // '@name' for an abstract socket
  uint32_t id = 0;                             // interface id on that socket
  std::string secret;                          // sent in INIT when not empty
  std::string app_name = "vsw-memif-client";   // INIT.name
  std::string if_name = "memif0";              // CONNECT.if_name (names dynamic ports)
  uint16_t queue_pairs = 1;                    // wished; HELLO may lower it
  uint8_t log2_ring_size = 10;                 // wished; HELLO may lower it
  uint32_t buffer_size = 2048;                 // bytes per buffer
  bool interrupt_mode = false;                 // rx: vsw signals the eventfd (see wait_rx)
  std::chrono::milliseconds timeout{5000};     // for the whole handshake
};

// One shared-memory buffer, used in place.
struct Buffer {
  std::byte* data = nullptr;
  uint32_t len = 0;       // rx: bytes received; tx: bytes to send (set by the caller)
  uint32_t capacity = 0;  // bytes available at `data`
  bool more = false;      // the frame continues in the next buffer
};

class Client {
 public:
  // Connects and runs the whole handshake (blocking, bounded by cfg.timeout). Unavailable when
  // nobody listens; Io/InvalidArgument with vsw's DISCONNECT reason when refused.
  static Result<std::unique_ptr<Client>> connect(const ClientConfig& cfg);
  // Sends DISCONNECT, closes the socket, unmaps the memory.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  uint16_t queue_pairs() const noexcept { return static_cast<uint16_t>(tx_.size()); }
  uint16_t ring_size() const noexcept { return ring_size_; }
  uint32_t buffer_size() const noexcept { return cfg_.buffer_size; }
  const std::string& server_name() const noexcept { return server_name_; }
  const std::string& peer_if_name() const noexcept { return peer_if_name_; }

  // --- tx: client -> vsw -------------------------------------------------------------------------
  // Reserves up to out.size() empty buffers of ring q (capacity set, len 0, more false); returns
  // how many. Reserving again without committing returns the same buffers.
  uint16_t tx_alloc(uint16_t q, std::span<Buffer> out) noexcept;
  // Publishes the first bufs.size() reserved buffers, in order, with their len and more flags.
  // A frame whose last buffer has `more` set must not be committed half (vsw rejects it).
  void tx_commit(uint16_t q, std::span<const Buffer> bufs) noexcept;
  // Copies `frames` into free buffers (chaining large ones) and publishes them; returns how
  // many frames were sent (the rest did not fit the free slots).
  uint16_t tx_copy(uint16_t q, std::span<const std::span<const std::byte>> frames) noexcept;
  // Slots vsw has not yet handed back (in flight towards vsw).
  uint16_t tx_in_flight(uint16_t q) const noexcept;

  // --- rx: vsw -> client -------------------------------------------------------------------------
  // Up to out.size() filled buffers, oldest first, read in place; they stay valid until
  // rx_release(). Calling again without releasing returns buffers after those already returned.
  uint16_t rx_burst(uint16_t q, std::span<Buffer> out) noexcept;
  // Hands the oldest n received buffers back to vsw (refilling the ring).
  void rx_release(uint16_t q, uint16_t n) noexcept;
  // Interrupt mode: waits until vsw signals ring q or `timeout` passes; true when signalled
  // (the eventfd is cleared). In polling mode returns at once whether frames are waiting.
  bool wait_rx(uint16_t q, std::chrono::milliseconds timeout) noexcept;
  int rx_eventfd(uint16_t q) const noexcept;

  // --- control -----------------------------------------------------------------------------------
  // Reads pending control messages without blocking; false once vsw disconnected us (or the
  // socket closed). The data path stays mapped until destruction, but vsw no longer serves it.
  bool poll_control();
  bool connected() const noexcept { return connected_; }
  const std::string& disconnect_reason() const noexcept { return disconnect_reason_; }

  // --- raw access (tests that play a hostile client) --------------------------------------------
  struct Raw {
    int control_fd;
    std::byte* region;
    uint64_t region_size;
    RingHeader* c2s;  // ring 0 of each direction
    RingHeader* s2c;
  };
  Raw raw() const noexcept;

 private:
  struct Ring {
    RingHeader* hdr = nullptr;
    Desc* desc = nullptr;
    uint32_t first_buffer = 0;  // index of slot 0's buffer in the buffer area
    uint16_t pos = 0;           // tx: head (next slot to fill); rx: next slot to read
    uint16_t seen = 0;          // rx: slots returned by rx_burst but not yet released
    UniqueFd eventfd;
  };
  explicit Client(const ClientConfig& cfg);
  Status handshake();
  Status setup_memory(uint16_t pairs, uint8_t log2);
  std::byte* buffer(const Ring& r, uint16_t slot) const noexcept;
  uint64_t buffer_offset(const Ring& r, uint16_t slot) const noexcept;
  void refill(Ring& r) noexcept;

  ClientConfig cfg_;
  UniqueFd sock_;
  UniqueFd memfd_;
  std::byte* region_ = nullptr;
  uint64_t region_size_ = 0;
  uint64_t buffers_offset_ = 0;
  uint16_t ring_size_ = 0;
  uint16_t mask_ = 0;
  std::vector<Ring> tx_;  // C2S
  std::vector<Ring> rx_;  // S2C
  bool connected_ = false;
  std::string server_name_;
  std::string peer_if_name_;
  std::string disconnect_reason_;
};

}  // namespace vsw::memif
