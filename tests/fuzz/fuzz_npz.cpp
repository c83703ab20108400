// libFuzzer target for the .npz (ZIP) reader (see docs/formats/npy.md for how to run it).
// Malformed input may only raise spikeline::Error; whatever parses must survive a write/read round
// trip, stored and deflated, unchanged. Crashes, other exceptions and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "spikeline/core/error.hpp"
#include "spikeline/io/npy.hpp"

namespace {

bool same(const spikeline::io::Npz& a, const spikeline::io::Npz& b) {
  if (a.members().size() != b.members().size()) return false;
  for (std::size_t i = 0; i < a.members().size(); ++i) {
    const auto& [name_a, x] = a.members()[i];
    const auto& [name_b, y] = b.members()[i];
    if (name_a != name_b || x.dtype != y.dtype || x.shape != y.shape || x.bytes != y.bytes)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikeline::io;
  try {
    const Npz npz = parse_npz(std::span<const std::uint8_t>(data, size), "fuzz.npz");
    for (const bool compress : {true, false})
      if (!same(npz, parse_npz(serialize_npz(npz, compress), "roundtrip.npz"))) __builtin_trap();
    for (const auto& member : npz.members()) (void)member.second.to_double();
  } catch (const spikeline::Error&) {
  }
  return 0;
}
