// ports/pci/pci_device_base.cc — config space, BARs and the command register (see .h).
#include "ports/pci/pci_device_base.h"

#include <unistd.h>

#include <cerrno>

#include "common/log.h"

namespace vsw::ports::pci {

PciDeviceBase::PciDeviceBase(const SysfsPci& sysfs, uint16_t vendor, uint16_t device,
                             std::unique_ptr<DriverBinding> binding, const BarTable& bars,
                             UniqueFd device_lock)
    : PciDevice(PciAddress::parse(sysfs.bdf()).value(), vendor, device),
      sysfs_(sysfs),
      bar_resources_(bars),
      device_lock_(std::move(device_lock)),
      binding_(std::move(binding)) {}

void PciDeviceBase::set_config_file(int fd, uint64_t offset, uint64_t size) noexcept {
  config_fd_ = fd;
  config_offset_ = offset;
  config_size_ = size;
}

Status PciDeviceBase::read_config(uint32_t off, void* out, size_t len) const {
  if (off + len > config_size_ || off + len < off) {
    return make_error(Errc::InvalidArgument, "pci {}: config read of {} bytes at {:#x} is "
                      "outside its {} bytes of config space", sysfs_.bdf(), len, off, config_size_);
  }
  const ssize_t n = pread(config_fd_, out, len, static_cast<off_t>(config_offset_ + off));
  if (n != static_cast<ssize_t>(len)) {
    return make_sys_error(Errc::Io, n < 0 ? errno : EIO,
                          fmt::format("pci {}: config read at {:#x}", sysfs_.bdf(), off));
  }
  return ok();
}

Status PciDeviceBase::write_config(uint32_t off, const void* in, size_t len) {
  if (off + len > config_size_ || off + len < off) {
    return make_error(Errc::InvalidArgument, "pci {}: config write of {} bytes at {:#x} is "
                      "outside its {} bytes of config space", sysfs_.bdf(), len, off, config_size_);
  }
  const ssize_t n = pwrite(config_fd_, in, len, static_cast<off_t>(config_offset_ + off));
  if (n != static_cast<ssize_t>(len)) {
    return make_sys_error(Errc::Io, n < 0 ? errno : EIO,
                          fmt::format("pci {}: config write at {:#x}", sysfs_.bdf(), off));
  }
  return ok();
}

Result<BarAccess*> PciDeviceBase::bar(unsigned index) {
  if (index >= bars_.size()) {
    return make_error(Errc::InvalidArgument, "pci {}: there is no BAR{} (0..5)", sysfs_.bdf(), index);
  }
  if (bars_[index]) return bars_[index].get();
  const BarResource& r = bar_resources_[index];
  if (r.size() == 0) return make_error(Errc::NotFound, "pci {}: BAR{} is absent", sysfs_.bdf(), index);
  auto mapped = map_bar(index, r);
  if (!mapped) return mapped.error();
  bars_[index] = std::move(*mapped);
  return bars_[index].get();
}

Status PciDeviceBase::enable_bus_master() {
  auto cur = config16(cmd::kOffset);
  if (!cur) return cur.error();
  uint16_t v = *cur | cmd::kBusMaster;
  for (const BarResource& r : bar_resources_) {
    if (r.is_io()) v |= cmd::kIoSpace;
    if (r.is_mem()) v |= cmd::kMemorySpace;
  }
  if (v == *cur) return ok();
  return write_config(cmd::kOffset, &v, sizeof v);
}

void PciDeviceBase::shut_down() noexcept {
  if (shut_down_) return;
  shut_down_ = true;
  if (config_fd_ >= 0) {
    // Stop the device's DMA (PCI Local Bus 3.0 §6.2.2: with Bus Master clear the function
    // issues no memory or I/O requests) before its memory goes away.
    auto cur = config16(cmd::kOffset);
    if (cur && (*cur & cmd::kBusMaster)) {
      const uint16_t v = *cur & ~cmd::kBusMaster;
      (void)write_config(cmd::kOffset, &v, sizeof v);
    }
  }
  for (auto& b : bars_) b.reset();
}

}  // namespace vsw::ports::pci
