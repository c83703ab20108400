#include "spikeline/hw/xylo/factors.hpp"

#include <cmath>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::xylo {

namespace {

double scaled_f32(double w, double factor) {
  return static_cast<double>(static_cast<float>(w) * static_cast<float>(factor));
}

bool parse_class_key(const std::string& key, int& k) {
  constexpr std::string_view suffix = "_activity_factor";
  if (key.size() <= 1 + suffix.size() || key[0] != 'c' || !key.ends_with(suffix)) return false;
  const std::string digits = key.substr(1, key.size() - 1 - suffix.size());
  if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  k = std::stoi(digits);
  return true;
}

}  // namespace

FloatSpec apply_activity_factors(const FloatSpec& spec, const ActivityFactors& f) {
  FloatSpec s = spec;
  for (auto* v : {&s.weights_in, &s.weights_rec, &s.weights_out})
    for (auto& w : *v) w = scaled_f32(w, f.global);
  for (int i = 0; i < s.n_hid; ++i)
    for (int k = 0; k < s.n_out; ++k) s.w_out(i, k) = scaled_f32(s.w_out(i, k), f.for_class(k));
  return s;
}

ActivityFactors factors_from_params(const nlohmann::json& params, int n_out, const std::string& where) {
  if (!params.is_object()) throw InputError(where, "expected an object of activity factors");
  ActivityFactors f;
  f.per_class.assign(std::size_t(n_out), 1.0);
  for (const auto& [key, value] : params.items()) {
    const std::string at = where + ": " + key;
    if (!value.is_number() || !(value.get<double>() > 0.0) || !std::isfinite(value.get<double>()))
      throw InputError(at, "must be a positive number, got " + value.dump());
    const double x = value.get<double>();
    int k = -1;
    if (key == "global_activity_factor") {
      f.global = x;
    } else if (parse_class_key(key, k)) {
      // The thesis stores c0..c6 for every model and leaves unused classes at 1.
      if (k >= n_out) {
        if (x != 1.0)
          throw InputError(at, "the network has " + std::to_string(n_out) + " readout neurons (c0..c" +
                                   std::to_string(n_out - 1) + ")");
        continue;
      }
      f.per_class[std::size_t(k)] = x;
    } else {
      throw InputError(at, "unknown factor (expected global_activity_factor or c<k>_activity_factor)");
    }
  }
  return f;
}

nlohmann::ordered_json factors_to_params(const ActivityFactors& f, int n_out) {
  nlohmann::ordered_json j;
  j["global_activity_factor"] = f.global;
  for (int k = 0; k < n_out; ++k) j["c" + std::to_string(k) + "_activity_factor"] = f.for_class(k);
  return j;
}

IntSpec quantize_with_factors(const FloatSpec& spec, const ActivityFactors& factors, const QuantizeRecipe& recipe) {
  IntSpec q = quantize(apply_activity_factors(spec, factors), recipe.options);
  fix_zero_synaptic_dash(q, recipe.dash_fix);
  return q;
}

std::string method_name(QuantizeMethod m) { return m == QuantizeMethod::Channel ? "channel" : "global"; }
QuantizeMethod method_from_name(const std::string& name, const std::string& where) {
  if (name == "global") return QuantizeMethod::Global;
  if (name == "channel") return QuantizeMethod::Channel;
  throw InputError(where, "unknown quantisation method '" + name + "' (global or channel)");
}
std::string dash_fix_name(DashZeroFix f) {
  return f == DashZeroFix::Thesis ? "thesis" : f == DashZeroFix::None ? "none" : "per-neuron";
}
DashZeroFix dash_fix_from_name(const std::string& name, const std::string& where) {
  if (name == "per-neuron") return DashZeroFix::PerNeuron;
  if (name == "thesis") return DashZeroFix::Thesis;
  if (name == "none") return DashZeroFix::None;
  throw InputError(where, "unknown dash fix '" + name + "' (per-neuron, thesis or none)");
}

}  // namespace spikeline::hw::xylo
