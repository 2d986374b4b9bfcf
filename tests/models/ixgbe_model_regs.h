// tests/models/ixgbe_model_regs.h — the 82599 registers and bits the behavioural model knows,
// written from the 82599 datasheet facts in /work/shared/specs/ixgbe-82599.md (§1 register map,
// §4 descriptor layouts). Deliberately NOT the driver's header (ports/intel/): the model is an
// independent check of the driver, so a wrong offset in one is caught by the other.
//
// Section numbers are those of the Intel 82599 10 GbE Controller Datasheet (rev. 3.x) as cited
// by ixy: §8.2.3 register descriptions, §4.6 initialisation, §7.1/§7.2 receive/transmit.
#pragma once

#include <cstdint>

namespace vsw::tests::models::ixgbe {

// BAR 0 is 128 KiB of 32-bit registers (§8.1 "memory-mapped registers").
constexpr uint64_t kBar0Size = 128 * 1024;
constexpr uint16_t kVendorIntel = 0x8086;
constexpr uint16_t kDevice82599Sfp = 0x10FB;
constexpr unsigned kQueues = 128;    // rx and tx queues of the 82599
constexpr unsigned kRssQueues = 16;  // RSS spans at most 16 queues (§7.1.2.8)
constexpr unsigned kMsixVectors = 64;  // MSI-X table size of the 82599 (§7.3)

namespace reg {
// General (§8.2.3.1)
constexpr uint32_t CTRL = 0x00000, STATUS = 0x00008, CTRL_EXT = 0x00018, EEC = 0x10010;
// Interrupts (§8.2.3.5)
constexpr uint32_t EICR = 0x00800, EICS = 0x00808, EIAC = 0x00810, EIMS = 0x00880, EIMC = 0x00888,
                   EIAM = 0x00890, GPIE = 0x00898;
constexpr uint32_t EITR0 = 0x00820;  // EITR(n) n <= 23 (0x12300 for the rest)
constexpr uint32_t IVAR0 = 0x00900;  // 64 registers
constexpr uint32_t EIAM_EX0 = 0x00AD0;  // auto-mask of MSI-X vectors 0..31
// Receive (§8.2.3.8)
constexpr uint32_t RDRXCTL = 0x02F00, RXCTRL = 0x03000, RXPBSIZE0 = 0x03C00, MPC0 = 0x03FA0,
                   RNBC0 = 0x03FC0;
constexpr uint32_t RXCSUM = 0x05000, FCTRL = 0x05080, MTA0 = 0x05200, MRQC = 0x05818,
                   RETA0 = 0x05C00, RSSRK0 = 0x05C80;
constexpr uint32_t RAL_LEGACY0 = 0x05400;  // RAL/RAH(0..15) alias of 0x0A200
constexpr uint32_t RAL0 = 0x0A200;         // RAL(i) = 0x0A200 + 8i, RAH(i) = RAL(i) + 4
// Statistics (§8.2.3.23), all clear on read
constexpr uint32_t CRCERRS = 0x04000, RLEC = 0x04040, GPRC = 0x04074, BPRC = 0x04078,
                   MPRC = 0x0407C, GPTC = 0x04080, GORCL = 0x04088, GORCH = 0x0408C,
                   GOTCL = 0x04090, GOTCH = 0x04094, TPR = 0x040D0, TPT = 0x040D4;
constexpr uint32_t QPRC0 = 0x01030, QBRC_L0 = 0x01034, QBRC_H0 = 0x01038;  // + 0x40n, n < 16
constexpr uint32_t QPTC0 = 0x06030;                                        // + 0x40n, n < 16
// MAC (§8.2.3.22)
constexpr uint32_t HLREG0 = 0x04240, MAXFRS = 0x04268, AUTOC = 0x042A0, LINKS = 0x042A4,
                   AUTOC2 = 0x042A8;
// Transmit (§8.2.3.9)
constexpr uint32_t RTTDCS = 0x04900, DMATXCTL = 0x04A80, DTXMXSZRQ = 0x08100, TXPBSIZE0 = 0x0CC00;
// Per-queue blocks: rx queue n < 64 at 0x01000 + 0x40n, 64..127 at 0x0D000 + 0x40(n-64);
// tx queue n at 0x06000 + 0x40n. Offsets inside a block:
constexpr uint32_t Q_BAL = 0x00, Q_BAH = 0x04, Q_LEN = 0x08, Q_DCA = 0x0C, Q_HEAD = 0x10,
                   Q_SRRCTL = 0x14, Q_TAIL = 0x18, Q_CTL = 0x28;
constexpr uint32_t RXQ_LOW = 0x01000, RXQ_HIGH = 0x0D000, TXQ = 0x06000, QSTRIDE = 0x40;
// Aliases for queues 0..15 (§8.2.3.8.7, §8.2.3.11.1)
constexpr uint32_t SRRCTL_ALIAS0 = 0x02100, DCA_RXCTRL_ALIAS0 = 0x02200;
}  // namespace reg

namespace bit {
constexpr uint32_t CTRL_LNK_RST = 1u << 3, CTRL_RST = 1u << 26;
constexpr uint32_t EEC_ARD = 1u << 9;
constexpr uint32_t RDRXCTL_CRCSTRIP = 1u << 1, RDRXCTL_DMAIDONE = 1u << 3;
constexpr uint32_t RXCTRL_RXEN = 1u << 0;
// GPIE (§8.2.3.5): multiple-vector MSI-X mode, EIAM auto-mask enable, PBA support (must be set
// in MSI-X mode).
constexpr uint32_t GPIE_MSIX_MODE = 1u << 4, GPIE_EIAME = 1u << 30, GPIE_PBA_SUPPORT = 1u << 31;
// IVAR entries (§8.2.3.5): 8 bits each, rx queue 2n at bits 7:0 of IVAR(n), tx 2n at 15:8, rx
// 2n+1 at 23:16, tx 2n+1 at 31:24; bit 7 INT_ALLOC_VAL, bits 5:0 the MSI-X vector.
constexpr uint32_t IVAR_ALLOC_VAL = 0x80, IVAR_VECTOR_MASK = 0x3F;
constexpr uint32_t EIMS_QUEUE_VECTORS = 0xFFFF;  // EICR/EIMS bits 15:0: vectors 0..15
constexpr uint32_t RXDCTL_ENABLE = 1u << 25, TXDCTL_ENABLE = 1u << 25;
// TXDCTL: PTHRESH 6:0, HTHRESH 14:8, WTHRESH 22:16, ENABLE 25, SWFLSH 26; the rest reserved.
constexpr uint32_t TXDCTL_RESERVED = 0xF9808080u;
constexpr uint32_t HLREG0_TXCRCEN = 1u << 0, HLREG0_RXCRCSTRP = 1u << 1, HLREG0_JUMBOEN = 1u << 2,
                   HLREG0_TXPADEN = 1u << 10;
constexpr uint32_t AUTOC_AN_RESTART = 1u << 12;
constexpr uint32_t LINKS_UP = 1u << 30, LINKS_SPEED_10G = 3u << 28;
constexpr uint32_t DMATXCTL_TE = 1u << 0;
constexpr uint32_t RXCSUM_PCSD = 1u << 13;
constexpr uint32_t FCTRL_SBP = 1u << 1, FCTRL_MPE = 1u << 8, FCTRL_UPE = 1u << 9,
                   FCTRL_BAM = 1u << 10;
constexpr uint32_t FCTRL_DEFINED = FCTRL_SBP | FCTRL_MPE | FCTRL_UPE | FCTRL_BAM;
constexpr uint32_t RAH_AV = 1u << 31;
// SRRCTL (§8.2.3.8.7): BSIZEPACKET 6:0 (1 KiB units), BSIZEHEADER 13:8 (64 B units),
// RDMTS 24:22, DESCTYPE 27:25, DROP_EN 28; bits 21:14 and 31:29 reserved.
constexpr uint32_t SRRCTL_BSIZEPKT_MASK = 0x7F, SRRCTL_DESCTYPE_MASK = 0x0E000000,
                   SRRCTL_DESCTYPE_ADV_ONEBUF = 0x02000000, SRRCTL_DROP_EN = 1u << 28,
                   SRRCTL_RESERVED = 0xE03FC000u;
constexpr uint32_t SRRCTL_RESET = 2;  // 2 KiB packet buffers
// DCA_RXCTRL bit 12: reserved, resets to 1 and must be cleared by software (§8.2.3.11.1).
constexpr uint32_t DCA_RXCTRL_BIT12 = 1u << 12;
// MRQC (§8.2.3.7.12)
constexpr uint32_t MRQC_MRQE_MASK = 0xF, MRQC_RSS = 0x1;
constexpr uint32_t MRQC_IPV4_TCP = 0x00010000, MRQC_IPV4 = 0x00020000, MRQC_IPV6 = 0x00100000,
                   MRQC_IPV6_TCP = 0x00200000, MRQC_IPV4_UDP = 0x00400000,
                   MRQC_IPV6_UDP = 0x00800000;
}  // namespace bit

// Advanced descriptors (§7.1.6, §7.2.3.2.4), 16 bytes each.
namespace desc {
constexpr uint32_t RX_DD = 1u << 0, RX_EOP = 1u << 1;
// pkt_info bits 3:0: RSS type (§7.1.6.2)
constexpr uint16_t RSS_NONE = 0x0, RSS_TCP_IPV4 = 0x1, RSS_IPV4 = 0x2, RSS_TCP_IPV6 = 0x3,
                   RSS_IPV6 = 0x5, RSS_UDP_IPV4 = 0x7, RSS_UDP_IPV6 = 0x8;
// pkt_info bits 15:4: packet type
constexpr uint16_t PT_IPV4 = 0x010, PT_IPV6 = 0x040, PT_TCP = 0x100, PT_UDP = 0x200;
// TX cmd_type_len
constexpr uint32_t TX_DTALEN_MASK = 0xFFFF, TX_DTYP_MASK = 0x00F00000, TX_DTYP_DATA = 0x00300000,
                   TX_DTYP_CONTEXT = 0x00200000, TX_EOP = 1u << 24, TX_IFCS = 1u << 25,
                   TX_RS = 1u << 27, TX_DEXT = 1u << 29, TX_TSE = 1u << 31;
constexpr unsigned TX_PAYLEN_SHIFT = 14;
constexpr uint32_t TX_STA_DD = 1u << 0;
}  // namespace desc

}  // namespace vsw::tests::models::ixgbe
