// ports/pci/driver_binding.cc — unbind, driver_override, drivers_probe, and back (see .h).
#include "ports/pci/driver_binding.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "common/log.h"

namespace vsw::ports::pci {

namespace fs = std::filesystem;

std::string DriverBinding::record_path(const std::string& run_dir, const std::string& bdf) {
  return run_dir + "/" + bdf + ".driver";
}

Result<std::unique_ptr<DriverBinding>> DriverBinding::bind(const SysfsPci& dev, std::string wanted,
                                                           std::string_view module) {
  std::unique_ptr<DriverBinding> b(new DriverBinding(dev, std::move(wanted)));
  const std::string record = record_path(dev.paths().run, dev.bdf());
  const std::string current = dev.driver();
  if (current == b->wanted_) {
    // Bound by an earlier vsw (which may have crashed): its record names the driver to restore.
    b->adopted_ = true;
    if (auto text = read_text_file(record)) {
      std::string prev = std::move(*text);
      while (!prev.empty() && (prev.back() == '\n' || prev.back() == ' ')) prev.pop_back();
      b->previous_ = std::move(prev);
      b->recorded_ = true;
    }
    log::port().info("pci {}: already bound to {}, taking it as it is ({})", dev.bdf(), b->wanted_,
                     b->recorded_ ? fmt::format("driver to restore: {}", b->previous_.empty()
                                                    ? "none" : b->previous_)
                                  : std::string("not bound by vsw: left bound when released"));
    return b;
  }
  if (!dev.driver_available(b->wanted_)) {
    return make_error(Errc::Unavailable,
                      "pci {}: the {} driver is not loaded (no {}/bus/pci/drivers/{}): load the "
                      "kernel module first (modprobe {})",
                      dev.bdf(), b->wanted_, dev.paths().sys, b->wanted_, module);
  }
  b->previous_ = current;
  std::error_code ec;
  fs::create_directories(dev.paths().run, ec);
  if (auto st = write_text_file(record, current + "\n"); !st) {
    return make_error(Errc::Io, "pci {}: cannot record the current driver: {}", dev.bdf(),
                      st.error().message);
  }
  b->changed_ = true;  // from here on, the destructor restores
  if (!current.empty()) {
    if (auto st = write_text_file(dev.dir() + "/driver/unbind", dev.bdf()); !st) {
      return make_error(Errc::Io, "pci {}: cannot unbind it from {}: {}", dev.bdf(), current,
                        st.error().message);
    }
  }
  if (auto st = write_text_file(dev.dir() + "/driver_override", b->wanted_); !st) {
    return make_error(Errc::Io, "pci {}: cannot set driver_override: {}", dev.bdf(),
                      st.error().message);
  }
  // drivers_probe may report an error (e.g. ENODEV when uio_pci_generic finds no INTx masking)
  // while the outcome that matters is the driver link: check that.
  const auto probe = write_text_file(dev.paths().sys + "/bus/pci/drivers_probe", dev.bdf());
  const std::string now = dev.driver();
  if (now != b->wanted_) {
    return make_error(Errc::Unavailable, "pci {}: {} did not take the device (driver now: {}){}",
                      dev.bdf(), b->wanted_, now.empty() ? "none" : now,
                      probe ? std::string() : ": " + probe.error().message);
  }
  log::port().info("pci {}: unbound from {}, bound to {}", dev.bdf(),
                   current.empty() ? "no driver" : current, b->wanted_);
  return b;
}

DriverBinding::~DriverBinding() {
  if (changed_ || (adopted_ && owned_ && recorded_)) restore();
}

void DriverBinding::restore() noexcept {
  try {
    const std::string& bdf = dev_.bdf();
    const std::string drivers = dev_.paths().sys + "/bus/pci/drivers/";
    if (dev_.driver() == wanted_) (void)write_text_file(drivers + wanted_ + "/unbind", bdf);
    // An empty driver_override (a lone newline) restores normal matching.
    (void)write_text_file(dev_.dir() + "/driver_override", "\n");
    (void)write_text_file(dev_.paths().sys + "/bus/pci/drivers_probe", bdf);
    if (!previous_.empty() && dev_.driver() != previous_) {
      (void)write_text_file(drivers + previous_ + "/bind", bdf);
    }
    const std::string now = dev_.driver();
    if (now == previous_) {
      log::port().info("pci {}: given back to {}", bdf, previous_.empty() ? "no driver" : now);
    } else {
      log::port().warn("pci {}: wanted to give it back to {}, but its driver is {}", bdf,
                       previous_.empty() ? "no driver" : previous_, now.empty() ? "none" : now);
    }
    unlink(record_path(dev_.paths().run, bdf).c_str());
  } catch (...) {
    // Allocation failure while restoring: nothing more can be done; the record file stays so
    // the next vsw restores.
  }
}

}  // namespace vsw::ports::pci
