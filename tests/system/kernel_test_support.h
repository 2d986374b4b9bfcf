// tests/system/kernel_test_support.h — helpers for kernel_ports_test.cc: shell commands with
// cleanup guards, a raw AF_PACKET peer, test frames, polling a port, and namespace + TCP helpers.
// Test-only; every name created carries prefix() (vswk<pid>) so parallel runs never collide.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/vnet/virtio_net_hdr.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::test::kernel {

using Clock = std::chrono::steady_clock;
using offload_hdr = ports::vnet::VirtioNetHdr;

inline const std::string& prefix() {
  static const std::string p = "vswk" + std::to_string(::getpid() % 100000);
  return p;
}

inline int run(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs `cmd` at destruction (reverse order), so links and namespaces go even after a failure.
class Cleanup {
 public:
  ~Cleanup() {
    for (auto it = cmds_.rbegin(); it != cmds_.rend(); ++it) run(*it);
  }
  void add(std::string cmd) { cmds_.push_back(std::move(cmd)); }

 private:
  std::vector<std::string> cmds_;
};

// Deletes /run/netns/vswk<pid>* left behind by an earlier run that was killed (a killed test
// cannot run its Cleanup guards), when no process with that pid exists any more.
inline void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("vswk", 0) != 0) continue;
    size_t end = 4;
    while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    if (end == 4) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name.substr(4, end - 4)));
    if (pid == ::getpid() % 100000 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    run("ip netns del " + name);
  }
}

inline void write_file(const std::string& path, const std::string& value) {
  std::ofstream(path) << value;
}

// Moves the test process into a private network namespace before any test runs.
// --- raw AF_PACKET peer ------------------------------------------------------------------------

class RawSocket {
 public:
  // Bound to `ifname`; `vnet` puts a virtio_net_hdr in front of every frame sent.
  RawSocket(const std::string& ifname, bool vnet) : ifindex_(::if_nametoindex(ifname.c_str())) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    int one = 1;
    if (vnet) ::setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one);
    ::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = ifindex_;
    ok_ = fd_ >= 0 && ifindex_ != 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

  bool send(const Bytes& f) { return ::send(fd_, f.data(), f.size(), 0) == ssize_t(f.size()); }
  bool send_vnet(const offload_hdr& h, const Bytes& f) {
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_ifindex = ifindex_;
    a.sll_protocol = htons(static_cast<uint16_t>(f[12] << 8 | f[13]));
    iovec iov[2] = {{const_cast<offload_hdr*>(&h), sizeof h},
                    {const_cast<uint8_t*>(f.data()), f.size()}};
    msghdr m{};
    m.msg_name = &a;
    m.msg_namelen = sizeof a;
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    const ssize_t r = ::sendmsg(fd_, &m, 0);
    if (r < 0) std::perror("sendmsg(vnet)");
    return r == ssize_t(sizeof h + f.size());
  }
  // On a `vnet` socket: frames accepted by `keep` with the virtio_net_hdr the kernel put in
  // front of each, until `count` of them arrived or `timeout_ms` passed.
  std::vector<std::pair<offload_hdr, Bytes>> collect_vnet(
      size_t count, int timeout_ms, const std::function<bool(const Bytes&)>& keep) {
    std::vector<std::pair<offload_hdr, Bytes>> out;
    for (Bytes& raw : collect(count, timeout_ms, [&](const Bytes& f) {
           return f.size() > sizeof(offload_hdr) && keep(Bytes(f.begin() + sizeof(offload_hdr), f.end()));
         })) {
      offload_hdr h;
      std::memcpy(&h, raw.data(), sizeof h);
      out.emplace_back(h, Bytes(raw.begin() + sizeof h, raw.end()));
    }
    return out;
  }
  // Frames accepted by `keep`, until `count` of them arrived or `timeout_ms` passed.
  std::vector<Bytes> collect(size_t count, int timeout_ms,
                             const std::function<bool(const Bytes&)>& keep) {
    std::vector<Bytes> out;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Bytes buf(70000);
    while (out.size() < count && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t r = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (r <= 0) continue;
      Bytes f(buf.begin(), buf.begin() + r);
      if (keep(f)) out.push_back(std::move(f));
    }
    return out;
  }

 private:
  int fd_ = -1;
  int ifindex_;
  bool ok_ = false;
};

// --- frames --------------------------------------------------------------------------------------

constexpr uint16_t kTestEtherType = 0x88B5;  // IEEE 802 local experimental

// A non-IP frame of `len` bytes carrying `seq`; `tag` (if non-zero) adds an 802.1Q/802.1ad header.
inline Bytes test_frame(size_t len, uint32_t seq, uint16_t tpid = 0, uint16_t tci = 0) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x0B, 0x02, 0, 0, 0, 0, 0x0A};
  if (tpid != 0) f.insert(f.end(), {uint8_t(tpid >> 8), uint8_t(tpid), uint8_t(tci >> 8),
                                    uint8_t(tci)});
  f.insert(f.end(), {kTestEtherType >> 8, kTestEtherType & 0xFF, 'V', 'S', 'W', 'K'});
  f.insert(f.end(), {uint8_t(seq >> 24), uint8_t(seq >> 16), uint8_t(seq >> 8), uint8_t(seq)});
  while (f.size() < len) f.push_back(static_cast<uint8_t>(f.size() * 13 + seq));
  return f;
}

inline bool is_test_frame(const Bytes& f) {
  for (size_t off = 12; off + 6 <= f.size() && off <= 20; off += 4) {
    if (test::rd16(f, off) == kTestEtherType) {
      return f[off + 2] == 'V' && f[off + 3] == 'S' && f[off + 4] == 'W' && f[off + 5] == 'K';
    }
  }
  return false;
}

inline Packet* to_packet(Mempool& pool, const Bytes& f) {
  Packet* p = nullptr;
  if (pool.alloc(&p, 1) != 1) return nullptr;
  std::memcpy(p->data(), f.data(), f.size());
  p->len = static_cast<uint16_t>(f.size());
  p->frame_len = static_cast<uint32_t>(f.size());
  return p;
}

// `f` in as many pool buffers as it needs (a chain), or nullptr.
inline Packet* to_packet_chain(Mempool& pool, const Bytes& f) {
  Packet* first = nullptr;
  Packet* last = nullptr;
  for (size_t off = 0; off < f.size();) {
    Packet* p = nullptr;
    if (pool.alloc(&p, 1) != 1) {
      if (first != nullptr) release_packet(first);
      return nullptr;
    }
    const size_t len = std::min<size_t>(f.size() - off, pool.data_room());
    std::memcpy(p->data(), f.data() + off, len);
    p->len = static_cast<uint16_t>(len);
    (last != nullptr ? last->next : first) = p;
    last = p;
    off += len;
  }
  first->frame_len = static_cast<uint32_t>(f.size());
  return first;
}

// The bytes of a whole frame, over every segment of its chain.
inline Bytes frame_bytes(const Packet& p) {
  Bytes f;
  for (const Packet* s = &p; s != nullptr; s = s->next) {
    const auto* d = reinterpret_cast<const uint8_t*>(s->data());
    f.insert(f.end(), d, d + s->len);
  }
  return f;
}

// A received frame's offload metadata (dataplane/packet.h).
struct OffloadMeta {
  uint8_t flags = 0;
  GsoType gso_type = GsoType::None;
  uint16_t gso_size = 0, csum_start = 0, csum_offset = 0, hdr_len = 0;
};

// Polls `port` until `count` frames accepted by `keep` arrived or `timeout_ms` passed. Checks the
// rx_burst contract on every frame (in_port, segment lengths adding up to frame_len, at most a
// batch per call). `meta` (if given) receives each kept frame's offload metadata.
inline std::vector<Bytes> poll_rx(Port& port, size_t count, int timeout_ms,
                           const std::function<bool(const Bytes&)>& keep,
                           std::vector<uint16_t>* burst_sizes = nullptr,
                           std::vector<OffloadMeta>* meta = nullptr) {
  std::vector<Bytes> out;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < count && Clock::now() < deadline) {
    PacketBatch b;
    const uint16_t n = port.rx_burst(0, b);
    EXPECT_EQ(n, b.size());
    if (n != 0 && burst_sizes != nullptr) burst_sizes->push_back(n);
    for (Packet* p : b.packets()) {
      EXPECT_EQ(p->in_port, port.id());
      Bytes f = frame_bytes(*p);
      EXPECT_EQ(f.size(), p->frame_len);
      if (keep(f)) {
        out.push_back(std::move(f));
        if (meta != nullptr) {
          meta->push_back({p->flags, p->gso_type, p->gso_size, p->csum_start, p->csum_offset,
                           p->hdr_len});
        }
      }
    }
    b.release_all();
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

template <class Pred>
bool wait_for(Pred pred, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

inline uint64_t drops(const PortStats& s, bool rx, DropReason r) {
  return (rx ? s.rx_drops : s.tx_drops)[static_cast<size_t>(r)];
}

inline std::vector<Bytes> mixed_frames(size_t n) {
  std::vector<Bytes> v;
  for (size_t i = 0; i < n; ++i) v.push_back(test_frame(60 + (i * 97) % 1455, uint32_t(i)));
  return v;
}

// --- end to end: TCP through the ports, offloads left on -----------------------------------------

// A socket created inside network namespace `ns` (setns affects only the calling thread).
inline int socket_in(const std::string& ns, int domain, int type) {
  const int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (self >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
    if (::setns(self, CLONE_NEWNET) != 0) std::abort();
  }
  if (self >= 0) ::close(self);
  if (target >= 0) ::close(target);
  return fd;
}

inline uint8_t stream_byte(size_t i) { return static_cast<uint8_t>(i * 131 + (i >> 12)); }

// Sends `total` bytes from ns `from` to `addr` in ns `to`; returns the bytes that arrived intact.
inline size_t tcp_transfer(const std::string& from, const std::string& to, bool v6,
                    const std::string& addr, size_t total) {
  const int family = v6 ? AF_INET6 : AF_INET;
  const int srv = socket_in(to, family, SOCK_STREAM);
  const int cli = socket_in(from, family, SOCK_STREAM);
  if (srv < 0 || cli < 0) return 0;
  timeval tv{20, 0};
  for (int fd : {srv, cli}) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    ::inet_pton(AF_INET, addr.c_str(), &s4->sin_addr);
    len = sizeof *s4;
  }
  if (::bind(srv, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(srv, 1) != 0 ||
      ::getsockname(srv, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return 0;
  }
  std::atomic<size_t> good{0};
  std::thread server([&] {
    const int c = ::accept(srv, nullptr, nullptr);
    if (c < 0) return;
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::vector<uint8_t> buf(65536);
    size_t pos = 0;
    bool intact = true;
    for (ssize_t r; (r = ::recv(c, buf.data(), buf.size(), 0)) > 0;) {
      for (ssize_t i = 0; i < r && intact; ++i) intact = buf[size_t(i)] == stream_byte(pos + size_t(i));
      pos += size_t(r);
      if (intact) good = pos;
    }
    ::close(c);
  });
  if (::connect(cli, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    std::vector<uint8_t> chunk(256 * 1024);
    for (size_t sent = 0; sent < total;) {
      const size_t n = std::min(chunk.size(), total - sent);
      for (size_t i = 0; i < n; ++i) chunk[i] = stream_byte(sent + i);
      size_t off = 0;
      while (off < n) {
        const ssize_t w = ::send(cli, chunk.data() + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += size_t(w);
      }
      if (off < n) break;
      sent += n;
    }
    ::shutdown(cli, SHUT_WR);
  }
  server.join();
  ::close(cli);
  ::close(srv);
  return good;
}

// Moves frames both ways between two ports until destroyed (a two-port "switch").
class Forwarder {
 public:
  Forwarder(Port& x, Port& y)
      : thread_([&x, &y](std::stop_token st) {
          PacketBatch b;
          while (!st.stop_requested()) {
            bool idle = true;
            for (auto [in, out] : {std::pair<Port*, Port*>{&x, &y}, {&y, &x}}) {
              if (in->rx_burst(0, b) != 0) {
                idle = false;
                out->transmit(0, b);
              }
            }
            if (idle) std::this_thread::sleep_for(std::chrono::microseconds(20));
          }
        }) {}

 private:
  std::jthread thread_;
};

// Namespace `ns` with veth `inner` (address `cidr4` and `cidr6`) whose peer `outer` stays here.
inline void add_ns_with_veth(Cleanup& cleanup, const std::string& ns, const std::string& inner,
                      const std::string& outer, const std::string& cidr4,
                      const std::string& cidr6) {
  ASSERT_EQ(run("ip netns add " + ns), 0);
  cleanup.add("ip netns del " + ns);
  ASSERT_EQ(run("ip link add " + outer + " type veth peer name " + inner + " netns " + ns), 0);
  cleanup.add("ip link del " + outer);
  const std::string in = "ip netns exec " + ns + " ";
  ASSERT_EQ(run(in + "ip link set lo up"), 0);
  ASSERT_EQ(run(in + "ip addr add " + cidr4 + " dev " + inner), 0);
  ASSERT_EQ(run(in + "ip addr add " + cidr6 + " dev " + inner + " nodad"), 0);
  ASSERT_EQ(run(in + "ip link set " + inner + " up"), 0);
}

inline bool tso_on(const std::string& ns, const std::string& dev) {
  return run("ip netns exec " + ns + " sh -c 'ethtool -k " + dev +
             " | grep -q \"^tcp-segmentation-offload: on\"'") == 0;
}


}  // namespace vsw::test::kernel
