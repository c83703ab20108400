#pragma once
// Files: atomic writes (temp file + rename, so a crash never leaves a half-written result) and
// whole-file reads with errors that name the path.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline {

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);
std::string read_file_text(const std::filesystem::path& path);
// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, then rename.
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

}  // namespace spikeline
