// ports/pci/bar_access_mmio.cc — unmapping a memory BAR (see bar_access_mmio.h).
#include "ports/pci/bar_access_mmio.h"

#include <sys/mman.h>

namespace vsw::ports::pci {

MmioBar::~MmioBar() { munmap(const_cast<std::byte*>(base_), map_bytes_); }

}  // namespace vsw::ports::pci
