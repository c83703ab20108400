// libFuzzer target for the two model-file readers (docs/formats/model.md): Rockpool's model JSON
// and Spikeline's network description. Malformed input may only raise spikeline::Error (JSON syntax
// errors included); whatever parses must survive a write/read round trip in its format unchanged.
// Crashes, other exceptions and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/io/rockpool_json.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/snn/network_json.hpp"

namespace {

using spikeline::snn::Network;

// Round trips print every weight; skip the rare huge generated networks to keep runs fast.
constexpr std::size_t kMaxRoundTripParameters = std::size_t{1} << 16;

// Writing a parsed network and reading it back must reproduce the same text, bit for bit.
void check_round_trips(const Network& net) {
  if (spikeline::snn::parameter_count(net) > kMaxRoundTripParameters) return;
  const std::string rockpool = spikeline::io::to_rockpool_json(net);
  if (spikeline::io::to_rockpool_json(spikeline::io::parse_rockpool_json(rockpool, "rt.json")) !=
      rockpool)
    __builtin_trap();
  spikeline::Rng unused(1);
  const std::string ours = spikeline::snn::network_to_json_text(net);
  if (spikeline::snn::network_to_json_text(
          spikeline::snn::network_from_json_text(ours, "rt.json", unused)) != ours)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Network parsed;
  bool ok = false;
  try {
    parsed = spikeline::io::parse_rockpool_json(text, "fuzz.json");
    ok = true;
  } catch (const spikeline::Error&) {
  }
  if (ok) check_round_trips(parsed);  // an exception here escapes: a valid network must write

  ok = false;
  try {
    spikeline::Rng rng(0);
    parsed = spikeline::snn::network_from_json_text(text, "fuzz.json", rng);
    ok = true;
  } catch (const spikeline::Error&) {
  }
  if (ok) check_round_trips(parsed);
  return 0;
}
