#include "spikeline/hw/xylo/cycles.hpp"

#include <algorithm>

namespace spikeline::hw::xylo {

namespace {

// Rockpool's magic numbers (cycles per operation).
constexpr double kInputLoop = 3.5;
constexpr double kHiddenUpdate = 7;
constexpr double kOutputIsynUpdate = 8;
constexpr double kFixedHiddenNeuron = 19;
constexpr double kFixedOutputNeuronSpike = 12;

// np.mean(np.sum(np.abs(np.sign(W_rec)), axis=1)): non-zero weights per source row, averaged over
// the rows (and over the synapse axis when there are two).
double mean_fan_out(const IntSpec& s) {
  if (s.n_hid == 0) return 0.0;
  std::size_t nonzero = 0;
  for (auto w : s.weights_rec) nonzero += w != 0;
  return static_cast<double>(nonzero) / (static_cast<double>(s.n_hid) * s.n_syn);
}

}  // namespace

CycleEstimate estimate_cycles(const IntSpec& s, const SpikeProbabilities& p) {
  CycleEstimate e;
  const double n_in = s.n_in, n_hid = s.n_hid, n_out = s.n_out;
  const double n_ien = n_hid, n_oen = n_hid;  // A2: every hidden neuron may take input / drive outputs
  const double syn2 = s.n_syn == 2 ? 1.0 : 0.0;
  e.mean_fan_out = mean_fan_out(s);
  // Each alias adds one to its target's and one to its source's count; only aliases[i][0] is used.
  double aliases = 0;
  for (const auto& a : s.aliases) aliases += !a.empty();
  e.alias_target_prob = n_hid > 0 ? aliases / n_hid : 0.0;
  e.alias_source_prob = e.alias_target_prob;
  const double at = e.alias_target_prob, as = e.alias_source_prob, ph = p.hidden;

  e.input = n_in * (p.input * n_ien * kInputLoop + 1);
  e.additional_isyn2_ops += syn2 * 1.5 * p.input * n_in * n_ien;
  e.hidden_isyn = n_hid * (e.mean_fan_out * kHiddenUpdate * ph + 3);
  e.additional_isyn2_ops += syn2 * 5 * e.mean_fan_out * ph * n_hid;
  e.output_isyn = n_oen * ph * (1 + n_out * kOutputIsynUpdate);
  const double variable = std::max(ph, at * as) * 2 + std::max(ph * at, at * as) * 3 + ph + std::max(ph, at) * as;
  e.hidden_spiking = n_hid * (kFixedHiddenNeuron + variable);
  e.additional_isyn2_ops += syn2 * n_hid;
  e.output_spiking = n_out * kFixedOutputNeuronSpike;  // Rockpool: 0 * output probability
  e.total = e.input + e.hidden_isyn + e.output_isyn + e.hidden_spiking + e.output_spiking;
  return e;
}

double min_clock_hz(double cycles_per_step, double dt, double margin) { return cycles_per_step * (1 + margin) / dt; }

}  // namespace spikeline::hw::xylo
