// dataplane/fdb.h — a bridge's MAC table (forwarding database), keyed by (VLAN, MAC).
//
// IEEE 802.1Q §8.8 (independent VLAN learning): every VLAN has its own filtering database, so
// the same MAC on two VLANs is two stations. A VLAN-unaware bridge uses VLAN 0 throughout.
//
// Design (after Snabb's fixed-bucket mac_table and OVS mac-learning.h):
//  * Open addressing over a power-of-two array of at least 2 * max_entries slots, so the load
//    factor stays at or below one half. A MAC is looked for in a window of kProbe consecutive
//    slots starting at its hash.
//  * Each slot is a 64-bit atomic key word, VLAN (12 bits) << 48 | MAC (48 bits), and beside it
//    (same 16-byte slot, same cache line) the atomic port. 0 marks an empty slot
//    (00:00:00:00:00:00 is never learned); all-ones marks a deleted slot (a VLAN id has 12
//    bits), reusable by later inserts. A key never changes while its slot holds it: a station
//    move is a compare-and-swap of the port alone. An insert stores the port (release) before
//    it publishes the key; a lookup reads key, port (acquire), then the key again and trusts the
//    port only when the key is unchanged, so a slot freed and reused for another station between
//    the two reads can never hand out the other station's port (which may sit in another VLAN).
//  * A parallel array holds when each entry was last seen (ticks, relaxed). Workers refresh it
//    at most once per second of ticks so busy stations do not bounce cache lines between cores.
//  * learn() and lookup() run on any worker without locks; expire(), flush*() and snapshot()
//    run on the control thread. The control thread turns entries into deleted slots, and then
//    deleted slots back into empty ones wherever no entry lies behind them (reclaim), so after
//    churn a miss again stops at the first empty slot instead of reading the whole window.
//  * Invariants: a MAC is stored at most once; no entry sits beyond an empty slot of its window.
//    A worker inserting a new MAC re-reads its window after the store and withdraws or erases
//    a duplicate made by a concurrent insert, or its own entry when a reclaim emptied a slot in
//    front of it (fdb.cc, Fdb::insert). A lookup racing such a fix-up may miss once: the frame
//    is flooded, as for any unknown destination.
//  * Cost: a lookup and a learn of a known station (the per-frame work) read the window up to the
//    match, as before; only the insert of a new station re-reads the window (16 loads).
//
// When full: learn() returns Learn::TableFull once `max_entries` are present (or, very rarely,
// when the MAC's probe window has no free slot); the frame is still forwarded (its destination
// lookups fail, so replies to that station are flooded) and FdbStats::full_drops counts the
// refusal. Existing entries are never evicted to make room: aging frees slots.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/ether.h"
#include "dataplane/packet.h"

namespace vsw {

struct FdbEntry {
  MacAddress mac;
  uint16_t vlan = 0;  // 0 in a VLAN-unaware bridge
  PortId port = kNoPort;
  uint64_t last_seen = 0;  // ticks
};

struct FdbStats {
  uint32_t entries = 0;
  uint32_t max_entries = 0;
  uint64_t learned = 0;     // new entries
  uint64_t moved = 0;       // station moves
  uint64_t aged = 0;        // entries removed by aging
  uint64_t full_drops = 0;  // learn attempts refused because the table was full
};

class Fdb {
 public:
  struct Config {
    uint32_t max_entries = 8192;
    uint64_t aging_ticks = 300;     // entries older than this expire
    uint64_t ticks_per_second = 1;  // resolution of `now` (e.g. tsc_hz()); 1 for tests in seconds
  };
  enum class Learn : uint8_t { Refreshed, Learned, Moved, TableFull, Ignored };
  static constexpr uint32_t kProbe = 16;

  explicit Fdb(const Config& cfg);
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // --- any worker, lock-free ---------------------------------------------------------------------
  // Records that `src` was seen on `port` at `now` in VLAN `vlan` (0..4095). Multicast and zero
  // sources are Ignored.
  Learn learn(MacAddress src, PortId port, uint64_t now, uint16_t vlan = 0) noexcept;
  // The port `dst` was last seen on in VLAN `vlan`, or kNoPort.
  PortId lookup(MacAddress dst, uint16_t vlan = 0) const noexcept;

  // --- control thread ----------------------------------------------------------------------------
  // Removes entries not seen for aging_ticks; returns how many. Like the flushes, then reclaims
  // the deleted slots nothing lies behind (one more pass over the table, only when it has any).
  uint32_t expire(uint64_t now);
  void flush();
  void flush_port(PortId port);
  std::vector<FdbEntry> snapshot() const;
  FdbStats stats() const noexcept;
  const Config& config() const noexcept { return cfg_; }
  // Changes aging only (the table size is fixed per Fdb; the bridge rebuilds it to resize).
  void set_aging_ticks(uint64_t ticks) noexcept { aging_ticks_.store(ticks, std::memory_order_relaxed); }

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kDeleted = ~0ull;
  static uint64_t make_key(MacAddress mac, uint16_t vlan) noexcept {
    return static_cast<uint64_t>(vlan & 0xFFF) << 48 | mac.u64();
  }
  static MacAddress key_mac(uint64_t key) noexcept { return MacAddress::from_u64(key); }
  static uint16_t key_vlan(uint64_t key) noexcept { return static_cast<uint16_t>(key >> 48); }
  static constexpr size_t kNone = SIZE_MAX;
  struct alignas(16) Slot {
    std::atomic<uint64_t> key;
    std::atomic<uint32_t> port;
  };
  struct Probe {
    size_t match = kNone;      // slot holding the key
    size_t free_slot = kNone;  // first empty or deleted slot of the window before the match
  };
  static constexpr Learn kRetry = Learn::Ignored;  // insert(): start again from the probe
  size_t home(uint64_t key) const noexcept;
  Probe probe(uint64_t key) const noexcept;
  Learn insert(uint64_t key, PortId port, uint64_t now, size_t slot) noexcept;
  bool erase_slot(size_t i, uint64_t expected) noexcept;
  bool covered(size_t t) const noexcept;
  uint32_t reclaim() noexcept;
  friend struct FdbTestPeer;

  Config cfg_;
  std::atomic<uint64_t> aging_ticks_;
  uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::atomic<uint64_t>[]> seen_;
  std::atomic<uint32_t> count_{0};
  std::atomic<uint64_t> learned_{0}, moved_{0}, aged_{0}, full_drops_{0};
};

}  // namespace vsw
