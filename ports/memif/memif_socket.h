// ports/memif/memif_socket.h — one listening memif control socket, shared by every port that
// names the same path, and the process-wide registry of such sockets.
//
// A socket serves many interfaces; the id in a client's INIT selects the port (memif.md §2).
// Ports acquire() the socket for their path and add_endpoint() their id; the socket closes (and
// its file is unlinked) when the last holder releases it. Each accepted client gets a Session
// (memif_session.h) that runs the handshake against the endpoint.
//
// Limits: at most kMaxSessions clients at once per socket (beyond that new connections are closed
// at once), and each client must finish its handshake within kHandshakeTimeout. What clients may
// map is limited per client (memif_session.h) and over the process (memif_region.h). A client
// that cannot be served for lack of memory is closed; the control loop goes on.
//
// Threads: the control thread only (the io_context given to acquire()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/result.h"
#include "ports/memif/memif_endpoint.h"
#include "ports/memif/memif_message.h"

namespace vsw::ports::memif {

class MemifSocket : public std::enable_shared_from_this<MemifSocket> {
 public:
  static constexpr size_t kMaxSessions = 64;
  static constexpr std::chrono::seconds kHandshakeTimeout{5};

  // The socket listening on `path` ('@name' for an abstract socket), created on first use.
  static Result<std::shared_ptr<MemifSocket>> acquire(boost::asio::io_context& io,
                                                      const std::string& path);
  ~MemifSocket();
  MemifSocket(const MemifSocket&) = delete;
  MemifSocket& operator=(const MemifSocket&) = delete;

  const std::string& path() const noexcept { return path_; }
  boost::asio::io_context& io() noexcept { return io_; }

  // --- endpoints ---------------------------------------------------------------------------------
  // AlreadyExists when another port already serves `id` on this socket.
  Status add_endpoint(uint32_t id, Endpoint& ep);
  // Ends the endpoint's session if any (DISCONNECT "interface deleted") and forgets the id.
  void remove_endpoint(uint32_t id);
  Endpoint* find(uint32_t id) const noexcept;

  // --- dynamic ports ----------------------------------------------------------------------------
  // Unknown ids are offered to `hooks` (nullptr: refused). AlreadyExists if hooks are set.
  Status set_dynamic(const DynamicHooks* hooks);
  const DynamicHooks* dynamic() const noexcept { return dynamic_; }
  // Session: asks hooks->create for `id`; returns the endpoint it made, or nullptr.
  Endpoint* create_dynamic(uint32_t id, const std::string& if_name);
  // Session: the client of `id` has gone; a dynamic port is scheduled for removal.
  void client_gone(uint32_t id);

  // --- sessions ----------------------------------------------------------------------------------
  // HELLO for a new client: the largest limits of every endpoint (and of the dynamic hooks),
  // since HELLO is sent before the client names its id (memif.md §5).
  HelloMsg hello() const;
  void forget(const Session* s);
  size_t session_count() const noexcept { return sessions_.size(); }

 private:
  struct Entry {
    Endpoint* ep;
    std::function<void(const std::string&)> remove;  // set for dynamic ports
  };
  MemifSocket(boost::asio::io_context& io, std::string path, int fd);
  void wait_accept();
  void on_acceptable();

  boost::asio::io_context& io_;
  std::string path_;
  boost::asio::posix::stream_descriptor listener_;
  std::map<uint32_t, Entry> endpoints_;
  std::set<std::shared_ptr<Session>> sessions_;
  const DynamicHooks* dynamic_ = nullptr;
  uint32_t creating_id_ = 0;
  bool creating_ = false;
  uint64_t next_serial_ = 1;
};

// Keeps a socket listening for dynamic ports while it lives (see DynamicHooks).
class DynamicSocket {
 public:
  ~DynamicSocket();
  DynamicSocket(const DynamicSocket&) = delete;
  DynamicSocket& operator=(const DynamicSocket&) = delete;
  const std::string& path() const noexcept { return socket_->path(); }

 private:
  friend Result<std::unique_ptr<DynamicSocket>> open_dynamic_socket(boost::asio::io_context&,
                                                                    const std::string&,
                                                                    DynamicHooks);
  DynamicSocket(std::shared_ptr<MemifSocket> s, DynamicHooks h);
  std::shared_ptr<MemifSocket> socket_;
  std::unique_ptr<DynamicHooks> hooks_;
};

// Control thread. Listens on `path` (shared with static memif ports naming it) and routes
// clients with unknown ids to `hooks`. AlreadyExists when the socket already has hooks.
Result<std::unique_ptr<DynamicSocket>> open_dynamic_socket(boost::asio::io_context& io,
                                                           const std::string& path,
                                                           DynamicHooks hooks);

}  // namespace vsw::ports::memif
