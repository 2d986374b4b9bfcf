// ports/memif/memif_endpoint.h — the contract between a control session and the port that owns
// an interface id on a socket, plus the hooks for ports created on demand ("dynamic ports").
//
//   MemifSocket (one per socket path) ── id ──► Endpoint (a MemifPort)
//        │ accept()                                 ▲  on_connected(Connection) / on_disconnected()
//        └─► Session (one per client) ──────────────┘
//
// All of it runs on the control thread (PortEnv::io); nothing here is touched by workers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ports/memif/memif_protocol.h"

namespace vsw::ports::memif {

class Connection;
class Session;

// What a client may negotiate with an interface (checked during the handshake).
struct EndpointConfig {
  std::string name;                           // sent back in CONNECTED (the port's name)
  std::string secret;                         // empty: no secret required
  uint16_t rings = 1;                         // most rings accepted per direction
  uint8_t max_log2_ring_size = kDefaultLog2RingSize;
  uint32_t buffer_bytes = kDefaultBufferBytes;  // largest segment read, most bytes written per slot
};

// Who is on the other side, for logs and "port show".
struct PeerInfo {
  std::string app_name;  // INIT.name
  std::string if_name;   // CONNECT.if_name
  pid_t pid = 0;         // SO_PEERCRED at accept
  uid_t uid = 0;
};

class Endpoint {
 public:
  virtual const EndpointConfig& endpoint_config() const noexcept = 0;
  // The session bound to this interface (from an accepted INIT until it ends), or nullptr.
  // A second client for the same id is refused while one is bound.
  virtual Session* session() const noexcept = 0;
  virtual void set_session(Session* s) noexcept = 0;
  // CONNECT accepted: take `conn`, bind it to the port and publish it to the workers.
  virtual void on_connected(std::unique_ptr<Connection> conn, const PeerInfo& peer) = 0;
  // The bound, connected session ended: unpublish, wait for a grace period, free. `reason`
  // says why (peer closed, DISCONNECT text, protocol violation), for logs and "port show".
  virtual void on_disconnected(std::string_view reason) = 0;

 protected:
  ~Endpoint() = default;
};

// Hooks for VALE-like dynamic ports (set by the control plane through open_dynamic_socket()).
struct DynamicHooks {
  // Asked on the control thread when a client CONNECTs with an id no port has. To accept,
  // create a memif port synchronously with options {socket: `socket`, id: `id`} (usually named
  // `if_name`, the client's interface name) and return true; false refuses the client.
  std::function<bool(const std::string& socket, uint32_t id, const std::string& if_name)> create;
  // Posted to the control thread (never called from inside a port's own callbacks) once the
  // client of a port made by `create` has gone: delete that port.
  std::function<void(const std::string& port_name)> remove;
  // Advertised in HELLO and enforced until the port exists (a client's rings must fit them).
  EndpointConfig limits;
};

}  // namespace vsw::ports::memif
