// ports/memif/memif_session.cc — the server side of the memif handshake (memif.md §6, §10).
#include "ports/memif/memif_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <new>

#include "common/log.h"
#include "ports/memif/memif_channel.h"
#include "ports/memif/memif_socket.h"

namespace vsw::ports::memif {

uint64_t copy_mode_bytes(const EndpointConfig& cfg) noexcept {
  const uint64_t slots = uint64_t{1} << cfg.max_log2_ring_size;
  return 2 * uint64_t{cfg.rings} * (ring_bytes(cfg.max_log2_ring_size) + slots * cfg.buffer_bytes);
}

uint64_t client_mapped_limit(const EndpointConfig& cfg) noexcept {
  return std::max(kMinClientMappedBytes, 2 * copy_mode_bytes(cfg));
}

std::string_view session_state_name(Session::State s) noexcept {
  switch (s) {
    case Session::State::AwaitInit: return "await-init";
    case Session::State::Handshake: return "handshake";
    case Session::State::Connected: return "connected";
    case Session::State::Closed: return "closed";
  }
  return "?";
}

Session::Session(MemifSocket& socket, UniqueFd fd, uint64_t serial)
    : socket_(socket), sd_(socket.io(), fd.release()), timer_(socket.io()), serial_(serial) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(sd_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer_.pid = cred.pid;
    peer_.uid = cred.uid;
  }
}

Session::~Session() = default;

void Session::start() {
  if (!send(encode(socket_.hello()))) return;  // memif.md §6: HELLO right after accept()
  timer_.expires_after(MemifSocket::kHandshakeTimeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && self->state_ != State::Connected && self->state_ != State::Closed) {
      self->refuse("handshake timeout");
    }
  });
  wait_readable();
}

void Session::wait_readable() {
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [self = shared_from_this()](const boost::system::error_code& ec) {
                   if (ec || self->state_ == State::Closed) return;
                   self->on_readable();
                 });
}

void Session::on_readable() {
  // Bounded: a flooding client yields the control thread after a few messages.
  for (int i = 0; i < 16; ++i) {
    Received r = recv_msg(sd_.native_handle());
    switch (r.status) {
      case RecvStatus::Message:
        try {
          if (!handle(r.msg, std::move(r.fd))) return;
        } catch (const std::bad_alloc&) {
          // Most likely a client's mapping took what was left; only this client pays for it.
          refuse("vsw is out of memory");
          return;
        }
        continue;
      case RecvStatus::WouldBlock:
        wait_readable();
        return;
      case RecvStatus::Closed:
        close("peer closed the control socket", false);
        return;
      case RecvStatus::BadSize:
        refuse("invalid message size");
        return;
      case RecvStatus::Error:
        close("control socket error", false);
        return;
    }
  }
  boost::asio::post(socket_.io(), [self = shared_from_this()] {
    if (self->state_ != State::Closed) self->on_readable();
  });
}

bool Session::send(const MsgBuffer& msg) {
  if (auto st = send_msg(sd_.native_handle(), msg); !st) {
    close(st.error().message, false);
    return false;
  }
  return true;
}

bool Session::refuse(std::string_view reason) {
  close(reason, true);
  return false;
}

bool Session::handle(const MsgBuffer& msg, UniqueFd fd) {
  const MsgType type = msg_type(msg);
  // Only ADD_REGION and ADD_RING carry a descriptor (memif.md §2): close any other right away.
  if (type != MsgType::AddRegion && type != MsgType::AddRing) fd.reset();
  switch (type) {
    case MsgType::Ack:
      return true;  // tolerated from clients, ignored (memif.md §4)
    case MsgType::Disconnect: {
      const DisconnectMsg d = decode_disconnect(msg);
      close("peer disconnected: " + d.reason, false);
      return false;
    }
    case MsgType::Init:
      if (state_ != State::AwaitInit) break;
      return on_init(decode_init(msg));
    case MsgType::AddRegion:
      if (state_ != State::Handshake) break;
      return on_add_region(decode_add_region(msg), std::move(fd));
    case MsgType::AddRing:
      if (state_ != State::Handshake) break;
      return on_add_ring(decode_add_ring(msg), std::move(fd));
    case MsgType::Connect:
      if (state_ != State::Handshake) break;
      return on_connect(decode_connect(msg));
    default:
      break;
  }
  // memif.md §6: anything else (before INIT, or out of order) is a protocol error.
  return refuse("unexpected message");
}

bool Session::on_init(const InitMsg& m) {
  peer_.app_name = m.name;
  id_ = m.id;
  if (m.version != kVersion) return refuse("incompatible memif version");
  if (m.mode != kModeEthernet) return refuse("only ethernet mode is supported");
  Endpoint* ep = socket_.find(m.id);
  if (ep == nullptr) {
    if (socket_.dynamic() == nullptr) return refuse("ID not found");
    dynamic_pending_ = true;  // the port is created at CONNECT, once the if_name is known
    limits_ = socket_.dynamic()->limits;
  } else {
    if (ep->session() != nullptr) return refuse("already connected");
    limits_ = ep->endpoint_config();
    if (!limits_.secret.empty() && !secret_matches(m.secret, limits_.secret)) {
      return refuse("incorrect secret");
    }
    endpoint_ = ep;
    ep->set_session(this);
  }
  state_ = State::Handshake;
  return send(encode_ack());
}

bool Session::on_add_region(const AddRegionMsg& m, UniqueFd fd) {
  if (!fd) return refuse("missing region fd");
  // memif.md §10: sequential indices below the advertised maximum.
  if (m.index != regions_.size() || m.index >= kMaxRegions) return refuse("invalid region index");
  const uint64_t limit = client_mapped_limit(limits_);
  if (m.size > limit - mapped_bytes_) {
    log::port().warn("memif region refused socket={} id={} pid={} size={} mapped={} limit={}",
                     socket_.path(), id_, peer_.pid, m.size, mapped_bytes_, limit);
    return refuse(fmt::format("regions exceed the {} MiB a client may map", limit >> 20));
  }
  regions_.reserve(regions_.size() + 1);  // an allocation failure must not lose the mapping
  auto region = Region::map(std::move(fd), m.size);
  if (!region) {
    if (region.error().code == Errc::ResourceExhausted) {
      const MappedUsage used = mapped_usage();
      log::port().warn("memif region refused socket={} id={} pid={} size={} total={} regions={}",
                       socket_.path(), id_, peer_.pid, m.size, used.bytes, used.regions);
    }
    return refuse(region.error().message);
  }
  mapped_bytes_ += m.size;
  regions_.push_back(std::move(*region));
  return send(encode_ack());
}

bool Session::on_add_ring(const AddRingMsg& m, UniqueFd fd) {
  if (!fd) return refuse("missing interrupt fd");
  std::vector<RingSpec>& rings = m.type() == RingType::C2S ? c2s_ : s2c_;
  if (m.index != rings.size() || m.index >= limits_.rings) return refuse("invalid ring index");
  if (m.log2_ring_size < 1 || m.log2_ring_size > limits_.max_log2_ring_size) {
    return refuse("invalid ring size");
  }
  if (m.private_hdr_size != 0) return refuse("private headers are not supported");
  if (m.region >= regions_.size() || m.offset % 8 != 0 ||
      !regions_[m.region].contains(m.offset, ring_bytes(m.log2_ring_size))) {
    return refuse("ring outside its region");
  }
  // The eventfd is written by vsw's workers on S2C rings: it must be a real eventfd, made
  // non-blocking (the flag is shared with the client's copy, memif.md §9).
  if (!is_nonblocking_eventfd(fd.get())) return refuse("interrupt fd is not an eventfd");
  rings.push_back(RingSpec{m.region, m.offset, m.log2_ring_size, std::move(fd)});
  return send(encode_ack());
}

bool Session::on_connect(const ConnectMsg& m) {
  peer_.if_name = m.if_name;
  if (c2s_.empty() || s2c_.empty()) return refuse("at least one ring in each direction needed");
  auto conn = Connection::create(std::move(regions_), std::move(c2s_), std::move(s2c_));
  regions_.clear();
  mapped_bytes_ = 0;  // the regions belong to the Connection now (or were unmapped)
  c2s_.clear();
  s2c_.clear();
  if (!conn) return refuse(conn.error().message);
  if (dynamic_pending_) {
    Endpoint* ep = socket_.create_dynamic(id_, m.if_name);
    if (state_ == State::Closed) return false;
    if (ep == nullptr) return refuse("ID not found");
    if (ep->session() != nullptr) return refuse("already connected");
    const EndpointConfig& cfg = ep->endpoint_config();
    if ((*conn)->rx_count() > cfg.rings || (*conn)->tx_count() > cfg.rings ||
        (*conn)->ring_log2() > cfg.max_log2_ring_size) {
      socket_.client_gone(id_);
      return refuse("rings do not fit the created port");
    }
    endpoint_ = ep;
    dynamic_pending_ = false;
    ep->set_session(this);
  }
  if (endpoint_ == nullptr) return refuse("ID not found");
  const std::string name = endpoint_->endpoint_config().name;
  state_ = State::Connected;
  timer_.cancel();
  endpoint_->on_connected(std::move(*conn), peer_);
  return send(encode_connected(ConnectMsg{name}));
}

void Session::close(std::string_view reason, bool notify_peer) {
  if (state_ == State::Closed) return;
  auto self = shared_from_this();  // the socket drops its reference below
  const State was = state_;
  state_ = State::Closed;
  if (notify_peer) {
    // memif.md §6: a pending DISCONNECT goes out before the socket closes.
    (void)send_msg(sd_.native_handle(), encode(DisconnectMsg{0, std::string(reason)}));
  }
  const bool level_warn = notify_peer && was != State::Connected;
  log::port().log(level_warn ? spdlog::level::warn : spdlog::level::info,
                  "memif session closed socket={} id={} peer={} pid={} state={} reason={}",
                  socket_.path(), id_, peer_.app_name, peer_.pid, session_state_name(was), reason);
  if (endpoint_ != nullptr && endpoint_->session() == this) {
    endpoint_->set_session(nullptr);
    if (was == State::Connected) endpoint_->on_disconnected(reason);
    socket_.client_gone(id_);
  }
  endpoint_ = nullptr;
  regions_.clear();
  mapped_bytes_ = 0;
  c2s_.clear();
  s2c_.clear();
  timer_.cancel();
  boost::system::error_code ec;
  sd_.close(ec);
  socket_.forget(this);
}

}  // namespace vsw::ports::memif
