// ports/vhost_user/vhost_protocol.h — the vhost-user wire format vsw speaks as the back-end:
// message header, request codes, payload layouts and feature bits. Layout only (no logic).
//
// Sources: QEMU docs/interop/vhost-user.rst ("Message format", "Message types", "Protocol
// features"), and the virtio 1.x spec §5.1.3 (virtio-net feature bits) and §6 (reserved
// feature bits). All integers are in the host's byte order (little-endian on x86-64); payloads
// are packed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vsw::ports::vhost_user {

// --- header (vhost-user.rst "Header") ----------------------------------------------------------
struct MsgHeader {
  uint32_t request;
  uint32_t flags;
  uint32_t size;  // payload bytes that follow
};
static_assert(sizeof(MsgHeader) == 12);

constexpr uint32_t kFlagVersionMask = 0x3;
constexpr uint32_t kFlagVersion = 0x1;     // the only version defined
constexpr uint32_t kFlagReply = 1u << 2;   // set on every back-end reply
constexpr uint32_t kFlagNeedReply = 1u << 3;  // REPLY_ACK: the front-end wants a status
// At most this many fds travel with one message (VHOST_MEMORY_BASELINE_NREGIONS).
constexpr uint32_t kMaxFdsPerMessage = 8;

// --- requests (front-end -> back-end) ---------------------------------------------------------
enum class Request : uint32_t {
  GetFeatures = 1,
  SetFeatures = 2,
  SetOwner = 3,
  ResetOwner = 4,
  SetMemTable = 5,
  SetLogBase = 6,
  SetLogFd = 7,
  SetVringNum = 8,
  SetVringAddr = 9,
  SetVringBase = 10,
  GetVringBase = 11,
  SetVringKick = 12,
  SetVringCall = 13,
  SetVringErr = 14,
  GetProtocolFeatures = 15,
  SetProtocolFeatures = 16,
  GetQueueNum = 17,
  SetVringEnable = 18,
  SendRarp = 19,
  NetSetMtu = 20,
  SetBackendReqFd = 21,
  IotlbMsg = 22,
  SetVringEndian = 23,
  GetConfig = 24,
  SetConfig = 25,
  GetInflightFd = 31,
  SetInflightFd = 32,
  GetMaxMemSlots = 36,
  AddMemReg = 37,
  RemMemReg = 38,
  SetStatus = 39,
  GetStatus = 40,
};

// --- payloads -------------------------------------------------------------------------------------
#pragma pack(push, 1)
struct VringState {  // SET_VRING_NUM, SET/GET_VRING_BASE, SET_VRING_ENABLE
  uint32_t index;
  uint32_t num;
};
struct VringAddr {  // SET_VRING_ADDR: front-end virtual addresses, not guest-physical
  uint32_t index;
  uint32_t flags;  // bit 0: VHOST_VRING_F_LOG (logging for migration; never offered)
  uint64_t desc_user_addr;
  uint64_t used_user_addr;
  uint64_t avail_user_addr;
  uint64_t log_guest_addr;
};
struct MemRegionDesc {  // one entry of SET_MEM_TABLE
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t mmap_offset;
};
struct MemTableHeader {
  uint32_t nregions;
  uint32_t padding;
};
#pragma pack(pop)
static_assert(sizeof(VringState) == 8);
static_assert(sizeof(VringAddr) == 40);
static_assert(sizeof(MemRegionDesc) == 32);
static_assert(sizeof(MemTableHeader) == 8);

constexpr uint32_t kVringAddrFlagLog = 1u << 0;
// SET_VRING_KICK/CALL/ERR u64: bits 0-7 the vring index, bit 8 "no fd attached" (poll).
constexpr uint64_t kVringIndexMask = 0xFF;
constexpr uint64_t kVringNoFd = 1u << 8;

// The largest payload vsw accepts: a full memory table (8 + 8 * 32 bytes). Anything larger is a
// protocol violation (vsw supports no message with a bigger payload).
constexpr uint32_t kMaxPayloadBytes = sizeof(MemTableHeader) + 8 * sizeof(MemRegionDesc);

// --- virtio feature bits (virtio 1.x §5.1.3, §6; vhost-user.rst) -------------------------------
namespace feature {
constexpr uint64_t bit(unsigned b) noexcept { return uint64_t{1} << b; }
constexpr uint64_t kNetCsum = bit(0);          // device (vsw) takes partial checksums
constexpr uint64_t kNetGuestCsum = bit(1);     // guest takes partial checksums
constexpr uint64_t kNetGuestTso4 = bit(7);
constexpr uint64_t kNetGuestTso6 = bit(8);
constexpr uint64_t kNetGuestEcn = bit(9);
constexpr uint64_t kNetGuestUfo = bit(10);
constexpr uint64_t kNetHostTso4 = bit(11);     // device takes TCPv4 super-frames
constexpr uint64_t kNetHostTso6 = bit(12);
constexpr uint64_t kNetHostEcn = bit(13);
constexpr uint64_t kNetHostUfo = bit(14);
constexpr uint64_t kNetMrgRxbuf = bit(15);
constexpr uint64_t kNetStatus = bit(16);
constexpr uint64_t kNetCtrlVq = bit(17);
constexpr uint64_t kNetMq = bit(22);
constexpr uint64_t kNotifyOnEmpty = bit(24);
constexpr uint64_t kLogAll = bit(26);          // VHOST_F_LOG_ALL (migration dirty log)
constexpr uint64_t kAnyLayout = bit(27);
constexpr uint64_t kRingIndirectDesc = bit(28);
constexpr uint64_t kRingEventIdx = bit(29);
constexpr uint64_t kProtocolFeatures = bit(30);  // VHOST_USER_F_PROTOCOL_FEATURES
constexpr uint64_t kVersion1 = bit(32);
constexpr uint64_t kIommuPlatform = bit(33);
constexpr uint64_t kRingPacked = bit(34);
}  // namespace feature

// --- protocol feature bits (vhost-user.rst "Protocol features") -------------------------------
namespace protocol {
constexpr uint64_t kMq = uint64_t{1} << 0;
constexpr uint64_t kLogShmfd = uint64_t{1} << 1;
constexpr uint64_t kRarp = uint64_t{1} << 2;
constexpr uint64_t kReplyAck = uint64_t{1} << 3;
constexpr uint64_t kInflightShmfd = uint64_t{1} << 12;
constexpr uint64_t kConfigureMemSlots = uint64_t{1} << 15;
constexpr uint64_t kStatus = uint64_t{1} << 16;
}  // namespace protocol

// What vsw offers. Not offered, and their messages refused: VHOST_F_LOG_ALL and the log
// messages (no live-migration dirty logging), packed rings, IOMMU_PLATFORM (IOTLB), inflight
// tracking, memory slots (ADD/REM_MEM_REG), config space, back-end requests. CTRL_VQ, MAC,
// STATUS and the MTU are QEMU's own business (it emulates the control queue and config space).
constexpr uint64_t kOfferedFeatures =
    feature::kVersion1 | feature::kProtocolFeatures | feature::kNetMrgRxbuf |
    feature::kAnyLayout | feature::kRingIndirectDesc | feature::kRingEventIdx |
    feature::kNotifyOnEmpty | feature::kNetMq | feature::kNetCsum | feature::kNetGuestCsum |
    feature::kNetHostTso4 | feature::kNetHostTso6 | feature::kNetHostEcn |
    feature::kNetGuestTso4 | feature::kNetGuestTso6 | feature::kNetGuestEcn;
constexpr uint64_t kOfferedProtocolFeatures = protocol::kMq | protocol::kReplyAck;

// virtio ring limits (virtio 1.x §2.7: queue size a power of 2, at most 32768).
constexpr uint32_t kMaxVringSize = 32768;

}  // namespace vsw::ports::vhost_user
