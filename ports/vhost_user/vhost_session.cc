// ports/vhost_user/vhost_session.cc — request loop of one front-end connection.
#include "ports/vhost_user/vhost_session.h"

#include <boost/asio/post.hpp>

namespace vsw::ports::vhost_user {

Session::Session(boost::asio::io_context& io, UniqueFd sock, const DeviceConfig& cfg,
                 PlanPublisher& pub, EndFn on_end)
    : sock_(io, sock.release()),
      device_(std::make_unique<Device>(cfg, pub)),
      on_end_(std::move(on_end)) {}

Session::~Session() {
  boost::system::error_code ec;
  sock_.close(ec);
}

void Session::start() { wait_readable(); }

void Session::wait_readable() {
  sock_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [weak = weak_from_this()](const boost::system::error_code& ec) {
                     auto self = weak.lock();
                     if (!self || ec || !self->open_) return;
                     self->on_readable();
                   });
}

void Session::on_readable() {
  auto self = shared_from_this();  // on_end_ may drop the owner's reference
  for (int i = 0; i < kMessagesPerWakeup; ++i) {
    std::string error;
    switch (reader_.read(sock_.native_handle(), msg_, error)) {
      case ReadStatus::NeedMore:
        wait_readable();
        return;
      case ReadStatus::Closed:
        close(error, false);
        return;
      case ReadStatus::Invalid:
        close(error, true);
        return;
      case ReadStatus::Complete:
        break;
    }
    Reply reply;
    Status st = device_->handle(msg_, reply);
    msg_.fds.clear();  // whatever the request did not keep is closed now
    if (!st) {
      close(st.error().message, true);
      return;
    }
    if (reply.send) {
      Status sent = reply.is_state
                        ? send_reply(sock_.native_handle(), msg_.hdr.request, &reply.state,
                                     sizeof(reply.state))
                        : send_reply(sock_.native_handle(), msg_.hdr.request, &reply.value,
                                     sizeof(reply.value));
      if (!sent) {
        close(sent.error().message, false);
        return;
      }
    }
  }
  // Flooded: let the control thread's other work run, then continue.
  boost::asio::post(sock_.get_executor(), [weak = weak_from_this()] {
    if (auto s = weak.lock(); s && s->open_) s->on_readable();
  });
}

void Session::close(const std::string& reason, bool violation) {
  if (!open_) return;
  open_ = false;
  device_.reset();  // unpublish + grace period, unmap, close ring fds
  boost::system::error_code ec;
  sock_.close(ec);
  if (on_end_) on_end_(reason, violation);
}

}  // namespace vsw::ports::vhost_user
