// dataplane/capture/capture_registry.h — which captures run on which port; publishes each
// port's PortCaptures and frees the old one only after a grace period (dataplane/quiescent.h).
//
// Threads: control thread only, under the Switch's mutex (Switch::attach_capture and friends).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "common/result.h"
#include "dataplane/capture/capture.h"
#include "dataplane/capture/port_captures.h"
#include "dataplane/quiescent.h"

namespace vsw {

class Port;

struct CaptureInfo {
  uint64_t id = 0;
  CaptureSpec spec;
  CaptureStats stats;
};

class CaptureRegistry {
 public:
  static constexpr uint32_t kMaxCaptures = PortCaptures::kMax;

  explicit CaptureRegistry(QuiescentDomain& qsd) : qsd_(qsd) {}
  ~CaptureRegistry();  // ends every capture (Shutdown); the workers must be stopped

  // Starts `capture` on `port`: from the workers' next burst on, its frames are copied.
  // ResourceExhausted when kMaxCaptures run already. Gives the capture its id.
  Status attach(Port& port, std::shared_ptr<Capture> capture);
  // Stops `capture` (wherever it runs); returns once no worker can still be copying into it.
  // No-op for a capture not attached (already detached, or its port deleted).
  void detach(const Capture* capture);
  // `port` left the topology and every worker passed a quiescent point: ends its captures
  // (CaptureEnd::PortDeleted) and forgets them; nothing is published (the port is about to go).
  void port_removed(Port& port);
  std::vector<CaptureInfo> list() const;
  size_t size() const noexcept { return captures_.size(); }

 private:
  struct Entry {
    Port* port;
    std::shared_ptr<Capture> capture;
  };
  // Builds `port`'s PortCaptures from captures_, publishes it, waits, frees the previous one.
  void republish(Port& port);

  QuiescentDomain& qsd_;
  std::vector<Entry> captures_;  // in start order
  std::map<const Port*, std::unique_ptr<PortCaptures>> published_;
  uint64_t next_id_ = 1;
};

}  // namespace vsw
