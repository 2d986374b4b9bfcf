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

}  // namespace vsw::cli
