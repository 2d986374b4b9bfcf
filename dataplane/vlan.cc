// dataplane/vlan.cc — VLAN settings (parsing, validation) and the 802.1Q tag push/pop.
#include "dataplane/vlan.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/ether.h"
#include "dataplane/offload/bytes.h"

namespace vsw {

std::string_view vlan_mode_name(VlanMode m) noexcept {
  switch (m) {
    case VlanMode::None: return "none";
    case VlanMode::Access: return "access";
    case VlanMode::Trunk: return "trunk";
    case VlanMode::NativeUntagged: return "native-untagged";
    case VlanMode::NativeTagged: return "native-tagged";
  }
  return "?";
}

std::optional<VlanMode> parse_vlan_mode(std::string_view s) noexcept {
  for (VlanMode m : {VlanMode::None, VlanMode::Access, VlanMode::Trunk, VlanMode::NativeUntagged,
                     VlanMode::NativeTagged}) {
    if (s == vlan_mode_name(m)) return m;
  }
  if (s.empty()) return VlanMode::None;
  return std::nullopt;
}

Result<VlanMode> implied_vlan_mode(uint16_t tag, bool has_trunks) {
  if (tag != 0 && has_trunks) {
    return make_error(Errc::InvalidArgument,
                      "a tag and trunks together need a vlan mode (native-untagged or "
                      "native-tagged)");
  }
  if (tag != 0) return VlanMode::Access;
  if (has_trunks) return VlanMode::Trunk;
  return VlanMode::None;
}

Status validate_vlan_config(const VlanConfig& c) {
  if (c.tag != 0 && (c.tag < kMinVid || c.tag > kMaxVid)) {
    return make_error(Errc::InvalidArgument, "tag {} is outside the VLAN ids {}..{}", c.tag,
                      kMinVid, kMaxVid);
  }
  for (uint16_t v : c.trunks) {
    if (v < kMinVid || v > kMaxVid) {
      return make_error(Errc::InvalidArgument, "trunk VLAN {} is outside the VLAN ids {}..{}", v,
                        kMinVid, kMaxVid);
    }
  }
  switch (c.mode) {
    case VlanMode::None:
      if (c.tag != 0 || !c.trunks.empty()) {
        return make_error(Errc::InvalidArgument, "a port without vlan mode has no tag or trunks");
      }
      break;
    case VlanMode::Access:
      if (c.tag == 0) return make_error(Errc::InvalidArgument, "an access port needs a tag");
      if (!c.trunks.empty()) {
        return make_error(Errc::InvalidArgument, "an access port carries no trunks (tag {} only)",
                          c.tag);
      }
      break;
    case VlanMode::Trunk:
      if (c.tag != 0) {
        return make_error(Errc::InvalidArgument,
                          "a trunk port has no tag (use native-untagged or native-tagged for a "
                          "native VLAN)");
      }
      break;
    case VlanMode::NativeUntagged:
    case VlanMode::NativeTagged:
      if (c.tag == 0) {
        return make_error(Errc::InvalidArgument, "a {} port needs a tag (its native VLAN)",
                          vlan_mode_name(c.mode));
      }
      break;
  }
  return ok();
}

Result<std::vector<uint16_t>> parse_vid_list(std::string_view s) {
  std::vector<uint16_t> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v < kMinVid ||
        v > kMaxVid) {
      return make_error(Errc::InvalidArgument, "'{}' is not a VLAN id in {}..{}", item, kMinVid,
                        kMaxVid);
    }
    out.push_back(static_cast<uint16_t>(v));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
    if (s.empty()) return make_error(Errc::InvalidArgument, "VLAN list ends with ','");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_vid_list(const std::vector<uint16_t>& vids) {
  std::string out;
  for (uint16_t v : vids) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

PortVlan PortVlan::from(const VlanConfig& c) noexcept {
  PortVlan v;
  v.mode = c.mode;
  v.tag = c.tag;
  v.all_trunks = c.trunks.empty();
  for (uint16_t t : c.trunks) v.trunks.set(t);
  return v;
}

namespace {
// Offload offsets count from the frame start: they move with the L2 header.
void shift_offload(Packet& p, int delta) noexcept {
  if (p.needs_csum()) p.csum_start = static_cast<uint16_t>(p.csum_start + delta);
  if (p.hdr_len != 0) p.hdr_len = static_cast<uint16_t>(p.hdr_len + delta);
}
}  // namespace

void push_vlan_tag(Packet& p, uint16_t tci) noexcept {
  p.data_off = static_cast<uint16_t>(p.data_off - kVlanTagBytes);
  std::byte* h = p.data();
  std::memmove(h, h + kVlanTagBytes, 12);  // destination and source address
  offload::store_be16(h + 12, kTpidCtag);
  offload::store_be16(h + 14, tci);
  p.len = static_cast<uint16_t>(p.len + kVlanTagBytes);
  p.frame_len += kVlanTagBytes;
  shift_offload(p, static_cast<int>(kVlanTagBytes));
}

void pop_vlan_tag(Packet& p) noexcept {
  std::byte* h = p.data();
  std::memmove(h + kVlanTagBytes, h, 12);
  p.data_off = static_cast<uint16_t>(p.data_off + kVlanTagBytes);
  p.len = static_cast<uint16_t>(p.len - kVlanTagBytes);
  p.frame_len -= kVlanTagBytes;
  shift_offload(p, -static_cast<int>(kVlanTagBytes));
}

void set_vlan_tci(Packet& p, uint16_t tci) noexcept { offload::store_be16(p.data() + 14, tci); }

}  // namespace vsw
