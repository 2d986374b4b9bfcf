// dataplane/mirror.h — port mirroring (SPAN): copies of selected frames to an output port.
//
// A mirror of a bridge selects frames received on its source ports and frames the bridge sends
// to its destination ports (after the forwarding decision), optionally only those of some VLANs,
// and sends one more reference of each (or a copy, when the output port's VLAN encapsulation
// differs) to its output port. A frame goes to one output port at most once, however many
// mirrors select it. The output port receives nothing else: the bridge drops what it receives
// (counted as DropReason::Vlan: it carries no VLAN), never learns on it and never floods or
// forwards to it. A bridge with a mirror forwards through the VLAN-aware path (bridge.h).
//
// Threads: the control thread builds a Mirror and hands it to the published Topology; workers
// only read the selection and add to their own counters.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/packet.h"
#include "dataplane/port_counters.h"

namespace vsw {

class Bridge;

// A mirror as configured (names), for the Switch API.
struct MirrorConfig {
  std::string name;
  std::vector<std::string> src_ports;  // frames received on these
  std::vector<std::string> dst_ports;  // frames sent to these
  std::vector<uint16_t> vlans;         // only frames of these VLANs; empty = every VLAN
  std::string output_port;
  bool operator==(const MirrorConfig&) const = default;
};

struct MirrorCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

class Mirror {
 public:
  static constexpr uint16_t kMaxWorkers = 64;

  Mirror(MirrorConfig cfg, Bridge* bridge, PortId output) noexcept
      : cfg_(std::move(cfg)), bridge_(bridge), output_(output) {}
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  // --- control thread, before the mirror is published -----------------------------------------
  void set_bridge(Bridge* b) noexcept { bridge_ = b; }
  // Adds `c` (the totals of the mirror this one replaces) to what counters() reports.
  void inherit(const MirrorCounters& c) noexcept { inherited_ = c; }
  void select_src(PortId p) noexcept { src_.set(p); }
  void select_dst(PortId p) noexcept { dst_.set(p); }
  void select_vlan(uint16_t v) noexcept {
    vlans_.set(v);
    all_vlans_ = false;
  }

  // --- fast path: any worker --------------------------------------------------------------------
  PortId output() const noexcept { return output_; }
  bool selects_src(PortId p) const noexcept { return src_.test(p); }
  bool selects_dst(PortId p) const noexcept { return dst_.test(p); }
  bool selects_vlan(uint16_t v) const noexcept { return all_vlans_ || vlans_.test(v); }
  // `worker` (< kMaxWorkers) as for Bridge::forward: one writer per index.
  void count(uint16_t worker, uint64_t packets, uint64_t bytes) const noexcept {
    WorkerCounters& c = per_worker_[worker % kMaxWorkers];
    c.packets.add(packets);
    c.bytes.add(bytes);
  }

  // --- control thread -------------------------------------------------------------------------
  const MirrorConfig& config() const noexcept { return cfg_; }
  Bridge* bridge() const noexcept { return bridge_; }
  MirrorCounters counters() const noexcept {
    MirrorCounters s = inherited_;
    for (const WorkerCounters& c : per_worker_) {
      s.packets += c.packets.get();
      s.bytes += c.bytes.get();
    }
    return s;
  }

 private:
  struct alignas(64) WorkerCounters {
    Counter packets, bytes;
  };
  MirrorConfig cfg_;
  Bridge* bridge_;
  PortId output_;
  bool all_vlans_ = true;
  MirrorCounters inherited_;
  std::bitset<kMaxPorts> src_, dst_;
  std::bitset<4096> vlans_;
  mutable std::array<WorkerCounters, kMaxWorkers> per_worker_{};  // one writer per index
};

}  // namespace vsw
