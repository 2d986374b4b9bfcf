// dataplane/switch_entries.h — what the Switch keeps per bridge and per port (switch.cc and
// switch_mirror.cc only; not part of the dataplane API).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/switch.h"

namespace vsw {

struct Switch::BridgeEntry {
  BridgeConfig config;
  std::unique_ptr<Bridge> bridge;
  std::vector<std::string> ports;
  std::vector<std::unique_ptr<Mirror>> mirrors;  // in the order they were added
};

struct Switch::PortEntry {
  std::unique_ptr<Port> port;
  std::string bridge;
  VlanConfig vlan;
  uint64_t seq = 0;  // creation order
};

}  // namespace vsw
