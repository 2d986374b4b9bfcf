// control/methods/config_methods.cc — config.show, config.apply.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

Result<json> config_apply(ControlPlane& cp, Call& c) {
  auto desired = config_from_json(c.params.at("config"));
  if (!desired) {
    return make_error(Errc::InvalidArgument, "config: {}", desired.error().message);
  }
  std::vector<std::string> actions;
  Status st = cp.apply_config(*desired, bool_param(c.params, "dry_run"), actions);
  if (!st) {
    c.error_data["done"] = actions;
    return st.error();
  }
  return json{{"actions", actions}};
}

}  // namespace

void register_config(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "config.show", "the running configuration, in the topology schema", {},
           [&cp](Call&) -> Result<json> { return config_to_json(cp.running()); });
  must_add(d, "config.apply",
           "make the running configuration equal to a topology: config, dry_run?",
           {{"config", FieldType::Object, true}, {"dry_run", FieldType::Bool, false}},
           [&cp](Call& c) { return config_apply(cp, c); });
}

}  // namespace vsw::control::methods
