// Python-compatible JSON text (json.dumps defaults) for parameter sets and metrics, so files we
// write for trials read exactly like NNI's (e.g. 0.6900000000000001, 1e-05).
// train/checkpoint.cpp has the indent=4 variant; both share core's python_float_repr.
#include <string>

#include "spikeline/hpo/search_space.hpp"

namespace spikeline::hpo {

namespace {

void dump(const nlohmann::ordered_json& j, std::string& out) {
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += nlohmann::ordered_json(it.key()).dump(-1, ' ', /*ensure_ascii=*/true);
      out += ": ";
      dump(it.value(), out);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      dump(j[i], out);
    }
    out += ']';
  } else if (j.is_number_float()) {
    out += python_float_repr(j.get<double>());
  } else {
    out += j.dump(-1, ' ', /*ensure_ascii=*/true);
  }
}

}  // namespace

std::string dump_python_json(const nlohmann::ordered_json& doc) {
  std::string out;
  dump(doc, out);
  return out;
}

}  // namespace spikeline::hpo
