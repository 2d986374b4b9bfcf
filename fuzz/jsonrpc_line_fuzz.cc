// fuzz/jsonrpc_line_fuzz.cc — one line received on the control socket, through the real
// Dispatcher with every real RPC method registered (control/dispatcher.h, control/methods/), on
// a real Switch with in-memory ports (workers not started, nothing persisted).
//
// The input is the line (without its '\n'), as control/rpc_server.cc hands it to
// Dispatcher::handle(). Lines that would make a method touch the host are skipped before the
// dispatcher sees them: any JSON string equal to a kernel- or socket-facing port type ("tap",
// "afpacket", "memif"), any "memif_dynamic" member (it binds a socket at a given path) and any
// capture "filter" with a word libpcap could resolve as a name (DNS). Only
// the in-memory "loopback" port type remains, so the fuzzer can add, change and delete bridges
// and ports freely. Everything created is deleted again after each input.
//
// Checked:
//   * the reply (when there is one) is valid JSON: an object, or for a batch an array of objects,
//     each with "jsonrpc": "2.0", an "id", and exactly one of "result" or "error" (an integer
//     code from the documented set and a string message); a request with an id gets exactly its
//     id back; unparseable input gets -32700 with a null id, an empty batch -32600;
//   * no request ends in an internal error (-32603 or Errc::Internal): params are checked before
//     handlers run, so a handler that throws or fails internally is a bug;
//   * capture.start params and filters (compiled by libpcap): a stream, when one comes back,
//     starts with a chunk holding the pcap header, and no capture outlives its stream;
//   * afterwards the running model is valid, survives its own JSON round trip, and agrees with
//     the Switch (same bridges, settings and ports, in the same order).
#include <cctype>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "control/control_plane.h"
#include "control/dispatcher.h"
#include "control/methods/methods.h"
#include "control/protocol/error_codes.h"
#include "dataplane/switch.h"
#include "fuzz/fuzz_support.h"
#include "ports/port_factory.h"

namespace {

using namespace vsw;
using namespace vsw::control;
using nlohmann::json;

struct Daemon {
  boost::asio::io_context io;
  std::unique_ptr<Switch> sw;
  ports::PortFactory factory;
  std::unique_ptr<ports::PortEnv> env;
  std::unique_ptr<ControlPlane> cp;
  Dispatcher d;
  // Nothing reachable here creates files: loopback ports need no run directory, and the
  // ControlPlane has no state store.
  std::string run_dir = "/nonexistent/vsw-rpc-fuzz";

  Daemon() {
    SwitchConfig sc;
    sc.workers = 1;
    sc.pool.buffers = 1024;
    sc.pool.hugepages = false;
    auto s = Switch::create(sc);
    FUZZ_CHECK(s.has_value(), "switch: {}", s ? "" : s.error().message);
    sw = std::move(*s);
    env = std::make_unique<ports::PortEnv>(
        ports::PortEnv{sw->mempool(), io, run_dir, 1, &sw->quiescent()});
    cp = std::make_unique<ControlPlane>(*sw, factory, *env, nullptr);
    methods::register_all(d, *cp);
  }
};

Daemon& daemon() {
  static Daemon* d = new Daemon;  // never destroyed: libFuzzer exits without unwinding
  return *d;
}

// True when `j` names a port type or setting that reaches outside the process.
// A capture filter word libpcap might look up (a bare word is a host name: getaddrinfo, i.e.
// DNS): anything but the keywords below. Such filters are skipped like host-facing ports.
bool may_resolve_names(const std::string& filter) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "and", "or", "not", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp",
      "port", "portrange", "src", "dst", "proto", "ether", "broadcast", "multicast", "len",
      "greater", "less", "vlan", "tcpflags", "tcp-syn", "tcp-ack", "tcp-fin", "tcp-rst",
      "icmptype", "icmp-echo", "inbound", "outbound", "mpls"};
  for (size_t i = 0; i < filter.size();) {
    if (!std::isalpha(static_cast<unsigned char>(filter[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < filter.size() && (std::isalnum(static_cast<unsigned char>(filter[j])) ||
                                 filter[j] == '-' || filter[j] == '_' || filter[j] == '.')) {
      ++j;
    }
    if (kKeywords.find(std::string_view(filter).substr(i, j - i)) == kKeywords.end()) return true;
    i = j;
  }
  return false;
}

bool touches_the_host(const json& j) {
  switch (j.type()) {
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s == "tap" || s == "afpacket" || s == "memif";
    }
    case json::value_t::array:
      for (const json& e : j) {
        if (touches_the_host(e)) return true;
      }
      return false;
    case json::value_t::object:
      for (const auto& item : j.items()) {
        if (item.key() == "memif_dynamic" || touches_the_host(item.value())) return true;
        if (item.key() == "filter" && item.value().is_string() &&
            may_resolve_names(item.value().get_ref<const std::string&>())) {
          return true;
        }
      }
      return false;
    default: return false;
  }
}

bool documented_code(int code) {
  return code == protocol::kParseError || code == protocol::kInvalidRequest ||
         code == protocol::kMethodNotFound || code == protocol::kInvalidParams ||
         code == protocol::kInternalError || protocol::rpc_code_to_errc(code).has_value();
}

// One reply object; `want_id` is what its id must be (nullptr: the request's id is unknown).
void check_reply(const json& r, const json* want_id) {
  FUZZ_CHECK(r.is_object(), "reply element is not an object: {}", r.dump());
  FUZZ_CHECK(r.size() == 3 && r.contains("jsonrpc") && r["jsonrpc"] == "2.0" && r.contains("id"),
             "reply members: {}", r.dump());
  FUZZ_CHECK(r.contains("result") != r.contains("error"), "result and error: {}", r.dump());
  if (want_id != nullptr) {
    FUZZ_CHECK(r["id"] == *want_id, "reply id {} for request id {}", r["id"].dump(),
               want_id->dump());
  }
  if (!r.contains("error")) return;
  const json& e = r["error"];
  FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_number_integer() &&
                 e.contains("message") && e["message"].is_string(),
             "error shape: {}", e.dump());
  const int code = e["code"].get<int>();
  FUZZ_CHECK(documented_code(code), "undocumented error code {}", code);
  FUZZ_CHECK(code != protocol::kInternalError &&
                 code != protocol::errc_to_rpc_code(Errc::Internal),
             "internal error: {}", r.dump());
}

// The id a request must get back: its own, as it survives dump and parse; nullptr when the
// request is not an object with a valid id (then the reply's id is null or absent).
std::optional<json> expected_id(const json& request) {
  if (!request.is_object() || !request.contains("id")) return std::nullopt;
  const json& id = request["id"];
  if (!(id.is_string() || id.is_number() || id.is_null())) return json(nullptr);
  return json::parse(id.dump());
}

void check_single(const json& request, const std::optional<std::string>& reply) {
  const std::optional<json> id = expected_id(request);
  if (request.is_object() && !request.contains("id")) {
    if (!reply) return;  // a notification: nothing, unless the request itself was invalid
    const json r = json::parse(*reply);
    check_reply(r, nullptr);
    FUZZ_CHECK(r["id"].is_null() && r.contains("error"), "notification answered: {}", *reply);
    return;
  }
  FUZZ_CHECK(reply.has_value(), "no reply to a request with an id");
  const json r = json::parse(*reply);
  const json null_id = nullptr;
  check_reply(r, id ? &*id : &null_id);
}

void check_reply_line(std::string_view line, const std::optional<std::string>& reply) {
  if (reply) {
    FUZZ_CHECK(json::accept(*reply), "reply is not JSON: {}", *reply);
    FUZZ_CHECK(reply->find('\n') == std::string::npos, "reply spans lines");
  }
  const bool too_deep = nesting_exceeds(line, Dispatcher::kMaxDepth);
  const json request = too_deep ? json(json::value_t::discarded)
                                : json::parse(line.begin(), line.end(), nullptr, false);
  if (request.is_discarded()) {
    FUZZ_CHECK(reply.has_value(), "no reply to unparseable input");
    const json r = json::parse(*reply);
    const json null_id = nullptr;
    check_reply(r, &null_id);
    FUZZ_CHECK(r["error"]["code"] == protocol::kParseError, "not a parse error: {}", *reply);
    return;
  }
  if (!request.is_array()) {
    check_single(request, reply);
    return;
  }
  if (request.empty()) {
    FUZZ_CHECK(reply.has_value(), "no reply to an empty batch");
    const json r = json::parse(*reply);
    FUZZ_CHECK(r.is_object() && r["error"]["code"] == protocol::kInvalidRequest,
               "empty batch: {}", *reply);
    return;
  }
  size_t must_answer = 0;
  for (const json& e : request) must_answer += !e.is_object() || e.contains("id");
  if (!reply) {
    FUZZ_CHECK(must_answer == 0, "batch with {} requests unanswered", must_answer);
    return;
  }
  const json r = json::parse(*reply);
  FUZZ_CHECK(r.is_array() && !r.empty() && r.size() <= request.size() && r.size() >= must_answer,
             "batch of {} ({} with ids) got {}", request.size(), must_answer, *reply);
  for (const json& e : r) check_reply(e, nullptr);
}

// The running model against the Switch, then back to an empty daemon.
void check_and_reset(Daemon& dm) {
  const ConfigModel& m = dm.cp->running();
  Status valid = validate_config(m);
  FUZZ_CHECK(valid.has_value(), "running model invalid: {}", valid ? "" : valid.error().message);
  auto again = config_from_json(config_to_json(m));
  FUZZ_CHECK(again.has_value() && *again == m, "running model changes through JSON");
  const std::vector<BridgeInfo> bridges = dm.sw->bridges();
  FUZZ_CHECK(bridges.size() == m.bridges.size(), "switch has {} bridges, model {}",
             bridges.size(), m.bridges.size());
  for (const BridgeModel& b : m.bridges) {
    auto info = dm.sw->bridge(b.name);
    FUZZ_CHECK(info.has_value(), "bridge {} missing from the switch", b.name);
    FUZZ_CHECK(info->config.aging_s == b.settings.aging_s &&
                   info->config.max_macs == b.settings.max_macs,
               "bridge {} settings differ", b.name);
    FUZZ_CHECK(info->ports.size() == b.ports.size(), "bridge {} port count", b.name);
    for (size_t i = 0; i < b.ports.size(); ++i) {
      FUZZ_CHECK(info->ports[i] == b.ports[i].name, "bridge {} port {} is {} in the switch",
                 b.name, b.ports[i].name, info->ports[i]);
    }
  }
  FUZZ_CHECK(dm.sw->ports().size() == m.port_count(), "switch ports {} model ports {}",
             dm.sw->ports().size(), m.port_count());

  std::vector<std::string> names;
  for (const BridgeModel& b : m.bridges) names.push_back(b.name);
  for (const std::string& n : names) {
    Status st = dm.cp->del_bridge(n);
    FUZZ_CHECK(st.has_value(), "del_bridge {}: {}", n, st ? "" : st.error().message);
  }
  FUZZ_CHECK(dm.sw->bridges().empty() && dm.sw->ports().empty(), "reset left something behind");
  vsw::fuzz::init_logs();  // log.set_level may have turned logging back on
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  vsw::fuzz::init_logs();
  (void)daemon();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (line.find('\n') != std::string_view::npos) return 0;  // the server splits lines first
  if (!nesting_exceeds(line, Dispatcher::kMaxDepth)) {
    const json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (!j.is_discarded() && touches_the_host(j)) return 0;
  }
  Daemon& dm = daemon();
  // As the server does: a streaming method (capture.start) may hand back its stream. Its first
  // pull gives the pcap file header in one chunk; destroying it (the client went away) detaches
  // the capture.
  std::unique_ptr<ReplyStream> stream;
  const std::optional<std::string> reply = dm.d.handle(line, &stream);
  check_reply_line(line, reply);
  if (stream) {
    std::string out;
    stream->pull(out, 1 << 16);
    FUZZ_CHECK(out.size() >= 4 + 24, "capture stream starts with {} bytes", out.size());
    stream.reset();
  }
  FUZZ_CHECK(dm.sw->captures().empty(), "a capture outlived its stream");
  check_and_reset(dm);
  return 0;
}
