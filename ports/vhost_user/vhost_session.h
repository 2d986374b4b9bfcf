// ports/vhost_user/vhost_session.h — one connected front-end: reads its requests from the
// socket (MessageReader), hands them to the Device, writes the replies.
//
// Limits: at most kMessagesPerWakeup requests are handled per readiness event before the session
// yields to the control thread's other work, so a front-end flooding requests slows only itself;
// a reply the front-end does not read (full socket buffer) ends the session. Any protocol
// violation, the front-end closing, or close() ends it: the Device is destroyed (its plan
// unpublished after the workers' grace period, its memory unmapped, every fd closed) and the
// owner's on_end callback runs once with the reason.
//
// Threads: the control thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "ports/shm/unique_fd.h"
#include "ports/vhost_user/vhost_channel.h"
#include "ports/vhost_user/vhost_device.h"

namespace vsw::ports::vhost_user {

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr int kMessagesPerWakeup = 64;
  // `violation`: the session ended because the front-end broke a rule (counted by the port).
  using EndFn = std::function<void(const std::string& reason, bool violation)>;

  Session(boost::asio::io_context& io, UniqueFd sock, const DeviceConfig& cfg,
          PlanPublisher& pub, EndFn on_end);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  // Ends the session (no-op when already ended); on_end runs with `reason`.
  void close(const std::string& reason, bool violation);
  bool open() const noexcept { return open_; }
  const Device& device() const noexcept { return *device_; }

 private:
  void wait_readable();
  void on_readable();

  boost::asio::posix::stream_descriptor sock_;
  std::unique_ptr<Device> device_;
  MessageReader reader_;
  Message msg_;
  EndFn on_end_;
  bool open_ = true;
};

}  // namespace vsw::ports::vhost_user
