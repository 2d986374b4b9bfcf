// control/methods/method_util.cc — helpers shared by the RPC method files, and register_all().
#include "common/assert.h"
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

void register_all(Dispatcher& d, ControlPlane& cp) {
  register_daemon(d);
  register_bridge(d, cp);
  register_port(d, cp);
  register_fdb(d, cp);
  register_stats(d, cp);
  register_dp(d, cp);
  register_config(d, cp);
  register_vlan(d, cp);
  register_mirror(d, cp);
  register_capture(d, cp);
}

void must_add(Dispatcher& d, std::string method, std::string usage, ParamSpec params,
              Dispatcher::Handler handler) {
  Status st = d.add(std::move(method), std::move(usage), std::move(params), std::move(handler));
  VSW_CHECK(st.has_value(), "RPC method registration failed");
}

std::string str_param(const json& p, std::string_view key) {
  const auto it = p.find(key);
  return it == p.end() ? std::string() : it->get<std::string>();
}

bool bool_param(const json& p, std::string_view key) {
  const auto it = p.find(key);
  return it != p.end() && it->get<bool>();
}

Result<std::optional<uint32_t>> u32_param(const json& p, std::string_view key) {
  const auto it = p.find(key);
  if (it == p.end()) return std::optional<uint32_t>{};
  const uint64_t v = it->get<uint64_t>();
  if (v > UINT32_MAX) {
    return make_error(Errc::InvalidArgument, "{}={} is out of range", key, v);
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(v));
}

Result<json> save_and_reply(ControlPlane& cp) {
  if (Status st = cp.save(); !st) return st.error();
  return json::object();
}

json stats_to_json(const PortStats& s) {
  json rx_drops = json::object();
  json tx_drops = json::object();
  for (size_t r = 0; r < static_cast<size_t>(DropReason::Count); ++r) {
    const std::string reason(drop_reason_name(static_cast<DropReason>(r)));
    rx_drops[reason] = s.rx_drops[r];
    tx_drops[reason] = s.tx_drops[r];
  }
  return json{{"rx_packets", s.rx_packets},      {"rx_bytes", s.rx_bytes},
              {"tx_packets", s.tx_packets},      {"tx_bytes", s.tx_bytes},
              {"rx_drops", std::move(rx_drops)}, {"tx_drops", std::move(tx_drops)}};
}

}  // namespace vsw::control::methods
