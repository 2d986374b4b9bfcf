// tests/models/model_pci_device.cc — config space, BAR 0 and IOMMU-like DMA of the model.
#include "tests/models/model_pci_device.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/models/model_wire.h"

namespace vsw::tests::models {

namespace {
constexpr ports::pci::PciAddress kAddress{0, 0x03, 0, 0};
}

ModelPciDevice::ModelPciDevice(std::array<uint8_t, 6> mac)
    : PciDevice(kAddress, ixgbe::kVendorIntel, ixgbe::kDevice82599Sfp), model_(*this, mac) {
  // PCI Local Bus 3.0 §6.1: vendor, device, command (0: memory and bus mastering off),
  // class code 02 00 00 (Ethernet controller), BAR 0 a 64-bit memory BAR.
  const uint16_t vendor = ixgbe::kVendorIntel, device = ixgbe::kDevice82599Sfp;
  std::memcpy(&config_[0], &vendor, 2);
  std::memcpy(&config_[2], &device, 2);
  config_[0x0B] = 0x02;
  config_[0x10] = 0x04;  // memory, 64-bit
}

ModelPciDevice::~ModelPciDevice() {
  wire_.reset();  // stop the engine before the model goes
  if (on_destroy_) on_destroy_(model_);
  model_.set_msix_vectors({});
  for (int fd : msix_fds_) ::close(fd);
}

Result<std::vector<int>> ModelPciDevice::msix_eventfds(uint16_t n) {
  if (!msix_fds_.empty()) {
    if (msix_fds_.size() == n) return msix_fds_;
    return make_error(Errc::InvalidArgument, "model: MSI-X already enabled with {} vectors",
                      msix_fds_.size());
  }
  if (n == 0 || n > ixgbe::kMsixVectors) {
    return make_error(Errc::Unsupported, "model: {} MSI-X vectors asked, the 82599 has {}", n,
                      ixgbe::kMsixVectors);
  }
  std::vector<int> fds;
  for (uint16_t i = 0; i < n; ++i) {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      const int err = errno;
      for (int f : fds) ::close(f);
      return make_sys_error(Errc::Io, err, "model: eventfd");
    }
    fds.push_back(fd);
  }
  msix_fds_ = fds;
  model_.set_msix_vectors(fds);
  return fds;
}

Status ModelPciDevice::read_config(uint32_t off, void* out, size_t len) const {
  if (off + len > config_.size()) {
    return make_error(Errc::InvalidArgument, "model config read at {:#x}+{} outside 4096", off,
                      len);
  }
  std::memcpy(out, &config_[off], len);
  return ok();
}

Status ModelPciDevice::write_config(uint32_t off, const void* in, size_t len) {
  if (off + len > config_.size()) {
    return make_error(Errc::InvalidArgument, "model config write at {:#x}+{} outside 4096", off,
                      len);
  }
  // Only the command register (0x04) is writable in the model; vendor/device/class are
  // read-only as on hardware.
  for (size_t i = 0; i < len; ++i) {
    const uint32_t at = off + static_cast<uint32_t>(i);
    if (at == 0x04 || at == 0x05) config_[at] = static_cast<const uint8_t*>(in)[i];
  }
  return ok();
}

Result<ports::pci::BarAccess*> ModelPciDevice::bar(unsigned index) {
  if (index != 0) return make_error(Errc::NotFound, "model: BAR{} absent", index);
  return static_cast<ports::pci::BarAccess*>(&bar0_);
}

Status ModelPciDevice::dma_map(const DmaMemory& mem) {
  const size_t n = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (regions_[i].mem == &mem && regions_[i].live.load()) return ok();
  }
  if (n == kMaxRegions) {
    return make_error(Errc::ResourceExhausted, "model: more than {} DMA regions", kMaxRegions);
  }
  Region& r = regions_[n];
  r.mem = &mem;
  r.data = mem.data();
  r.size = mem.size();
  r.iova = next_iova_;
  r.live.store(true);
  constexpr uint64_t k2M = uint64_t{2} << 20;
  next_iova_ += (mem.size() + k2M - 1) / k2M * k2M + k2M;  // a gap between regions
  count_.store(n + 1, std::memory_order_release);
  return ok();
}

void ModelPciDevice::dma_unmap(const DmaMemory& mem) noexcept {
  const size_t n = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (regions_[i].mem == &mem) regions_[i].live.store(false);
  }
}

uint64_t ModelPciDevice::dma_contiguous(const DmaMemory& mem) const noexcept {
  const size_t n = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (regions_[i].mem == &mem && regions_[i].live.load(std::memory_order_relaxed)) {
      return regions_[i].iova;
    }
  }
  return 0;
}

uint64_t ModelPciDevice::dma_address(const void* p) const noexcept {
  const auto* b = static_cast<const std::byte*>(p);
  const size_t n = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    const Region& r = regions_[i];
    if (b >= r.data && b < r.data + r.size && r.live.load(std::memory_order_relaxed)) {
      return r.iova + static_cast<uint64_t>(b - r.data);
    }
  }
  return 0;
}

bool ModelPciDevice::bus_master_enabled() const noexcept {
  return config_[0x04] & kCommandBusMaster;
}

std::byte* ModelPciDevice::translate(uint64_t iova, size_t len) const noexcept {
  const size_t n = count_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    const Region& r = regions_[i];
    if (iova >= r.iova && iova < r.iova + r.size && len <= r.iova + r.size - iova &&
        r.live.load(std::memory_order_relaxed)) {
      return r.data + (iova - r.iova);
    }
  }
  return nullptr;
}

Status ModelPciDevice::attach_tap(const std::string& name) {
  if (wire_) return make_error(Errc::AlreadyExists, "model already has a wire ({})", name);
  auto w = ModelWire::open(model_, name);
  if (!w) return w.error();
  wire_ = std::move(*w);
  return ok();
}

const std::string& ModelPciDevice::tap_name() const noexcept {
  static const std::string none;
  return wire_ ? wire_->name() : none;
}

}  // namespace vsw::tests::models
