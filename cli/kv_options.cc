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

Result<nlohmann::json> parse_id_list(const std::string& text) {
  nlohmann::json out = nlohmann::json::array();
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    const bool digits = !item.empty() && item.size() <= 5 &&
                        item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoul(item) > 65535) {
      return make_error(Errc::InvalidArgument, "'{}' is not a number in a comma-separated list",
                        item);
    }
    out.push_back(std::stoul(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace vsw::cli
