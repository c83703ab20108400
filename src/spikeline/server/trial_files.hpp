#pragma once
// Serving files of a trial directory without letting a request reach anything else: names are
// checked (no separators, no "..", no leading dot), symlinks are refused, and the trial directory
// must resolve to a place inside the experiment directory.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::server {

// A plain file name: [A-Za-z0-9._-], 1..128 chars, not starting with '.'.
bool is_safe_file_name(std::string_view name);

// The trial's directory: `db_dir` (absolute, or relative to the experiment directory), else
// <exp_dir>/trials/<trial_id>. nullopt when it does not exist or resolves outside exp_dir.
std::optional<std::filesystem::path> trial_directory(const std::filesystem::path& exp_dir,
                                                     std::string_view db_dir,
                                                     std::string_view trial_id);

struct TrialFileEntry {
  std::string name;
  std::uint64_t size = 0;
};
// Regular files (not symlinks) directly inside `trial_dir` whose names are safe, sorted by name.
std::vector<TrialFileEntry> list_trial_files(const std::filesystem::path& trial_dir);

// The file `name` of `trial_dir`. Throws HttpError 400 (bad name), 403 (symlink or not a regular
// file) or 404 (absent).
std::filesystem::path trial_file(const std::filesystem::path& trial_dir, std::string_view name);

struct FileTail {
  std::string text;  // the last bytes, starting at a line start when cut
  std::uint64_t size = 0;
  bool truncated = false;
};
// The last `max_bytes` of a file (empty when it does not exist yet).
FileTail read_tail(const std::filesystem::path& file, std::uint64_t max_bytes);

}  // namespace spikeline::server
