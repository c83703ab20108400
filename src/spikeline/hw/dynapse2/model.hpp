#pragma once
// The trainable Dynap-SE2 network of the thesis: Linear(n_in, n, no bias) -> DynapSim(n, recurrent)
// (shared docs dynapse2.md §2, §4). A value type; its JSON file (`dynapse2_model.json` in a training
// checkpoint) is what map/quantize/tune/deploy read.
//
// JSON: {"format": "spikeline-dynapse2-model", "version": 1, "n_in": I, "n": N,
//        "w_in": [[I rows of N]], "sim": <dynapsim params as dynapsim_params_from_json reads them,
//        w_rec included, every per-neuron vector written out>}
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/dynapsim.hpp"

namespace spikeline::hw::dynapse2 {

struct DynapseNet {
  int n_in = 0;
  int n = 0;
  std::vector<double> w_in;  // [n_in * n] row-major, dimensionless (x @ w_in is DynapSim's input)
  DynapSimParams sim;        // sim.n == n; sim.w_rec [n * n] (row = source)
};

nlohmann::json to_json(const DynapseNet& net);
// InputError naming `where` and the field on a missing key, wrong shape or non-finite value.
DynapseNet dynapse_net_from_json(const nlohmann::json& j, const std::string& where);
DynapseNet read_dynapse_net(const std::filesystem::path& file);
void write_dynapse_net(const std::filesystem::path& file, const DynapseNet& net);  // atomic

// Spike counts [steps * n] of one sample x [steps * n_in] (spike counts per input channel).
template <class T>
DynapSimRecord<T> run_dynapse_net(const DynapseNet& net, const std::vector<T>& x, int steps);

}  // namespace spikeline::hw::dynapse2
