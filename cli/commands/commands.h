// cli/commands/commands.h — registration of vswctl's verbs, one function per noun file.
//
// Each function adds its CLI11 subcommands to `app` and registers what they do with
// Context::add_verb. Verbs map one-to-one onto RPC methods (docs/rpc.md), in ovs-vsctl habits:
// add-br -> bridge.add, fdb-show -> fdb.show. docs/cli.md is the user reference for all of them.
// Called once, on the thread that parses the command line; `ctx` must outlive `app`'s parse and
// the verb's run.
#pragma once

namespace CLI {
class App;
}

namespace vsw::cli {

class Context;

void add_bridge_verbs(CLI::App& app, Context& ctx);  // add-br del-br list-br set-br
void add_port_verbs(CLI::App& app, Context& ctx);    // add-port set-port del-port list-ports port-show
void add_mirror_verbs(CLI::App& app, Context& ctx);  // add-mirror del-mirror list-mirrors
void add_fdb_verbs(CLI::App& app, Context& ctx);     // fdb-show fdb-flush
void add_stats_verbs(CLI::App& app, Context& ctx);   // stats
void add_dp_verbs(CLI::App& app, Context& ctx);      // dp-show
void add_apply_verbs(CLI::App& app, Context& ctx);   // apply config-show
void add_misc_verbs(CLI::App& app, Context& ctx);    // show version log-level list-methods
void add_capture_verbs(CLI::App& app, Context& ctx); // capture list-captures

}  // namespace vsw::cli
