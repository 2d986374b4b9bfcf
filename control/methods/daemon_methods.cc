// control/methods/daemon_methods.cc — daemon.version, daemon.methods, log.set_level.
#include "common/log.h"
#include "control/methods/methods.h"

#ifndef VSW_VERSION
#define VSW_VERSION "unknown"
#endif

namespace vsw::control::methods {

using nlohmann::json;

void register_daemon(Dispatcher& d) {
  must_add(d, "daemon.version", "the daemon's version", {}, [](Call&) -> Result<json> {
    return json{{"version", VSW_VERSION}};
  });
  must_add(d, "daemon.methods", "every method with a one-line usage", {},
           [&d](Call&) -> Result<json> {
             json out = json::array();
             for (const auto& [name, usage] : d.methods()) {
               out.push_back({{"method", name}, {"usage", usage}});
             }
             return out;
           });
  must_add(d, "log.set_level", "change log levels: spec (\"info\" or \"info,dp=debug\")",
           {{"spec", FieldType::String, true}}, [](Call& c) -> Result<json> {
             const std::string spec = str_param(c.params, "spec");
             if (Status st = log::set_levels(spec); !st) return st.error();
             log::ctl().info("log levels changed spec={}", spec);
             return json::object();
           });
}

}  // namespace vsw::control::methods
