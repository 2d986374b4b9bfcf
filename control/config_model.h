// control/config_model.h — the switch configuration as data: bridges, their settings and ports
// with type and options, plus its JSON form (docs/rpc.md, "Topology schema").
//
// The same model describes three things: a topology file (--config, `vswctl apply`), the state
// file (control/state_store.h) and the running configuration (config.show). The reconciler
// (control/reconciler.h) diffs two models. Parsing is strict: unknown fields, wrong JSON types,
// invalid names, duplicate names and out-of-range values are refused with a message naming the
// offending place, e.g. "bridges[0].ports[2].name: 'a b' has invalid characters".
//
// Names: bridges and ports share one namespace (a name is unique across the daemon); 1..15
// characters from [A-Za-z0-9_.-] (15 = IFNAMSIZ - 1, so a name can double as an interface name).
// Option keys and values are strings; port types follow the name rule (the PortFactory decides
// later whether the type exists).
//
// Threads: plain values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "dataplane/mirror.h"
#include "dataplane/vlan.h"

namespace vsw::control {

// Bridge setting ranges, mirroring Switch::validate_bridge_config (dataplane/switch.h).
constexpr uint32_t kDefaultAgingS = 300;
constexpr uint32_t kMinAgingS = 10;
constexpr uint32_t kMaxAgingS = 1'000'000;
constexpr uint32_t kDefaultMaxMacs = 8192;
constexpr uint32_t kMinMaxMacs = 16;
constexpr uint32_t kMaxMaxMacs = 1'048'576;
constexpr size_t kMaxNameLen = 15;
constexpr size_t kMaxPortsTotal = 1024;  // kMaxPorts in dataplane/packet.h
constexpr size_t kMaxOptionKeyLen = 64;
constexpr size_t kMaxOptionValueLen = 4096;

struct PortModel {
  std::string name;
  std::string type;
  std::map<std::string, std::string> options;
  // 802.1Q settings (dataplane/vlan.h). JSON: "vlan_mode", "tag", "trunks", present only when
  // the mode is not none.
  VlanConfig vlan;
  bool operator==(const PortModel&) const = default;
  // Equal but for the VLAN settings (which change without re-creating the port).
  bool same_port(const PortModel& o) const {
    return name == o.name && type == o.type && options == o.options;
  }
};

struct BridgeSettings {
  uint32_t aging_s = kDefaultAgingS;
  uint32_t max_macs = kDefaultMaxMacs;
  // Socket path on which memif clients with unknown ids get ports on the fly (dynamic memif
  // ports, control/dynamic_memif.h); empty = off (the default).
  std::string memif_dynamic;
  bool operator==(const BridgeSettings&) const = default;
};

struct BridgeModel {
  std::string name;
  BridgeSettings settings;
  std::vector<PortModel> ports;  // in the order they were added
  // Port mirrors (dataplane/mirror.h), in the order they were added. JSON: "mirrors", a list of
  // {"name", "select_src_port", "select_dst_port", "select_vlan", "output_port"}, present only
  // when not empty.
  std::vector<MirrorConfig> mirrors;
  bool operator==(const BridgeModel&) const = default;
  const MirrorConfig* find_mirror(std::string_view name) const;
};

struct ConfigModel {
  std::vector<BridgeModel> bridges;  // in the order they were added
  bool operator==(const ConfigModel&) const = default;

  // Lookups by name; nullptr when absent.
  const BridgeModel* find_bridge(std::string_view name) const;
  BridgeModel* find_bridge(std::string_view name);
  // The port and the bridge holding it.
  const PortModel* find_port(std::string_view name, const BridgeModel** bridge = nullptr) const;
  size_t port_count() const;
};

// --- validation ---------------------------------------------------------------------------------
// InvalidArgument unless `name` follows the name rule; `what` prefixes the message ("bridge").
Status validate_name(std::string_view what, std::string_view name);
// True for the characters a bridge or port name may hold: A-Z a-z 0-9 _ . -
bool is_name_char(char c) noexcept;
Status validate_settings(const BridgeSettings& s);
Status validate_port(const PortModel& p);
// A mirror of bridge `b`: a valid name, at least one selection, ports of `b`, VLANs in
// 1..4094, the output port not selected by it or any other mirror of `b`.
Status validate_mirror(const BridgeModel& b, const MirrorConfig& m);
// Everything above plus uniqueness of every name across bridges and ports, and the port limit.
Status validate_config(const ConfigModel& cfg);

// --- JSON ---------------------------------------------------------------------------------------
// Strict parse of the topology schema; the result has passed validate_config(). Errors are
// InvalidArgument with a path into the document. Never throws.
Result<ConfigModel> config_from_json(const nlohmann::json& j);
// The topology schema, every field present (aging_s, max_macs, options), in model order.
nlohmann::json config_to_json(const ConfigModel& cfg);
nlohmann::json port_options_to_json(const std::map<std::string, std::string>& options);
// Adds "vlan_mode", "tag", "trunks" to `port` when `v` is configured (the port schema's form).
void vlan_to_json(const VlanConfig& v, nlohmann::json& port);
nlohmann::json mirror_to_json(const MirrorConfig& m);

}  // namespace vsw::control
