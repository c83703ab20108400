// Fuzzes the readers of Spikeline's JSON/YAML input documents: training configs (JSON and YAML),
// class-distance matrices, tasks files, Xylo specifications (float and integer), DynapSim
// parameters, pipeline configs (YAML, resolved against the defaults) and the NNI experiment files of
// quantisation tuning. The first byte picks the reader, the rest is the document. Only spikeline::Error
// may escape a reader; any other exception, crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "spikeline/pipeline/factor_search.hpp"
#include "spikeline/pipeline/pipeline_config.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/search.hpp"
#include "spikeline/train/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int reader = data[0] % 9;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (reader == 8) {
      (void)spikeline::pipeline::tuning_config_from_text(text, "fuzz.json");
      return 0;
    }
    if (reader == 7) {
      const nlohmann::json doc = spikeline::train::config_document_from_yaml(text, "fuzz.yaml");
      (void)spikeline::pipeline::resolve_config(doc, "fuzz.yaml", "/nonexistent", {}, "/nonexistent");
      return 0;
    }
    if (reader == 6) {
      const nlohmann::json doc = spikeline::train::config_document_from_yaml(text, "fuzz.yaml");
      (void)spikeline::train::config_from_json(doc, "fuzz.yaml", "/nonexistent");
      return 0;
    }
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return 0;  // malformed JSON is rejected before any reader sees it
    switch (reader) {
      case 0: (void)spikeline::train::config_from_json(doc, "fuzz.json", "/nonexistent"); break;
      case 1: (void)spikeline::tasks::distances_from_json(doc, "fuzz.json"); break;
      case 2: (void)spikeline::tasks::tasks_from_json(doc, "fuzz.json"); break;
      case 3: (void)spikeline::hw::xylo::float_spec_from_json(doc, "fuzz.json"); break;
      case 4: (void)spikeline::hw::xylo::int_spec_from_json(doc, "fuzz.json"); break;
      default: (void)spikeline::hw::dynapse2::dynapsim_params_from_json(doc, "fuzz.json"); break;
    }
  } catch (const spikeline::Error&) {
  }
  return 0;
}
