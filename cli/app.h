// cli/app.h — vswctl as a function: parse the command line, run one verb, return the exit code.
//
// main.cc only forwards argv here. Tests call run_vswctl() with a fake daemon's socket and
// string streams, so everything except process start-up is covered without a real vswitchd.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vsw::cli {

// `args` excludes the program name. Prints results on `out`, errors and usage problems on `err`
// (--help and --version print on `out`). Returns the exit code: see exit_code.h.
// The default socket comes from the environment variable VSW_SOCKET when --socket is not given.
int run_vswctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vsw::cli
