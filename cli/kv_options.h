// cli/kv_options.h — parsing of repeated `-o key=value` arguments (vswctl add-port).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace vsw::cli {

// Turns {"ifname=tap0", "mode=x=y"} into {"ifname": "tap0", "mode": "x=y"}: the key ends at the
// first '=', the value may be empty or contain '='. Fails with Errc::InvalidArgument (a usage
// error) for an item without '=', an empty key, or a key given twice.
Result<nlohmann::json> parse_key_values(const std::vector<std::string>& items);

// Turns "10,20,30" into [10, 20, 30] and "" into []: comma-separated decimal integers below
// 65536 (the daemon checks the ranges that apply, e.g. VLAN ids 1..4094). Fails with
// Errc::InvalidArgument for anything else ("10,,20", "ten", "10,").
Result<nlohmann::json> parse_id_list(const std::string& text);

}  // namespace vsw::cli
