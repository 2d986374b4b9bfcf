// tests/models/model_report.h — what a test reads from the model after a run: the violations,
// the RSS programming (key, RETA, MRQC) and the model's own frame counts, as JSON.
#pragma once

#include <string>

#include "common/result.h"
#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

// {"violations": [..], "rss_key": "hex", "reta": [128 queue numbers], "mrqc": n,
//  "rx_per_queue": [..], "rx_delivered": n, "rx_missed": n, "rx_filtered": n, "tx_frames": n,
//  "rx_multi_descriptor": n, "tx_multi_descriptor": n}
std::string model_report_json(const IxgbeModel& m);
// Writes it to `path` (replacing it atomically: a reader never sees half a report).
Status write_model_report(const IxgbeModel& m, const std::string& path);

}  // namespace vsw::tests::models
