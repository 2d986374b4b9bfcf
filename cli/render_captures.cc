// cli/render_captures.cc — list-captures: the capture.list result as a table.
#include <string>

#include "cli/render.h"
#include "cli/text_table.h"

namespace vsw::cli {

using nlohmann::json;

namespace {
std::string text_of(const json& obj, const char* key) {
  if (!obj.is_object()) return "-";
  auto it = obj.find(key);
  return it == obj.end() ? "-" : scalar_text(*it);
}
}  // namespace

std::string render_captures(const json& captures) {
  using Align = TextTable::Align;
  TextTable t({{"ID", Align::Right},
               {"PORT"},
               {"DIRECTION"},
               {"SNAPLEN", Align::Right},
               {"MATCHED", Align::Right},
               {"DROPPED", Align::Right},
               {"FILTER"}});
  if (captures.is_array()) {
    for (const json& c : captures) {
      t.add_row({text_of(c, "id"), text_of(c, "port"),
                 text_of(c, "direction"), text_of(c, "snaplen"),
                 text_of(c, "matched"), text_of(c, "dropped"),
                 text_of(c, "filter")});
    }
  }
  if (t.row_count() == 0) return "no capture running\n";
  return t.str();
}

}  // namespace vsw::cli
