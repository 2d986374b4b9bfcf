// common/result.h — vsw's error vocabulary for the control path.
//
// Result<T> is shaped like C++23 std::expected (has_value, value, error, operator*, ->) so that a
// later move to <expected> is a search-and-replace. GCC 12 ships <expected> only in C++23 mode.
// The fast path never uses Result: it counts drops (dataplane/port_counters.h) instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace vsw {

enum class Errc : uint8_t {
  InvalidArgument,
  NotFound,
  AlreadyExists,
  ResourceExhausted,
  Unsupported,
  Unavailable,
  Io,
  Internal,
};

// Stable lower-case name of an error code; used in JSON-RPC error data and CLI output.
constexpr std::string_view errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::InvalidArgument: return "invalid_argument";
    case Errc::NotFound: return "not_found";
    case Errc::AlreadyExists: return "already_exists";
    case Errc::ResourceExhausted: return "resource_exhausted";
    case Errc::Unsupported: return "unsupported";
    case Errc::Unavailable: return "unavailable";
    case Errc::Io: return "io";
    case Errc::Internal: return "internal";
  }
  return "internal";
}

// An error written for the user who will read it through vswctl.
struct Error {
  Errc code = Errc::Internal;
  std::string message;
  int sys_errno = 0;
};

template <class... A>
Error make_error(Errc code, fmt::format_string<A...> f, A&&... args) {
  return Error{code, fmt::format(f, std::forward<A>(args)...), 0};
}

// Like make_error, with the errno that caused it appended as ": <strerror>".
Error make_sys_error(Errc code, int err, std::string message);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() { return Status{}; }

}  // namespace vsw
