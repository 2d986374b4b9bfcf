// ports/memif/client/memif_client.cc — the client side of the memif handshake and its memory
// (memif.md §6, §7); the data path is in memif_client_rings.cc.
#include "ports/memif/client/memif_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "ports/memif/memif_channel.h"
#include "ports/memif/memif_message.h"

namespace vsw::memif {

namespace pm = ports::memif;

Client::Client(const ClientConfig& cfg) : cfg_(cfg) {}

Result<std::unique_ptr<Client>> Client::connect(const ClientConfig& cfg) {
  if (cfg.queue_pairs == 0 || cfg.log2_ring_size < 1 ||
      cfg.log2_ring_size > pm::kMaxLog2RingSize || cfg.buffer_size < 64 ||
      cfg.buffer_size > 65535) {
    return make_error(Errc::InvalidArgument, "memif client: invalid queue/ring/buffer settings");
  }
  std::unique_ptr<Client> c(new Client(cfg));
  auto sock = pm::connect_seqpacket(cfg.socket);
  if (!sock) return std::move(sock).error();
  c->sock_ = std::move(*sock);
  if (auto st = c->handshake(); !st) return std::move(st).error();
  return c;
}

Client::~Client() {
  if (sock_ && connected_) {
    (void)pm::send_msg(sock_.get(), pm::encode(pm::DisconnectMsg{0, "client closing"}));
  }
  sock_.reset();
  if (region_ != nullptr) ::munmap(region_, region_size_);
}

Status Client::setup_memory(uint16_t pairs, uint8_t log2) {
  ring_size_ = static_cast<uint16_t>(1u << log2);
  mask_ = static_cast<uint16_t>(ring_size_ - 1);
  const uint64_t rb = pm::ring_bytes(log2);
  const uint32_t rings = 2u * pairs;
  // memif.md §7 copy mode: [C2S rings][S2C rings][buffers], one buffer per ring slot.
  buffers_offset_ = (rings * rb + 63) & ~uint64_t{63};
  region_size_ = buffers_offset_ + uint64_t{rings} * ring_size_ * cfg_.buffer_size;
  memfd_.reset(::memfd_create("vsw-memif-client", MFD_ALLOW_SEALING | MFD_CLOEXEC));
  if (!memfd_) return make_sys_error(Errc::Io, errno, "memif client: memfd_create");
  if (::ftruncate(memfd_.get(), static_cast<off_t>(region_size_)) != 0 ||
      ::fcntl(memfd_.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    return make_sys_error(Errc::Io, errno, "memif client: sizing the region");
  }
  void* p = ::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get(), 0);
  if (p == MAP_FAILED) return make_sys_error(Errc::Io, errno, "memif client: mmap");
  region_ = static_cast<std::byte*>(p);
  for (uint32_t r = 0; r < rings; ++r) {
    Ring ring;
    ring.hdr = reinterpret_cast<RingHeader*>(region_ + r * rb);
    ring.desc = reinterpret_cast<Desc*>(region_ + r * rb + sizeof(RingHeader));
    ring.first_buffer = r * ring_size_;
    ring.hdr->cookie = pm::kCookie;  // memif.md §3
    ring.hdr->head.store(0, std::memory_order_relaxed);
    ring.hdr->tail.store(0, std::memory_order_relaxed);
    ring.eventfd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!ring.eventfd) return make_sys_error(Errc::Io, errno, "memif client: eventfd");
    const bool is_rx = r >= pairs;
    // memif.md §9: the consumer masks interrupts on rings it polls.
    ring.hdr->flags.store(is_rx && cfg_.interrupt_mode ? 0 : pm::kRingFlagMaskInt,
                          std::memory_order_relaxed);
    (is_rx ? rx_ : tx_).push_back(std::move(ring));
  }
  return ok();
}

Status Client::handshake() {
  const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
  // Waits for the next message; a DISCONNECT becomes the error, with vsw's reason.
  auto next = [&](pm::MsgType want) -> Result<pm::MsgBuffer> {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{sock_.get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      return make_error(Errc::Unavailable, "memif client: handshake timed out");
    }
    pm::Received r = pm::recv_msg(sock_.get());
    if (r.status != pm::RecvStatus::Message) {
      return make_error(Errc::Unavailable, "memif client: server closed the connection");
    }
    const pm::MsgType t = pm::msg_type(r.msg);
    if (t == pm::MsgType::Disconnect) {
      disconnect_reason_ = pm::decode_disconnect(r.msg).reason;
      return make_error(Errc::Unavailable, "memif client: refused by server: {}",
                        disconnect_reason_);
    }
    if (t != want) {
      return make_error(Errc::Io, "memif client: expected {} from server, got {}",
                        pm::msg_type_name(want), pm::msg_type_name(t));
    }
    return r.msg;
  };
  auto exchange = [&](const pm::MsgBuffer& msg, int fd) -> Status {
    if (auto st = pm::send_msg(sock_.get(), msg, fd); !st) return st;
    auto ack = next(pm::MsgType::Ack);
    if (!ack) return std::move(ack).error();
    return ok();
  };

  auto hello_msg = next(pm::MsgType::Hello);
  if (!hello_msg) return std::move(hello_msg).error();
  const pm::HelloMsg hello = pm::decode_hello(*hello_msg);
  server_name_ = hello.name;
  if (hello.min_version > pm::kVersion || hello.max_version < pm::kVersion) {
    return make_error(Errc::Unsupported, "memif client: server speaks another memif version");
  }
  // memif.md §5: HELLO carries highest indices; use min(server max + 1, wished).
  const uint16_t pairs = static_cast<uint16_t>(
      std::min<uint32_t>({cfg_.queue_pairs, hello.max_c2s_ring + 1u, hello.max_s2c_ring + 1u}));
  const uint8_t log2 = std::min(cfg_.log2_ring_size, hello.max_log2_ring_size);
  if (log2 < 1) return make_error(Errc::Unsupported, "memif client: server ring size too small");
  if (auto st = setup_memory(pairs, log2); !st) return st;

  pm::InitMsg init;
  init.id = cfg_.id;
  init.secret = cfg_.secret;
  init.name = cfg_.app_name;
  if (auto st = exchange(pm::encode(init), -1); !st) return st;
  if (auto st = exchange(pm::encode(pm::AddRegionMsg{0, region_size_}), memfd_.get()); !st) {
    return st;
  }
  const uint64_t rb = pm::ring_bytes(log2);
  for (uint16_t i = 0; i < 2 * pairs; ++i) {
    const bool c2s = i < pairs;
    pm::AddRingMsg m;
    m.flags = c2s ? pm::kAddRingFlagC2S : 0;
    m.index = static_cast<uint16_t>(c2s ? i : i - pairs);
    m.region = 0;
    m.offset = static_cast<uint32_t>(i * rb);
    m.log2_ring_size = log2;
    const Ring& ring = c2s ? tx_[m.index] : rx_[m.index];
    if (auto st = exchange(pm::encode(m), ring.eventfd.get()); !st) return st;
  }
  if (auto st = pm::send_msg(sock_.get(), pm::encode_connect(pm::ConnectMsg{cfg_.if_name})); !st) {
    return st;
  }
  auto connected = next(pm::MsgType::Connected);
  if (!connected) return std::move(connected).error();
  peer_if_name_ = pm::decode_connect(*connected).if_name;
  // memif.md §6: the client resets its view at CONNECTED, then offers every rx buffer.
  for (Ring& r : tx_) r.pos = 0;
  for (Ring& r : rx_) {
    r.pos = 0;
    r.seen = 0;
    r.hdr->head.store(0, std::memory_order_relaxed);
    refill(r);
  }
  connected_ = true;
  return ok();
}

bool Client::poll_control() {
  while (connected_) {
    pollfd pfd{sock_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) break;
    pm::Received r = pm::recv_msg(sock_.get());
    if (r.status == pm::RecvStatus::Message) {
      if (pm::msg_type(r.msg) == pm::MsgType::Disconnect) {
        disconnect_reason_ = pm::decode_disconnect(r.msg).reason;
        connected_ = false;
      }
      continue;
    }
    if (r.status == pm::RecvStatus::WouldBlock) break;
    disconnect_reason_ = "control socket closed";
    connected_ = false;
  }
  return connected_;
}

Client::Raw Client::raw() const noexcept {
  return Raw{sock_.get(), region_, region_size_, tx_.empty() ? nullptr : tx_[0].hdr,
             rx_.empty() ? nullptr : rx_[0].hdr};
}

}  // namespace vsw::memif
