// Fuzzes NNI search-space parsing and everything that consumes a parsed space: prior sampling,
// parameter round trips, Python-style JSON output and a few suggestions of each tuner. The
// first byte seeds the generators, the rest is the search-space JSON. Only spikeline::Error may
// escape; any other exception, crash, hang or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/search_space.hpp"
#include "spikeline/hpo/tuner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint64_t seed = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto doc = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  try {
    const auto space = spikeline::hpo::SearchSpace::parse(doc, "fuzz.json");
    spikeline::Rng rng(seed);
    for (int i = 0; i < 4; ++i) {
      const auto params = space.sample(rng);
      (void)spikeline::hpo::dump_python_json(params);
      (void)space.to_point(params, "fuzz");
    }
    for (const char* name : {"Anneal", "TPE", "Random", "GridSearch", "Evolution"}) {
      auto tuner = spikeline::hpo::make_tuner(name, nlohmann::json::object(), space, seed, "fuzz");
      for (std::int64_t id = 0; id < 6; ++id) {
        const auto p = tuner->generate(id);
        if (!p) break;
        tuner->receive_result(id, *p, static_cast<double>(id % 3));
      }
    }
  } catch (const spikeline::Error&) {
  }
  return 0;
}
