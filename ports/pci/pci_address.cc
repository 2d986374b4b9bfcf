// ports/pci/pci_address.cc — PciAddress::parse/str: the "DDDD:BB:DD.F" form of /sys/bus/pci.
#include <fmt/format.h>

#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {

namespace {

// Lower- or upper-case hex digits, exactly `digits` of them.
bool parse_hex_field(std::string_view s, size_t digits, unsigned& out) {
  if (s.size() != digits) return false;
  out = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return false;
    out = out * 16 + d;
  }
  return true;
}

}  // namespace

Result<PciAddress> PciAddress::parse(std::string_view text) {
  // PCI Local Bus 3.0 §3.2.2.3.2: 8-bit bus, 5-bit device, 3-bit function; the 16-bit domain
  // (segment) prefix is Linux's.
  auto bad = [&](std::string_view why) {
    return make_error(Errc::InvalidArgument,
                      "invalid PCI address \"{}\": {}; expected domain:bus:device.function in "
                      "hex, e.g. 0000:00:04.0",
                      text, why);
  };
  if (text.size() != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.') {
    return bad("wrong form");
  }
  unsigned domain, bus, device, function;
  if (!parse_hex_field(text.substr(0, 4), 4, domain) ||
      !parse_hex_field(text.substr(5, 2), 2, bus) ||
      !parse_hex_field(text.substr(8, 2), 2, device) ||
      !parse_hex_field(text.substr(11, 1), 1, function)) {
    return bad("not hexadecimal");
  }
  if (device > 31) return bad("device number above 1f");
  if (function > 7) return bad("function number above 7");
  PciAddress a;
  a.domain = static_cast<uint16_t>(domain);
  a.bus = static_cast<uint8_t>(bus);
  a.device = static_cast<uint8_t>(device);
  a.function = static_cast<uint8_t>(function);
  return a;
}

std::string PciAddress::str() const {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, device, function);
}

}  // namespace vsw::ports::pci
