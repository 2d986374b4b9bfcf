// cli/topology_file.cc — see topology_file.h.
#include "cli/topology_file.h"

#include <cerrno>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace vsw::cli {

namespace {

// nlohmann's what() starts with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_tag(std::string what) {
  if (!what.empty() && what.front() == '[') {
    size_t end = what.find("] ");
    if (end != std::string::npos) what.erase(0, end + 2);
  }
  return what;
}

}  // namespace

Result<nlohmann::json> read_topology_file(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return make_sys_error(Errc::Io, errno != 0 ? errno : EIO,
                            fmt::format("cannot read topology file '{}'", path));
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) {
      return make_sys_error(Errc::Io, errno != 0 ? errno : EIO,
                            fmt::format("cannot read topology file '{}'", path));
    }
    text = buf.str();
  }
  std::string shown = path == "-" ? std::string("<stdin>") : path;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error for bad syntax, but also out_of_range for a number too large for a double
    // (found by fuzz/topology_file_fuzz.cc): every parser exception is a file the user must fix.
    return make_error(Errc::InvalidArgument, "topology file '{}' is not valid JSON: {}", shown,
                      without_exception_tag(e.what()));
  }
  if (!doc.is_object()) {
    return make_error(Errc::InvalidArgument,
                      "topology file '{}' must hold a JSON object like "
                      "{{\"bridges\": [...]}} (see docs/rpc.md)",
                      shown);
  }
  return doc;
}

}  // namespace vsw::cli
