// control/protocol/error_codes.h — JSON-RPC 2.0 error codes used by vswitchd and vswctl.
//
// The standard codes come from the JSON-RPC 2.0 specification §5.1. Domain errors (vsw::Errc) use
// fixed codes in the implementation-defined server-error range -32000..-32099, one per Errc, and
// carry the stable Errc name in error.data.errc (docs/rpc.md, "Errors"). Header-only, no JSON
// dependency, so both the daemon and the CLI can include it.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.h"

namespace vsw::protocol {

// JSON-RPC 2.0 §5.1
constexpr int kParseError = -32700;      // invalid JSON (also: request line over the size limit)
constexpr int kInvalidRequest = -32600;  // not a valid request object
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;  // missing, unknown or mistyped field in params
constexpr int kInternalError = -32603;

// Every Errc, in code order: Errc value i maps to -32001 - i.
constexpr Errc kAllErrc[] = {Errc::InvalidArgument,
                             Errc::NotFound,
                             Errc::AlreadyExists,
                             Errc::ResourceExhausted,
                             Errc::Unsupported,
                             Errc::Unavailable,
                             Errc::Io,
                             Errc::Internal};

// The fixed JSON-RPC code of a domain error: invalid_argument -32001 ... internal -32008.
constexpr int errc_to_rpc_code(Errc c) noexcept { return -32001 - static_cast<int>(c); }

// The Errc behind a domain-error code; nullopt for standard or unknown codes.
constexpr std::optional<Errc> rpc_code_to_errc(int code) noexcept {
  for (Errc c : kAllErrc) {
    if (errc_to_rpc_code(c) == code) return c;
  }
  return std::nullopt;
}

// Inverse of vsw::errc_name ("not_found" -> Errc::NotFound); nullopt for unknown names.
constexpr std::optional<Errc> errc_from_name(std::string_view name) noexcept {
  for (Errc c : kAllErrc) {
    if (errc_name(c) == name) return c;
  }
  return std::nullopt;
}

static_assert(errc_to_rpc_code(Errc::InvalidArgument) == -32001);
static_assert(errc_to_rpc_code(Errc::Internal) == -32008);
static_assert(rpc_code_to_errc(-32002) == Errc::NotFound);
static_assert(errc_from_name("io") == Errc::Io);

}  // namespace vsw::protocol
