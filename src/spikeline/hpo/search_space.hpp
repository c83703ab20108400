#pragma once
// NNI search spaces: every _type with NNI's exact sampling, rounding and clipping rules
// (../shared/docs/reference/hpo.md section 2.1; docs/hpo_algorithms.md).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/core/python_repr.hpp"  // python_float_repr
#include "spikeline/core/rng.hpp"

namespace spikeline::hpo {

// A parameter set given to a trial: {name: value}, keys in search-space order. Nested choices
// give {"_name": ..., sub-parameters...} as the value.
using Parameters = nlohmann::ordered_json;

enum class ParamType {
  Choice, Randint, Uniform, Quniform, Loguniform, Qloguniform, Normal, Qnormal, Lognormal, Qlognormal
};
const char* param_type_name(ParamType t) noexcept;

// One parameter of the flattened space (NNI's "formatted" ParameterSpec). Sub-parameters of a
// nested choice follow their parent, in JSON order, option by option.
struct ParamSpec {
  std::string name;  // JSON key
  std::string path;  // for messages, e.g. "model/conv/kernel" (option _name in the middle)
  ParamType type = ParamType::Uniform;
  int parent = -1;         // index of the nested choice owning this parameter; -1: top level
  int parent_option = -1;  // the parent's option index that activates it
  // choice: the options themselves (nested options are objects with "_name").
  std::vector<nlohmann::ordered_json> options;
  bool nested = false;  // choice whose options are all objects with "_name"
  std::int64_t lower = 0, upper = 0;  // randint: [lower, upper)
  double low = 0, high = 0;           // uniform families, in value space (not log)
  double mu = 0, sigma = 0;           // normal families (log families: of the log)
  double q = 0;                       // q types; 0 otherwise

  bool categorical() const noexcept { return type == ParamType::Choice || type == ParamType::Randint; }
  // Number of categories (choice options or upper - lower); 0 for numerical parameters.
  std::int64_t size() const noexcept;
  bool log() const noexcept;
  bool normal() const noexcept;  // normal, qnormal, lognormal, qlognormal
  bool quantized() const noexcept { return q > 0; }
  bool clipped() const noexcept {  // NNI clips only the q-uniform families, after rounding
    return type == ParamType::Quniform || type == ParamType::Qloguniform;
  }
  // NNI's value post-processing of a raw draw x (already exponentiated for log types):
  // q-rounding round-half-even(x / q) * q, then clipping for q-uniform families.
  double finish(double x) const noexcept;
  // A prior draw: the category index for categorical parameters, the final value otherwise.
  double sample_prior(Rng& rng) const;
};

// One point of a space: per flattened parameter, the category index (categorical) or the final
// value (numerical); std::nullopt for sub-parameters of unchosen nested options.
using Point = std::vector<std::optional<double>>;

class SearchSpace {
 public:
  // The NNI JSON object {name: {"_type": T, "_value": [...]}, ...}; key order is kept. Invalid
  // spaces are an InputError naming `where` and the parameter (stricter than NNI, which only
  // logs; see docs/hpo_algorithms.md).
  static SearchSpace parse(const nlohmann::ordered_json& doc, const std::string& where);
  // Same from JSON text (so key order survives even when the caller holds nlohmann::json).
  static SearchSpace parse_text(std::string_view json_text, const std::string& where);

  const std::vector<ParamSpec>& specs() const noexcept { return specs_; }
  std::size_t size() const noexcept { return specs_.size(); }
  const nlohmann::ordered_json& json() const noexcept { return doc_; }

  // Whether spec i is active given the (already filled) earlier entries of p.
  bool active(std::size_t i, const Point& p) const;
  // One draw from the prior of every active parameter, in order (NNI's Random tuner).
  Point sample_point(Rng& rng) const;
  Parameters sample(Rng& rng) const { return to_parameters(sample_point(rng)); }
  // Point -> the trial's parameter object (ints for randint, the option for choice).
  Parameters to_parameters(const Point& p) const;
  // Parameter object -> Point; InputError naming `where` if it does not fit the space (missing
  // key, unknown choice option, randint out of range, non-number, uniform value outside bounds).
  Point to_point(const Parameters& params, const std::string& where) const;

 private:
  nlohmann::ordered_json doc_;
  std::vector<ParamSpec> specs_;
};

// A canonical text of a parameter set for duplicate detection (keys sorted, like NNI's
// nni.dump(params, sort_keys=True)).
std::string canonical_key(const Parameters& params);

// JSON text of a parameter set or metric with Python's json.dumps rules (floats printed as
// Python's repr: shortest round trip, e.g. 0.6900000000000001), as NNI writes parameter.cfg.
// Separators ", " and ": ", non-ASCII escaped (ensure_ascii), no indentation.
std::string dump_python_json(const nlohmann::ordered_json& doc);

}  // namespace spikeline::hpo
