// cli/app.cc — builds vswctl's CLI11 parser (global options + every verb) and runs the verb.
#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/exit_code.h"

namespace vsw::cli {

namespace {

void add_global_options(CLI::App& app, GlobalOptions& o) {
  app.add_option("--socket", o.socket_path, "vswitchd's control socket")
      ->envname("VSW_SOCKET")
      ->capture_default_str();
  app.add_flag("--json", o.json, "print raw JSON results, for scripts");
  app.add_option("--timeout", o.timeout_s, "seconds to wait for each reply")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

std::string failure_message(const CLI::App*, const CLI::Error& e) {
  return std::string("vswctl: ") + e.what() + "\nRun 'vswctl --help' or 'vswctl VERB --help'.\n";
}

}  // namespace

int run_vswctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Context ctx(out, err);
  CLI::App app{"vswctl: configure and inspect vswitchd, the vsw software switch", "vswctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the verb
  app.failure_message(failure_message);
  app.set_version_flag("--version", std::string("vswctl ") + VSW_VERSION);
  add_global_options(app, ctx.options());
  add_bridge_verbs(app, ctx);
  add_port_verbs(app, ctx);
  add_mirror_verbs(app, ctx);
  add_fdb_verbs(app, ctx);
  add_stats_verbs(app, ctx);
  add_dp_verbs(app, ctx);
  add_apply_verbs(app, ctx);
  add_misc_verbs(app, ctx);
  add_capture_verbs(app, ctx);

  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 wants it reversed
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? to_int(ExitCode::Ok) : to_int(ExitCode::Usage);
  }
  return ctx.run_selected();
}

}  // namespace vsw::cli
