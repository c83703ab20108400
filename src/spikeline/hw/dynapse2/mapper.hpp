#pragma once
// Mapping a DynapseNet to a Dynap-SE2 specification (Rockpool 2.7 `mapper`, shared docs
// dynapse2.md §5) and the autoencoder weight quantisation (§6).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/autoencoder.hpp"
#include "spikeline/hw/dynapse2/model.hpp"
#include "spikeline/hw/dynapse2/weights.hpp"

namespace spikeline::hw::dynapse2 {

inline constexpr int kNeuronsPerCore = 256;

// Per-core means of the currents (§5 step 3), one value per cluster.
struct CoreCurrents {
  double Idc = 0, If_nmda = 0, Igain_ahp = 0, Igain_mem = 0, Igain_syn = 0, Ipulse_ahp = 0, Ipulse = 0, Iref = 0,
         Ispkthr = 0, Itau_ahp = 0, Itau_mem = 0, Itau_syn = 0, Iw_ahp = 0;
};

// The float specification (§5 step 4).
struct Spec {
  int n_in = 0;
  int n_neuron = 0;
  int n_cluster = 0;
  std::vector<int> core_map;     // [n_neuron] cluster of each neuron
  Matrix weights_in;             // [n_in, n_neuron]
  Matrix weights_rec;            // [n_neuron, n_neuron]
  double Iscale = 1e-8;
  double dt = 1e-3;
  std::vector<CoreCurrents> cores;  // [n_cluster]
  DynapSimParams unclustered;       // per-neuron currents as trained (w_rec unused here)
};
// n_cluster 0: n / 256 + 1 (Rockpool's rule). Greedy clustering as Rockpool:
// core_map[i] = i // floor(n / n_cluster). When n_cluster does not divide n that formula puts the
// last neurons into clusters n_cluster, n_cluster + 1, ...; Rockpool then leaves them without
// parameters, Spikeline counts those clusters (spec.n_cluster = max(core_map) + 1). Throws
// InputError when n_cluster is below n / 256 + 1 or above n, or a current is negative.
Spec map_network(const DynapseNet& net, int n_cluster = 0);

// Rockpool's greedy core map for n neurons in n_cluster clusters (values may reach n_cluster).
std::vector<int> greedy_core_map(int n, int n_cluster);

// True when weights_rec has a non-zero (Rockpool keeps the recurrent block only then; the JSON
// writes null otherwise).
bool has_recurrent_weights(const Spec& spec);

// AutoencoderOptions: see autoencoder.hpp.

// The quantised specification (§6): per cluster the four base currents, integer masks and signs.
struct QuantizedSpec {
  Spec spec;                                       // the float spec it came from
  IntMatrix masks_in, masks_rec;                   // 0..15, zero where the weight is zero
  Matrix sign_in, sign_rec;                        // -1, 0, +1
  std::vector<std::array<double, kWeightBits>> Iw; // [n_cluster] base weight currents (A)
  std::vector<double> quantization_loss;           // [n_cluster]
  std::vector<std::int64_t> steps;                 // [n_cluster] Adam steps run
};
// Autoencoder quantisation of every cluster (columns of other clusters zeroed), each initialised
// from its own stream of Rng(options.seed) (cluster c uses the c-th split), so the result is
// deterministic for a seed.
QuantizedSpec quantize_spec(const Spec& spec, const AutoencoderOptions& options = {});

// Weights the quantised spec realises, in simulator units (sign * sum_k bit_k Iw_k / Iscale), with
// each neuron's (column's) cluster's Iw.
Matrix realised_weights_in(const QuantizedSpec& q);
Matrix realised_weights_rec(const QuantizedSpec& q);

nlohmann::json to_json(const Spec& spec);
Spec spec_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json to_json(const QuantizedSpec& q);
QuantizedSpec quantized_spec_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace spikeline::hw::dynapse2
