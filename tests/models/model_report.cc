// tests/models/model_report.cc — the JSON report (model_report.h).
#include "tests/models/model_report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace vsw::tests::models {

std::string model_report_json(const IxgbeModel& m) {
  nlohmann::json j;
  j["violations"] = m.violations();
  const RssProgramming rss = m.rss_programming();
  std::string key;
  for (uint8_t b : rss.key) key += fmt::format("{:02x}", b);
  j["rss_key"] = key;
  j["reta"] = std::vector<unsigned>(rss.reta.begin(), rss.reta.end());
  j["mrqc"] = rss.mrqc;
  const ModelCounters c = m.counters();
  j["rx_per_queue"] = std::vector<uint64_t>(c.rx_per_queue.begin(), c.rx_per_queue.begin() + 16);
  j["rx_delivered"] = c.rx_delivered;
  j["rx_missed"] = c.rx_missed;
  j["rx_filtered"] = c.rx_filtered;
  j["rx_disabled"] = c.rx_disabled;
  j["tx_frames"] = c.tx_frames;
  j["rx_multi_descriptor"] = c.rx_multi_descriptor;
  j["tx_multi_descriptor"] = c.tx_multi_descriptor;
  j["msix_messages"] = std::vector<uint64_t>(c.msix_messages.begin(), c.msix_messages.end());
  return j.dump(1);
}

Status write_model_report(const IxgbeModel& m, const std::string& path) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return make_sys_error(Errc::Io, errno, "model report " + tmp);
  const std::string s = model_report_json(m);
  const bool ok_write = std::fwrite(s.data(), 1, s.size(), f) == s.size();
  if (std::fclose(f) != 0 || !ok_write) return make_sys_error(Errc::Io, errno, "write " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_sys_error(Errc::Io, errno, "rename " + tmp);
  }
  return ok();
}

}  // namespace vsw::tests::models
