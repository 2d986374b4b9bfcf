// common/result.cc — helpers for building errors from errno.
#include "common/result.h"

#include <cstring>

namespace vsw {

Error make_sys_error(Errc code, int err, std::string message) {
  message += ": ";
  message += std::strerror(err);
  return Error{code, std::move(message), err};
}

}  // namespace vsw
