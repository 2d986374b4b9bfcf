// ports/memif/memif_session.h — one client's control connection: the server side of the memif
// handshake (memif.md §6) and its end.
//
//   accept ─► HELLO ─► [AwaitInit] ─INIT/ACK─► [Handshake] ─ADD_REGION/ADD_RING/ACK...─►
//             CONNECT ─► checks, Connection built, endpoint publishes it ─► CONNECTED ─► [Connected]
//   any state: DISCONNECT, EOF, error, timeout or a violation ─► close(): link down, unmap, close
//
// Every message is validated before anything is kept (memif.md §10); the first bad one ends the
// session with a DISCONNECT naming the reason. Descriptors attached to messages that must not
// carry one are closed. A session owns everything it collected (regions, eventfds) until CONNECT
// hands it to a Connection, so an abandoned handshake leaks nothing.
//
// Memory: a client may map at most client_mapped_limit() bytes (all its regions together), so
// that one client cannot take the whole process-wide budget (memif_region.h) from the others.
// A region beyond it is refused with a DISCONNECT naming the limit.
//
// Failures: an allocation failure (std::bad_alloc) while handling a client's message ends that
// session only, never the control thread's loop.
//
// Threads: the control thread only. Owned by its MemifSocket (shared_ptr, kept alive by pending
// handlers); close() is idempotent and safe to call from anywhere on the control thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ports/memif/memif_connection.h"
#include "ports/memif/memif_endpoint.h"
#include "ports/memif/memif_message.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::memif {

class MemifSocket;

// The least any client may map: enough for every real copy-mode client (DPDK net_memif with a
// few dozen queues, VPP/libmemif with their own buffer regions).
constexpr uint64_t kMinClientMappedBytes = uint64_t{1} << 30;

// What a copy-mode client (memif.md §7) that uses every ring `cfg` accepts, each of the largest
// size, with buffers of cfg.buffer_bytes needs: rings * (ring header and descriptors + slots *
// buffer) in each direction.
uint64_t copy_mode_bytes(const EndpointConfig& cfg) noexcept;
// The most one client of an interface with limits `cfg` may map: twice copy_mode_bytes() (room
// for page rounding and layouts with separate buffer regions), and at least
// kMinClientMappedBytes. 1 GiB for the defaults (1 ring, 1024 slots, 2 KiB buffers: 4.03 MiB);
// 8.06 GiB for the largest rings (64 rings each way, 16384 slots, 2 KiB buffers: 4.03 GiB).
uint64_t client_mapped_limit(const EndpointConfig& cfg) noexcept;

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State : uint8_t { AwaitInit, Handshake, Connected, Closed };

  Session(MemifSocket& socket, UniqueFd fd, uint64_t serial);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends HELLO, arms the handshake timer and starts reading.
  void start();
  // Ends the session: DISCONNECT(reason) to the peer when `notify_peer`, the endpoint told
  // (on_disconnected) if it was connected, descriptors closed, removed from the socket.
  void close(std::string_view reason, bool notify_peer);

  State state() const noexcept { return state_; }
  const PeerInfo& peer() const noexcept { return peer_; }
  uint64_t serial() const noexcept { return serial_; }

 private:
  void wait_readable();
  void on_readable();
  // Handles one message; false when the session was closed by it.
  bool handle(const MsgBuffer& msg, UniqueFd fd);
  bool on_init(const InitMsg& m);
  bool on_add_region(const AddRegionMsg& m, UniqueFd fd);
  bool on_add_ring(const AddRingMsg& m, UniqueFd fd);
  bool on_connect(const ConnectMsg& m);
  bool send(const MsgBuffer& msg);
  // Logs and closes with a DISCONNECT carrying `reason`; returns false for `return refuse(..)`.
  bool refuse(std::string_view reason);

  MemifSocket& socket_;
  boost::asio::posix::stream_descriptor sd_;
  boost::asio::steady_timer timer_;
  uint64_t serial_;
  State state_ = State::AwaitInit;
  uint32_t id_ = 0;
  Endpoint* endpoint_ = nullptr;  // bound after INIT (nullptr while a dynamic port is pending)
  bool dynamic_pending_ = false;
  EndpointConfig limits_;
  PeerInfo peer_;
  std::vector<Region> regions_;
  uint64_t mapped_bytes_ = 0;  // sum of regions_' sizes
  std::vector<RingSpec> c2s_, s2c_;
};

std::string_view session_state_name(Session::State s) noexcept;

}  // namespace vsw::ports::memif
