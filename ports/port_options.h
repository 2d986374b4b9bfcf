// ports/port_options.h — what the user asked for (PortSpec) and helpers every port type uses to
// parse its options, so that errors read the same for every type.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vsw::ports {

// What the user asked for: `vswctl add-port BR NAME --type TYPE -o key=value ...`.
struct PortSpec {
  std::string name;
  std::string type;
  std::map<std::string, std::string> options;
};

// Helpers for option parsing shared by every port type.
// Fails with InvalidArgument naming the first key in `spec.options` that is not in `allowed`.
Status check_option_keys(const PortSpec& spec, std::initializer_list<std::string_view> allowed);
// Parses an unsigned option in [lo, hi]; `fallback` when absent.
Result<uint64_t> option_uint(const PortSpec& spec, std::string_view key, uint64_t fallback,
                             uint64_t lo, uint64_t hi);
std::string option_str(const PortSpec& spec, std::string_view key, std::string fallback);

}  // namespace vsw::ports
