// bench/intel/descriptor_bench.cc — vsw's 82599 descriptor engine (ports/intel/ RxRing::receive,
// TxRing::transmit) against the 82599 model, for callgrind (bench/intel/callgrind.sh).
//
// The model's DMA runs synchronously in this thread, between the driver's bursts: `rx` puts 32
// frames of SIZE bytes into the rx ring (IxgbeModel::receive), then one rx_burst takes them;
// `tx` allocates 32 frames, one tx_burst posts them (its cleanup reclaims earlier ones), then
// IxgbeModel::transmit sends them. callgrind collects only inside RxRing::receive /
// TxRing::transmit and leaves out the model's register emulation under them (bar_read /
// bar_write), which on hardware is a single MMIO load or store.
//
// `idle` opens and closes the port without traffic: the register writes of bring-up and reset
// (IxgbeModel::bar_write outside the engine, which the toggles switch collection on for) that
// callgrind.sh subtracts from the rx and tx counts.
//
// BUFFER_BYTES: the mempool's buffer size (vswitchd --mempool-buffer-bytes), default 2048.
//
// Usage: intel_descriptor_bench rx|tx|idle FRAMES [SIZE [BUFFER_BYTES]]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/mempool.h"
#include "dataplane/packet_batch.h"
#include "ports/intel/intel_port.h"
#include "tests/models/model_pci_device.h"

using namespace vsw;

namespace {

std::vector<uint8_t> frame_of(size_t size, uint32_t seq) {
  std::vector<uint8_t> f(size, 0);
  const auto mac = tests::models::ModelPciDevice::kDefaultMac;
  std::memcpy(f.data(), mac.data(), 6);
  f[6] = 0x02;
  f[12] = 0x08;
  f[14] = 0x45;
  std::memcpy(&f[size - 4], &seq, 4);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s rx|tx|idle FRAMES [SIZE [BUFFER_BYTES]]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const long frames = std::atol(argv[2]);
  const size_t size = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64;
  const uint32_t buffer_bytes =
      argc > 4 ? static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)) : 2048;
  if ((mode != "rx" && mode != "tx" && mode != "idle") || frames <= 0 || size < 60 ||
      size > 1514 || buffer_bytes < 2048 || buffer_bytes > 16384 ||
      (buffer_bytes & (buffer_bytes - 1)) != 0) {
    std::fprintf(stderr,
                 "mode rx|tx|idle, FRAMES > 0, SIZE 60..1514, BUFFER_BYTES a power of two "
                 "2048..16384\n");
    return 2;
  }
  // Like a worker (workers bind their index at start): the thread's mempool cache, so buffer
  // alloc/release cost what they cost on the fast path, not a shared-stack lock per call.
  Mempool::bind_thread_cache(0);
  Mempool::Config c;
  c.buffers = 8192;
  c.buffer_bytes = buffer_bytes;
  c.hugepages = false;
  auto pool = Mempool::create("bench", c);
  if (!pool) return 1;
  auto dev = std::make_unique<tests::models::ModelPciDevice>();
  tests::models::IxgbeModel& model = dev->model();
  ports::intel::IntelOptions o;
  o.rx_queues = 1;
  o.workers = 1;
  auto port = ports::intel::IntelPort::open("nic0", 1, ports::intel::NicFamily::Ixgbe82599,
                                            std::move(dev), **pool, o);
  if (!port) {
    std::fprintf(stderr, "open: %s\n", port.error().message.c_str());
    return 1;
  }
  const auto f = frame_of(size, 0);
  long done = 0;
  long segments = 0;
  std::vector<std::vector<uint8_t>> wire;
  while (mode != "idle" && done < frames) {
    PacketBatch b;
    if (mode == "rx") {
      for (int i = 0; i < 32; ++i) {
        const auto r = model.receive(f);
        if (r != tests::models::RxOutcome::Delivered) return 100 + static_cast<int>(r);
      }
      const uint16_t n = (*port)->rx_burst(0, b);
      for (const Packet* p : b.packets()) {
        if (p->frame_len != size) return 3;  // the engine must deliver what the model sent
        segments += chain_length(p);
      }
      b.release_all();  // every segment: 1514-byte frames are chains of 1 KiB buffers
      done += n;
      if (n == 0) {
        std::fprintf(stderr, "rx_burst returned nothing after %ld frames\n", done);
        return 1;
      }
    } else {
      Packet* pkts[32];
      const uint16_t n = (*pool)->alloc(pkts, 32);
      for (uint16_t i = 0; i < n; ++i) {
        std::memcpy(pkts[i]->data(), f.data(), size);
        pkts[i]->len = static_cast<uint16_t>(size);
        pkts[i]->frame_len = static_cast<uint32_t>(size);
        b.push(pkts[i]);
      }
      done += (*port)->tx_burst(0, b);
      wire.clear();
      model.transmit(wire);
    }
  }
  std::printf("%s %ld frames of %zu bytes (%ld rx buffers), %zu violations\n", mode.c_str(), done,
              size, segments, model.violation_count());
  return model.violation_count() == 0 ? 0 : 1;
}
