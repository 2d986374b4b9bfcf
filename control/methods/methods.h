// control/methods/methods.h — the RPC methods of docs/rpc.md, one registration function per noun
// (one .cc file each), plus the small helpers they share.
//
// Every handler runs on the control thread (Dispatcher::handle), receives params already checked
// against its ParamSpec (names and JSON types), checks values and returns a Result: a vsw::Error
// becomes the JSON-RPC error of its Errc. Change methods save the running configuration after a
// successful change (ControlPlane::save); read methods never change anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/control_plane.h"
#include "control/dispatcher.h"
#include "dataplane/port_counters.h"

namespace vsw::control::methods {

// daemon.version, daemon.methods, log.set_level (daemon_methods.cc).
void register_daemon(Dispatcher& d);
// bridge.add, bridge.del, bridge.set, bridge.list (bridge_methods.cc).
void register_bridge(Dispatcher& d, ControlPlane& cp);
// port.add, port.del, port.list, port.show (port_methods.cc).
void register_port(Dispatcher& d, ControlPlane& cp);
// fdb.show, fdb.flush (fdb_methods.cc).
void register_fdb(Dispatcher& d, ControlPlane& cp);
// stats.show (stats_methods.cc).
void register_stats(Dispatcher& d, ControlPlane& cp);
// dp.show (dp_methods.cc).
void register_dp(Dispatcher& d, ControlPlane& cp);
// config.show, config.apply (config_methods.cc).
void register_config(Dispatcher& d, ControlPlane& cp);
// port.set (vlan_methods.cc).
void register_vlan(Dispatcher& d, ControlPlane& cp);
// mirror.add, mirror.del, mirror.list (mirror_methods.cc).
void register_mirror(Dispatcher& d, ControlPlane& cp);

// capture.start, capture.list (capture_methods.cc).
void register_capture(Dispatcher& d, ControlPlane& cp);

// All of the above.
void register_all(Dispatcher& d, ControlPlane& cp);

// --- helpers for the method files ----------------------------------------------------------------
// Dispatcher::add that aborts on a programming error (duplicate or reserved name).
void must_add(Dispatcher& d, std::string method, std::string usage, ParamSpec params,
              Dispatcher::Handler handler);
// Field readers for params that passed the ParamSpec (so types are right).
std::string str_param(const nlohmann::json& p, std::string_view key);  // "" when absent
bool bool_param(const nlohmann::json& p, std::string_view key);        // false when absent
// nullopt when absent; InvalidArgument when above UINT32_MAX.
Result<std::optional<uint32_t>> u32_param(const nlohmann::json& p, std::string_view key);
// Saves the running configuration; {} on success.
Result<nlohmann::json> save_and_reply(ControlPlane& cp);
// The VLAN settings a request (port.add, port.set) asks for: its vlan_mode, tag, trunks over
// `base`; InvalidArgument for bad values (vlan_methods.cc).
Result<VlanConfig> requested_vlan(const nlohmann::json& p, const VlanConfig& base);
// "vlan_mode", "tag" (null when none), "trunks" of port.list / port.show.
void vlan_fields(const VlanConfig& v, nlohmann::json& out);
// The counters object shared by stats.show and port.show.
nlohmann::json stats_to_json(const PortStats& s);

}  // namespace vsw::control::methods
