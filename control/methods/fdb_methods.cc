// control/methods/fdb_methods.cc — fdb.show, fdb.flush.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

Result<json> fdb_show(ControlPlane& cp, const json& p) {
  auto rows = cp.sw().fdb_show(str_param(p, "bridge"));
  if (!rows) return std::move(rows).error();
  json out = json::array();
  for (const FdbRow& r : *rows) {
    out.push_back({{"mac", r.mac.to_string()}, {"vlan", r.vlan}, {"port", r.port}, {"age_s", r.age_s}});
  }
  return out;
}

Result<json> fdb_flush(ControlPlane& cp, const json& p) {
  if (Status st = cp.sw().fdb_flush(str_param(p, "bridge"), str_param(p, "port")); !st) {
    return st.error();
  }
  return json::object();
}

}  // namespace

void register_fdb(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "fdb.show", "a bridge's MAC table: bridge", {{"bridge", FieldType::String, true}},
           [&cp](Call& c) { return fdb_show(cp, c.params); });
  must_add(d, "fdb.flush", "forget learned MACs (of one port?): bridge, port?",
           {{"bridge", FieldType::String, true}, {"port", FieldType::String, false}},
           [&cp](Call& c) { return fdb_flush(cp, c.params); });
}

}  // namespace vsw::control::methods
