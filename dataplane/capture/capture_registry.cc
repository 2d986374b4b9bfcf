// dataplane/capture/capture_registry.cc — publishing per-port capture lists with grace periods.
#include "dataplane/capture/capture_registry.h"

#include <algorithm>

#include "common/log.h"
#include "dataplane/port.h"

namespace vsw {

CaptureRegistry::~CaptureRegistry() {
  // The ports may be gone already (Switch destroys them first): only the captures are touched.
  for (Entry& e : captures_) e.capture->end(CaptureEnd::Shutdown);
}

Status CaptureRegistry::attach(Port& port, std::shared_ptr<Capture> capture) {
  if (captures_.size() >= kMaxCaptures) {
    return make_error(Errc::ResourceExhausted, "{} captures are running already (the limit)",
                      kMaxCaptures);
  }
  capture->set_id(next_id_++);
  captures_.push_back(Entry{&port, std::move(capture)});
  republish(port);
  const Capture& c = *captures_.back().capture;
  log::port().info("capture started id={} port={} direction={} snaplen={} filter='{}'", c.id(),
                   port.name(), capture_direction_name(c.spec().direction), c.spec().snaplen,
                   c.spec().filter);
  return ok();
}

void CaptureRegistry::detach(const Capture* capture) {
  auto it = std::find_if(captures_.begin(), captures_.end(),
                         [&](const Entry& e) { return e.capture.get() == capture; });
  if (it == captures_.end()) return;
  Entry gone = std::move(*it);
  captures_.erase(it);
  republish(*gone.port);  // waits: no worker copies into `gone` after this
  const CaptureStats s = gone.capture->stats();
  log::port().info("capture stopped id={} port={} matched={} dropped={}", gone.capture->id(),
                   gone.port->name(), s.matched, s.dropped);
}

void CaptureRegistry::port_removed(Port& port) {
  port.set_captures(nullptr);
  published_.erase(&port);  // the caller's grace period covers the workers' last reads
  std::erase_if(captures_, [&](const Entry& e) {
    if (e.port != &port) return false;
    e.capture->end(CaptureEnd::PortDeleted);
    return true;
  });
}

void CaptureRegistry::republish(Port& port) {
  std::unique_ptr<PortCaptures> next;
  for (const Entry& e : captures_) {
    if (e.port != &port) continue;
    if (!next) next = std::make_unique<PortCaptures>();
    const CaptureDirection d = e.capture->spec().direction;
    if ((static_cast<uint8_t>(d) & static_cast<uint8_t>(CaptureDirection::Rx)) != 0) {
      next->rx[next->rx_count++] = e.capture.get();
    }
    if ((static_cast<uint8_t>(d) & static_cast<uint8_t>(CaptureDirection::Tx)) != 0) {
      next->tx[next->tx_count++] = e.capture.get();
    }
  }
  port.set_captures(next.get());
  qsd_.synchronize();  // no worker reads the previous list (or a detached capture) after this
  if (next) {
    published_[&port] = std::move(next);
  } else {
    published_.erase(&port);
  }
}

std::vector<CaptureInfo> CaptureRegistry::list() const {
  std::vector<CaptureInfo> out;
  for (const Entry& e : captures_) {
    out.push_back(CaptureInfo{e.capture->id(), e.capture->spec(), e.capture->stats()});
  }
  return out;
}

}  // namespace vsw
