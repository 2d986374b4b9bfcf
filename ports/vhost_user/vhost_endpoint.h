// ports/vhost_user/vhost_endpoint.h — the socket side of a vhost-user port: who connects to
// whom, and what happens when the connection ends (vhost-user.md §9).
//
//   client mode (default; OVS's dpdkvhostuserclient): QEMU listens
//     (`-chardev socket,path=P,server=on,wait=off`); vsw connects and, while the port exists,
//     retries every kRetryInterval when P is absent, refuses, or the connection ends. So the
//     port outlives VM reboots, and the VM outlives a vswitchd restart: QEMU keeps listening and
//     replays the whole set-up when vsw reconnects.
//   server mode: vsw listens on P (QEMU `-chardev socket,path=P[,reconnect-ms=1000]`). A stale
//     socket file is removed first; anything else at P (a regular file, a live socket) is left
//     alone and the port is not created. The socket file gets the configured mode and owner so
//     that a QEMU run by libvirt (user libvirt-qemu) can connect. One front-end at a time: a
//     second connection is closed at once.
//
// Threads: the control thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.h"
#include "ports/vhost_user/vhost_device.h"
#include "ports/vhost_user/vhost_session.h"

namespace vsw::ports::vhost_user {

enum class SocketMode : uint8_t { Client, Server };

struct EndpointOptions {
  std::string path;
  SocketMode mode = SocketMode::Client;
  mode_t perm = 0660;                // server mode: the socket file's permission bits
  std::optional<uid_t> owner;        // server mode: chown to this user ...
  std::optional<gid_t> group;        // ... and group
};

class Endpoint {
 public:
  static constexpr std::chrono::seconds kRetryInterval{1};

  // Control thread. Server mode binds now (AlreadyExists / Io when it cannot); client mode
  // starts connecting at once.
  static Result<std::unique_ptr<Endpoint>> create(boost::asio::io_context& io,
                                                  const EndpointOptions& opts,
                                                  const DeviceConfig& dev, PlanPublisher& pub);
  ~Endpoint();  // ends the session, stops listening, removes a server socket file
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Called about every 100 ms: a data-path violation ends the session (the device stops).
  void housekeeping();

  // --- port details ------------------------------------------------------------------------------
  // "connecting" (client, nobody listening yet), "listening" (server, no front-end),
  // "negotiating" (connected, rings not running), "running".
  std::string state() const;
  const Device* device() const noexcept {
    return session_ && session_->open() ? &session_->device() : nullptr;
  }
  uint64_t connects() const noexcept { return connects_; }
  uint64_t disconnects() const noexcept { return disconnects_; }
  uint64_t violations() const noexcept { return violations_; }
  const std::string& last_error() const noexcept { return last_error_; }
  const EndpointOptions& options() const noexcept { return opts_; }

 private:
  Endpoint(boost::asio::io_context& io, const EndpointOptions& opts, const DeviceConfig& dev,
           PlanPublisher& pub);
  void try_connect();
  void schedule_connect();
  void wait_accept();
  void on_acceptable();
  void start_session(UniqueFd fd);
  void on_session_end(const std::string& reason, bool violation);

  boost::asio::io_context& io_;
  EndpointOptions opts_;
  DeviceConfig dev_;
  PlanPublisher& pub_;
  boost::asio::steady_timer retry_;
  std::optional<boost::asio::posix::stream_descriptor> listener_;
  std::shared_ptr<Session> session_;
  uint64_t connects_ = 0;
  uint64_t disconnects_ = 0;
  uint64_t violations_ = 0;
  std::string last_error_;
  bool connect_failure_logged_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted callbacks
};

}  // namespace vsw::ports::vhost_user
