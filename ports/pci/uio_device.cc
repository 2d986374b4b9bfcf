// ports/pci/uio_device.cc — uio_pci_generic access path (see uio_device.h).
#include "ports/pci/uio_device.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"
#include "ports/pci/bar_access_io.h"
#include "ports/pci/bar_access_mmio.h"

namespace vsw::ports::pci {

namespace {

constexpr const char* kUioDriver = "uio_pci_generic";

// flock(LOCK_EX|LOCK_NB) on the device's sysfs directory (see uio_device.h for why not only on
// /dev/uioN). Opening a sysfs directory has no effect on the device.
Result<UniqueFd> lock_device_dir(const SysfsPci& sysfs) {
  UniqueFd fd(::open(sysfs.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", sysfs.dir()));
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return make_error(Errc::Unavailable, "pci {} is in use by another process (it holds the "
                        "lock on {})", sysfs.bdf(), sysfs.dir());
    }
    return make_sys_error(Errc::Io, err, fmt::format("cannot lock {}", sysfs.dir()));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<PciDevice>> UioDevice::open(const SysfsPci& sysfs, uint16_t vendor,
                                                   uint16_t device) {
  auto bars = sysfs.resources();
  if (!bars) return bars.error();
  auto lock = lock_device_dir(sysfs);  // before anything is bound or opened
  if (!lock) return lock.error();
  auto binding = DriverBinding::bind(sysfs, kUioDriver, kUioDriver);
  if (!binding) return binding.error();
  std::unique_ptr<UioDevice> d(
      new UioDevice(sysfs, vendor, device, std::move(*binding), *bars, std::move(*lock)));

  const auto index = sysfs.uio_index();
  if (!index) {
    return make_error(Errc::Unavailable, "pci {}: bound to {} but it has no uio node ({}/uio)",
                      sysfs.bdf(), kUioDriver, sysfs.dir());
  }
  const std::string node = fmt::format("{}/uio{}", sysfs.paths().dev, *index);
  d->uio_fd_ = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
  if (d->uio_fd_ < 0) return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", node));
  // Anything else that flocks the node (the directory lock above already keeps vsw processes
  // apart).
  if (flock(d->uio_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return make_error(Errc::Unavailable, "pci {} ({}) is in use by another process",
                        sysfs.bdf(), node);
    }
    return make_sys_error(Errc::Io, err, fmt::format("cannot lock {}", node));
  }
  d->binding_->set_owned();

  d->config_fd_ = ::open(sysfs.config_path().c_str(), O_RDWR | O_CLOEXEC);
  if (d->config_fd_ < 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", sysfs.config_path()));
  }
  struct stat st{};
  const uint64_t config_size = fstat(d->config_fd_, &st) == 0 && st.st_size > 0
                                   ? static_cast<uint64_t>(st.st_size) : 256;
  d->set_config_file(d->config_fd_, 0, config_size);
  if (auto s = d->enable_bus_master(); !s) return s.error();
  log::port().info("pci {}: opened through uio ({}), {:04x}:{:04x}", sysfs.bdf(), node, vendor,
                   device);
  return std::unique_ptr<PciDevice>(std::move(d));
}

UioDevice::~UioDevice() {
  shut_down();
  if (config_fd_ >= 0) close(config_fd_);
  if (uio_fd_ >= 0) close(uio_fd_);  // also drops the flock
}

Result<std::unique_ptr<BarAccess>> UioDevice::map_bar(unsigned index, const BarResource& r) {
  const std::string path = sysfs_.resource_path(index);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (r.is_io() ? 0 : O_SYNC));
  if (fd < 0) return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", path));
  if (r.is_io()) {
    // Port numbers are 16 bits on x86 (Intel SDM Vol. 1 §18.3).
    const uint16_t base = r.start <= 0xffff ? static_cast<uint16_t>(r.start) : 0;
    return std::unique_ptr<BarAccess>(
        new FileBar(fd, true, 0, r.size(), true, base, sysfs_.paths().port_io));
  }
  // Documentation/PCI/sysfs-pci.rst: resourceN of a memory BAR may be mmapped (from offset 0,
  // whole pages).
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t map_bytes = (r.size() + page - 1) & ~(page - 1);
  void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);
  if (p == MAP_FAILED) return make_sys_error(Errc::Io, err, fmt::format("cannot mmap {}", path));
  return std::unique_ptr<BarAccess>(new MmioBar(p, map_bytes, r.size()));
}

Status UioDevice::dma_map(const DmaMemory& mem) {
  if (!mem.physical_iova()) {
    return make_error(Errc::Unavailable,
                      "pci {}: uio DMA needs hugepage memory with known physical addresses, and "
                      "this memory has none ({}): reserve hugepages (echo N > "
                      "/proc/sys/vm/nr_hugepages) before starting vswitchd, or use driver=vfio",
                      sysfs_.bdf(), mem.hugepage_backed() ? "pagemap unreadable" : "ordinary pages");
  }
  dma_.insert(mem, 0);
  return ok();
}

void UioDevice::dma_unmap(const DmaMemory& mem) noexcept {
  try {
    dma_.erase(mem);
  } catch (...) {
    // Allocation failure copying the table: the region stays known, which is harmless.
  }
}

}  // namespace vsw::ports::pci
