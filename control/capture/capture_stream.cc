// control/capture/capture_stream.cc — pcap records out of the capture rings, in chunks.
#include "control/capture/capture_stream.h"

#include <nlohmann/json.hpp>

#include "control/capture/pcap_writer.h"
#include "dataplane/switch.h"

namespace vsw::control {

void append_stream_chunk(std::string& out, const std::string& body) {
  if (body.empty()) return;
  const auto n = static_cast<uint32_t>(body.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(len, 4);
  out.append(body);
}

CaptureStream::CaptureStream(Switch& sw, std::shared_ptr<Capture> capture, uint64_t count)
    : sw_(sw), capture_(std::move(capture)), count_(count) {}

CaptureStream::~CaptureStream() { sw_.detach_capture(capture_.get()); }

void CaptureStream::drain(std::string& body, size_t max) {
  const uint16_t rings = capture_->workers();
  while (body.size() < max && (count_ == 0 || captured_ < count_)) {
    // The oldest head record over all rings.
    int oldest = -1;
    CaptureRecordHeader best{};
    const std::byte* best_data = nullptr;
    for (uint16_t w = 0; w < rings; ++w) {
      CaptureRecordHeader h;
      const std::byte* data;
      if (!capture_->ring(w).peek(h, data)) continue;
      if (oldest < 0 || h.ts_ns < best.ts_ns) oldest = w, best = h, best_data = data;
    }
    if (oldest < 0) return;
    append_pcap_record(body, best.ts_ns, best.orig_len, best_data, best.cap_len);
    capture_->ring(static_cast<uint16_t>(oldest)).pop(best);
    ++captured_;
  }
}

void CaptureStream::append_end(std::string& out, const char* reason, const std::string& message) {
  const CaptureStats s = capture_->stats();
  out.append(4, '\0');
  const nlohmann::json summary = {{"reason", reason},
                                  {"captured", captured_},
                                  {"matched", s.matched},
                                  {"dropped", s.dropped},
                                  {"message", message}};
  out += summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
}

bool CaptureStream::pull(std::string& out, size_t max) {
  body_.clear();
  if (!header_sent_) {
    append_pcap_file_header(body_, capture_->spec().snaplen);
    header_sent_ = true;
  }
  // Read the end reason before draining: records copied before the port was deleted are
  // visible once the reason is (release/acquire), so none is lost.
  const CaptureEnd end = capture_->end_reason();
  drain(body_, max);
  append_stream_chunk(out, body_);
  if (count_ != 0 && captured_ >= count_) {
    append_end(out, "count", "");
    return false;
  }
  if (end != CaptureEnd::None && body_.empty()) {
    const std::string& port = capture_->spec().port;
    if (end == CaptureEnd::PortDeleted) {
      append_end(out, "port_deleted", "port '" + port + "' was deleted");
    } else {
      append_end(out, "shutdown", "vswitchd is stopping");
    }
    return false;
  }
  return true;
}

}  // namespace vsw::control
