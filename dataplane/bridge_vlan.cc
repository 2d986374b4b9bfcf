// dataplane/bridge_vlan.cc — the VLAN-aware forwarding path and port mirroring (bridge.h):
// classify by ingress port, learn and look up under (VLAN, MAC), send within the VLAN with the
// encapsulation each destination wants, and copy selected frames to mirror output ports.
#include <array>
#include <bit>
#include <cstring>

#include "common/ether.h"
#include "dataplane/bridge.h"
#include "dataplane/buffer_ownership.h"
#include "dataplane/mempool.h"
#include "dataplane/offload/bytes.h"
#include "dataplane/vlan.h"

namespace vsw {

namespace {

// How a frame leaves a port, relative to how it arrived.
enum Form : uint8_t { kAsReceived = 0, kUntagged = 1, kTagged = 2, kForms = 3 };

// One received frame's VLAN facts.
struct Ingress {
  bool tagged = false;   // carries an 802.1Q tag (TPID 0x8100)
  uint16_t tci = 0;      // as received
  uint16_t vlan = 0;     // the VLAN it was classified into
  uint16_t out_tci = 0;  // the TCI of its tagged form: PCP and DEI as received, VID = vlan
};

Form form_for(const Ingress& in, bool egress_tagged) noexcept {
  if (egress_tagged) return in.tagged && in.tci == in.out_tci ? kAsReceived : kTagged;
  return in.tagged ? kUntagged : kAsReceived;
}

// True when `p` may be turned into form `f` in place: owned, held alone, and with headroom for a
// pushed tag.
bool writable_for(const Packet& p, const Ingress& in, Form f) noexcept {
  if (p.is_lent() || p.refs.load(std::memory_order_acquire) != 1) return false;
  return f != kTagged || in.tagged || p.data_off >= kVlanTagBytes;
}

void convert(Packet& p, const Ingress& in, Form f) noexcept {
  if (f == kUntagged) {
    pop_vlan_tag(p);
  } else if (in.tagged) {
    set_vlan_tci(p, in.out_tci);  // a priority tag (VID 0) gets the VLAN; PCP and DEI stay
  } else {
    push_vlan_tag(p, in.out_tci);
  }
}

}  // namespace

void Bridge::forward_vlan(uint16_t worker, PortId ingress, PacketBatch& in,
                          const BridgeView& view, const Topology& topo, TxBatcher& out,
                          QueueCounters& rxq, uint64_t now_tsc) noexcept {
  uint64_t unicast = 0, flooded = 0, hairpin = 0, mirrored = 0;
  uint64_t runts = 0, vlan_drops = 0, no_buffer = 0;
  const PortVlan* const iv = topo.vlan[ingress];
  // The last learn and lookup of this burst, as in forward_unaware(), per VLAN.
  uint64_t prev_src = ~0ull, prev_dst = ~0ull;
  uint16_t prev_src_vlan = kVlanDrop, prev_dst_vlan = kVlanDrop;
  PortId prev_to = kNoPort;
  // One frame's destinations (ports carrying its VLAN, then mirror outputs) and their forms.
  std::array<PortId, kMaxPorts> dest;
  std::array<uint8_t, kMaxPorts> form;
  const uint16_t n = in.size();
  Packet* const* const pkts = in.data();
  for (uint16_t i = 0; i < n; ++i) {
    Packet* p = pkts[i];
    if (p->len < kEtherHeaderBytes) {
      release_packet(p);
      ++runts;
      continue;
    }
    if (iv == nullptr || iv->mirror_output) {  // a mirror output port takes no part in forwarding
      release_packet(p);
      ++vlan_drops;
      continue;
    }
    // 802.1Q §9.6: TPID after the source address, then PCP (3) DEI (1) VID (12).
    const std::byte* h = p->data();
    Ingress ing;
    ing.tagged = offload::load_be16(h + 12) == kTpidCtag;
    if (ing.tagged && p->len < kTaggedHeaderBytes) {
      release_packet(p);
      ++runts;
      continue;
    }
    ing.tci = ing.tagged ? offload::load_be16(h + 14) : 0;
    ing.vlan = iv->classify(ing.tagged, ing.tci & 0x0FFF);
    if (ing.vlan == kVlanDrop) {
      release_packet(p);
      ++vlan_drops;
      continue;
    }
    ing.out_tci = static_cast<uint16_t>((ing.tci & 0xF000) | ing.vlan);

    static_assert(std::endian::native == std::endian::little, "address words are little-endian");
    uint64_t w_dst, w_src;
    std::memcpy(&w_dst, h, 8);
    std::memcpy(&w_src, h + 6, 8);
    if (w_src != prev_src || ing.vlan != prev_src_vlan) {
      prev_src = w_src;
      prev_src_vlan = ing.vlan;
      const MacAddress src = MacAddress::from_u64(__builtin_bswap64(w_src) >> 16);
      const Fdb::Learn learned = fdb_.learn(src, ingress, now_tsc, ing.vlan);
      if (learned == Fdb::Learn::Learned || learned == Fdb::Learn::Moved) prev_dst = ~0ull;
    }

    uint16_t nd = 0;
    bool known_unicast = false;
    if ((w_dst & 1) == 0) {  // I/G bit clear: unicast (IEEE 802 §8.2)
      if (w_dst != prev_dst || ing.vlan != prev_dst_vlan) {
        prev_dst = w_dst;
        prev_dst_vlan = ing.vlan;
        const MacAddress dst = MacAddress::from_u64(__builtin_bswap64(w_dst) >> 16);
        prev_to = fdb_.lookup(dst, ing.vlan);
        // Gone from the topology, or no longer carrying the VLAN (reconfigured): flood.
        if (prev_to != kNoPort && prev_to != ingress &&
            (topo.ports[prev_to] == nullptr || topo.vlan[prev_to] == nullptr ||
             !topo.vlan[prev_to]->carries(ing.vlan))) {
          prev_to = kNoPort;
        }
      }
      if (prev_to == ingress) {
        release_packet(p);
        ++hairpin;
        continue;
      }
      if (prev_to != kNoPort && view.mirrors.empty()) {
        // The common case: one destination and no mirror. As received, or changed in place.
        const Form f = form_for(ing, topo.vlan[prev_to]->egress_tagged(ing.vlan));
        ++unicast;
        if (f == kAsReceived || writable_for(*p, ing, f)) {
          if (f != kAsReceived) convert(*p, ing, f);
          out.push(prev_to, p);
          continue;
        }
        dest[nd++] = prev_to;  // shared or lent: the copy below
        known_unicast = true;
        --unicast;
      } else if (prev_to != kNoPort) {
        dest[nd++] = prev_to;
        known_unicast = true;
      }
    }
    if (!known_unicast) {  // flood inside the VLAN
      for (PortId m : view.members) {
        if (m == ingress) continue;
        const PortVlan* mv = topo.vlan[m];
        if (mv != nullptr && mv->carries(ing.vlan)) dest[nd++] = m;
      }
    }
    // Mirrors: frames received on a source port or sent to a destination port, in a selected
    // VLAN; one reference per output port however many mirrors select the frame.
    uint16_t nm = nd;
    for (const Mirror* m : view.mirrors) {
      if (!m->selects_vlan(ing.vlan)) continue;
      bool selected = m->selects_src(ingress);
      for (uint16_t k = 0; k < nd && !selected; ++k) selected = m->selects_dst(dest[k]);
      if (!selected) continue;
      const PortId o = m->output();
      if (o == ingress || topo.ports[o] == nullptr || topo.vlan[o] == nullptr) continue;
      bool dup = false;
      for (uint16_t k = nd; k < nm; ++k) dup |= dest[k] == o;
      if (dup) continue;
      dest[nm++] = o;
      m->count(worker, 1, p->frame_len);
    }
    mirrored += nm - nd;
    if (known_unicast) {
      ++unicast;
    } else {
      ++flooded;
    }
    if (nm == 0) {
      release_packet(p);
      continue;
    }

    // Encapsulation per destination; at most two forms besides the frame as received.
    std::array<uint16_t, kForms> uses{};
    for (uint16_t k = 0; k < nm; ++k) {
      const Form f = form_for(ing, topo.vlan[dest[k]]->egress_tagged(ing.vlan));
      form[k] = f;
      ++uses[f];
    }
    std::array<Packet*, kForms> by_form{p, nullptr, nullptr};
    // The frame itself becomes one of the other forms when nobody wants it as received and the
    // bridge may write it; that conversion comes last, after the copies were taken from it.
    Form in_place = kAsReceived;
    if (uses[kAsReceived] == 0) {
      for (Form f : {kTagged, kUntagged}) {
        if (uses[f] != 0 && in_place == kAsReceived && writable_for(*p, ing, f)) in_place = f;
      }
    }
    for (Form f : {kUntagged, kTagged}) {
      if (uses[f] == 0 || f == in_place) continue;
      Packet* c = pool_ != nullptr ? copy_frame(*p, *pool_) : nullptr;
      if (c != nullptr && writable_for(*c, ing, f)) {
        convert(*c, ing, f);
      } else if (c != nullptr) {
        release_packet(c);
        c = nullptr;
      }
      if (c == nullptr) no_buffer += uses[f];
      by_form[f] = c;
    }
    if (in_place != kAsReceived) {
      convert(*p, ing, in_place);
      by_form[in_place] = p;
    }
    std::array<bool, kForms> handed{};
    for (uint16_t k = 0; k < nm; ++k) {
      Packet* q = by_form[form[k]];
      if (q == nullptr) continue;
      if (handed[form[k]]) retain_packet(q);  // the first destination takes the reference
      handed[form[k]] = true;
      out.push(dest[k], q);
    }
    if (uses[kAsReceived] == 0 && in_place == kAsReceived) release_packet(p);
  }
  in.clear();
  if (runts != 0) rxq.drop(DropReason::Invalid, runts);
  if (vlan_drops != 0) rxq.drop(DropReason::Vlan, vlan_drops);
  if (no_buffer != 0) rxq.drop(DropReason::NoBuffer, no_buffer);
  WorkerCounters& wc = per_worker_[worker % kMaxWorkers];
  if (unicast != 0) wc.unicast.add(unicast);
  if (flooded != 0) wc.flooded.add(flooded);
  if (hairpin != 0) wc.hairpin_drops.add(hairpin);
  if (mirrored != 0) wc.mirrored.add(mirrored);
}

}  // namespace vsw
