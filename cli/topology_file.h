// cli/topology_file.h — reading the topology file given to `vswctl apply FILE`.
//
// vswctl only checks that the file is readable and holds a JSON object; the schema itself
// (docs/rpc.md, "Topology schema") is validated by vswitchd, which owns it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace vsw::cli {

// Reads and parses `path` ("-" reads standard input). Fails with Errc::Io when the file cannot be
// read (the message names the path and the reason) and Errc::InvalidArgument when it is not
// JSON (with line and column) or not a JSON object.
Result<nlohmann::json> read_topology_file(const std::string& path);

}  // namespace vsw::cli
