// ports/virtio/virtio_regs.h — the register, feature and command numbers of a virtio-net PCI
// device, as the specifications number them. Constants only (a register table: no policy).
//
// Sources: the legacy interface per /work/shared/specs/virtio-legacy-pci.md (§3 register block,
// §4 status and features, §6 control queue), which restates virtio 1.1 §4.1.4.8 "Legacy
// Interfaces: A Note on PCI Device Layout"; the modern PCI transport per virtio 1.1 §4.1.4
// (capabilities, common configuration structure); virtio-net per virtio 1.1 §5.1.
#pragma once

#include <cstdint>

namespace vsw::ports::virtio {

// --- identification (virtio 1.1 §4.1.2) -----------------------------------------------------------
constexpr uint16_t kVendorId = 0x1AF4;
constexpr uint16_t kDeviceIdTransitionalNet = 0x1000;  // legacy/transitional network device
constexpr uint16_t kDeviceIdModernNet = 0x1041;        // 0x1040 + device type 1 (network)

// --- device status (virtio 1.1 §2.1) ----------------------------------------------------------------
namespace status {
constexpr uint8_t kReset = 0x00;
constexpr uint8_t kAcknowledge = 0x01;
constexpr uint8_t kDriver = 0x02;
constexpr uint8_t kDriverOk = 0x04;
constexpr uint8_t kFeaturesOk = 0x08;  // modern only; the legacy interface has no such step
constexpr uint8_t kDeviceNeedsReset = 0x40;
constexpr uint8_t kFailed = 0x80;
}  // namespace status

// --- legacy register block in BAR0 (fact sheet §3; virtio 1.1 §4.1.4.8) ---------------------------
namespace legacy {
constexpr uint32_t kHostFeatures = 0;    // 32, R: device features 0..31
constexpr uint32_t kGuestFeatures = 4;   // 32, R/W: driver features 0..31
constexpr uint32_t kQueuePfn = 8;        // 32, R/W: ring address >> 12; 0 deletes the queue
constexpr uint32_t kQueueNum = 12;       // 16, R: size of the selected queue (0 = absent)
constexpr uint32_t kQueueSel = 14;       // 16, R/W
constexpr uint32_t kQueueNotify = 16;    // 16, R/W: write a queue index to kick it
constexpr uint32_t kDeviceStatus = 18;   // 8
constexpr uint32_t kIsr = 19;            // 8, read-to-clear
// The device-specific config follows the header: at 20, or at 24 while MSI-X is enabled (the two
// vector registers at 20/22 exist only then).
constexpr uint32_t kConfigNoMsix = 20;
constexpr uint32_t kConfigMsix = 24;
constexpr uint32_t kQueueAddrShift = 12;  // QUEUE_PFN unit: 4096-byte pages
constexpr uint32_t kQueueAlign = 4096;    // the used ring starts at the next 4096 boundary
}  // namespace legacy

// --- PCI capabilities (PCI Local Bus 3.0 §6.7; virtio 1.1 §4.1.4) ----------------------------------
namespace pci_cfg {
constexpr uint32_t kStatus = 0x06;            // u16; bit 4: capability list present
constexpr uint16_t kStatusCapList = 0x10;
constexpr uint32_t kCapPointer = 0x34;        // u8: offset of the first capability
constexpr uint8_t kCapIdMsix = 0x11;          // MSI-X (PCI 3.0 §6.8.2); message control at +2
constexpr uint16_t kMsixEnable = 0x8000;      // message control bit 15
constexpr uint8_t kCapIdVendor = 0x09;        // vendor-specific: the virtio structures
}  // namespace pci_cfg

// struct virtio_pci_cap (virtio 1.1 §4.1.4): cap_vndr, cap_next, cap_len, cfg_type, bar,
// padding[3], le32 offset, le32 length; the notify capability appends le32
// notify_off_multiplier (§4.1.4.4).
namespace cap {
constexpr uint32_t kLen = 2;
constexpr uint32_t kCfgType = 3;
constexpr uint32_t kBar = 4;
constexpr uint32_t kOffset = 8;
constexpr uint32_t kLength = 12;
constexpr uint32_t kNotifyOffMultiplier = 16;
constexpr uint8_t kCommonCfg = 1;
constexpr uint8_t kNotifyCfg = 2;
constexpr uint8_t kIsrCfg = 3;
constexpr uint8_t kDeviceCfg = 4;
constexpr uint8_t kPciCfg = 5;
}  // namespace cap

// struct virtio_pci_common_cfg (virtio 1.1 §4.1.4.3), offsets inside the common structure.
namespace common {
constexpr uint32_t kDeviceFeatureSelect = 0;  // le32
constexpr uint32_t kDeviceFeature = 4;        // le32, R: 32 bits of the selected half
constexpr uint32_t kDriverFeatureSelect = 8;  // le32
constexpr uint32_t kDriverFeature = 12;       // le32
constexpr uint32_t kMsixConfig = 16;          // le16
constexpr uint32_t kNumQueues = 18;           // le16, R
constexpr uint32_t kDeviceStatus = 20;        // u8
constexpr uint32_t kConfigGeneration = 21;    // u8, R
constexpr uint32_t kQueueSelect = 22;         // le16
constexpr uint32_t kQueueSize = 24;           // le16: the device's maximum; the driver may lower it
constexpr uint32_t kQueueMsixVector = 26;     // le16
constexpr uint32_t kQueueEnable = 28;         // le16
constexpr uint32_t kQueueNotifyOff = 30;      // le16, R
constexpr uint32_t kQueueDesc = 32;           // le64
constexpr uint32_t kQueueDriver = 40;         // le64 (available ring)
constexpr uint32_t kQueueDevice = 48;         // le64 (used ring)
constexpr uint32_t kSize = 56;                // bytes a virtio 1.1 device provides at least
constexpr uint16_t kNoVector = 0xFFFF;        // VIRTIO_MSI_NO_VECTOR (§4.1.5.1.2)
}  // namespace common

// --- feature bits (virtio 1.1 §5.1.3 network, §6 reserved/transport) --------------------------
namespace feature {
constexpr unsigned kCsum = 0;            // device takes partial checksums (tx)
constexpr unsigned kGuestCsum = 1;       // driver takes partial checksums (rx)
constexpr unsigned kMtu = 3;
constexpr unsigned kMac = 5;
constexpr unsigned kGuestTso4 = 7;
constexpr unsigned kGuestTso6 = 8;
constexpr unsigned kGuestEcn = 9;
constexpr unsigned kHostTso4 = 11;
constexpr unsigned kHostTso6 = 12;
constexpr unsigned kHostEcn = 13;
constexpr unsigned kMrgRxbuf = 15;
constexpr unsigned kStatus = 16;
constexpr unsigned kCtrlVq = 17;
constexpr unsigned kCtrlRx = 18;
constexpr unsigned kMq = 22;
constexpr unsigned kNotifyOnEmpty = 24;  // legacy only
constexpr unsigned kAnyLayout = 27;      // legacy; implied by VERSION_1
constexpr unsigned kRingIndirectDesc = 28;
constexpr unsigned kRingEventIdx = 29;
constexpr unsigned kVersion1 = 32;
constexpr unsigned kAccessPlatform = 33;  // the device uses IOVAs through the platform's IOMMU
constexpr unsigned kRingPacked = 34;

constexpr uint64_t bit(unsigned b) noexcept { return uint64_t{1} << b; }
}  // namespace feature

// --- virtio-net device configuration (virtio 1.1 §5.1.4) ---------------------------------------
namespace net_cfg {
constexpr uint32_t kMac = 0;                // u8[6], with MAC
constexpr uint32_t kStatus = 6;             // le16, with STATUS
constexpr uint32_t kMaxVirtqueuePairs = 8;  // le16, with MQ
constexpr uint16_t kStatusLinkUp = 1;
constexpr uint16_t kMaxPairs = 0x8000;      // §5.1.4: max_virtqueue_pairs is 1..0x8000
}  // namespace net_cfg

// --- control virtqueue (virtio 1.1 §5.1.6.5) -------------------------------------------------------
namespace ctrl {
constexpr uint8_t kClassRx = 0;
constexpr uint8_t kRxPromisc = 0;
constexpr uint8_t kClassMq = 4;
constexpr uint8_t kMqVqPairsSet = 0;  // data: le16 virtqueue_pairs
constexpr uint8_t kAckOk = 0;
constexpr uint8_t kAckErr = 1;
}  // namespace ctrl

}  // namespace vsw::ports::virtio
