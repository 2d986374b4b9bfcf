// cli/context.h — what every vswctl verb shares: global options, output streams, the connection
// to vswitchd, and the verb that the command line selected.
//
// Verbs (cli/commands/*.cc) register themselves with add_verb() while the CLI11 parser is built;
// after parsing, app.cc runs the one that was selected. A verb returns its exit code (exit_code.h)
// and prints through out()/err(), so tests can run whole verbs against a fake daemon.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/exit_code.h"
#include "common/result.h"
#include "control/protocol/client.h"

namespace CLI {
class App;
}

namespace vsw::cli {

struct GlobalOptions {
  std::string socket_path{protocol::kDefaultSocketPath};  // --socket, env VSW_SOCKET
  bool json = false;                                      // --json: print raw RPC results
  double timeout_s = 30.0;                                // --timeout: per call, and for connect
};

class Context {
 public:
  using Verb = std::function<int(Context&)>;
  using Renderer = std::function<std::string(const nlohmann::json&)>;

  Context(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  GlobalOptions& options() noexcept { return options_; }
  std::ostream& out() noexcept { return out_; }
  std::ostream& err() noexcept { return err_; }

  // --- set-up: while the parser is built ---------------------------------------------------
  // `sub` is the CLI11 subcommand; `verb` runs if the command line selected it.
  void add_verb(CLI::App* sub, Verb verb) { verbs_.emplace_back(sub, std::move(verb)); }
  // Runs the selected verb; Usage if none was selected (app.cc requires one anyway).
  int run_selected();

  // --- while a verb runs ------------------------------------------------------------------
  // Calls `method` on vswitchd, connecting on first use with options().
  Result<nlohmann::json> call(std::string_view method,
                              const nlohmann::json& params = nlohmann::json::object());
  // Details of the last failed call() (FailureKind None if it succeeded).
  const protocol::Failure& last_failure() const noexcept { return failure_; }

  // After a call() whose reply is followed by a stream: the connection's fd (the caller owns it
  // now) and the bytes already read past the reply (protocol::Client::release_connection).
  int release_connection(std::string& buffered) noexcept {
    return client_ ? client_->release_connection(buffered) : -1;
  }

  // Prints "vswctl: <message>" on err() and returns the exit code of the last failed call().
  int fail_call(const Error& e);
  // Prints "vswctl: <message>" on err() and returns ExitCode::Usage.
  int fail_local(std::string_view message);

  // The common verb: call `method`; on success print the raw result with --json, else
  // render(result) (nothing when render is empty); on failure fail_call().
  int call_and_print(std::string_view method, const nlohmann::json& params,
                     const Renderer& render = {});

 private:
  std::ostream& out_;
  std::ostream& err_;
  GlobalOptions options_;
  std::vector<std::pair<CLI::App*, Verb>> verbs_;
  std::optional<protocol::Client> client_;
  protocol::Failure failure_;
};

}  // namespace vsw::cli
