// ports/pci/bar_access_io.cc — in/out or pread/pwrite register access (see bar_access_io.h).
#include "ports/pci/bar_access_io.h"

#include <sys/io.h>
#include <unistd.h>

#include <cstring>

namespace vsw::ports::pci {

namespace {

// Per thread: 0 not asked yet, 1 iopl(3) granted, -1 refused.
thread_local int tls_io_privilege = 0;

bool thread_may_use_ports() noexcept {
  if (tls_io_privilege == 0) tls_io_privilege = iopl(3) == 0 ? 1 : -1;
  return tls_io_privilege > 0;
}

}  // namespace

FileBar::~FileBar() {
  if (owns_fd_ && fd_ >= 0) close(fd_);
}

bool FileBar::uses_port_instructions() const noexcept { return port_io_ && thread_may_use_ports(); }

template <class T>
T FileBar::read_file(uint64_t off) const noexcept {
  VSW_ASSERT(off + sizeof(T) <= size_ && off % sizeof(T) == 0);
  T v{};
  // A failed read gives all ones, what a PCI master abort returns (PCI Local Bus 3.0 §6.1).
  if (pread(fd_, &v, sizeof v, static_cast<off_t>(file_offset_ + off)) != sizeof v) {
    std::memset(&v, 0xff, sizeof v);
  }
  return v;
}

template <class T>
void FileBar::write_file(uint64_t off, T v) noexcept {
  VSW_ASSERT(off + sizeof(T) <= size_ && off % sizeof(T) == 0);
  (void)!pwrite(fd_, &v, sizeof v, static_cast<off_t>(file_offset_ + off));
}

uint8_t FileBar::read8(uint64_t off) const noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 1 <= size_);
    return inb(static_cast<uint16_t>(port_base_ + off));
  }
  return read_file<uint8_t>(off);
}

uint16_t FileBar::read16(uint64_t off) const noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 2 <= size_ && off % 2 == 0);
    return inw(static_cast<uint16_t>(port_base_ + off));
  }
  return read_file<uint16_t>(off);
}

uint32_t FileBar::read32(uint64_t off) const noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 4 <= size_ && off % 4 == 0);
    return inl(static_cast<uint16_t>(port_base_ + off));
  }
  return read_file<uint32_t>(off);
}

// glibc's out*(value, port) take the value first.
void FileBar::write8(uint64_t off, uint8_t v) noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 1 <= size_);
    return outb(v, static_cast<uint16_t>(port_base_ + off));
  }
  write_file(off, v);
}

void FileBar::write16(uint64_t off, uint16_t v) noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 2 <= size_ && off % 2 == 0);
    return outw(v, static_cast<uint16_t>(port_base_ + off));
  }
  write_file(off, v);
}

void FileBar::write32(uint64_t off, uint32_t v) noexcept {
  if (uses_port_instructions()) {
    VSW_ASSERT(off + 4 <= size_ && off % 4 == 0);
    return outl(v, static_cast<uint16_t>(port_base_ + off));
  }
  write_file(off, v);
}

}  // namespace vsw::ports::pci
