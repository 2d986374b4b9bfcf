// cli/commands/apply.cc — apply FILE [--dry-run] (config.apply) and config-show (config.show).
//
// `vswctl config-show > topo.json; vswctl apply topo.json` round-trips: config-show prints the
// running configuration in the topology schema, which apply accepts, and the second apply of the
// same file reports "no changes".
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"
#include "cli/topology_file.h"

namespace vsw::cli {

namespace {

using json = nlohmann::json;

struct ApplyArgs {
  std::string file;
  bool dry_run = false;
};

int run_apply(Context& c, const ApplyArgs& a) {
  Result<json> topology = read_topology_file(a.file);
  if (!topology) return c.fail_local(topology.error().message);
  json params = {{"config", std::move(*topology)}};
  if (a.dry_run) params["dry_run"] = true;
  Result<json> r = c.call("config.apply", params);
  if (!r) {
    int code = c.fail_call(r.error());
    // A failure part-way reports what was already changed (docs/rpc.md, config.apply).
    const json& data = c.last_failure().data;
    if (data.is_object() && data.contains("done") && data["done"].is_array() &&
        !data["done"].empty()) {
      c.err() << "vswctl: actions done before the failure:\n";
      for (const json& action : data["done"]) c.err() << "  " << scalar_text(action) << '\n';
    }
    return code;
  }
  c.out() << (c.options().json ? json_text(*r) : render_actions(*r, a.dry_run));
  return to_int(ExitCode::Ok);
}

}  // namespace

void add_apply_verbs(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<ApplyArgs>();
    CLI::App* sub = app.add_subcommand(
        "apply", "Make the running configuration equal to the topology in FILE (idempotent)");
    sub->add_option("FILE", a->file, "topology JSON file; '-' reads standard input")->required();
    sub->add_flag("--dry-run", a->dry_run, "only print the actions that would be taken");
    ctx.add_verb(sub, [a](Context& c) { return run_apply(c, *a); });
  }
  {
    CLI::App* sub = app.add_subcommand(
        "config-show", "Print the running configuration as topology JSON (input for apply)");
    ctx.add_verb(
        sub, [](Context& c) { return c.call_and_print("config.show", json::object(), json_text); });
  }
}

}  // namespace vsw::cli
