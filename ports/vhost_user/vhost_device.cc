// ports/vhost_user/vhost_device.cc — the vhost-user requests a net back-end serves
// (vhost-user.md §3) and the DataPlan rebuilt from them.
#include "ports/vhost_user/vhost_device.h"

#include <bit>
#include <cstring>
#include <utility>

#include "ports/shm/unix_socket.h"
#include "ports/virtio_common/vring.h"

namespace vsw::ports::vhost_user {

namespace {

const char* request_name(uint32_t r) noexcept {
  switch (static_cast<Request>(r)) {
    case Request::GetFeatures: return "GET_FEATURES";
    case Request::SetFeatures: return "SET_FEATURES";
    case Request::SetOwner: return "SET_OWNER";
    case Request::ResetOwner: return "RESET_OWNER";
    case Request::SetMemTable: return "SET_MEM_TABLE";
    case Request::SetLogBase: return "SET_LOG_BASE";
    case Request::SetLogFd: return "SET_LOG_FD";
    case Request::SetVringNum: return "SET_VRING_NUM";
    case Request::SetVringAddr: return "SET_VRING_ADDR";
    case Request::SetVringBase: return "SET_VRING_BASE";
    case Request::GetVringBase: return "GET_VRING_BASE";
    case Request::SetVringKick: return "SET_VRING_KICK";
    case Request::SetVringCall: return "SET_VRING_CALL";
    case Request::SetVringErr: return "SET_VRING_ERR";
    case Request::GetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
    case Request::SetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
    case Request::GetQueueNum: return "GET_QUEUE_NUM";
    case Request::SetVringEnable: return "SET_VRING_ENABLE";
    default: return "request";
  }
}

Status expect_size(const Message& m, uint32_t size) {
  if (m.hdr.size != size) {
    return make_error(Errc::InvalidArgument, "{} with a payload of {} bytes (expected {})",
                      request_name(m.hdr.request), m.hdr.size, size);
  }
  return ok();
}

Status expect_no_fds(const Message& m) {
  if (!m.fds.empty()) {
    return make_error(Errc::InvalidArgument, "{} carries {} unexpected descriptors",
                      request_name(m.hdr.request), m.fds.size());
  }
  return ok();
}

template <class T>
T payload_as(const Message& m) {
  T v;
  std::memcpy(&v, m.payload.data(), sizeof(T));
  return v;
}

bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
  return a < b + b_len && b < a + a_len;  // no wrap: both ends were checked
}

}  // namespace

Device::Device(const DeviceConfig& cfg, PlanPublisher& pub) : cfg_(cfg), pub_(pub) {}

Device::~Device() { stop_all(); }

Status Device::handle(Message& msg, Reply& reply) {
  reply = Reply{};
  // vhost-user.md §3 REPLY_ACK: a status for every request the front-end marked, unless the
  // request has a reply of its own.
  const bool need_reply = (msg.hdr.flags & kFlagNeedReply) != 0 &&
                          (protocol_features_ & protocol::kReplyAck) != 0;
  Status st = dispatch(msg, reply);
  if (!st) {
    if (st.error().code == Errc::Unsupported && need_reply && !reply.send) {
      reply.send = true;  // refused, and the front-end knows: the connection goes on
      reply.value = 1;
      return ok();
    }
    return st;
  }
  if (need_reply && !reply.send) {
    reply.send = true;
    reply.value = 0;
  }
  return ok();
}

Status Device::dispatch(Message& msg, Reply& reply) {
  const uint32_t req = msg.hdr.request;
  // Only these requests take descriptors; any other message with descriptors is refused (the
  // Message closes them).
  const bool takes_fds = req == static_cast<uint32_t>(Request::SetMemTable) ||
                         req == static_cast<uint32_t>(Request::SetVringKick) ||
                         req == static_cast<uint32_t>(Request::SetVringCall) ||
                         req == static_cast<uint32_t>(Request::SetVringErr);
  if (!takes_fds) {
    if (auto st = expect_no_fds(msg); !st) return st;
  }
  switch (static_cast<Request>(req)) {
    case Request::GetFeatures:
      if (auto st = expect_size(msg, 0); !st) return st;
      reply.send = true;
      reply.value = kOfferedFeatures;
      return ok();
    case Request::SetFeatures:
      if (auto st = expect_size(msg, 8); !st) return st;
      return set_features(payload_as<uint64_t>(msg));
    case Request::SetOwner:  // QEMU sends one per queue pair on the same connection
      if (auto st = expect_size(msg, 0); !st) return st;
      owner_ = true;
      return ok();
    case Request::ResetOwner:  // deprecated: every ring stops, the session stays
      if (auto st = expect_size(msg, 0); !st) return st;
      stop_all();
      for (Vring& v : vrings_) v.started = v.enabled = false;
      return ok();
    case Request::SetMemTable:
      return set_mem_table(msg);
    case Request::SetVringNum: {
      if (auto st = expect_size(msg, 8); !st) return st;
      const auto s = payload_as<VringState>(msg);
      auto i = vring_index(s.index);
      if (!i) return std::move(i).error();
      // virtio 1.1 §2.6: a power of two, at most 32768.
      if (s.num == 0 || s.num > kMaxVringSize || !std::has_single_bit(s.num)) {
        return make_error(Errc::InvalidArgument, "vring {} size {} is not a power of two <= {}",
                          *i, s.num, kMaxVringSize);
      }
      if (vrings_[*i].started) {
        return make_error(Errc::InvalidArgument, "vring {} resized while started", *i);
      }
      vrings_[*i].num = s.num;
      return ok();
    }
    case Request::SetVringAddr: {
      if (auto st = expect_size(msg, sizeof(VringAddr)); !st) return st;
      const auto a = payload_as<VringAddr>(msg);
      auto i = vring_index(a.index);
      if (!i) return std::move(i).error();
      if ((a.flags & kVringAddrFlagLog) != 0) {
        return make_error(Errc::Unsupported, "vring {}: dirty logging is not supported", *i);
      }
      const bool was_started = vrings_[*i].started;
      if (was_started) stop_all();
      vrings_[*i].addr = a;
      vrings_[*i].has_addr = true;
      return was_started ? start_ready() : ok();
    }
    case Request::SetVringBase: {
      if (auto st = expect_size(msg, 8); !st) return st;
      const auto s = payload_as<VringState>(msg);
      auto i = vring_index(s.index);
      if (!i) return std::move(i).error();
      if (s.num > 0xFFFF) {  // split rings: a 16-bit index (packed rings are not offered)
        return make_error(Errc::InvalidArgument, "vring {} base {} above 65535", *i, s.num);
      }
      if (vrings_[*i].started) {
        return make_error(Errc::InvalidArgument, "vring {} base set while started", *i);
      }
      vrings_[*i].base = static_cast<uint16_t>(s.num);
      return ok();
    }
    case Request::GetVringBase: {
      if (auto st = expect_size(msg, 8); !st) return st;
      const auto s = payload_as<VringState>(msg);
      auto i = vring_index(s.index);
      if (!i) return std::move(i).error();
      // vhost-user.md §3: stops the ring; the reply is the next avail index to process.
      stop_all();
      Vring& v = vrings_[*i];
      v.started = false;
      v.kick.reset();
      reply.send = true;
      reply.is_state = true;
      reply.state = VringState{*i, v.base};
      return start_ready();
    }
    case Request::SetVringKick: {
      uint32_t i = 0;
      if (auto st = set_vring_fd(msg, i); !st) return st;
      stop_all();
      Vring& v = vrings_[i];
      v.kick = msg.fds.empty() ? UniqueFd() : std::move(msg.fds[0]);
      v.started = true;
      // vhost-user.md §5: without protocol features a started ring is enabled at once.
      if ((features_ & feature::kProtocolFeatures) == 0) v.enabled = true;
      return start_ready();
    }
    case Request::SetVringCall: {
      uint32_t i = 0;
      if (auto st = set_vring_fd(msg, i); !st) return st;
      const bool was_running = plan_ != nullptr && vrings_[i].started && vrings_[i].enabled;
      if (was_running) stop_all();
      vrings_[i].call = msg.fds.empty() ? UniqueFd() : std::move(msg.fds[0]);
      return was_running ? start_ready() : ok();
    }
    case Request::SetVringErr: {
      uint32_t i = 0;
      if (auto st = set_vring_fd(msg, i); !st) return st;
      vrings_[i].err = msg.fds.empty() ? UniqueFd() : std::move(msg.fds[0]);
      return ok();
    }
    case Request::GetProtocolFeatures:
      if (auto st = expect_size(msg, 0); !st) return st;
      reply.send = true;
      reply.value = kOfferedProtocolFeatures;
      return ok();
    case Request::SetProtocolFeatures: {
      if (auto st = expect_size(msg, 8); !st) return st;
      const uint64_t f = payload_as<uint64_t>(msg);
      if ((f & ~kOfferedProtocolFeatures) != 0) {
        return make_error(Errc::InvalidArgument, "protocol features {:#x} were not offered",
                          f & ~kOfferedProtocolFeatures);
      }
      protocol_features_ = f;
      protocol_features_set_ = true;
      return ok();
    }
    case Request::GetQueueNum:
      if (auto st = expect_size(msg, 0); !st) return st;
      if ((protocol_features_ & protocol::kMq) == 0) {
        return make_error(Errc::Unsupported, "GET_QUEUE_NUM without the MQ protocol feature");
      }
      reply.send = true;
      reply.value = cfg_.queue_pairs;
      return ok();
    case Request::SetVringEnable: {
      if (auto st = expect_size(msg, 8); !st) return st;
      const auto s = payload_as<VringState>(msg);
      auto i = vring_index(s.index);
      if (!i) return std::move(i).error();
      // Defined once VHOST_USER_F_PROTOCOL_FEATURES is in use: acked in SET_FEATURES, or (as
      // QEMU does, disabling rings right after connecting) protocol features already set.
      if ((features_ & feature::kProtocolFeatures) == 0 && !protocol_features_set_) {
        return make_error(Errc::InvalidArgument,
                          "SET_VRING_ENABLE without VHOST_USER_F_PROTOCOL_FEATURES");
      }
      if (s.num > 1) {
        return make_error(Errc::InvalidArgument, "vring {} enable value {}", *i, s.num);
      }
      if (vrings_[*i].enabled == (s.num == 1)) return ok();
      stop_all();
      vrings_[*i].enabled = s.num == 1;
      return start_ready();
    }
    default:
      // Not offered (logging, IOTLB, config space, inflight, memory slots, status, ...) or
      // unknown: refused (handle() turns this into a failure status under REPLY_ACK).
      return make_error(Errc::Unsupported, "{} {} is not supported", request_name(req), req);
  }
}

Result<uint32_t> Device::vring_index(uint64_t raw) const {
  if (raw >= 2u * cfg_.queue_pairs) {
    return make_error(Errc::InvalidArgument, "vring index {} beyond the {} queue pairs", raw,
                      cfg_.queue_pairs);
  }
  return static_cast<uint32_t>(raw);
}

Status Device::set_vring_fd(Message& msg, uint32_t& index) {
  if (auto st = expect_size(msg, 8); !st) return st;
  const uint64_t v = payload_as<uint64_t>(msg);
  if ((v & ~(kVringIndexMask | kVringNoFd)) != 0) {
    return make_error(Errc::InvalidArgument, "{} with reserved bits {:#x}",
                      request_name(msg.hdr.request), v);
  }
  auto i = vring_index(v & kVringIndexMask);
  if (!i) return std::move(i).error();
  const size_t want = (v & kVringNoFd) != 0 ? 0 : 1;
  if (msg.fds.size() != want) {
    return make_error(Errc::InvalidArgument, "{} for vring {} with {} descriptors (expected {})",
                      request_name(msg.hdr.request), *i, msg.fds.size(), want);
  }
  // Kick and call are eventfds; made non-blocking so a worker's signal can never block.
  if (want == 1 && !shm::is_nonblocking_eventfd(msg.fds[0].get())) {
    return make_error(Errc::InvalidArgument, "{} for vring {}: the descriptor is not an eventfd",
                      request_name(msg.hdr.request), *i);
  }
  index = *i;
  return ok();
}

Status Device::set_features(uint64_t f) {
  if ((f & ~kOfferedFeatures) != 0) {
    return make_error(Errc::InvalidArgument, "features {:#x} were not offered",
                      f & ~kOfferedFeatures);
  }
  for (const Vring& v : vrings_) {
    if (v.started && f != features_) {
      return make_error(Errc::InvalidArgument, "features changed while rings are started");
    }
  }
  features_ = f;
  features_set_ = true;
  // What vsw may hand the guest as it is (virtio 1.1 §5.1.3.1: GUEST_TSO4/6 require GUEST_CSUM).
  OffloadCaps caps;
  caps.partial_csum = (f & feature::kNetGuestCsum) != 0;
  caps.tso4 = caps.partial_csum && (f & feature::kNetGuestTso4) != 0;
  caps.tso6 = caps.partial_csum && (f & feature::kNetGuestTso6) != 0;
  caps.gso_ecn = (f & feature::kNetGuestEcn) != 0;  // else ECN super-frames are segmented
  pub_.set_guest_offloads(caps);
  return ok();
}

Status Device::set_mem_table(Message& msg) {
  if (msg.hdr.size < sizeof(MemTableHeader)) {
    return make_error(Errc::InvalidArgument, "SET_MEM_TABLE payload of {} bytes", msg.hdr.size);
  }
  const auto h = payload_as<MemTableHeader>(msg);
  if (h.nregions == 0 || h.nregions > kMaxMemRegions) {
    return make_error(Errc::InvalidArgument, "SET_MEM_TABLE with {} regions (1..{})", h.nregions,
                      kMaxMemRegions);
  }
  if (auto st = expect_size(msg, sizeof(MemTableHeader) + h.nregions * sizeof(MemRegionDesc));
      !st) {
    return st;
  }
  if (msg.fds.size() != h.nregions) {
    return make_error(Errc::InvalidArgument, "SET_MEM_TABLE with {} regions but {} descriptors",
                      h.nregions, msg.fds.size());
  }
  std::array<MemRegionDesc, kMaxMemRegions> d{};
  std::memcpy(d.data(), msg.payload.data() + sizeof(MemTableHeader),
              h.nregions * sizeof(MemRegionDesc));
  uint64_t total = 0;
  for (uint32_t i = 0; i < h.nregions; ++i) {
    const MemRegionDesc& r = d[i];
    if (r.memory_size == 0) {
      return make_error(Errc::InvalidArgument, "memory region {} has size 0", i);
    }
    if (r.guest_phys_addr > UINT64_MAX - r.memory_size ||
        r.userspace_addr > UINT64_MAX - r.memory_size) {
      return make_error(Errc::InvalidArgument, "memory region {} wraps around the address space",
                        i);
    }
    for (uint32_t j = 0; j < i; ++j) {
      if (overlaps(r.guest_phys_addr, r.memory_size, d[j].guest_phys_addr, d[j].memory_size) ||
          overlaps(r.userspace_addr, r.memory_size, d[j].userspace_addr, d[j].memory_size)) {
        return make_error(Errc::InvalidArgument, "memory regions {} and {} overlap", j, i);
      }
    }
    if (r.memory_size > cfg_.max_guest_bytes - total) {
      return make_error(Errc::InvalidArgument, "guest memory above the {} MiB a port may map",
                        cfg_.max_guest_bytes >> 20);
    }
    total += r.memory_size;
  }
  std::vector<shm::PeerMapping> maps;
  std::vector<GuestRegion> regions;
  maps.reserve(h.nregions);
  for (uint32_t i = 0; i < h.nregions; ++i) {
    // vhost-user.md §6: the region's bytes start mmap_offset bytes into its file.
    auto m = shm::PeerMapping::map(std::move(msg.fds[i]), d[i].mmap_offset, d[i].memory_size,
                                   shm::SealRule::HugetlbExempt);
    if (!m) {
      Error e = std::move(m).error();
      e.message = fmt::format("memory region {}: {}", i, e.message);
      return e;
    }
    regions.push_back(GuestRegion{d[i].guest_phys_addr, d[i].memory_size, d[i].userspace_addr,
                                  m->base()});
    maps.push_back(std::move(*m));
  }
  // vhost-user.md §6: a new table may replace the old while rings run: the workers stop using
  // the old one before it is unmapped, and started rings are translated again.
  stop_all();
  mappings_ = std::move(maps);  // the old mappings go here, after the grace period
  regions_ = std::move(regions);
  return start_ready();
}

QueueConfig Device::queue_config(uint32_t index) const {
  const Vring& v = vrings_[index];
  const uint64_t f = features_;
  QueueConfig c;
  c.size = static_cast<uint16_t>(v.num);
  c.last_avail = v.base;
  c.hdr_len = (f & (feature::kVersion1 | feature::kNetMrgRxbuf)) != 0 ? 12 : 10;
  c.mrg_rxbuf = (f & feature::kNetMrgRxbuf) != 0;
  c.event_idx = (f & feature::kRingEventIdx) != 0;
  c.indirect = (f & feature::kRingIndirectDesc) != 0;
  c.notify_on_empty = (f & feature::kNotifyOnEmpty) != 0;
  c.host_csum = (f & feature::kNetCsum) != 0;
  c.host_tso4 = c.host_csum && (f & feature::kNetHostTso4) != 0;
  c.host_tso6 = c.host_csum && (f & feature::kNetHostTso6) != 0;
  c.host_ecn = (f & feature::kNetHostEcn) != 0;
  c.guest_csum = (f & feature::kNetGuestCsum) != 0;
  c.guest_tso4 = c.guest_csum && (f & feature::kNetGuestTso4) != 0;
  c.guest_tso6 = c.guest_csum && (f & feature::kNetGuestTso6) != 0;
  c.guest_ecn = (f & feature::kNetGuestEcn) != 0;
  c.call_fd = v.call ? v.call.get() : -1;
  c.kick_fd = v.kick ? v.kick.get() : -1;  // an eventfd: set_vring_fd() checked it
  c.port = cfg_.port;
  c.pool = cfg_.pool;
  return c;
}

void Device::stop_all() noexcept {
  if (!plan_) return;
  pub_.unpublish_and_wait();
  // Nothing is lent any more: every taken entry goes to the used ring, and each ring's next
  // index is what a later GET_VRING_BASE (or a restart) uses.
  for (uint16_t q = 0; q < cfg_.queue_pairs; ++q) {
    if (plan_->rx[q] != nullptr) vrings_[2 * q + 1].base = guest_tx_[q]->stop();
  }
  for (uint16_t q = 0; q < cfg_.queue_pairs; ++q) {
    if (guest_rx_[q] && guest_rx_[q]->started()) {
      for (uint16_t r = 0; r < plan_->tx_rings; ++r) {
        if (plan_->tx[r] == guest_rx_[q].get()) vrings_[2 * q].base = guest_rx_[q]->stop();
      }
    }
  }
  plan_.reset();
}

Status Device::start_ready() {
  if (regions_.empty()) return ok();  // rings start once memory exists
  auto plan = std::make_unique<DataPlan>();
  plan->mem = GuestMemory(regions_.data(), static_cast<uint32_t>(regions_.size()));
  const bool event_idx = (features_ & feature::kRingEventIdx) != 0;
  bool any = false;
  auto start_one = [&](uint32_t index, auto& queue) -> Status {
    const Vring& v = vrings_[index];
    if (!v.started || !v.enabled) return ok();
    if (v.num == 0 || !v.has_addr) {
      return make_error(Errc::InvalidArgument, "vring {} started without a size or addresses",
                        index);
    }
    QueueConfig c = queue_config(index);
    // vhost-user.md §6: ring addresses are front-end virtual addresses; each whole ring must
    // lie inside one region.
    c.desc = reinterpret_cast<VringDesc*>(
        plan->mem.translate_user(v.addr.desc_user_addr, virtio::desc_table_bytes(v.num)));
    c.avail = reinterpret_cast<VringAvail*>(
        plan->mem.translate_user(v.addr.avail_user_addr, virtio::avail_ring_bytes(v.num, event_idx)));
    c.used = reinterpret_cast<VringUsed*>(
        plan->mem.translate_user(v.addr.used_user_addr, virtio::used_ring_bytes(v.num, event_idx)));
    if (c.desc == nullptr || c.avail == nullptr || c.used == nullptr) {
      return make_error(Errc::InvalidArgument, "vring {}: ring addresses outside guest memory",
                        index);
    }
    if (!queue) queue = std::make_unique<std::remove_reference_t<decltype(*queue)>>();
    if (auto st = queue->start(&plan->mem, c); !st) {
      Error e = std::move(st).error();
      e.message = fmt::format("vring {}: {}", index, e.message);
      return e;
    }
    if (queue->resynced()) ++resyncs_;
    any = true;
    return ok();
  };
  Status failed = ok();
  for (uint16_t q = 0; q < cfg_.queue_pairs && failed; ++q) {
    if (auto st = start_one(2 * q + 1, guest_tx_[q]); !st) {
      failed = std::move(st);
    } else if (vrings_[2 * q + 1].started && vrings_[2 * q + 1].enabled) {
      plan->rx[q] = guest_tx_[q].get();
    }
  }
  for (uint16_t q = 0; q < cfg_.queue_pairs && failed; ++q) {
    if (auto st = start_one(2 * q, guest_rx_[q]); !st) {
      failed = std::move(st);
    } else if (vrings_[2 * q].started && vrings_[2 * q].enabled) {
      plan->tx[plan->tx_rings++] = guest_rx_[q].get();
    }
  }
  if (!failed || !any) {
    // Nothing was published: queues started here hold nothing lent; stop them again.
    for (uint16_t q = 0; q < cfg_.queue_pairs; ++q) {
      if (plan->rx[q] != nullptr) plan->rx[q]->stop();
    }
    for (uint16_t r = 0; r < plan->tx_rings; ++r) plan->tx[r]->stop();
    return failed;
  }
  plan->tx_shared = plan->tx_rings != 0 && plan->tx_rings < cfg_.queue_pairs;
  plan_ = std::move(plan);
  pub_.publish(plan_.get());
  return ok();
}

uint16_t Device::running_rx() const noexcept {
  uint16_t n = 0;
  if (plan_) {
    for (GuestTxQueue* q : plan_->rx) n += q != nullptr;
  }
  return n;
}

uint64_t Device::rx_super_frames() const noexcept {
  uint64_t n = 0;
  for (const auto& q : guest_tx_) n += q ? q->super_frames() : 0;
  return n;
}

uint64_t Device::tx_super_frames() const noexcept {
  uint64_t n = 0;
  for (const auto& q : guest_rx_) n += q ? q->super_frames() : 0;
  return n;
}

uint16_t Device::running_tx() const noexcept { return plan_ ? plan_->tx_rings : 0; }

}  // namespace vsw::ports::vhost_user
