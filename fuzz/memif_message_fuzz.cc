// fuzz/memif_message_fuzz.cc — memif control messages from a hostile client: the message codec
// (ports/memif/memif_message.h) and the server's handshake (memif_session.cc) behind a real
// memif port, over a real SOCK_SEQPACKET connection (memif.md §4, §5, §6, §10).
//
// One memif port (id 1, secret "pw", 2 rings, ring size up to 1024) listens on an abstract
// socket private to the process. Each input is one client connection: a sequence of records,
//   byte 0       what to attach (SCM_RIGHTS): 0 nothing, 1 a sealable memfd of the size an
//                ADD_REGION names (capped), 2 the same without sealing, 3 an eventfd, 4 a pipe,
//                5 a memfd smaller than announced
//   bytes 1-128  the message
// sent one by one, the server's event loop run after each.
//
// Checked:
//   * codec: every decoder's result survives encode and decode unchanged, encoders set the type
//     and leave the unused bytes zero, decoded names are printable and never longer than their
//     field;
//   * handshake: the first message is a HELLO offering protocol 2.0; each message gets exactly
//     the replies the protocol allows (none for ACK and DISCONNECT, one ACK, CONNECTED or
//     DISCONNECT otherwise); after a DISCONNECT the server closes the socket; CONNECTED means
//     the port reports "connected" with rings inside the limits;
//   * after the client leaves: the port is "listening" again and the process holds exactly the
//     descriptors it held before the connection (regions unmapped, eventfds closed).
// A connected client's rings are also polled and written once (rx_burst, tx_burst,
// housekeeping), which runs Connection::bind over the ring placement the client chose.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "dataplane/mempool.h"
#include "fuzz/fuzz_support.h"
#include "ports/memif/memif_channel.h"
#include "ports/memif/memif_message.h"
#include "ports/memif/memif_port.h"
#include "ports/memif/memif_protocol.h"

namespace {

using namespace vsw;
using namespace vsw::ports::memif;
using vsw::ports::UniqueFd;
using vsw::fuzz::ByteReader;

constexpr uint64_t kMaxRegionFile = 1 << 20;  // memfds are sparse; cookies in the first 64 KiB
constexpr size_t kCookieBytes = 65536;
constexpr uint16_t kRings = 2;

// --- codec -------------------------------------------------------------------------------------

void check_name(const std::string& s, size_t field) {
  FUZZ_CHECK(s.size() <= field, "name of {} bytes from a {}-byte field", s.size(), field);
  for (char c : s) FUZZ_CHECK(c >= 0x20 && c <= 0x7e, "unprintable byte {:#x} in a name", c);
}

template <class Wire>
void check_encoded(const MsgBuffer& b, MsgType t) {
  FUZZ_CHECK(msg_type(b) == t, "encoded type {}", static_cast<int>(msg_type(b)));
  FUZZ_CHECK(std::all_of(b.begin() + sizeof(Wire), b.end(), [](std::byte x) { return x == std::byte{0}; }),
             "unused bytes of an encoded {} not zero", msg_type_name(t));
}

void check_codec(const MsgBuffer& m) {
  const HelloMsg h = decode_hello(m);
  check_name(h.name, kNameBytes);
  const MsgBuffer hb = encode(h);
  check_encoded<WireHello>(hb, MsgType::Hello);
  const HelloMsg h2 = decode_hello(hb);
  FUZZ_CHECK(std::tie(h.name, h.min_version, h.max_version, h.max_region, h.max_s2c_ring,
                      h.max_c2s_ring, h.max_log2_ring_size) ==
                 std::tie(h2.name, h2.min_version, h2.max_version, h2.max_region, h2.max_s2c_ring,
                          h2.max_c2s_ring, h2.max_log2_ring_size),
             "HELLO round trip");

  const InitMsg i = decode_init(m);
  check_name(i.name, kNameBytes);
  FUZZ_CHECK(i.secret.size() <= kSecretBytes && i.secret.find('\0') == std::string::npos,
             "secret of {} bytes", i.secret.size());
  const MsgBuffer ib = encode(i);
  check_encoded<WireInit>(ib, MsgType::Init);
  const InitMsg i2 = decode_init(ib);
  FUZZ_CHECK(std::tie(i.version, i.id, i.mode, i.secret, i.name) ==
                 std::tie(i2.version, i2.id, i2.mode, i2.secret, i2.name),
             "INIT round trip");
  FUZZ_CHECK(secret_matches(i.secret, i2.secret), "secret does not match itself");
  FUZZ_CHECK(!secret_matches(i.secret, i.secret + "x") || i.secret.size() >= kSecretBytes,
             "a longer secret matches");

  const AddRegionMsg r = decode_add_region(m);
  const MsgBuffer rb = encode(r);
  check_encoded<WireAddRegion>(rb, MsgType::AddRegion);
  const AddRegionMsg r2 = decode_add_region(rb);
  FUZZ_CHECK(r.index == r2.index && r.size == r2.size, "ADD_REGION round trip");

  const AddRingMsg g = decode_add_ring(m);
  const MsgBuffer gb = encode(g);
  check_encoded<WireAddRing>(gb, MsgType::AddRing);
  const AddRingMsg g2 = decode_add_ring(gb);
  FUZZ_CHECK(std::tie(g.flags, g.index, g.region, g.offset, g.log2_ring_size, g.private_hdr_size) ==
                 std::tie(g2.flags, g2.index, g2.region, g2.offset, g2.log2_ring_size,
                          g2.private_hdr_size),
             "ADD_RING round trip");

  const ConnectMsg c = decode_connect(m);
  check_name(c.if_name, kNameBytes);
  const MsgBuffer cb = encode_connect(c);
  check_encoded<WireConnect>(cb, MsgType::Connect);
  FUZZ_CHECK(decode_connect(cb).if_name == c.if_name, "CONNECT round trip");
  check_encoded<WireConnect>(encode_connected(c), MsgType::Connected);

  const DisconnectMsg d = decode_disconnect(m);
  check_name(d.reason, kReasonBytes);
  const MsgBuffer db = encode(d);
  check_encoded<WireDisconnect>(db, MsgType::Disconnect);
  const DisconnectMsg d2 = decode_disconnect(db);
  FUZZ_CHECK(d.code == d2.code && d.reason == d2.reason, "DISCONNECT round trip");
}

// --- the server ----------------------------------------------------------------------------------

size_t open_fd_count() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

std::string detail(const Port& p, const std::string& key) {
  for (const auto& [k, v] : p.details()) {
    if (k == key) return v;
  }
  return "";
}

struct Server {
  boost::asio::io_context io;
  std::unique_ptr<Mempool> pool;
  std::unique_ptr<ports::PortEnv> env;
  std::unique_ptr<Port> port;
  std::string socket = "@vsw-fuzz-memif-" + std::to_string(::getpid());
  std::vector<std::byte> cookies = std::vector<std::byte>(kCookieBytes);

  Server() {
    Mempool::Config cfg;
    cfg.buffers = 256;
    cfg.hugepages = false;
    auto p = Mempool::create("memif-msg-fuzz", cfg);
    FUZZ_CHECK(p.has_value(), "mempool: {}", p ? "" : p.error().message);
    pool = std::move(*p);
    env = std::make_unique<ports::PortEnv>(ports::PortEnv{*pool, io, "/nonexistent", 1, nullptr});
    ports::PortSpec spec{"fuzz0", "memif",
                         {{"id", "1"}, {"socket", socket}, {"secret", "pw"},
                          {"rings", std::to_string(kRings)}}};
    auto made = create(spec, 3, *env);
    FUZZ_CHECK(made.has_value(), "memif port: {}", made ? "" : made.error().message);
    port = std::move(*made);
    // A ring header at every 8-byte aligned offset carries the cookie (memif.md §7), so placement
    // is what decides whether CONNECT succeeds.
    for (size_t off = 0; off + 4 <= cookies.size(); off += 8) {
      std::memcpy(cookies.data() + off, &kCookie, 4);
    }
  }

  // Runs every ready handler of the control thread's loop.
  void run() {
    for (;;) {
      if (io.stopped()) io.restart();
      if (io.poll() == 0) return;
    }
  }
};

Server& server() {
  static Server* s = new Server;  // never destroyed: libFuzzer exits without unwinding
  return *s;
}

int make_attachment(uint8_t kind, const MsgBuffer& m) {
  uint64_t size = 4096;
  if (msg_type(m) == MsgType::AddRegion) {
    const uint64_t want = decode_add_region(m).size;
    size = want <= kMaxRegionFile ? want : 4096;
  }
  switch (kind % 6) {
    case 0: return -1;
    case 1:
    case 2:
    case 5: {
      const int fd = ::memfd_create("fuzz-region", MFD_CLOEXEC | (kind % 6 == 2 ? 0 : MFD_ALLOW_SEALING));
      FUZZ_CHECK(fd >= 0, "memfd_create: {}", std::strerror(errno));
      if (kind % 6 == 5) size /= 2;
      FUZZ_CHECK(::ftruncate(fd, static_cast<off_t>(size)) == 0, "ftruncate");
      const size_t n = std::min<uint64_t>(size, kCookieBytes);
      FUZZ_CHECK(::pwrite(fd, server().cookies.data(), n, 0) == static_cast<ssize_t>(n), "pwrite");
      return fd;
    }
    case 3: return ::eventfd(0, EFD_CLOEXEC);
    case 4: {
      int p[2];
      FUZZ_CHECK(::pipe2(p, O_CLOEXEC) == 0, "pipe2");
      ::close(p[1]);
      return p[0];
    }
  }
  return -1;
}

// Every message the server has sent so far; `closed` once it closed the socket.
std::vector<MsgBuffer> drain(int fd, bool& closed) {
  std::vector<MsgBuffer> out;
  for (;;) {
    Received r = recv_msg(fd);
    FUZZ_CHECK(!r.fd, "server attached a descriptor");
    if (r.status == RecvStatus::Message) {
      out.push_back(r.msg);
      continue;
    }
    FUZZ_CHECK(r.status != RecvStatus::BadSize, "server sent a message that is not 128 bytes");
    if (r.status == RecvStatus::Closed || r.status == RecvStatus::Error) closed = true;
    return out;
  }
}

void exercise_connection(Server& s) {
  PacketBatch batch;
  for (QueueId q = 0; q < s.port->rx_queue_count(); ++q) {
    s.port->rx_burst(q, batch);
    batch.release_all();
  }
  Packet* p = nullptr;
  if (s.pool->alloc(&p, 1) == 1) {
    std::memset(p->data(), 0xAB, 64);
    p->len = 64;
    p->frame_len = 64;
    batch.push(p);
    s.port->tx_burst(0, batch);
  }
  s.port->housekeeping();
  s.run();
  FUZZ_CHECK(s.pool->available() == s.pool->capacity(), "memif port kept mempool buffers");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::signal(SIGPIPE, SIG_IGN);
  vsw::fuzz::init_logs();
  server().run();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = server();
  const size_t fds_before = open_fd_count();
  auto conn = connect_seqpacket(s.socket);
  FUZZ_CHECK(conn.has_value(), "connect: {}", conn ? "" : conn.error().message);
  UniqueFd client = std::move(*conn);
  FUZZ_CHECK(::fcntl(client.get(), F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
  s.run();

  bool closed = false;
  std::vector<MsgBuffer> got = drain(client.get(), closed);
  FUZZ_CHECK(got.size() == 1 && msg_type(got[0]) == MsgType::Hello && !closed,
             "expected one HELLO, got {} messages", got.size());
  const HelloMsg hello = decode_hello(got[0]);
  FUZZ_CHECK(hello.min_version <= kVersion && kVersion <= hello.max_version,
             "HELLO offers {:#x}..{:#x}", hello.min_version, hello.max_version);

  ByteReader in(data, size);
  bool connected = false;
  while (!in.empty() && !closed) {
    const uint8_t kind = in.u8();
    MsgBuffer m;
    in.fill(m);
    check_codec(m);
    const int fd = make_attachment(kind, m);
    const Status sent = send_msg(client.get(), m, fd);
    if (fd >= 0) ::close(fd);
    if (!sent) break;  // the server closed the socket meanwhile
    s.run();
    got = drain(client.get(), closed);
    const MsgType t = msg_type(m);
    const size_t expect = t == MsgType::Ack || t == MsgType::Disconnect ? 0 : 1;
    FUZZ_CHECK(got.size() == expect, "{} replies to a {} message", got.size(),
               static_cast<unsigned>(t));
    if (t == MsgType::Disconnect) {
      FUZZ_CHECK(closed, "socket still open after the client's DISCONNECT");
    }
    for (const MsgBuffer& r : got) {
      const MsgType rt = msg_type(r);
      FUZZ_CHECK(rt == MsgType::Ack || rt == MsgType::Connected || rt == MsgType::Disconnect,
                 "server sent a {}", msg_type_name(rt));
      if (rt == MsgType::Disconnect) {
        FUZZ_CHECK(!decode_disconnect(r).reason.empty(), "DISCONNECT without a reason");
        if (!closed) (void)drain(client.get(), closed);
        FUZZ_CHECK(closed, "socket still open after the server's DISCONNECT");
        FUZZ_CHECK(detail(*s.port, "state") == "listening", "port {} after DISCONNECT",
                   detail(*s.port, "state"));
        connected = false;
      }
      if (rt == MsgType::Connected) {
        FUZZ_CHECK(decode_connect(r).if_name == "fuzz0", "CONNECTED names {}",
                   decode_connect(r).if_name);
        FUZZ_CHECK(detail(*s.port, "state") == "connected", "port {} after CONNECTED",
                   detail(*s.port, "state"));
        unsigned c2s = 0, s2c = 0;
        const std::string rings = detail(*s.port, "peer_rings");
        FUZZ_CHECK(std::sscanf(rings.c_str(), "c2s=%u s2c=%u", &c2s, &s2c) == 2 && c2s >= 1 &&
                       s2c >= 1 && c2s <= kRings && s2c <= kRings,
                   "connected with rings {}", rings);
        connected = true;
      }
    }
  }
  if (connected && !closed) exercise_connection(s);

  client.reset();
  s.run();
  FUZZ_CHECK(detail(*s.port, "state") == "listening", "port {} after the client left",
             detail(*s.port, "state"));
  const size_t fds_after = open_fd_count();
  FUZZ_CHECK(fds_after == fds_before, "{} descriptors before the connection, {} after",
             fds_before, fds_after);
  return 0;
}
