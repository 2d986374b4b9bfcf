// dataplane/vlan.h — IEEE 802.1Q VLAN membership of a bridge port, and the tag at the port edge.
//
// Port modes (the names and meaning of Open vSwitch's vlan_mode):
//   none            no VLAN configuration: untagged frames are VLAN 0, tagged frames keep their
//                   VLAN, every VLAN is carried; egress tagged except VLAN 0. In a bridge where no
//                   port has a VLAN configuration (and no mirror exists) the bridge is
//                   VLAN-unaware and forwards exactly as before VLANs existed (bridge.h).
//   access          tag=N: untagged frames (and priority-tagged ones, VID 0, 802.1Q §6.9.1) enter
//                   VLAN N; other tagged frames are dropped; egress untagged, VLAN N only.
//   trunk           trunks=N,M,... (empty = every VLAN 1..4094): tagged frames of those VLANs
//                   only; untagged and priority-tagged frames are dropped; egress tagged.
//   native-untagged tag=N is the native VLAN, trunks as for trunk (the native VLAN is always
//                   carried): untagged/priority-tagged frames enter VLAN N; egress of VLAN N is
//                   untagged, of the others tagged.
//   native-tagged   as native-untagged, but VLAN N leaves tagged as well.
// Frames a port does not carry are dropped and counted as DropReason::Vlan (ingress), or simply
// not sent to it (flooding stays inside the VLAN).
//
// The tag (802.1Q §9.6): TPID 0x8100 after the source address, then the TCI: PCP (3 bits),
// DEI (1 bit), VID (12 bits). VID 0 means priority-tagged (no VLAN), VID 4095 is reserved.
// Tags are pushed and popped at egress only, on frames the bridge may write (owned, one
// reference) or on copies; PCP and DEI travel with the frame from a tagged ingress.
//
// Threads: VlanConfig and validation are control-thread values; PortVlan is built by the control
// thread into the published Topology and only read by workers.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/packet.h"

namespace vsw {

enum class VlanMode : uint8_t { None, Access, Trunk, NativeUntagged, NativeTagged };

constexpr uint16_t kMinVid = 1;
constexpr uint16_t kMaxVid = 4094;
constexpr uint16_t kVlanDrop = 0xFFFF;  // PortVlan::classify(): the port does not take the frame
constexpr uint16_t kTpidCtag = 0x8100;  // 802.1Q §9.5 C-VLAN tag protocol identifier
constexpr uint32_t kTaggedHeaderBytes = 18;

std::string_view vlan_mode_name(VlanMode m) noexcept;
// "access", "trunk", "native-untagged", "native-tagged" ("" or "none": None); nullopt otherwise.
std::optional<VlanMode> parse_vlan_mode(std::string_view s) noexcept;

// A port's VLAN settings as configured (control plane, Switch API).
struct VlanConfig {
  VlanMode mode = VlanMode::None;
  uint16_t tag = 0;              // access VLAN / native VLAN; 0 = not set
  std::vector<uint16_t> trunks;  // sorted, unique; empty = every VLAN (trunk and native modes)
  bool configured() const noexcept { return mode != VlanMode::None; }
  bool operator==(const VlanConfig&) const = default;
};

// The mode a port gets when none is named: access with a tag alone, trunk with trunks alone
// (OVS's rule); InvalidArgument for tag and trunks without a mode.
Result<VlanMode> implied_vlan_mode(uint16_t tag, bool has_trunks);
// InvalidArgument (message for the operator) unless `c` is consistent: VIDs in 1..4094, a tag
// exactly for access and native modes, trunks only for trunk and native modes.
Status validate_vlan_config(const VlanConfig& c);
// "10,20,30" <-> {10,20,30}; parse refuses anything but comma-separated VIDs in 1..4094 ("" is
// the empty list) and returns them sorted and unique.
Result<std::vector<uint16_t>> parse_vid_list(std::string_view s);
std::string format_vid_list(const std::vector<uint16_t>& vids);

// What a worker needs of one port in a VLAN-aware bridge (Topology::vlan).
struct PortVlan {
  VlanMode mode = VlanMode::None;
  uint16_t tag = 0;
  bool all_trunks = true;
  bool mirror_output = false;  // receives mirrored frames only: carries no VLAN for forwarding
  std::bitset<4096> trunks;

  static PortVlan from(const VlanConfig& c) noexcept;

  // The VLAN a received frame belongs to (`tagged`: it carries a tag with VID `vid`), or
  // kVlanDrop when the port does not take it.
  uint16_t classify(bool tagged, uint16_t vid) const noexcept {
    const bool untagged = !tagged || vid == 0;
    switch (mode) {
      case VlanMode::None: return untagged ? 0 : vid;
      case VlanMode::Access: return untagged ? tag : kVlanDrop;
      case VlanMode::Trunk: return !untagged && in_trunks(vid) ? vid : kVlanDrop;
      case VlanMode::NativeUntagged:
      case VlanMode::NativeTagged:
        if (untagged) return tag;
        return vid == tag || in_trunks(vid) ? vid : kVlanDrop;
    }
    return kVlanDrop;
  }
  // True when frames of `vlan` may be forwarded to this port.
  bool carries(uint16_t vlan) const noexcept {
    if (mirror_output) return false;
    switch (mode) {
      case VlanMode::None: return true;
      case VlanMode::Access: return vlan == tag;
      case VlanMode::Trunk: return vlan != 0 && in_trunks(vlan);
      case VlanMode::NativeUntagged:
      case VlanMode::NativeTagged: return vlan == tag || (vlan != 0 && in_trunks(vlan));
    }
    return false;
  }
  // True when frames of `vlan` leave this port with a tag.
  bool egress_tagged(uint16_t vlan) const noexcept {
    switch (mode) {
      case VlanMode::None: return vlan != 0;
      case VlanMode::Access: return false;
      case VlanMode::Trunk: return vlan != 0;
      case VlanMode::NativeUntagged: return vlan != tag && vlan != 0;
      case VlanMode::NativeTagged: return vlan != 0;
    }
    return false;
  }

 private:
  bool in_trunks(uint16_t vid) const noexcept {
    return vid >= kMinVid && vid <= kMaxVid && (all_trunks || trunks.test(vid));
  }
};

// --- the tag on a frame ---------------------------------------------------------------------
// Changes the frame in place; the caller holds the only reference to an owned frame
// (!is_lent(), refs == 1). Offload metadata that counts from the frame start (csum_start,
// hdr_len) moves with the headers.
// Inserts a tag with `tci` after the source address; needs data_off >= 4 (headroom).
void push_vlan_tag(Packet& p, uint16_t tci) noexcept;
// Removes the tag (the first segment holds at least kTaggedHeaderBytes).
void pop_vlan_tag(Packet& p) noexcept;
// Rewrites the TCI of a tagged frame.
void set_vlan_tci(Packet& p, uint16_t tci) noexcept;

}  // namespace vsw
