// ports/intel/adv_descriptors.h — the advanced receive and transmit descriptor formats the
// 82599 and the 82576 share (register/descriptor tables do not count toward the file-size cap).
//
//   82599 datasheet rev. 3.3 §7.1.6 (advanced receive descriptors), §7.2.3.2.4 (advanced
//   transmit data descriptor); 82576 datasheet rev. 2.63 §7.1.5, §7.2.2.3. Both: 16 bytes,
//   little-endian, rings a multiple of 128 bytes (8 descriptors).
//
// A receive descriptor is written by software in its "read" format (buffer addresses) and
// overwritten by the device in its "write-back" format once the buffer holds data; DD (bit 0 of
// status_error) overlaps bit 0 of hdr_addr, which software therefore writes as 0.
#pragma once

#include <cstdint>

namespace vsw::ports::intel {

// --- receive (82599 §7.1.6.1 read, §7.1.6.2 write-back; 82576 §7.1.5.1, §7.1.5.2) -----------
struct AdvRxRead {
  uint64_t pkt_addr;  // packet buffer (device address)
  uint64_t hdr_addr;  // header buffer; 0 (no header split), clears DD
};
struct AdvRxWriteBack {
  uint16_t pkt_info;  // RSS type 3:0, packet type 15:4
  uint16_t hdr_info;
  uint32_t rss_hash;      // with RXCSUM.PCSD set
  uint32_t status_error;  // status 19:0, errors 31:20
  uint16_t length;        // bytes written to this descriptor's buffer
  uint16_t vlan;
};
union AdvRxDesc {
  AdvRxRead read;
  AdvRxWriteBack wb;
};
static_assert(sizeof(AdvRxDesc) == 16);

// status_error bits.
constexpr uint32_t kRxStatusDd = 1u << 0;    // descriptor done
constexpr uint32_t kRxStatusEop = 1u << 1;   // end of packet (clear: the frame goes on)
constexpr uint32_t kRxStatusL4cs = 1u << 5;  // L4 (TCP/UDP) checksum checked
constexpr uint32_t kRxStatusIpcs = 1u << 6;  // IPv4 header checksum checked
constexpr uint32_t kRxErrorRxe = 1u << 29;   // MAC error (CRC, length, ...)
constexpr uint32_t kRxErrorTcpe = 1u << 30;  // L4 checksum error
constexpr uint32_t kRxErrorIpe = 1u << 31;   // IPv4 checksum error
// pkt_info packet type bits (§7.1.6.2 Packet Type; 82576 §7.1.5.2).
constexpr uint16_t kRxPktTcp = 0x100;
constexpr uint16_t kRxPktUdp = 0x200;

// --- transmit data descriptor (82599 §7.2.3.2.4; 82576 §7.2.2.3) --------------------------
struct AdvTxRead {
  uint64_t buffer_addr;
  uint32_t cmd_type_len;   // DTALEN 15:0, DTYP 23:20, DCMD 31:24
  uint32_t olinfo_status;  // PAYLEN 31:14 (first descriptor of a frame), STA 3:0 (write-back)
};
struct AdvTxWriteBack {
  uint64_t reserved;
  uint32_t nxtseq_seed;
  uint32_t status;  // bit 0 DD, written only for descriptors with RS
};
union AdvTxDesc {
  AdvTxRead read;
  AdvTxWriteBack wb;
};
static_assert(sizeof(AdvTxDesc) == 16);

constexpr uint32_t kTxDtypData = 0x3u << 20;  // advanced data descriptor
constexpr uint32_t kTxCmdEop = 1u << 24;      // last descriptor of the frame
constexpr uint32_t kTxCmdIfcs = 1u << 25;     // insert the FCS
constexpr uint32_t kTxCmdRs = 1u << 27;       // report status (write DD back)
constexpr uint32_t kTxCmdDext = 1u << 29;     // advanced descriptor
constexpr uint32_t kTxPaylenShift = 14;
constexpr uint32_t kTxStatusDd = 1u << 0;
constexpr uint32_t kTxMaxBufferBytes = 0xFFFF;  // DTALEN is 16 bits

// Bytes per descriptor and the ring-length rule (RDLEN/TDLEN in the register descriptions of
// both datasheets, chapter 8; fact sheet §3): a multiple of 128 bytes.
constexpr uint32_t kDescBytes = 16;
constexpr uint32_t kRingAlignBytes = 128;

}  // namespace vsw::ports::intel
