// cli/kv_options.cc — `-o key=value` parsing (see kv_options.h).
#include "cli/kv_options.h"

namespace vsw::cli {

Result<nlohmann::json> parse_key_values(const std::vector<std::string>& items) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return make_error(Errc::InvalidArgument, "bad option '{}': expected key=value", item);
    }
    std::string key = item.substr(0, eq);
    if (key.empty()) {
      return make_error(Errc::InvalidArgument, "bad option '{}': the key is empty", item);
    }
    if (out.contains(key)) {
      return make_error(Errc::InvalidArgument, "option '{}' is given more than once", key);
    }
    out[key] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace vsw::cli
