// ports/port_options.cc — option parsing shared by every port type.
#include "ports/port_options.h"

#include <charconv>

namespace vsw::ports {

Status check_option_keys(const PortSpec& spec, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : spec.options) {
    bool found = false;
    for (std::string_view a : allowed) found = found || a == key;
    if (!found) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return make_error(Errc::InvalidArgument, "port type '{}' has no option '{}' (valid: {})",
                        spec.type, key, list.empty() ? "none" : list);
    }
  }
  return ok();
}

Result<uint64_t> option_uint(const PortSpec& spec, std::string_view key, uint64_t fallback,
                             uint64_t lo, uint64_t hi) {
  auto it = spec.options.find(std::string(key));
  if (it == spec.options.end()) return fallback;
  const std::string& text = it->second;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return make_error(Errc::InvalidArgument, "option {}='{}' must be an integer in {}..{}", key,
                      text, lo, hi);
  }
  return v;
}

std::string option_str(const PortSpec& spec, std::string_view key, std::string fallback) {
  auto it = spec.options.find(std::string(key));
  return it == spec.options.end() ? fallback : it->second;
}

}  // namespace vsw::ports
