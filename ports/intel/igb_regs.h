// ports/intel/igb_regs.h — the 82576 registers and bits vsw programs (register table: does not
// count toward the file-size cap). Offsets and bits as in Linux's igb e1000_regs.h /
// e1000_defines.h; register descriptions in the 82576 datasheet rev. 2.63 chapter 8. Queue
// registers use the 0xC000 (rx) / 0xE000 (tx) blocks, valid for all 16 queues (queues 0..3 have
// legacy aliases at 0x2800/0x3800 that vsw does not use).
#pragma once

#include <cstdint>

namespace vsw::ports::intel::igb {

// --- general -------------------------------------------------------------------------------------
constexpr uint32_t CTRL = 0x00000;
constexpr uint32_t kCtrlFd = 1u << 0;    // full duplex
constexpr uint32_t kCtrlLrst = 1u << 3;  // link reset
constexpr uint32_t kCtrlSlu = 1u << 6;   // set link up
constexpr uint32_t kCtrlRst = 1u << 26;  // device reset, self-clearing
constexpr uint32_t STATUS = 0x00008;
constexpr uint32_t kStatusLu = 1u << 1;  // link up
constexpr uint32_t kStatusSpeedMask = 0x3u << 6;
constexpr uint32_t kStatusSpeed100 = 0x1u << 6;
constexpr uint32_t kStatusSpeed1000 = 0x2u << 6;
constexpr uint32_t CTRL_EXT = 0x00018;
constexpr uint32_t kCtrlExtDrvLoad = 1u << 28;
constexpr uint32_t MDIC = 0x00020;  // PHY access (MDI control)
constexpr uint32_t kMdicRegShift = 16;
constexpr uint32_t kMdicPhyShift = 21;
constexpr uint32_t kMdicOpWrite = 1u << 26;
constexpr uint32_t kMdicOpRead = 2u << 26;
constexpr uint32_t kMdicReady = 1u << 28;
constexpr uint32_t kMdicError = 1u << 30;
constexpr uint32_t kPhyAddress = 1;  // the internal PHY
constexpr uint32_t kPhyBmcr = 0;     // IEEE 802.3 clause 22 register 0
constexpr uint16_t kBmcrAnRestart = 1u << 9;
constexpr uint16_t kBmcrAnEnable = 1u << 12;

// --- interrupts ----------------------------------------------------------------------------------
// MSI-X (82576 datasheet §7.3; register descriptions §8.8): in MSI-X mode bit v of EICR /
// EIAC / EIAM / EIMS / EIMC is MSI-X vector v (25 bits; the PF has 10 vectors under QEMU).
constexpr uint32_t ICR = 0x000C0;
constexpr uint32_t IMC = 0x000D8;
constexpr uint32_t GPIE = 0x01514;
constexpr uint32_t kGpieMsixMode = 1u << 4;  // multiple-vector MSI-X mode
constexpr uint32_t kGpieEiame = 1u << 30;    // auto-mask (EIAM) when a message is sent
constexpr uint32_t kGpiePba = 1u << 31;      // MSI-X pending bit array support
constexpr uint32_t EIMS = 0x01524;           // mask set (unmask = arm)
constexpr uint32_t EIMC = 0x01528;           // mask clear (mask = disarm)
constexpr uint32_t EIAC = 0x0152C;           // auto-clear of EICR bits once the message is sent
constexpr uint32_t EIAM = 0x01530;           // auto-mask
constexpr uint32_t EICR = 0x01580;           // cause; write 1 to clear
constexpr uint32_t EITR(uint16_t n) { return 0x01680 + 4u * n; }
// 82576 IVAR0 layout (§8.8): register IVAR(q & 7) holds rx queue q in byte 0 (q < 8) or byte 2
// (q >= 8), tx queue q in byte 1 / byte 3; an entry is the vector with the valid bit.
constexpr uint32_t IVAR(uint16_t n) { return 0x01700 + 4u * n; }
constexpr uint32_t kIvarValid = 0x80;
constexpr unsigned ivar_rx_shift(uint16_t q) { return q < 8 ? 0 : 16; }
// EITR.INTERVAL, bits 14:2, in 1 us units: 10 us.
constexpr uint32_t kEitr10us = 10u << 2;

// --- receive -------------------------------------------------------------------------------------
constexpr uint32_t RCTL = 0x00100;
constexpr uint32_t kRctlEn = 1u << 1;
constexpr uint32_t kRctlUpe = 1u << 3;     // unicast promiscuous
constexpr uint32_t kRctlMpe = 1u << 4;     // multicast promiscuous
constexpr uint32_t kRctlLpe = 1u << 5;     // long packets (up to RLPML)
constexpr uint32_t kRctlBam = 1u << 15;    // accept broadcast
constexpr uint32_t kRctlSecrc = 1u << 26;  // strip the Ethernet CRC
constexpr uint32_t RDBAL(uint16_t n) { return 0x0C000 + 0x40u * n; }
constexpr uint32_t RDBAH(uint16_t n) { return 0x0C004 + 0x40u * n; }
constexpr uint32_t RDLEN(uint16_t n) { return 0x0C008 + 0x40u * n; }
constexpr uint32_t SRRCTL(uint16_t n) { return 0x0C00C + 0x40u * n; }
constexpr uint32_t RDH(uint16_t n) { return 0x0C010 + 0x40u * n; }
constexpr uint32_t RDT(uint16_t n) { return 0x0C018 + 0x40u * n; }
constexpr uint32_t RXDCTL(uint16_t n) { return 0x0C028 + 0x40u * n; }
constexpr uint32_t kSrrctlBsizePktMask = 0x7F;  // 1 KiB units
constexpr uint32_t kSrrctlDescTypeMask = 0x0E000000;
constexpr uint32_t kSrrctlAdvOneBuf = 0x02000000;
constexpr uint32_t kSrrctlDropEn = 1u << 31;
constexpr uint32_t kRxdctlEnable = 1u << 25;
// PTHRESH 8, HTHRESH 8, WTHRESH 4 (Linux igb's receive thresholds).
constexpr uint32_t kRxdctlThresholds = 8u | (8u << 8) | (4u << 16);
constexpr uint32_t RXCSUM = 0x05000;
constexpr uint32_t kRxcsumIpofld = 1u << 8;  // IPv4 checksum offload
constexpr uint32_t kRxcsumTuofld = 1u << 9;  // TCP/UDP checksum offload
constexpr uint32_t kRxcsumPcsd = 1u << 13;   // RSS hash in the descriptor (RSS needs it)
constexpr uint32_t RLPML = 0x05004;          // longest frame with RCTL.LPE
constexpr uint32_t RAL0 = 0x05400;
constexpr uint32_t RAH0 = 0x05404;
constexpr uint32_t MRQC = 0x05818;
constexpr uint32_t kMrqcRssMq = 0x2;  // multiple receive queues, RSS, no VMDq
// IPv4 {TCP, UDP, none}, IPv6 {TCP, TCP with extension headers, UDP, none}: what Linux's igb
// enables. QEMU's model hashes IPv6 TCP ports only with the TCP_EX bit (0x00040000).
constexpr uint32_t kMrqcHashFields =
    0x00010000 | 0x00020000 | 0x00040000 | 0x00100000 | 0x00200000 | 0x00400000 | 0x00800000;
constexpr uint32_t RETA(uint16_t i) { return 0x05C00 + 4u * i; }
constexpr uint32_t RSSRK(uint16_t i) { return 0x05C80 + 4u * i; }
constexpr uint16_t kRetaWords = 32;
constexpr uint16_t kRssrkWords = 10;

// --- transmit ------------------------------------------------------------------------------------
constexpr uint32_t TCTL = 0x00400;
constexpr uint32_t kTctlEn = 1u << 1;
constexpr uint32_t kTctlPsp = 1u << 3;       // pad short packets
constexpr uint32_t kTctlCt = 0xFu << 4;      // collision threshold (half duplex; 802.3 value)
constexpr uint32_t kTctlCold = 0x3Fu << 12;  // collision distance, full duplex
constexpr uint32_t kTctlRtlc = 1u << 24;     // retransmit on late collision
constexpr uint32_t TDBAL(uint16_t n) { return 0x0E000 + 0x40u * n; }
constexpr uint32_t TDBAH(uint16_t n) { return 0x0E004 + 0x40u * n; }
constexpr uint32_t TDLEN(uint16_t n) { return 0x0E008 + 0x40u * n; }
constexpr uint32_t TDH(uint16_t n) { return 0x0E010 + 0x40u * n; }
constexpr uint32_t TDT(uint16_t n) { return 0x0E018 + 0x40u * n; }
constexpr uint32_t TXDCTL(uint16_t n) { return 0x0E028 + 0x40u * n; }
constexpr uint32_t kTxdctlEnable = 1u << 25;
// PTHRESH 8, HTHRESH 1, WTHRESH 16 (Linux igb's transmit thresholds).
constexpr uint32_t kTxdctlThresholds = 8u | (1u << 8) | (16u << 16);

// --- statistics, clear on read
// ---------------------------------------------------------------------
constexpr uint32_t CRCERRS = 0x04000;
constexpr uint32_t MPC = 0x04010;
constexpr uint32_t RLEC = 0x04040;
constexpr uint32_t GPRC = 0x04074;
constexpr uint32_t GPTC = 0x04080;
constexpr uint32_t GORCL = 0x04088;
constexpr uint32_t GORCH = 0x0408C;
constexpr uint32_t GOTCL = 0x04090;
constexpr uint32_t GOTCH = 0x04094;
constexpr uint32_t RNBC = 0x040A0;

// Linux igb spreads RSS over at most 8 queues on the 82576 (QEMU's model over 16); vsw follows
// the smaller. Tx queues: 16.
constexpr uint16_t kMaxRssQueues = 8;
constexpr uint16_t kMaxTxQueues = 16;
constexpr uint32_t kMaxBufferKib = 16;  // vsw's cap; the 7-bit field would allow 127

}  // namespace vsw::ports::intel::igb
