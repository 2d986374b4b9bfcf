// common/unix_ids.h — user and group names to ids, with the errors an operator reads.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace vsw {

// getpwnam(3)/getgrnam(3). InvalidArgument "<what>=<name>: no such user/group" when unknown.
Result<uid_t> user_id(const std::string& name, std::string_view what);
Result<gid_t> group_id(const std::string& name, std::string_view what);

}  // namespace vsw
