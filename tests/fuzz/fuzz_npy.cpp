// libFuzzer target for the .npy parser (see docs/formats/npy.md for how to run it).
// Malformed input may only raise spikeline::Error; whatever parses must survive a write/read round
// trip unchanged. Crashes, other exceptions and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "spikeline/core/error.hpp"
#include "spikeline/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikeline::io;
  try {
    const NpyArray array = parse_npy(std::span<const std::uint8_t>(data, size), "fuzz.npy");
    const NpyArray again = parse_npy(serialize_npy(array), "roundtrip.npy");
    if (again.dtype != array.dtype || again.shape != array.shape || again.bytes != array.bytes)
      __builtin_trap();
    (void)array.to_double();
    (void)array.to_float();
    (void)array.to_int64();  // may throw InputError for NaN or out-of-range values
  } catch (const spikeline::Error&) {
  }
  return 0;
}
