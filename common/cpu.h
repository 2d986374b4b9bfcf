// common/cpu.h — CPU lists ("0-3,6") and thread pinning.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"

namespace vsw {

// Parses a Linux-style CPU list: comma-separated numbers and inclusive ranges.
Result<std::vector<int>> parse_cpu_list(std::string_view text);

// Pins the calling thread to `cpu`.
Status pin_current_thread(int cpu);

// Number of CPUs this process may run on.
int online_cpu_count();

}  // namespace vsw
