// dataplane/mempool.cc — shared free stack plus per-thread caches.
#include "dataplane/mempool.h"

#include <algorithm>
#include <mutex>

#include "common/assert.h"
#include "common/log.h"

namespace vsw {

namespace {
thread_local int t_cache_slot = -1;

// Every live mempool, so that unbind_thread_cache() can empty the caller's slot in each.
std::mutex g_pools_mu;
std::vector<Mempool*>& live_pools() {
  static std::vector<Mempool*> pools;
  return pools;
}
}  // namespace

void Mempool::bind_thread_cache(unsigned slot) noexcept {
  t_cache_slot = slot < kMaxThreadCaches ? static_cast<int>(slot) : -1;
}

void Mempool::unbind_thread_cache() noexcept {
  if (t_cache_slot < 0) return;
  std::lock_guard guard(g_pools_mu);
  for (Mempool* pool : live_pools()) pool->flush_cache(static_cast<unsigned>(t_cache_slot));
  t_cache_slot = -1;
}

void Mempool::flush_cache(unsigned slot) noexcept {
  ThreadCache& c = caches_[slot];
  push_shared(c.slots, c.count);
  __atomic_store_n(&c.count, 0, __ATOMIC_RELAXED);  // available() reads it from other threads
}

Result<std::unique_ptr<Mempool>> Mempool::create(std::string name, const Config& cfg) {
  const uint32_t b = cfg.buffer_bytes;
  if (b < 512 || b > 65536 || (b & (b - 1)) != 0) {
    return make_error(Errc::InvalidArgument,
                      "mempool buffer size {} must be a power of two in 512..65536", b);
  }
  if (cfg.buffers < 2 * kBurst) {
    return make_error(Errc::InvalidArgument, "mempool needs at least {} buffers", 2 * kBurst);
  }
  auto mem = DmaMemory::allocate(static_cast<size_t>(cfg.buffers) * b, cfg.hugepages);
  if (!mem) return std::move(mem).error();
  std::unique_ptr<Mempool> pool(new Mempool(std::move(name), cfg, std::move(*mem)));
  log::dp().info("mempool created name={} buffers={} buffer_bytes={} hugepages={} iova={}",
                 pool->name_, cfg.buffers, b, pool->hugepage_backed(),
                 pool->physical_iova() ? "physical" : "none (not DMA-capable)");
  return pool;
}

Mempool::Mempool(std::string name, const Config& cfg, std::unique_ptr<DmaMemory> memory)
    : name_(std::move(name)), cfg_(cfg), memory_(std::move(memory)),
      caches_(std::make_unique<ThreadCache[]>(kMaxThreadCaches)) {
  stack_.resize(cfg_.buffers);
  for (uint32_t i = 0; i < cfg_.buffers; ++i) {
    std::byte* base = memory_->data() + static_cast<size_t>(i) * cfg_.buffer_bytes;
    auto* p = new (base) Packet{};
    p->base = base;
    p->iova = memory_->iova_of(base);
    p->owner = this;
    p->slot = i;
    p->buf_len = cfg_.buffer_bytes;
    // Hand out low addresses first: pop takes from the top.
    stack_[cfg_.buffers - 1 - i] = p;
  }
  stack_top_ = cfg_.buffers;
  std::lock_guard guard(g_pools_mu);
  live_pools().push_back(this);
}

Mempool::~Mempool() {
  std::lock_guard guard(g_pools_mu);
  std::erase(live_pools(), this);
}

void Mempool::reset(Packet* p) noexcept {
  p->next = nullptr;
  p->data_off = kDefaultDataOffset;
  p->len = 0;
  p->frame_len = 0;
  p->in_port = kNoPort;
  p->flags = 0;
  p->gso_type = GsoType::None;
  p->gso_size = p->csum_start = p->csum_offset = p->hdr_len = 0;
  p->refs.store(1, std::memory_order_relaxed);
}

void Mempool::push_shared(Packet* const* pkts, uint32_t n) noexcept {
  std::lock_guard guard(lock_);
  VSW_ASSERT(stack_top_ + n <= stack_.size());
  std::copy_n(pkts, n, stack_.data() + stack_top_);
  stack_top_ += n;
}

uint32_t Mempool::pop_shared(Packet** out, uint32_t n) noexcept {
  std::lock_guard guard(lock_);
  n = std::min(n, stack_top_);
  stack_top_ -= n;
  std::copy_n(stack_.data() + stack_top_, n, out);
  return n;
}

uint16_t Mempool::alloc(Packet** out, uint16_t n) noexcept {
  uint16_t got = 0;
  if (t_cache_slot < 0 || n > kBurst) {
    got = static_cast<uint16_t>(pop_shared(out, n));
  } else {
    ThreadCache& c = caches_[t_cache_slot];
    if (c.count < n) {
      // Refill so that this request and about one more burst are served from the cache.
      const uint32_t target = std::min<uint32_t>(2 * kBurst, n + kBurst);
      c.count += pop_shared(c.slots + c.count, target - c.count);
    }
    got = static_cast<uint16_t>(std::min<uint32_t>(n, c.count));
    c.count -= got;
    std::copy_n(c.slots + c.count, got, out);
  }
  for (uint16_t i = 0; i < got; ++i) reset(out[i]);
  return got;
}

void Mempool::release(Packet* p) noexcept {
  VSW_ASSERT(owns(p));
  if (t_cache_slot < 0) {
    push_shared(&p, 1);
    return;
  }
  ThreadCache& c = caches_[t_cache_slot];
  if (c.count == 2 * kBurst) {
    c.count -= kBurst;
    push_shared(c.slots + c.count, kBurst);
  }
  c.slots[c.count++] = p;
}

uint32_t Mempool::available() const noexcept {
  uint32_t n = __atomic_load_n(&stack_top_, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < kMaxThreadCaches; ++i) n += __atomic_load_n(&caches_[i].count, __ATOMIC_RELAXED);
  return n;
}

bool Mempool::owns(const Packet* p) const noexcept {
  const auto* b = reinterpret_cast<const std::byte*>(p);
  const std::byte* lo = memory_->data();
  return b >= lo && b < lo + static_cast<size_t>(cfg_.buffers) * cfg_.buffer_bytes &&
         (static_cast<size_t>(b - lo) % cfg_.buffer_bytes) == 0;
}

}  // namespace vsw
