// ports/ring/ring_port.h — in-memory ports for tests and benchmarks.
//
//   test / bench thread                 worker
//   inject() --> [ rx SpscRing ] --> rx_burst()
//   drain()  <-- [ tx SpscRing ] <-- tx_burst()
//
// RingPort: frames injected by one outside thread are received by the worker; frames the switch
// transmits are parked until that thread drains them (a full tx ring drops with TxFull). No
// kernel, no copies of owned frames: the ring holds Packet pointers. Single queue.
// LoopbackPort (type "loopback"): transmitted frames come back as received frames.
//
// Both keep frames after tx_burst() returns, so by the ownership contract (dataplane/port.h)
// they replace lent frames (memif, vhost-user) by owned copies from their pool before parking
// them (dataplane/buffer_ownership.h); without a pool, lent frames are dropped (NoBuffer).
// Both take super-frames and partial checksums as they are (they only hand frames on), unless a
// RingPort is made with other OffloadCaps.
#pragma once

#include <memory>

#include "common/spsc_ring.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/port_factory.h"

namespace vsw::ports::ring {

class RingPort final : public Port {
 public:
  // `caps`: what the port claims to take (tests use it to stand for a port with or without
  // offloads).
  RingPort(std::string name, PortId id, uint32_t ring_size = 1024, uint32_t mtu = kDefaultMtu,
           Mempool* pool = nullptr, const OffloadCaps& caps = OffloadCaps::kernel());
  ~RingPort() override;

  std::string_view type() const noexcept override { return "ring"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;
  LinkState link_state() const noexcept override { return LinkState::Up; }

  // --- the one outside producer/consumer thread ------------------------------------------------
  // Queues frames for the switch to receive; returns how many fit (the caller keeps the rest).
  uint32_t inject(Packet* const* pkts, uint32_t n) noexcept;
  // Takes frames the switch transmitted; the caller owns (and must release) them.
  uint32_t drain(Packet** out, uint32_t max) noexcept;

 private:
  SpscRing<Packet*> rx_;
  SpscRing<Packet*> tx_;
  Mempool* pool_;
};

class LoopbackPort final : public Port {
 public:
  LoopbackPort(std::string name, PortId id, uint32_t ring_size, uint32_t mtu, Mempool& pool);
  ~LoopbackPort() override;

  std::string_view type() const noexcept override { return "loopback"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;
  LinkState link_state() const noexcept override { return LinkState::Up; }

 private:
  // Producers are workers holding the tx-queue lock; the consumer is the rx-queue owner.
  SpscRing<Packet*> ring_;
  Mempool& pool_;
};

// Factory entry for type "loopback": options ring-size (default 1024), mtu.
Result<std::unique_ptr<Port>> create_loopback(const PortSpec& spec, PortId id, PortEnv& env);

}  // namespace vsw::ports::ring
