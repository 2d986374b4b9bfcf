// control/methods/capture_methods.cc — capture.start (a streaming reply, docs/capture.md) and
// capture.list.
#include "control/capture/capture_stream.h"
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

Result<CaptureDirection> direction_param(const json& p) {
  const std::string d = str_param(p, "direction");
  if (d.empty() || d == "both") return CaptureDirection::Both;
  if (d == "rx") return CaptureDirection::Rx;
  if (d == "tx") return CaptureDirection::Tx;
  return make_error(Errc::InvalidArgument, "direction '{}' must be rx, tx or both", d);
}

Result<json> capture_start(ControlPlane& cp, Call& call) {
  const json& p = call.params;
  if (!call.stream_allowed) {
    return make_error(Errc::InvalidArgument,
                      "capture.start streams pcap after its reply: send it alone (not in a batch, "
                      "with an id) on a connection of its own");
  }
  CaptureSpec spec;
  spec.port = str_param(p, "port");
  auto direction = direction_param(p);
  if (!direction) return std::move(direction).error();
  spec.direction = *direction;
  auto snaplen = u32_param(p, "snaplen");
  if (!snaplen) return std::move(snaplen).error();
  if (*snaplen) spec.snaplen = **snaplen;
  if (spec.snaplen < 1 || spec.snaplen > Capture::kMaxSnaplen) {
    return make_error(Errc::InvalidArgument, "snaplen {} must be in 1..{}", spec.snaplen,
                      Capture::kMaxSnaplen);
  }
  uint64_t count = 0;
  if (const auto it = p.find("count"); it != p.end()) {
    count = it->get<uint64_t>();
    if (count == 0) return make_error(Errc::InvalidArgument, "count must be at least 1");
  }
  spec.filter = str_param(p, "filter");
  auto capture = cp.sw().attach_capture(spec);
  if (!capture) return std::move(capture).error();
  const Capture& c = **capture;
  json reply = {{"id", c.id()},
                {"port", c.spec().port},
                {"direction", capture_direction_name(c.spec().direction)},
                {"snaplen", c.spec().snaplen},
                {"count", count},
                {"stream", "pcap-chunks"}};
  call.stream = std::make_unique<CaptureStream>(cp.sw(), std::move(*capture), count);
  return reply;
}

Result<json> capture_list(ControlPlane& cp) {
  json out = json::array();
  for (const CaptureInfo& c : cp.sw().captures()) {
    out.push_back({{"id", c.id},
                   {"port", c.spec.port},
                   {"direction", capture_direction_name(c.spec.direction)},
                   {"snaplen", c.spec.snaplen},
                   {"filter", c.spec.filter},
                   {"matched", c.stats.matched},
                   {"copied", c.stats.copied},
                   {"dropped", c.stats.dropped}});
  }
  return out;
}

}  // namespace

void register_capture(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "capture.start",
           "capture a port's frames; pcap follows the reply on this connection (docs/capture.md): "
           "port, direction? (rx|tx|both), snaplen?, count?, filter?",
           {{"port", FieldType::String, true},
            {"direction", FieldType::String, false},
            {"snaplen", FieldType::Unsigned, false},
            {"count", FieldType::Unsigned, false},
            {"filter", FieldType::String, false}},
           [&cp](Call& c) { return capture_start(cp, c); });
  must_add(d, "capture.list", "running captures with their counters", {},
           [&cp](Call&) { return capture_list(cp); });
}

}  // namespace vsw::control::methods
