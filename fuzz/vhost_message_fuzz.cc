// fuzz/vhost_message_fuzz.cc — vhost-user requests from a hostile front-end: the stream framing
// (ports/vhost_user/vhost_channel.h) over a real AF_UNIX SOCK_STREAM socket pair, and the
// request handling (vhost_device.h) with real memfds, eventfds and pipes (vhost-user.md §1–§6).
//
// Each input is one connection: a sequence of records,
//   byte 0        what to attach (SCM_RIGHTS) to the record: 0 nothing, 1 a sealed memfd of
//                 (byte 1 + 1) pages, 2 the same unsealed and unsealable, 3 an eventfd, 4 a pipe,
//                 5 (byte 1 % 12) eventfds at once (beyond the limit of 8)
//   byte 1        size parameter for byte 0
//   bytes 2-13    the 12-byte message header, as the front-end claims it
//   then          min(header size, 264, what is left) payload bytes
// each sent with one sendmsg, then every complete message read and handled.
//
// Checked:
//   * replies: only requests with a reply of their own (GET_*) or marked NEED_REPLY under a
//     negotiated REPLY_ACK get one;
//   * a published DataPlan exists only over a memory table, its queues are started, and
//     polling them (rx_burst's receive) is safe over whatever the memory holds;
//   * after the connection ends (Device destroyed): nothing published, every descriptor the
//     front-end sent closed, all guest memory unmapped.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <vector>

#include "common/log.h"
#include "fuzz/fuzz_support.h"
#include "dataplane/packet_batch.h"
#include "ports/shm/peer_mapping.h"
#include "ports/vhost_user/vhost_channel.h"
#include "ports/vhost_user/vhost_device.h"

using namespace vsw;
using namespace vsw::ports;
using namespace vsw::ports::vhost_user;

namespace {

#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

class Publisher final : public PlanPublisher {
 public:
  void publish(DataPlan* p) noexcept override { plan = p; }
  void unpublish_and_wait() noexcept override { plan = nullptr; }
  void set_guest_offloads(const OffloadCaps&) noexcept override {}
  DataPlan* plan = nullptr;
};

std::vector<int> make_fds(uint8_t kind, uint8_t param) {
  std::vector<int> fds;
  switch (kind % 6) {
    case 1:
    case 2: {
      const unsigned flags = MFD_CLOEXEC | (kind % 6 == 1 ? MFD_ALLOW_SEALING : 0);
      const int fd = ::memfd_create("fuzz-guest", flags);
      if (fd < 0) break;
      if (::ftruncate(fd, (off_t{param} + 1) * 4096) != 0) {
        ::close(fd);
        break;
      }
      if (kind % 6 == 1) ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
      fds.push_back(fd);
      break;
    }
    case 3:
      fds.push_back(::eventfd(0, EFD_CLOEXEC));
      break;
    case 4: {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) == 0) {
        fds.push_back(p[0]);
        ::close(p[1]);
      }
      break;
    }
    case 5:
      for (int i = 0; i < param % 12; ++i) fds.push_back(::eventfd(0, EFD_CLOEXEC));
      break;
    default:
      break;
  }
  return fds;
}

void send_record(int sock, const uint8_t* bytes, size_t len, const std::vector<int>& fds) {
  iovec iov{const_cast<uint8_t*>(bytes), len};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 16)];
  if (!fds.empty()) {
    std::memset(ctrl, 0, sizeof(ctrl));
    mh.msg_control = ctrl;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  (void)::sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (int fd : fds) ::close(fd);  // the back-end holds its own copies now
}

bool has_own_reply(uint32_t req) {
  switch (static_cast<Request>(req)) {
    case Request::GetFeatures:
    case Request::GetProtocolFeatures:
    case Request::GetQueueNum:
    case Request::GetVringBase:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::signal(SIGPIPE, SIG_IGN);
  vsw::fuzz::init_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fds_before = open_fds();
  const shm::MappedUsage mapped_before = shm::mapped_usage();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  {
    Publisher pub;
    DeviceConfig cfg;
    cfg.queue_pairs = 2;
    cfg.port = 1;
    Device dev(cfg, pub);
    MessageReader reader;
    Message msg;
    bool open = true;
    size_t at = 0;
    while (open && at + 14 <= size) {
      const uint8_t kind = data[at];
      const uint8_t param = data[at + 1];
      MsgHeader h;
      std::memcpy(&h, data + at + 2, sizeof(h));
      const size_t payload =
          std::min<size_t>({h.size, kMaxPayloadBytes, size - at - 14});
      send_record(sv[1], data + at + 2, 12 + payload, make_fds(kind, param));
      at += 14 + payload;
      for (;;) {
        std::string error;
        const ReadStatus st = reader.read(sv[0], msg, error);
        if (st == ReadStatus::NeedMore) break;
        if (st != ReadStatus::Complete) {
          open = false;
          break;
        }
        const bool ack = (msg.hdr.flags & kFlagNeedReply) != 0 &&
                         (dev.protocol_features() & protocol::kReplyAck) != 0;
        const uint32_t req = msg.hdr.request;
        Reply reply;
        const Status handled = dev.handle(msg, reply);
        msg.fds.clear();
        if (!handled) {
          open = false;
          break;
        }
        FUZZ_CHECK(!reply.send || has_own_reply(req) || ack);
        FUZZ_CHECK(reply.is_state == (reply.send && req == static_cast<uint32_t>(Request::GetVringBase)));
        if (pub.plan != nullptr) {
          FUZZ_CHECK(pub.plan->mem.size() > 0);
          for (uint16_t q = 0; q < cfg.queue_pairs; ++q) {
            GuestTxQueue* ring = pub.plan->rx[q];
            if (ring == nullptr) continue;
            FUZZ_CHECK(ring->started());
            PacketBatch batch;
            QueueCounters c;
            Violation v = Violation::None;
            ring->receive(batch, c, v);
            batch.release_all();
          }
          for (uint16_t r = 0; r < pub.plan->tx_rings; ++r) FUZZ_CHECK(pub.plan->tx[r]->started());
        }
      }
    }
    // Dropping the connection: the Device goes, with everything the front-end gave it.
  }
  ::close(sv[0]);
  ::close(sv[1]);
  FUZZ_CHECK(open_fds() == fds_before);
  const shm::MappedUsage mapped_after = shm::mapped_usage();
  FUZZ_CHECK(mapped_after.bytes == mapped_before.bytes);
  FUZZ_CHECK(mapped_after.regions == mapped_before.regions);
  return 0;
}
