// cli/context.cc — connection handling and the common call-then-print path (see context.h).
#include "cli/context.h"

#include <chrono>
#include <cmath>

#include <CLI/CLI.hpp>

#include "cli/render.h"

namespace vsw::cli {

int Context::run_selected() {
  for (auto& [sub, verb] : verbs_) {
    if (sub->parsed()) return verb(*this);
  }
  return fail_local("no command given; run 'vswctl --help'");
}

Result<nlohmann::json> Context::call(std::string_view method, const nlohmann::json& params) {
  if (!client_) {
    auto ms = static_cast<int64_t>(std::ceil(options_.timeout_s * 1000.0));
    client_.emplace(options_.socket_path, std::chrono::milliseconds(ms));
  }
  Result<nlohmann::json> r = client_->call(method, params);
  failure_ = client_->last_failure();
  return r;
}

int Context::fail_call(const Error& e) {
  err_ << "vswctl: " << e.message << '\n';
  ExitCode code = exit_code_for(failure_.kind);
  return to_int(code == ExitCode::Ok ? ExitCode::DaemonError : code);
}

int Context::fail_local(std::string_view message) {
  err_ << "vswctl: " << message << '\n';
  return to_int(ExitCode::Usage);
}

int Context::call_and_print(std::string_view method, const nlohmann::json& params,
                            const Renderer& render) {
  Result<nlohmann::json> r = call(method, params);
  if (!r) return fail_call(r.error());
  if (options_.json) {
    out_ << json_text(*r);
  } else if (render) {
    out_ << render(*r);
  }
  return to_int(ExitCode::Ok);
}

}  // namespace vsw::cli
