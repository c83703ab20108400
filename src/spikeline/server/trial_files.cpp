#include "spikeline/server/trial_files.hpp"

#include <algorithm>
#include <fstream>

#include "spikeline/server/http_error.hpp"

namespace spikeline::server {

namespace fs = std::filesystem;

bool is_safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

namespace {
// True when `inner` is `outer` or below it (both canonical).
bool is_within(const fs::path& inner, const fs::path& outer) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}
}  // namespace

std::optional<fs::path> trial_directory(const fs::path& exp_dir, std::string_view db_dir,
                                        std::string_view trial_id) {
  std::error_code ec;
  fs::path dir;
  if (!db_dir.empty()) {
    dir = fs::path(db_dir).is_absolute() ? fs::path(db_dir) : exp_dir / fs::path(db_dir);
  } else {
    if (!is_safe_file_name(trial_id)) return std::nullopt;
    dir = exp_dir / "trials" / std::string(trial_id);
  }
  const fs::path canon = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(canon, ec)) return std::nullopt;
  const fs::path root = fs::canonical(exp_dir, ec);
  if (ec || !is_within(canon, root)) return std::nullopt;
  return canon;
}

std::vector<TrialFileEntry> list_trial_files(const fs::path& trial_dir) {
  std::vector<TrialFileEntry> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(trial_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!is_safe_file_name(name) || !entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
    out.push_back({name, static_cast<std::uint64_t>(entry.file_size(ec))});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

fs::path trial_file(const fs::path& trial_dir, std::string_view name) {
  if (!is_safe_file_name(name)) {
    throw HttpError(400, "invalid file name '" + std::string(name) +
                             "': only a plain name of [A-Za-z0-9._-] inside the trial directory");
  }
  const fs::path path = trial_dir / std::string(name);
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) throw HttpError(404, "no file '" + std::string(name) + "' in this trial");
  if (fs::is_symlink(st)) throw HttpError(403, "'" + std::string(name) + "' is a symbolic link");
  if (!fs::is_regular_file(st)) throw HttpError(403, "'" + std::string(name) + "' is not a file");
  return path;
}

FileTail read_tail(const fs::path& file, std::uint64_t max_bytes) {
  FileTail tail;
  std::ifstream in(file, std::ios::binary);
  if (!in) return tail;
  in.seekg(0, std::ios::end);
  tail.size = static_cast<std::uint64_t>(in.tellg());
  const std::uint64_t start = tail.size > max_bytes ? tail.size - max_bytes : 0;
  tail.truncated = start > 0;
  in.seekg(static_cast<std::streamoff>(start));
  tail.text.resize(tail.size - start);
  in.read(tail.text.data(), static_cast<std::streamsize>(tail.text.size()));
  tail.text.resize(static_cast<std::size_t>(in.gcount()));
  if (tail.truncated) {
    // Drop the partial first line so the tail starts cleanly.
    const auto nl = tail.text.find('\n');
    if (nl != std::string::npos && nl + 1 < tail.text.size()) tail.text.erase(0, nl + 1);
  }
  return tail;
}

}  // namespace spikeline::server
