#include "spikeline/hw/dynapse2/factors.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

Spec apply_activity_factors(const Spec& spec, const ActivityFactors& f) {
  Spec out = spec;
  for (Matrix* m : {&out.weights_in, &out.weights_rec})
    for (int r = 0; r < m->rows; ++r)
      for (int c = 0; c < m->cols; ++c) (*m)(r, c) = (*m)(r, c) * f.global * f.for_class(c);
  return out;
}

namespace {

// "c12_activity_factor" -> 12; -1 when the key has another form.
int class_of_key(const std::string& key) {
  const std::string suffix = "_activity_factor";
  if (key.size() <= 1 + suffix.size() || key[0] != 'c' || !key.ends_with(suffix)) return -1;
  int k = -1;
  const char* first = key.data() + 1;
  const char* last = key.data() + key.size() - suffix.size();
  const auto res = std::from_chars(first, last, k);
  return res.ec == std::errc() && res.ptr == last && k >= 0 ? k : -1;
}

}  // namespace

ActivityFactors factors_from_params(const nlohmann::json& params, int n_neurons, const std::string& where) {
  if (!params.is_object()) throw InputError(where, "expected an object of activity factors");
  ActivityFactors f;
  for (const auto& [key, value] : params.items()) {
    if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() <= 0.0)
      throw InputError(where, fmt::format("'{}' must be a positive number, got {}", key, value.dump()));
    const double v = value.get<double>();
    if (key == "global_activity_factor") {
      f.global = v;
      continue;
    }
    const int k = class_of_key(key);
    if (k < 0)
      throw InputError(where, fmt::format("unknown key '{}' (expected global_activity_factor or c<k>_activity_factor)", key));
    if (k >= n_neurons) {
      // The thesis's metadata always lists c0..c6; factors of 1 for absent classes are harmless.
      if (v == 1.0) continue;
      throw InputError(where, fmt::format("'{}': the network has {} neurons (classes 0..{})", key, n_neurons, n_neurons - 1));
    }
    if (f.per_class.size() <= std::size_t(k)) f.per_class.resize(std::size_t(k) + 1, 1.0);
    f.per_class[std::size_t(k)] = v;
  }
  return f;
}

nlohmann::ordered_json factors_to_params(const ActivityFactors& f, int n_classes) {
  nlohmann::ordered_json j;
  j["global_activity_factor"] = f.global;
  for (int k = 0; k < n_classes; ++k) j[fmt::format("c{}_activity_factor", k)] = f.for_class(k);
  return j;
}

}  // namespace spikeline::hw::dynapse2
