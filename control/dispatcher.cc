// control/dispatcher.cc — JSON-RPC 2.0 request validation, routing and error replies.
// Section numbers refer to the JSON-RPC 2.0 specification (2013-01-04).
#include "control/dispatcher.h"

#include <exception>

#include "common/log.h"
#include "control/protocol/error_codes.h"

namespace vsw::control {

using nlohmann::json;

namespace {

json make_error_reply(const json& id, int code, std::string_view message, json data = nullptr) {
  json err = {{"code", code}, {"message", message}};
  if (!data.is_null()) err["data"] = std::move(data);
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

std::string dump_line(const json& j) {
  // Handlers may echo bytes from the outside world (interface names, peer strings); never throw
  // on invalid UTF-8, replace it.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string_view type_phrase(FieldType t) {
  switch (t) {
    case FieldType::String: return "a string";
    case FieldType::Bool: return "a boolean";
    case FieldType::Unsigned: return "a non-negative integer";
    case FieldType::Object: return "an object";
    case FieldType::StringMap: return "an object of strings";
    case FieldType::StringList: return "an array of strings";
    case FieldType::UnsignedList: return "an array of non-negative integers";
  }
  return "?";
}

bool has_type(const json& v, FieldType t) {
  switch (t) {
    case FieldType::String: return v.is_string();
    case FieldType::Bool: return v.is_boolean();
    case FieldType::Unsigned: return v.is_number_unsigned();
    case FieldType::Object: return v.is_object();
    case FieldType::StringList:
    case FieldType::UnsignedList:
      if (!v.is_array()) return false;
      for (const auto& e : v) {
        if (t == FieldType::StringList ? !e.is_string() : !e.is_number_unsigned()) return false;
      }
      return true;
    case FieldType::StringMap:
      if (!v.is_object()) return false;
      for (const auto& item : v.items()) {
        if (!item.value().is_string()) return false;
      }
      return true;
  }
  return false;
}

// §4: "id" must be a String, Number or Null when present.
bool is_valid_id(const json& id) { return id.is_string() || id.is_number() || id.is_null(); }

}  // namespace

bool nesting_exceeds(std::string_view text, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

Status check_params(const json& params, const ParamSpec& spec) {
  if (!params.is_object()) {
    return make_error(Errc::InvalidArgument, "params must be a named object");
  }
  for (const auto& item : params.items()) {
    const FieldSpec* field = nullptr;
    for (const FieldSpec& f : spec) {
      if (f.name == item.key()) field = &f;
    }
    if (field == nullptr) {
      std::string valid;
      for (const FieldSpec& f : spec) valid += (valid.empty() ? "" : ", ") + f.name;
      return make_error(Errc::InvalidArgument, "unknown field '{}' (valid: {})", item.key(),
                        valid.empty() ? "none" : valid);
    }
    if (!has_type(item.value(), field->type)) {
      return make_error(Errc::InvalidArgument, "field '{}' must be {}", field->name,
                        type_phrase(field->type));
    }
  }
  for (const FieldSpec& f : spec) {
    if (f.required && !params.contains(f.name)) {
      return make_error(Errc::InvalidArgument, "missing field '{}'", f.name);
    }
  }
  return ok();
}

Status Dispatcher::add(std::string method, std::string usage, ParamSpec params, Handler handler) {
  if (method.rfind("rpc.", 0) == 0) {
    return make_error(Errc::InvalidArgument, "method names starting with 'rpc.' are reserved");
  }
  if (methods_.count(method) != 0) {
    return make_error(Errc::AlreadyExists, "method '{}' is already registered", method);
  }
  methods_.emplace(std::move(method),
                   Method{std::move(usage), std::move(params), std::move(handler)});
  return ok();
}

std::vector<std::pair<std::string, std::string>> Dispatcher::methods() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(methods_.size());
  for (const auto& [name, m] : methods_) out.emplace_back(name, m.usage);
  return out;
}

std::string Dispatcher::parse_error_reply(std::string_view message) {
  return dump_line(make_error_reply(nullptr, protocol::kParseError, message));
}

std::optional<std::string> Dispatcher::handle(std::string_view line) noexcept {
  return handle(line, nullptr);
}

std::optional<std::string> Dispatcher::handle(std::string_view line,
                                              std::unique_ptr<ReplyStream>* stream) noexcept {
  try {
    if (nesting_exceeds(line, kMaxDepth)) {
      return parse_error_reply(fmt::format("JSON nested deeper than {} levels", kMaxDepth));
    }
    // No exceptions from the parser: a syntax error or invalid UTF-8 yields a discarded value.
    const json request = json::parse(line.begin(), line.end(), nullptr, false);
    if (request.is_discarded()) return parse_error_reply("parse error: invalid JSON");

    if (!request.is_array()) {
      auto reply = handle_one(request, stream);
      if (!reply) return std::nullopt;
      return dump_line(*reply);
    }
    // §6 batch: an empty array is one invalid-request error; otherwise one reply per request
    // that is not a notification, and nothing at all when every element is a notification.
    if (request.empty()) {
      return dump_line(
          make_error_reply(nullptr, protocol::kInvalidRequest, "invalid request: empty batch"));
    }
    json replies = json::array();
    for (const json& element : request) {
      if (auto reply = handle_one(element, nullptr)) replies.push_back(std::move(*reply));
    }
    if (replies.empty()) return std::nullopt;
    return dump_line(replies);
  } catch (const std::exception& e) {
    VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc internal error: {}", e.what());
    return dump_line(make_error_reply(nullptr, protocol::kInternalError,
                                      fmt::format("internal error: {}", e.what())));
  } catch (...) {
    return dump_line(make_error_reply(nullptr, protocol::kInternalError, "internal error"));
  }
}

std::optional<json> Dispatcher::handle_one(const json& request,
                                           std::unique_ptr<ReplyStream>* stream) {
  // §4: a request is an object with "jsonrpc": "2.0", a string "method", optional structured
  // "params" and optional "id" (absent = notification).
  if (!request.is_object()) {
    return make_error_reply(nullptr, protocol::kInvalidRequest,
                            "invalid request: expected a JSON object");
  }
  const auto id_it = request.find("id");
  const bool notification = id_it == request.end();
  if (!notification && !is_valid_id(*id_it)) {
    return make_error_reply(nullptr, protocol::kInvalidRequest,
                            "invalid request: id must be a string, a number or null");
  }
  const json id = notification ? json(nullptr) : *id_it;

  const auto version = request.find("jsonrpc");
  if (version == request.end() || !version->is_string() || *version != "2.0") {
    return make_error_reply(id, protocol::kInvalidRequest,
                            "invalid request: \"jsonrpc\" must be \"2.0\"");
  }
  const auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    return make_error_reply(id, protocol::kInvalidRequest,
                            "invalid request: \"method\" must be a string");
  }
  const auto params = request.find("params");
  if (params != request.end() && !params->is_object() && !params->is_array()) {
    return make_error_reply(id, protocol::kInvalidRequest,
                            "invalid request: \"params\" must be an object");
  }

  const std::string& name = method->get_ref<const std::string&>();
  const auto found = methods_.find(name);
  if (found == methods_.end()) {
    if (notification) return std::nullopt;
    return make_error_reply(id, protocol::kMethodNotFound,
                            fmt::format("method not found: '{}'", name));
  }
  return invoke(found->second, request, notification ? nullptr : &id, stream);
}

std::optional<json> Dispatcher::invoke(const Method& m, const json& request, const json* id,
                                       std::unique_ptr<ReplyStream>* stream) {
  static const json kEmpty = json::object();
  const auto params_it = request.find("params");
  const json& params = params_it == request.end() ? kEmpty : *params_it;
  const std::string& name = request["method"].get_ref<const std::string&>();

  if (Status st = check_params(params, m.params); !st) {
    log::ctl().debug("rpc invalid params method={} reason={}", name, st.error().message);
    if (id == nullptr) return std::nullopt;
    return make_error_reply(*id, protocol::kInvalidParams,
                            fmt::format("invalid params: {}", st.error().message));
  }

  Call call{params, json::object(), stream != nullptr && id != nullptr, nullptr};
  Result<json> result = make_error(Errc::Internal, "handler did not run");
  try {
    result = m.handler(call);
  } catch (const std::exception& e) {
    VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc handler threw method={} what={}", name,
               e.what());
    if (id == nullptr) return std::nullopt;
    return make_error_reply(*id, protocol::kInternalError,
                            fmt::format("internal error: {}", e.what()));
  }
  if (!result) {
    const Error& e = result.error();
    log::ctl().debug("rpc failed method={} errc={} reason={}", name, errc_name(e.code), e.message);
    if (id == nullptr) return std::nullopt;
    json data = {{"errc", errc_name(e.code)}};
    if (call.error_data.is_object()) data.update(call.error_data);
    return make_error_reply(*id, protocol::errc_to_rpc_code(e.code), e.message, std::move(data));
  }
  if (id == nullptr) return std::nullopt;
  if (call.stream && call.stream_allowed) *stream = std::move(call.stream);
  return json{{"jsonrpc", "2.0"}, {"id", *id}, {"result", std::move(*result)}};
}

}  // namespace vsw::control
