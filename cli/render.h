// cli/render.h — vswctl's human-readable output, built from RPC results.
//
// Every function takes RPC results exactly as docs/rpc.md describes them and returns the text to
// print ('\n'-terminated lines). They are pure, so unit tests feed them JSON and compare strings.
// Missing or mistyped fields never throw: they render as "-" (or are skipped), because vswctl
// should still say something useful to a slightly older or newer daemon.
//
// --json output does not come through here: vswctl then prints the raw RPC result (json_text).
// render.cc holds the tree/list outputs, render_tables.cc the tables.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vsw::cli {

// --- helpers shared by the renderers ---------------------------------------------------------

// A scalar as a user reads it: strings unquoted, numbers as written, booleans "true"/"false",
// null or absent "-". Arrays and objects fall back to compact JSON.
std::string scalar_text(const nlohmann::json& v);

// Port options in ovs-vsctl style: {ifname=tap0, mode=server}; keys sorted; a value that is
// empty or holds characters other than [A-Za-z0-9_.:/@+-] is double-quoted with JSON escapes.
std::string options_text(const nlohmann::json& options);

// Pretty JSON (2-space indent) plus '\n'; invalid UTF-8 is replaced, never thrown.
std::string json_text(const nlohmann::json& v);

// --- show (tree) ----------------------------------------------------------------------------

// Joins the three results `vswctl show` fetches into one tree; also what `show --json` prints:
//   {"bridges": [{"name", "aging_s", "max_macs", "fdb_entries", "ports": [
//       {"name", "type", "options", "link", "state"?}]}]}
// Order follows config.show; bridges or ports only present in the live lists are appended.
nlohmann::json build_show_tree(const nlohmann::json& config_show, const nlohmann::json& bridge_list,
                               const nlohmann::json& port_list);

// The tree in ovs-vsctl show layout:
//   Bridge br0
//       aging_s: 300
//       Port tap0
//           type: tap
// A port whose "state" (from port.list) is not "ok" gets a "state:" line, e.g. the reason a port
// could not be created. "no bridges" when there are none.
std::string render_show(const nlohmann::json& tree);

// --- single objects and lists ----------------------------------------------------------------

// port.show result: "Port NAME" then indented key: value lines; options on one line, details and
// stats as nested blocks.
std::string render_port(const nlohmann::json& port_show);

// The `key` field of each element of a list result, sorted, one per line (list-br, list-ports).
std::string render_names(const nlohmann::json& list, std::string_view key = "name");

// config.apply result: one action per line ("would " prefixed when dry_run), or "no changes".
std::string render_actions(const nlohmann::json& apply_result, bool dry_run);

// --- tables (render_tables.cc) ---------------------------------------------------------------

// fdb.show result: PORT MAC AGE, sorted by port then MAC.
std::string render_fdb(const nlohmann::json& entries);
// mirror.list: one block per mirror (bridge, selection, output port, counters).
std::string render_mirrors(const nlohmann::json& mirrors);
// "access tag=10", "trunk trunks=10,20" ("trunks=all" when empty), "native-untagged tag=10
// trunks=all"; "" for a port without VLAN settings (vlan_mode absent or "none").
std::string vlan_text(const nlohmann::json& port);

// stats.show result: one row per port with packet, byte and total drop counts; then, if any drop
// is non-zero, a "drops:" block naming each non-zero reason per port and direction.
std::string render_stats(const nlohmann::json& stats);

// dp.show result: TSC rate and mempool lines, then one row per worker (busy share computed from
// busy_tsc / (busy_tsc + idle_tsc); an unpinned worker's cpu -1 shows as "any").
std::string render_dp(const nlohmann::json& dp);

// capture.list result: ID PORT DIRECTION SNAPLEN MATCHED DROPPED FILTER; "no capture running"
// when empty (render_captures.cc).
std::string render_captures(const nlohmann::json& captures);

// daemon.methods result: METHOD USAGE, sorted by method.
std::string render_methods(const nlohmann::json& methods);

}  // namespace vsw::cli
