// ports/intel/ixgbe_regs.h — the 82599 registers and bits vsw programs (register table: does
// not count toward the file-size cap). Offsets and bit values as in Linux's ixgbe_type.h and the
// fact sheet (/work/shared/specs/ixgbe-82599.md §1); register descriptions in the 82599
// datasheet rev. 3.3 §8.2.3. Queue registers for n < 64 only (vsw uses at most 16 rx queues
// — the RSS limit — and 64 tx queues).
#pragma once

#include <cstdint>

namespace vsw::ports::intel::ixgbe {

// --- general (§8.2.3.1) ----------------------------------------------------------------------
constexpr uint32_t CTRL = 0x00000;
constexpr uint32_t kCtrlLnkRst = 1u << 3;  // link reset
constexpr uint32_t kCtrlRst = 1u << 26;    // device reset, self-clearing
constexpr uint32_t STATUS = 0x00008;
constexpr uint32_t CTRL_EXT = 0x00018;
constexpr uint32_t kCtrlExtNsDis = 1u << 16;    // no-snoop disable (§4.6.7 last step)
constexpr uint32_t kCtrlExtDrvLoad = 1u << 28;  // driver loaded
constexpr uint32_t EEC = 0x10010;
constexpr uint32_t kEecArd = 1u << 9;  // EEPROM auto-read done

// --- interrupts (§8.2.3.5) -------------------------------------------------------------------
// MSI-X (§7.3): in MSI-X mode bits 15:0 of EICR / EIAC / EIMS / EIMC stand for MSI-X vectors
// 0..15 (the first 16 of EICR_EX(0) etc.), which covers vsw's at most 16 receive queues.
constexpr uint32_t EICR = 0x00800;  // cause; write 1 to clear
constexpr uint32_t EIAC = 0x00810;  // auto-clear of a vector's EICR bit once its message is sent
constexpr uint32_t EITR(uint16_t n) { return 0x00820 + 4u * n; }  // n <= 23
constexpr uint32_t EIMS = 0x00880;  // mask set (unmask = arm)
constexpr uint32_t EIMC = 0x00888;  // mask clear (mask = disarm)
constexpr uint32_t kEimcAll = 0x7FFFFFFF;  // bits 30:0 (bit 31 reserved)
constexpr uint32_t GPIE = 0x00898;
constexpr uint32_t kGpieMsixMode = 1u << 4;     // multiple-vector MSI-X mode
constexpr uint32_t kGpieEiame = 1u << 30;       // auto-mask (EIAM) when a message is sent
constexpr uint32_t kGpiePbaSupport = 1u << 31;  // MSI-X pending bit array; set in MSI-X mode
constexpr uint32_t IVAR(uint16_t n) { return 0x00900 + 4u * n; }  // 64 registers
constexpr uint32_t kIvarAllocVal = 0x80;        // entry valid; bits 5:0 the vector
constexpr uint32_t EIAM_EX0 = 0x00AD0;          // auto-mask of vectors 0..31
// EITR.ITR_INTERVAL, bits 11:3, in 2 us units: 10 us (~100k interrupts/s at most per vector).
constexpr uint32_t kEitr10us = (10u / 2) << 3;

// --- receive (§8.2.3.8) ----------------------------------------------------------------------
constexpr uint32_t RDBAL(uint16_t n) { return 0x01000 + 0x40u * n; }
constexpr uint32_t RDBAH(uint16_t n) { return 0x01004 + 0x40u * n; }
constexpr uint32_t RDLEN(uint16_t n) { return 0x01008 + 0x40u * n; }
// DCA_RXCTRL and SRRCTL of queues 0..15 have their own block (the per-queue aliases work too);
// Linux and ixy use these, so does vsw.
constexpr uint32_t DCA_RXCTRL(uint16_t n) {
  return n <= 15 ? 0x02200 + 4u * n : 0x0100C + 0x40u * n;
}
constexpr uint32_t RDH(uint16_t n) { return 0x01010 + 0x40u * n; }
constexpr uint32_t SRRCTL(uint16_t n) { return n <= 15 ? 0x02100 + 4u * n : 0x01014 + 0x40u * n; }
constexpr uint32_t RDT(uint16_t n) { return 0x01018 + 0x40u * n; }
constexpr uint32_t RXDCTL(uint16_t n) { return 0x01028 + 0x40u * n; }
constexpr uint32_t kDcaRxctrlBit12 = 1u << 12;  // reserved, reads 1 after reset, must be 0
constexpr uint32_t kSrrctlBsizePktMask = 0x1F;  // 1 KiB units
constexpr uint32_t kSrrctlDescTypeMask = 0x0E000000;
constexpr uint32_t kSrrctlAdvOneBuf = 0x02000000;
constexpr uint32_t kSrrctlDropEn = 1u << 28;
constexpr uint32_t kRxdctlEnable = 1u << 25;
constexpr uint32_t RDRXCTL = 0x02F00;
constexpr uint32_t kRdrxctlCrcStrip = 1u << 1;
constexpr uint32_t kRdrxctlDmaIdone = 1u << 3;
constexpr uint32_t RXCTRL = 0x03000;
constexpr uint32_t kRxctrlRxen = 1u << 0;
constexpr uint32_t RXPBSIZE(uint16_t i) { return 0x03C00 + 4u * i; }
constexpr uint32_t kRxPb128K = 128u << 10;
constexpr uint32_t RXCSUM = 0x05000;
constexpr uint32_t kRxcsumPcsd = 1u << 13;  // RSS hash instead of the fragment checksum
constexpr uint32_t FCTRL = 0x05080;
constexpr uint32_t kFctrlMpe = 1u << 8;
constexpr uint32_t kFctrlUpe = 1u << 9;
constexpr uint32_t kFctrlBam = 1u << 10;
constexpr uint32_t RAL0 = 0x05400;  // bytes 0..3 of the MAC address, byte 0 in bits 7:0
constexpr uint32_t RAH0 = 0x05404;  // bytes 4..5 in bits 15:0, bit 31 address valid
constexpr uint32_t MRQC = 0x05818;
constexpr uint32_t kMrqcRss = 0x1;  // MRQE = RSS only
constexpr uint32_t kMrqcHashFields = 0x00010000 | 0x00020000 | 0x00100000 | 0x00200000 |
                                     0x00400000 | 0x00800000;  // IPv4/6 x {TCP, UDP, none}
constexpr uint32_t RETA(uint16_t i) { return 0x05C00 + 4u * i; }
constexpr uint32_t RSSRK(uint16_t i) { return 0x05C80 + 4u * i; }
constexpr uint16_t kRetaWords = 32;
constexpr uint16_t kRssrkWords = 10;

// --- MAC (§8.2.3.22) -------------------------------------------------------------------------
constexpr uint32_t HLREG0 = 0x04240;
constexpr uint32_t kHlreg0TxCrcEn = 1u << 0;
constexpr uint32_t kHlreg0RxCrcStrp = 1u << 1;
constexpr uint32_t kHlreg0JumboEn = 1u << 2;
constexpr uint32_t kHlreg0TxPadEn = 1u << 10;
constexpr uint32_t MAXFRS = 0x04268;  // MFS in bits 31:16
constexpr uint32_t AUTOC = 0x042A0;
constexpr uint32_t kAutocLmsMask = 0x7u << 13;
constexpr uint32_t kAutocLms10GSerial = 0x3u << 13;
constexpr uint32_t kAutoc10GPmaPmdMask = 0x3u << 7;
constexpr uint32_t kAutoc10GXaui = 0x0u << 7;
constexpr uint32_t kAutocAnRestart = 1u << 12;
constexpr uint32_t LINKS = 0x042A4;
constexpr uint32_t kLinksUp = 1u << 30;
constexpr uint32_t kLinksSpeedMask = 0x3u << 28;
constexpr uint32_t kLinksSpeed10G = 0x3u << 28;
constexpr uint32_t kLinksSpeed1G = 0x2u << 28;
constexpr uint32_t kLinksSpeed100M = 0x1u << 28;

// --- transmit (§8.2.3.9) ---------------------------------------------------------------------
constexpr uint32_t RTTDCS = 0x04900;
constexpr uint32_t kRttdcsArbdis = 1u << 6;
constexpr uint32_t DMATXCTL = 0x04A80;
constexpr uint32_t kDmatxctlTe = 1u << 0;
constexpr uint32_t TDBAL(uint16_t n) { return 0x06000 + 0x40u * n; }
constexpr uint32_t TDBAH(uint16_t n) { return 0x06004 + 0x40u * n; }
constexpr uint32_t TDLEN(uint16_t n) { return 0x06008 + 0x40u * n; }
constexpr uint32_t TDH(uint16_t n) { return 0x06010 + 0x40u * n; }
constexpr uint32_t TDT(uint16_t n) { return 0x06018 + 0x40u * n; }
constexpr uint32_t TXDCTL(uint16_t n) { return 0x06028 + 0x40u * n; }
constexpr uint32_t kTxdctlEnable = 1u << 25;
// PTHRESH 36, HTHRESH 8, WTHRESH 4 (the values ixy takes from DPDK).
constexpr uint32_t kTxdctlThresholds = 36u | (8u << 8) | (4u << 16);
constexpr uint32_t DTXMXSZRQ = 0x08100;
constexpr uint32_t TXPBSIZE(uint16_t i) { return 0x0CC00 + 4u * i; }
constexpr uint32_t kTxPb40K = 40u << 10;

// --- statistics (§8.2.3.23), clear on read -----------------------------------------------------
constexpr uint32_t CRCERRS = 0x04000;
constexpr uint32_t RLEC = 0x04040;
constexpr uint32_t GPRC = 0x04074;
constexpr uint32_t GPTC = 0x04080;
constexpr uint32_t GORCL = 0x04088;
constexpr uint32_t GORCH = 0x0408C;
constexpr uint32_t GOTCL = 0x04090;
constexpr uint32_t GOTCH = 0x04094;
constexpr uint32_t MPC(uint16_t i) { return 0x03FA0 + 4u * i; }
constexpr uint32_t RNBC(uint16_t i) { return 0x03FC0 + 4u * i; }

constexpr uint16_t kMaxRssQueues = 16;  // §7.1.2.8: RSS spreads over at most 16 queues
constexpr uint16_t kMaxTxQueues = 64;   // vsw's limit (PortCounters::kMaxQueues); the NIC has 128
constexpr uint32_t kMaxBufferKib = 16;  // SRRCTL.BSIZEPACKET up to 16 KiB

}  // namespace vsw::ports::intel::ixgbe
