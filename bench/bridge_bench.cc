// bench/bridge_bench.cc — the bridge fast path alone: learn + lookup + per-destination grouping
// of 64-byte frames, as Worker::poll_once runs it, without any port I/O.
//
// Scenarios: {2, 64} ports x {2 stations, 1M stations}. Every station is learned up front and
// sits behind port (station % ports); each ingress batch of 32 frames comes from port 0 and
// goes to stations behind other ports (known unicast, the common case). Frames are recycled,
// never freed, so the figure is the bridge's own cost.
//
// VLAN scenarios (VlanChain): one bulk flow through two bridges in a row, A (ports 0, 1) and B
// (ports 2, 3): A's output batch for port 1 enters B on port 2 and leaves on port 3, so frames
// come back to their original bytes and can be recycled. VLAN settings: "unaware" (none: the
// baseline), "access" (all four ports access VLAN 10: classification, no tag change) and
// "pushpop" (0 access 10, 1 trunk, 2 trunk, 3 access 10: A pushes a tag, B pops it, in place).
//
// Modes:
//   bridge_bench [google-benchmark flags]      frames/s per scenario
//   bridge_bench --frames N PORTS STATIONS     forwards exactly N frames and exits; used by
//                                              bench/bridge_callgrind.sh to count instructions
//   bridge_bench --vlan-frames N MODE          the same for a VlanChain (MODE as above)
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/bridge.h"
#include "dataplane/mempool.h"
#include "dataplane/vlan.h"
#include "ports/ring/ring_port.h"

namespace vsw {
namespace {

MacAddress station_mac(uint64_t i) { return MacAddress::from_u64(0x020000000000ull | (i + 1)); }

class Scenario {
 public:
  Scenario(uint32_t ports, uint32_t stations) {
    pool_ = Mempool::create("bench", Mempool::Config{4096, 2048, false}).value();
    Fdb::Config fcfg{stations < 8192 ? 8192 : stations, 1ull << 40, 1};
    bridge_ = std::make_unique<Bridge>("br0", fcfg);
    std::vector<Topology::PortPlacement> placements;
    for (uint32_t i = 0; i < ports; ++i) {
      ports_.push_back(std::make_unique<ports::ring::RingPort>("p" + std::to_string(i),
                                                                static_cast<PortId>(i)));
      placements.push_back({ports_.back().get(), bridge_.get()});
    }
    topo_ = Topology::build(placements, {bridge_.get()}, 1);
    for (uint32_t s = 0; s < stations; ++s) {
      bridge_->fdb().learn(station_mac(s), static_cast<PortId>(s % ports), 0);
    }
    // 64 pre-built batches of 32 frames: src behind port 0, dst behind any other port.
    std::mt19937_64 rng(42);
    const uint32_t src_choices = (stations + ports - 1) / ports;
    for (uint32_t f = 0; f < kFrames; ++f) {
      Packet* p = nullptr;
      pool_->alloc(&p, 1);
      uint64_t src = (rng() % src_choices) * ports;
      if (src >= stations) src = 0;
      uint64_t dst = rng() % stations;
      if (dst % ports == 0) dst = (dst + 1) % stations;
      if (dst % ports == 0) dst = 1;
      station_mac(dst).to_bytes(p->data());
      station_mac(src).to_bytes(p->data() + 6);
      p->len = p->frame_len = 64;
      frames_.push_back(p);
    }
  }

  // Forwards one batch of 32; returns frames forwarded.
  uint32_t run_batch(uint64_t now) noexcept {
    PacketBatch in;
    for (uint32_t i = 0; i < PacketBatch::kMax; ++i) in.push(frames_[(next_ + i) % kFrames]);
    next_ = (next_ + PacketBatch::kMax) % kFrames;
    bridge_->forward(0, 0, in, *topo_->bridges[0], *topo_, out_, ports_[0]->counters().rx(0), now);
    uint32_t sent = 0;
    out_.flush([&](PortId, PacketBatch& b) noexcept {
      sent += b.size();
      b.clear();  // recycled: the frames stay owned by the scenario
    });
    return sent;
  }

 private:
  static constexpr uint32_t kFrames = 2048;
  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<Bridge> bridge_;
  std::vector<std::unique_ptr<ports::ring::RingPort>> ports_;
  std::unique_ptr<Topology> topo_;
  std::vector<Packet*> frames_;
  TxBatcher out_;
  uint32_t next_ = 0;
};

class VlanChain {
 public:
  enum Mode { kUnaware = 0, kAccess = 1, kPushPop = 2 };
  explicit VlanChain(Mode mode) {
    pool_ = Mempool::create("bench", Mempool::Config{4096, 2048, false}).value();
    const Fdb::Config fcfg{8192, 1ull << 40, 1};
    for (int b = 0; b < 2; ++b) bridges_[b] = std::make_unique<Bridge>("br", fcfg, pool_.get());
    const VlanConfig access{VlanMode::Access, 10, {}}, trunk{VlanMode::Trunk, 0, {}};
    if (mode == kAccess) vlans_ = {access, access, access, access};
    if (mode == kPushPop) vlans_ = {access, trunk, trunk, access};
    const uint16_t vid = mode == kUnaware ? 0 : 10;
    std::vector<Topology::PortPlacement> placements;
    for (PortId i = 0; i < 4; ++i) {
      ports_.push_back(std::make_unique<ports::ring::RingPort>("p" + std::to_string(i), i));
      placements.push_back({ports_.back().get(), bridges_[i / 2].get(), &vlans_[i]});
    }
    topo_ = Topology::build(placements, {bridges_[0].get(), bridges_[1].get()}, 1);
    // Station 1 behind port 0 (and 2), station 2 behind port 1 (and 3).
    bridges_[0]->fdb().learn(station_mac(1), 0, 0, vid);
    bridges_[0]->fdb().learn(station_mac(2), 1, 0, vid);
    bridges_[1]->fdb().learn(station_mac(1), 2, 0, vid);
    bridges_[1]->fdb().learn(station_mac(2), 3, 0, vid);
    for (uint32_t f = 0; f < PacketBatch::kMax; ++f) {
      Packet* p = nullptr;
      pool_->alloc(&p, 1);
      station_mac(2).to_bytes(p->data());
      station_mac(1).to_bytes(p->data() + 6);
      p->data()[12] = std::byte{0x08};
      p->data()[13] = std::byte{0x00};
      p->len = p->frame_len = 64;
      frames_.push_back(p);
    }
  }

  // One batch of 32 through both bridges; returns the frames that came out of port 3.
  uint32_t run_batch(uint64_t now) noexcept {
    PacketBatch in;
    for (Packet* p : frames_) in.push(p);
    const Topology& t = *topo_;
    uint32_t sent = 0;
    bridges_[0]->forward(0, 0, in, *t.bridges[0], t, out_a_, ports_[0]->counters().rx(0), now);
    out_a_.flush([&](PortId, PacketBatch& b) noexcept {
      bridges_[1]->forward(0, 2, b, *t.bridges[1], t, out_b_, ports_[2]->counters().rx(0), now);
      out_b_.flush([&](PortId, PacketBatch& c) noexcept {
        sent += c.size();
        c.clear();  // recycled: the frames stay owned by the chain
      });
    });
    return sent;
  }

 private:
  std::unique_ptr<Mempool> pool_;
  std::array<std::unique_ptr<Bridge>, 2> bridges_;
  std::array<VlanConfig, 4> vlans_{};
  std::vector<std::unique_ptr<ports::ring::RingPort>> ports_;
  std::unique_ptr<Topology> topo_;
  std::vector<Packet*> frames_;
  TxBatcher out_a_, out_b_;
};

void BM_VlanChain(benchmark::State& state) {
  VlanChain chain(static_cast<VlanChain::Mode>(state.range(0)));
  uint64_t frames = 0, now = 1;
  for (auto _ : state) frames += chain.run_batch(++now);
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(frames));
}
BENCHMARK(BM_VlanChain)->ArgName("mode")->Arg(VlanChain::kUnaware)->Arg(VlanChain::kAccess)
    ->Arg(VlanChain::kPushPop);

void BM_BridgeForward(benchmark::State& state) {
  Scenario sc(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  uint64_t frames = 0, now = 1;
  for (auto _ : state) {
    frames += sc.run_batch(++now);
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(frames));
}
BENCHMARK(BM_BridgeForward)
    ->ArgNames({"ports", "stations"})
    ->Args({2, 2})
    ->Args({2, 1 << 20})
    ->Args({64, 2})
    ->Args({64, 1 << 20});

}  // namespace
}  // namespace vsw

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--frames") == 0) {
    const uint64_t n = std::strtoull(argv[2], nullptr, 10);
    vsw::Scenario sc(static_cast<uint32_t>(std::atoi(argv[3])), static_cast<uint32_t>(std::atoi(argv[4])));
    uint64_t sent = 0;
    for (uint64_t i = 0; i < n / vsw::PacketBatch::kMax; ++i) sent += sc.run_batch(i + 1);
    std::printf("forwarded %llu frames\n", static_cast<unsigned long long>(sent));
    return sent == n / vsw::PacketBatch::kMax * vsw::PacketBatch::kMax ? 0 : 1;
  }
  if (argc == 4 && std::strcmp(argv[1], "--vlan-frames") == 0) {
    const uint64_t n = std::strtoull(argv[2], nullptr, 10);
    const std::string m = argv[3];
    const auto mode = m == "pushpop" ? vsw::VlanChain::kPushPop
                      : m == "access" ? vsw::VlanChain::kAccess : vsw::VlanChain::kUnaware;
    vsw::VlanChain chain(mode);
    uint64_t sent = 0;
    for (uint64_t i = 0; i < n / vsw::PacketBatch::kMax; ++i) sent += chain.run_batch(i + 1);
    std::printf("forwarded %llu frames\n", static_cast<unsigned long long>(sent));
    return sent == n / vsw::PacketBatch::kMax * vsw::PacketBatch::kMax ? 0 : 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
