// cli/main.cc — vswctl, the command-line client of vswitchd. Everything happens in
// run_vswctl() (cli/app.cc); verbs live in cli/commands/, output formats in cli/render.cc,
// and the JSON-RPC client in control/protocol/client.cc. Reference: docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  int code = vsw::cli::run_vswctl(args, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
