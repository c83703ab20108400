#pragma once
// Mapping a DynapseNet to a Dynap-SE2 specification (Rockpool 2.7 `mapper`, shared docs
// dynapse2.md §5) and the autoencoder weight quantisation (§6).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
// n_cluster 0: n / 256 + 1 (Rockpool's rule). Greedy clustering as Rockpool.
Spec map_network(const DynapseNet& net, int n_cluster = 0);

struct AutoencoderOptions {
  int n_bits = 4;
  bool fixed_epoch = false;  // true: exactly num_epoch steps (the DERIVED golden's mode)
  std::int64_t num_epoch = 10'000'000;
  int num_epoch_checkpoint = 1000;
  double eps = 1e-6;
  double step_size = 1e-4;
  std::uint64_t seed = 0;  // initialisation of W_en, W_dec
};

// The quantised specification (§6): per cluster the four base currents, integer masks and signs.
struct QuantizedSpec {
  Spec spec;                                       // the float spec it came from
  IntMatrix masks_in, masks_rec;                   // 0..15, zero where the weight is zero
  Matrix sign_in, sign_rec;                        // -1, 0, +1
  std::vector<std::array<double, kWeightBits>> Iw; // [n_cluster] base weight currents (A)
  std::vector<double> quantization_loss;           // [n_cluster]
};
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
