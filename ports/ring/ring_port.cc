// ports/ring/ring_port.cc — in-memory ports.
#include "ports/ring/ring_port.h"

#include "dataplane/buffer_ownership.h"

namespace vsw::ports::ring {

namespace {
// Frees whatever a ring still holds when its port goes away.
void drain_and_release(SpscRing<Packet*>& r) noexcept {
  Packet* pkts[PacketBatch::kMax];
  while (uint32_t n = r.pop(pkts, PacketBatch::kMax)) {
    for (uint32_t i = 0; i < n; ++i) release_packet(pkts[i]);
  }
}

uint16_t receive_from(SpscRing<Packet*>& r, Port& port, QueueCounters& c, PacketBatch& batch) noexcept {
  Packet** slots = batch.data() + batch.size();
  const uint32_t n = r.pop(slots, batch.room());
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; ++i) {
    slots[i]->in_port = port.id();
    bytes += slots[i]->frame_len;
  }
  batch.set_size(static_cast<uint16_t>(batch.size() + n));
  c.packets.add(n);
  c.bytes.add(bytes);
  return static_cast<uint16_t>(n);
}

uint16_t send_to(SpscRing<Packet*>& r, QueueCounters& c, PacketBatch& batch,
                 Mempool* pool) noexcept {
  // The ring keeps frames past this call: lent ones must become owned copies first.
  for (Packet* p : batch.packets()) {
    if (p->is_lent()) {
      make_owned(batch, pool, c);
      break;
    }
  }
  const uint32_t n = r.push(batch.data(), batch.size());
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; ++i) bytes += batch[static_cast<uint16_t>(i)]->frame_len;
  for (uint32_t i = n; i < batch.size(); ++i) release_packet(batch[static_cast<uint16_t>(i)]);
  c.packets.add(n);
  c.bytes.add(bytes);
  if (n < batch.size()) c.drop(DropReason::TxFull, batch.size() - n);
  batch.clear();
  return static_cast<uint16_t>(n);
}
}  // namespace

RingPort::RingPort(std::string name, PortId id, uint32_t ring_size, uint32_t mtu, Mempool* pool,
                   const OffloadCaps& caps)
    : Port(std::move(name), id, mtu), rx_(ring_size), tx_(ring_size), pool_(pool) {
  set_offload_caps(caps);
}

RingPort::~RingPort() {
  drain_and_release(rx_);
  drain_and_release(tx_);
}

uint16_t RingPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  return receive_from(rx_, *this, counters_.rx(q), batch);
}

uint16_t RingPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  return send_to(tx_, counters_.tx(q), batch, pool_);
}

uint32_t RingPort::inject(Packet* const* pkts, uint32_t n) noexcept { return rx_.push(pkts, n); }

uint32_t RingPort::drain(Packet** out, uint32_t max) noexcept { return tx_.pop(out, max); }

LoopbackPort::LoopbackPort(std::string name, PortId id, uint32_t ring_size, uint32_t mtu,
                           Mempool& pool)
    : Port(std::move(name), id, mtu), ring_(ring_size), pool_(pool) {
  set_offload_caps(OffloadCaps::kernel());
}

LoopbackPort::~LoopbackPort() { drain_and_release(ring_); }

uint16_t LoopbackPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  return receive_from(ring_, *this, counters_.rx(q), batch);
}

uint16_t LoopbackPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  return send_to(ring_, counters_.tx(q), batch, &pool_);
}

Result<std::unique_ptr<Port>> create_loopback(const PortSpec& spec, PortId id, PortEnv& env) {
  if (Status s = check_option_keys(spec, {"ring-size", "mtu"}); !s) return std::move(s).error();
  auto size = option_uint(spec, "ring-size", 1024, 64, 65536);
  if (!size) return std::move(size).error();
  auto mtu = option_uint(spec, "mtu", kDefaultMtu, 68, kMaxMtu);
  if (!mtu) return std::move(mtu).error();
  return std::unique_ptr<Port>(std::make_unique<LoopbackPort>(
      spec.name, id, static_cast<uint32_t>(*size), static_cast<uint32_t>(*mtu), env.pool));
}

}  // namespace vsw::ports::ring
