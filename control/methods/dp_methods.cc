// control/methods/dp_methods.cc — dp.show: workers, their rx queues, cycles/packet, mempool.
#include "common/tsc.h"
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

Result<json> dp_show(ControlPlane& cp) {
  json workers = json::array();
  for (const WorkerInfo& w : cp.sw().workers()) {
    json queues = json::array();
    for (const RxQueueAssignment& q : w.rx_queues) {
      queues.push_back({{"port", q.port}, {"queue", q.queue}});
    }
    workers.push_back({{"id", w.id},
                       {"cpu", w.cpu},
                       {"poll_mode", poll_mode_name(w.mode)},
                       {"sleeps", w.stats.sleeps},
                       {"wakeups", w.stats.wakeups},
                       {"packets", w.stats.packets},
                       {"batches", w.stats.batches},
                       {"busy_tsc", w.stats.busy_tsc},
                       {"idle_tsc", w.stats.idle_tsc},
                       {"cycles_per_packet", w.stats.cycles_per_packet()},
                       {"rx_queues", std::move(queues)}});
  }
  const Mempool& pool = cp.sw().mempool();
  return json{{"tsc_hz", tsc_hz()},
              {"workers", std::move(workers)},
              {"mempool",
               {{"buffers", pool.capacity()},
                {"available", pool.available()},
                {"buffer_bytes", pool.buffer_bytes()},
                {"hugepages", pool.hugepage_backed()}}}};
}

}  // namespace

void register_dp(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "dp.show", "dataplane: workers (poll mode, sleeps), rx-queue assignment, cycles/packet, mempool", {},
           [&cp](Call&) { return dp_show(cp); });
}

}  // namespace vsw::control::methods
