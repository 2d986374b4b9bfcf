// dataplane/port_counters.h — per-port, per-queue counters and drop reasons.
// Each queue's counters have a single writer (the worker owning that rx queue, or the worker
// holding the tx-queue lock); readers on the control thread sum them with relaxed loads. Counters
// are cache-line aligned per queue so workers never share a line.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace vsw {

enum class DropReason : uint8_t {
  NoBuffer,   // mempool or peer ring had no free buffer
  TxFull,     // transmit queue full
  Mtu,        // frame larger than the port's MTU allows
  Invalid,    // malformed frame or descriptor from a peer
  Vlan,       // 802.1Q: a VLAN the port does not carry (or received on a mirror output port)
  Count,
};

constexpr std::string_view drop_reason_name(DropReason r) noexcept {
  switch (r) {
    case DropReason::NoBuffer: return "no_buffer";
    case DropReason::TxFull: return "tx_full";
    case DropReason::Mtu: return "mtu";
    case DropReason::Invalid: return "invalid";
    case DropReason::Vlan: return "vlan";
    case DropReason::Count: break;
  }
  return "?";
}

// One writer; add() is a relaxed load + store, not an atomic RMW.
class Counter {
 public:
  void add(uint64_t n) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct alignas(64) QueueCounters {
  Counter packets;
  Counter bytes;
  std::array<Counter, static_cast<size_t>(DropReason::Count)> drops;
  void drop(DropReason r, uint64_t n = 1) noexcept { drops[static_cast<size_t>(r)].add(n); }
};

// A plain snapshot for the control thread.
struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::Count)> rx_drops{};
  std::array<uint64_t, static_cast<size_t>(DropReason::Count)> tx_drops{};
};

class PortCounters {
 public:
  static constexpr uint16_t kMaxQueues = 64;

  QueueCounters& rx(uint16_t q) noexcept { return rx_[q % kMaxQueues]; }
  QueueCounters& tx(uint16_t q) noexcept { return tx_[q % kMaxQueues]; }
  const QueueCounters& rx(uint16_t q) const noexcept { return rx_[q % kMaxQueues]; }
  const QueueCounters& tx(uint16_t q) const noexcept { return tx_[q % kMaxQueues]; }

  PortStats snapshot() const noexcept {
    PortStats s;
    for (uint16_t q = 0; q < kMaxQueues; ++q) {
      s.rx_packets += rx_[q].packets.get();
      s.rx_bytes += rx_[q].bytes.get();
      s.tx_packets += tx_[q].packets.get();
      s.tx_bytes += tx_[q].bytes.get();
      for (size_t r = 0; r < s.rx_drops.size(); ++r) {
        s.rx_drops[r] += rx_[q].drops[r].get();
        s.tx_drops[r] += tx_[q].drops[r].get();
      }
    }
    return s;
  }

 private:
  std::array<QueueCounters, kMaxQueues> rx_{};
  std::array<QueueCounters, kMaxQueues> tx_{};
};

}  // namespace vsw
