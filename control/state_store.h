// control/state_store.h — the persisted running configuration (default /var/lib/vsw/state.json).
//
// The file holds the topology schema of docs/rpc.md, so a state file can be fed to --config or
// `vswctl apply` and the other way round.
//
// save() is atomic: the JSON goes to a temporary file in the same directory, which is fsync'ed,
// renamed over the state file, and the directory is fsync'ed so the rename itself is durable.
// A crash leaves either the old or the new file, never a mix.
//
// load() is strict: a file that is not valid JSON or not a valid topology is an error naming the
// file and the problem. The store never overwrites or renames a file it could not read; the daemon
// refuses to start instead, and the operator decides (fix it, or remove it, or run with
// --ignore-state). A missing file is an empty configuration.
//
// Threads: control thread only. std::filesystem exceptions are caught here.
#pragma once

#include <filesystem>
#include <optional>

#include "common/result.h"
#include "control/config_model.h"

namespace vsw::control {

class StateStore {
 public:
  static constexpr size_t kMaxFileBytes = 64 << 20;

  explicit StateStore(std::filesystem::path file) : file_(std::move(file)) {}

  const std::filesystem::path& path() const noexcept { return file_; }

  // nullopt when the file does not exist; InvalidArgument for a corrupt file, Io when it cannot
  // be read.
  Result<std::optional<ConfigModel>> load() const;

  // Creates the parent directory if needed, then writes atomically. Io on failure (the previous
  // file, if any, is left untouched and the temporary file is removed).
  Status save(const ConfigModel& cfg) const;

 private:
  std::filesystem::path file_;
};

// Reads and strictly parses a topology file (also used for --config). `what` names the file's
// role in messages ("state file", "config file"). NotFound when the file does not exist.
Result<ConfigModel> read_topology_file(const std::filesystem::path& file, std::string_view what);

}  // namespace vsw::control
