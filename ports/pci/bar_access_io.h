// ports/pci/bar_access_io.h — a BAR reached through a file, or through in/out instructions.
//
// For I/O-port BARs (legacy virtio's BAR0) and for memory regions vfio does not let us mmap.
// Two ways, chosen per thread at its first access:
//   * in/out instructions at `port_base + off` when this thread may (iopl(2) level 3 succeeds:
//     CAP_SYS_RAWIO). Since Linux 5.5 the I/O privilege is per thread and not given to threads
//     that already exist, so each worker thread asks for it itself, once (a thread_local flag);
//   * otherwise pread/pwrite of the access width at `file_offset + off` on `fd`: sysfs
//     `resourceN` of an I/O BAR (Linux drivers/pci/pci-sysfs.c pci_read_resource_io, 1/2/4-byte
//     accesses) or the vfio device fd at the region's offset (Documentation/driver-api/vfio.rst:
//     "read/write ... at the region offset").
// The port path costs one instruction (a VM exit in a guest); the file path a system call.
#pragma once

#include <cstdint>

#include "common/assert.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {

class FileBar final : public BarAccess {
 public:
  // `fd` is owned when `owns_fd` (closed on destruction). port_base 0 (or port_io false): never
  // use in/out.
  FileBar(int fd, bool owns_fd, uint64_t file_offset, uint64_t size, bool is_io,
          uint16_t port_base, bool port_io) noexcept
      : fd_(fd), owns_fd_(owns_fd), file_offset_(file_offset), size_(size), is_io_(is_io),
        port_base_(port_base), port_io_(port_io && is_io && port_base != 0) {}
  ~FileBar() override;
  FileBar(const FileBar&) = delete;
  FileBar& operator=(const FileBar&) = delete;

  uint64_t size() const noexcept override { return size_; }
  bool is_io() const noexcept override { return is_io_; }
  uint8_t read8(uint64_t off) const noexcept override;
  uint16_t read16(uint64_t off) const noexcept override;
  uint32_t read32(uint64_t off) const noexcept override;
  void write8(uint64_t off, uint8_t v) noexcept override;
  void write16(uint64_t off, uint16_t v) noexcept override;
  void write32(uint64_t off, uint32_t v) noexcept override;
  volatile std::byte* mapped() const noexcept override { return nullptr; }

  // Whether accesses from the calling thread use in/out (asks for iopl(3) on the first call).
  bool uses_port_instructions() const noexcept;

 private:
  template <class T> T read_file(uint64_t off) const noexcept;
  template <class T> void write_file(uint64_t off, T v) noexcept;

  int fd_;
  bool owns_fd_;
  uint64_t file_offset_;
  uint64_t size_;
  bool is_io_;
  uint16_t port_base_;
  bool port_io_;
};

}  // namespace vsw::ports::pci
