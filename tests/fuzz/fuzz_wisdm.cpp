// libFuzzer target for the WISDM raw-file line parser (docs/data.md, "Testing").
// Malformed input may only raise spikeline::Error. Whatever parses must survive formatting and
// parsing again unchanged (up to the 7 significant digits the format writes), and joining each
// recording with itself in both join modes and cutting windows must not crash.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spikeline/core/error.hpp"
#include "spikeline/data/synth.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/data/wisdm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikeline::data;
  try {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto recordings = parse_wisdm_raw(text, "fuzz.txt");
    std::size_t lines = 0;
    for (const auto& r : recordings) {
      if (r.xyz.size() != 3 * r.size() || r.size() == 0) __builtin_trap();
      lines += r.size();
    }
    const auto again = parse_wisdm_raw(format_wisdm_raw(recordings), "roundtrip.txt");
    std::size_t lines_again = 0;
    for (std::size_t i = 0; i < again.size(); ++i) {
      lines_again += again[i].size();
      if (again[i].timestamp != recordings[i].timestamp) __builtin_trap();
      for (std::size_t k = 0; k < again[i].xyz.size(); ++k) {
        const float a = again[i].xyz[k], b = recordings[i].xyz[k];
        if (!(std::fabs(a - b) <= 1e-6f * std::fabs(b) + 1e-37f)) __builtin_trap();
      }
    }
    if (lines_again != lines) __builtin_trap();
    std::vector<Recording> joined;
    for (const auto& r : recordings) {
      joined.push_back(join_on_timestamp(r, r, JoinMode::exact));
      if (joined.back().size() != r.size()) __builtin_trap();  // a recording joins itself fully
      joined.push_back(join_on_timestamp(r, r, JoinMode::nearest, 1'000'000'000));
      (void)count_gaps(joined.back().timestamp, 1.0);
    }
    const std::vector<ClassInfo> classes = select_classes({});
    (void)cut_windows(joined, classes, {4, 2, 0.5});
  } catch (const spikeline::Error&) {
  }
  return 0;
}
