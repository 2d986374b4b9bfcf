// ports/vhost_user/queue_config.cc — the start-time checks of a guest virtqueue and the
// violation texts.
#include "ports/vhost_user/queue_config.h"

namespace vsw::ports::vhost_user {

std::string_view violation_text(Violation v) noexcept {
  switch (v) {
    case Violation::None: return "none";
    case Violation::BadAvailIndex: return "avail index out of range";
    case Violation::BadHead: return "descriptor head out of range";
    case Violation::BadDescriptor: return "descriptor buffer outside guest memory";
    case Violation::BadChain: return "descriptor chain loops or is too long";
    case Violation::BadIndirect: return "indirect descriptor table invalid";
    case Violation::BadDirection: return "descriptor direction wrong for the ring";
  }
  return "unknown";
}

Status check_queue_config(const GuestMemory* mem, const QueueConfig& cfg) {
  if (!virtio::is_valid_queue_size(cfg.size)) {
    return make_error(Errc::InvalidArgument, "vring size {} is not a power of two <= 32768",
                      cfg.size);
  }
  if (cfg.hdr_len != 10 && cfg.hdr_len != 12) {
    return make_error(Errc::InvalidArgument, "virtio-net header of {} bytes", cfg.hdr_len);
  }
  if (mem == nullptr || cfg.desc == nullptr || cfg.avail == nullptr || cfg.used == nullptr) {
    return make_error(Errc::InvalidArgument, "vring started without memory or ring addresses");
  }
  // virtio 1.1 §2.6 alignment table; virtio::load_desc() relies on the descriptor table's.
  if (reinterpret_cast<uintptr_t>(cfg.desc) % virtio::kDescAlign != 0 ||
      reinterpret_cast<uintptr_t>(cfg.avail) % virtio::kAvailAlign != 0 ||
      reinterpret_cast<uintptr_t>(cfg.used) % virtio::kUsedAlign != 0) {
    return make_error(Errc::InvalidArgument,
                      "vring addresses not aligned (desc 16, avail 2, used 4 bytes)");
  }
  return ok();
}

}  // namespace vsw::ports::vhost_user
