// common/ether.cc — MAC address text conversions.
#include "common/ether.h"

#include <fmt/format.h>

namespace vsw {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) {
    const int hi = hex_value(text[i * 3]);
    const int lo = hex_value(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return std::nullopt;
    v = (v << 8) | static_cast<uint64_t>(hi * 16 + lo);
  }
  return MacAddress::from_u64(v);
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (v_ >> 40) & 0xff,
                     (v_ >> 32) & 0xff, (v_ >> 24) & 0xff, (v_ >> 16) & 0xff, (v_ >> 8) & 0xff,
                     v_ & 0xff);
}

}  // namespace vsw
