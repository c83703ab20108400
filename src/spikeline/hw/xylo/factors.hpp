#pragma once
// The thesis's quantisation tuning knobs (xylo.md §3.3; run_xylo_quantization_tuning.py): before
// quantisation, every float weight (weights_in, weights_rec, weights_out) is multiplied by the
// global activity factor, and column k of weights_out (readout neuron k = class k) additionally by
// the class's factor. Thresholds are not scaled, so with global quantisation the global factor
// moves every hidden and readout threshold relative to its weights (the hidden scale 127/max|w|
// absorbs the weight change), and the class factors move each readout's weights relative to the
// others and to the readout thresholds.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/xylo/quantize.hpp"
#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

struct ActivityFactors {
  double global = 1.0;
  std::vector<double> per_class;  // [n_out]; empty: all 1
  double for_class(int k) const { return std::size_t(k) < per_class.size() ? per_class[std::size_t(k)] : 1.0; }
};

// numpy semantics of the thesis: float32 array * Python float is a float32 product (the factor is
// rounded to float32 first), then column k of weights_out times its factor, again in float32.
FloatSpec apply_activity_factors(const FloatSpec& spec, const ActivityFactors& factors);

// NNI's parameter object: "global_activity_factor" and "c{k}_activity_factor". Missing keys are 1;
// a class key for k >= n_out, another key, or a value that is not a positive number is an
// InputError naming `where` and the key.
ActivityFactors factors_from_params(const nlohmann::json& params, int n_out, const std::string& where);
// The parameter object for n_out classes, keys in the thesis's order.
nlohmann::ordered_json factors_to_params(const ActivityFactors& factors, int n_out);

// How a float spec becomes the chip's integers in deployment and tuning.
struct QuantizeRecipe {
  QuantizeOptions options;                    // method, Rockpool bugs
  DashZeroFix dash_fix = DashZeroFix::PerNeuron;
};
IntSpec quantize_with_factors(const FloatSpec& spec, const ActivityFactors& factors, const QuantizeRecipe& recipe);

// Names used in files and on the command line: "global"/"channel", "per-neuron"/"thesis"/"none".
std::string method_name(QuantizeMethod m);
QuantizeMethod method_from_name(const std::string& name, const std::string& where);
std::string dash_fix_name(DashZeroFix f);
DashZeroFix dash_fix_from_name(const std::string& name, const std::string& where);

}  // namespace spikeline::hw::xylo
