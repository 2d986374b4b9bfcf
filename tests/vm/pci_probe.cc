// tests/vm/pci_probe.cc — a test helper run inside QEMU guests by tests/vm/test_pci_layer.py:
// takes one PCI function through ports/pci's open_device(), prints what the layer sees, maps
// DMA memory, optionally holds the device until a FIFO is written, then releases it.
//
//   pci_probe BDF uio|vfio [--huge] [--hold FIFO] [--tx N] [--file-io] [--also BDF2]
//
// Output, one "key=value ..." line per fact:
//   opened bdf=.. path=.. vendor=1af4 device=1000 previous=virtio-pci command=0x0007
//   bar index=N size=.. io=0|1 mapped=0|1            (each present BAR)
//   mac=52:54:00:..                                    (virtio-net config, read through a BAR)
//   dma region=N va=0x.. dma=0x.. expect=0x..          (expect: pagemap or IOVA rule)
//   dma outside=0x0                                    (a pointer in no region)
//   irq fd=N
//   also bdf=.. dma=0x..                               (--also: a second device maps region 0
//                                                       too, then is closed before --tx runs)
//   tx frames=N interrupts=N                           (--tx N: virtio_tx_check.h)
//   holding                                            (--hold: then blocks reading FIFO)
//   released driver=<driver now bound>
// --file-io: I/O BARs by pread/pwrite instead of in/out (PciPaths::port_io = false).
// Exit 0, or 2 with "error: <errc>: <message>" when the layer refuses.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/log.h"
#include "ports/pci/pci_device.h"
#include "ports/pci/pci_environment.h"
#include "tests/vm/virtio_tx_check.h"

using namespace vsw;
using namespace vsw::ports::pci;

namespace {

constexpr OpenOptions::Id kVirtioNet[] = {{0x1af4, 0x1000}, {0x1af4, 0x1041}};

int fail(const Error& e) {
  std::printf("error: %s: %s\n", std::string(errc_name(e.code)).c_str(), e.message.c_str());
  return 2;
}

// The virtio-net device config (MAC first, virtio 1.0 §5.1.4): legacy devices have it in the
// I/O BAR0 at offset 20 while MSI-X is off (virtio 1.0 §4.1.4.8); modern ones in the BAR a
// VIRTIO_PCI_CAP_DEVICE_CFG capability names (virtio 1.0 §4.1.4: vendor capability 0x09,
// cfg_type at +3, bar at +4, offset at +8).
bool read_mac(PciDevice& d, uint8_t mac[6]) {
  auto bar0 = d.bar(0);
  if (bar0 && (*bar0)->is_io()) {
    for (int i = 0; i < 6; ++i) mac[i] = (*bar0)->read8(20 + i);
    return true;
  }
  auto cap = d.config8(0x34);  // PCI 3.0 §6.7: Capabilities Pointer
  for (int guard = 0; cap && *cap && guard < 48; ++guard) {
    auto id = d.config8(*cap), next = d.config8(*cap + 1u), type = d.config8(*cap + 3u),
         bar = d.config8(*cap + 4u);
    auto off = d.config32(*cap + 8u);
    if (!id || !next || !type || !bar || !off) return false;
    if (*id == 0x09 && *type == 4) {
      auto b = d.bar(*bar);
      if (!b) return false;
      for (int i = 0; i < 6; ++i) mac[i] = (*b)->read8(*off + i);
      return true;
    }
    cap = *next;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  log::init();
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BDF uio|vfio [--huge] [--hold FIFO] [--tx N] [--file-io]\n",
                 argv[0]);
    return 1;
  }
  auto addr = PciAddress::parse(argv[1]);
  if (!addr) return fail(addr.error());
  OpenOptions opts;
  opts.path = std::strcmp(argv[2], "uio") == 0 ? AccessPath::Uio : AccessPath::Vfio;
  opts.ids = kVirtioNet;
  opts.id_count = 2;
  opts.driver_name = "virtio-net";
  bool huge = false;
  const char* hold = nullptr;
  int tx_frames = 0;
  const char* also = nullptr;
  PciPaths paths;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--huge") == 0) huge = true;
    else if (std::strcmp(argv[i], "--hold") == 0 && i + 1 < argc) hold = argv[++i];
    else if (std::strcmp(argv[i], "--tx") == 0 && i + 1 < argc) tx_frames = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--file-io") == 0) paths.port_io = false;
    else if (std::strcmp(argv[i], "--also") == 0 && i + 1 < argc) also = argv[++i];
  }
  {
    auto opened = open_device(*addr, opts, paths);
    if (!opened) return fail(opened.error());
    PciDevice& d = **opened;
    std::printf("opened bdf=%s path=%s vendor=%04x device=%04x previous=%s command=0x%04x\n",
                d.address().str().c_str(), std::string(access_path_name(d.path())).c_str(),
                d.vendor_id(), d.device_id(),
                d.previous_driver().empty() ? "none" : d.previous_driver().c_str(),
                d.config16(4).has_value() ? *d.config16(4) : 0xffff);
    for (unsigned i = 0; i < 6; ++i) {
      auto b = d.bar(i);
      if (!b) continue;
      std::printf("bar index=%u size=%llu io=%d mapped=%d\n", i,
                  static_cast<unsigned long long>((*b)->size()), (*b)->is_io() ? 1 : 0,
                  (*b)->mapped() ? 1 : 0);
    }
    uint8_t mac[6];
    if (read_mac(d, mac)) {
      std::printf("mac=%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4],
                  mac[5]);
    }
    // Two regions: the second shows where the allocator puts the next one.
    std::unique_ptr<DmaMemory> mem[2];
    for (int r = 0; r < 2; ++r) {
      auto m = DmaMemory::allocate(DmaMemory::kHugePageBytes, huge);
      if (!m) return fail(m.error());
      mem[r] = std::move(*m);
      if (auto st = d.dma_map(*mem[r]); !st) return fail(st.error());
      const std::byte* p = mem[r]->data() + 4096 + 123;
      std::printf("dma region=%d va=%p dma=0x%llx physical=0x%llx\n", r,
                  static_cast<const void*>(p), static_cast<unsigned long long>(d.dma_address(p)),
                  static_cast<unsigned long long>(mem[r]->iova_of(p)));
    }
    int outside = 0;
    std::printf("dma outside=0x%llx\n", static_cast<unsigned long long>(d.dma_address(&outside)));
    auto irq = d.interrupt_eventfd();
    std::printf("irq fd=%d\n", irq ? *irq : -2);
    if (also) {
      // One container per process: the region already mapped for the first device has the
      // same IOVA for the second; closing the second keeps it mapped for the first.
      auto also_addr = PciAddress::parse(also);
      if (!also_addr) return fail(also_addr.error());
      auto second = open_device(*also_addr, opts, paths);
      if (!second) return fail(second.error());
      if (auto st = (*second)->dma_map(*mem[0]); !st) return fail(st.error());
      const std::byte* p = mem[0]->data() + 4096 + 123;
      std::printf("also bdf=%s dma=0x%llx\n", also,
                  static_cast<unsigned long long>((*second)->dma_address(p)));
    }
    if (tx_frames > 0) {
      auto tx = probe::virtio_tx_check(d, *mem[0], tx_frames);
      if (!tx) return fail(tx.error());
      std::printf("tx frames=%d interrupts=%d\n", tx->frames_completed, tx->interrupts);
    }
    if (hold) {
      std::printf("holding\n");
      std::fflush(stdout);
      const int fd = open(hold, O_RDONLY);  // blocks until the test opens the FIFO for writing
      char c;
      while (fd >= 0 && read(fd, &c, 1) > 0) {
      }
      if (fd >= 0) close(fd);
    }
    for (auto& m : mem) d.dma_unmap(*m);
  }
  std::error_code ec;
  const auto link = std::filesystem::read_symlink(
      std::string("/sys/bus/pci/devices/") + argv[1] + "/driver", ec);
  std::printf("released driver=%s\n", ec ? "none" : link.filename().c_str());
  return 0;
}
