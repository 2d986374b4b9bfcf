// common/unix_ids.cc — name lookups through the system's user and group databases.
#include "common/unix_ids.h"

#include <grp.h>
#include <pwd.h>

namespace vsw {

Result<uid_t> user_id(const std::string& name, std::string_view what) {
  const passwd* pw = ::getpwnam(name.c_str());
  if (pw == nullptr) return make_error(Errc::InvalidArgument, "{}={}: no such user", what, name);
  return pw->pw_uid;
}

Result<gid_t> group_id(const std::string& name, std::string_view what) {
  const group* gr = ::getgrnam(name.c_str());
  if (gr == nullptr) return make_error(Errc::InvalidArgument, "{}={}: no such group", what, name);
  return gr->gr_gid;
}

}  // namespace vsw
