// ports/memif/memif_connection.cc — checking and building a client's rings at CONNECT
// (memif.md §6 "CONNECT", §10 "At CONNECT").
#include "ports/memif/memif_connection.h"

namespace vsw::ports::memif {

Result<std::unique_ptr<Connection>> Connection::create(std::vector<Region> regions,
                                                       std::vector<RingSpec> c2s,
                                                       std::vector<RingSpec> s2c) {
  if (c2s.empty() || s2c.empty()) {
    return make_error(Errc::InvalidArgument, "at least one ring in each direction is required");
  }
  std::unique_ptr<Connection> conn(new Connection());
  conn->regions_ = std::move(regions);
  for (const Region& r : conn->regions_) conn->views_.push_back(RegionView{r.base(), r.size()});
  auto place = [&](RingSpec& spec, std::vector<Placed>& out) -> Status {
    // memif.md §10: ring inside its region (64-bit arithmetic), header 64-bit aligned.
    if (spec.region >= conn->views_.size() || spec.log2_size < 1 ||
        spec.log2_size > kMaxLog2RingSize || spec.offset % 8 != 0 ||
        !conn->views_[spec.region].contains(spec.offset, ring_bytes(spec.log2_size))) {
      return make_error(Errc::InvalidArgument, "ring outside its region");
    }
    auto* hdr = reinterpret_cast<RingHeader*>(conn->views_[spec.region].base + spec.offset);
    if (hdr->cookie != kCookie) {  // memif.md §3: written by the client into every ring
      return make_error(Errc::InvalidArgument, "ring cookie mismatch");
    }
    if (conn->ring_log2_ == 0) conn->ring_log2_ = spec.log2_size;
    out.push_back(Placed{hdr, spec.log2_size, spec.eventfd.get()});
    conn->eventfds_.push_back(std::move(spec.eventfd));
    return ok();
  };
  for (RingSpec& s : c2s) {
    if (auto st = place(s, conn->c2s_); !st) return std::move(st).error();
  }
  for (RingSpec& s : s2c) {
    if (auto st = place(s, conn->s2c_); !st) return std::move(st).error();
  }
  return conn;
}

void Connection::bind(PortId port, uint32_t max_segment_bytes, uint16_t tx_queues) {
  rx_.clear();
  tx_.clear();
  for (const Placed& p : c2s_) {
    rx_.push_back(std::make_unique<RxRing>(p.hdr, p.log2, max_segment_bytes, port));
    rx_.back()->reset();
  }
  for (const Placed& p : s2c_) {
    tx_.push_back(std::make_unique<TxRing>(p.hdr, p.log2, max_segment_bytes, p.eventfd));
    tx_.back()->reset();
  }
  tx_shared_ = tx_queues > tx_.size();
  tx_locks_ = std::make_unique<SpinLock[]>(tx_.size());
}

uint64_t Connection::interrupts() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tx_) n += t->interrupts();
  return n;
}

}  // namespace vsw::ports::memif
