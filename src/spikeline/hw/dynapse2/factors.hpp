#pragma once
// The thesis's Dynap-SE2 quantisation tuning knobs (run_dynapse2_quantization_tuning.py; shared
// docs dynapse2.md §5 end): before the autoencoder quantisation, weights_in and weights_rec are
// multiplied by the global activity factor, and column c of both (the synapses onto neuron c,
// which is class c's readout) additionally by the class's factor. Scaling a column changes the
// weights relative to the per-core base currents the autoencoder finds, so it moves each class's
// drive relative to the others.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/mapper.hpp"

namespace spikeline::hw::dynapse2 {

struct ActivityFactors {
  double global = 1.0;
  std::vector<double> per_class;  // [n classes]; empty: all 1
  double for_class(int c) const { return std::size_t(c) < per_class.size() ? per_class[std::size_t(c)] : 1.0; }
};

// w' = w * global * c_factor (in double; the factors multiply, the weights are the spec's).
Spec apply_activity_factors(const Spec& spec, const ActivityFactors& factors);

// NNI's parameter object: "global_activity_factor" and "c{k}_activity_factor". Missing keys are 1.
// InputError naming `where` and the key for a class k >= n_neurons, another key, or a value that is
// not a positive finite number.
ActivityFactors factors_from_params(const nlohmann::json& params, int n_neurons, const std::string& where);
// The parameter object for n classes, keys in the thesis's order (global first).
nlohmann::ordered_json factors_to_params(const ActivityFactors& factors, int n_classes);

}  // namespace spikeline::hw::dynapse2
