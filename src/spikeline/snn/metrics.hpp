#pragma once
// NeuroBench-style complexity metrics of a network on a data set (docs/metrics.md):
//
//   footprint_bytes          bytes of all parameters as stored (float32: weights, biases, taus,
//                            thresholds, recurrent weights)
//   connection_sparsity      fraction of zero entries among all connection weights (Linear and
//                            recurrent)
//   activation_sparsity      1 - (spike events / neuron-steps) over every LIF layer; a multi-spike
//                            step counts as one active neuron-step
//   synaptic operations per sample, per Linear/recurrent connection and time step:
//     dense                  n_in * n_out        (every multiply-accumulate a dense engine does)
//     effective MACs         non-zero inputs that are not 0/1 spikes (e.g. multi-spike counts, analog
//                            inputs) times the non-zero outgoing weights of each such input
//     effective ACs          inputs that are single spikes (value exactly 1) times their non-zero
//                            outgoing weights: an accumulate without a multiply
//
// These follow NeuroBench's definitions (SynapticOperations: MACs for non-binary inputs, ACs for
// binary ones; sparsity over all neurons and steps); the inputs of each connection are rebuilt from
// the engine's spike records, so the figures are exact for the run, not estimates.
#include <cstddef>

#include <nlohmann/json.hpp>

#include "spikeline/core/array.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::snn {

struct ComplexityMetrics {
  std::size_t parameters = 0;
  std::size_t footprint_bytes = 0;
  std::size_t connections = 0;       // weight entries of Linear and recurrent matrices
  std::size_t zero_connections = 0;
  double connection_sparsity = 0.0;
  double activation_sparsity = 0.0;  // over the data set
  double dense_ops = 0.0;            // per sample
  double effective_macs = 0.0;       // per sample
  double effective_acs = 0.0;        // per sample
  std::size_t samples = 0;
  nlohmann::ordered_json to_json() const;
};

// Static part only (footprint, connection sparsity).
ComplexityMetrics static_metrics(const Network& net);

// Static part plus the activity-dependent figures over x [B][T][n_in], run in chunks of `chunk`
// samples (records of a whole data set would not fit in memory).
ComplexityMetrics measure_complexity(const Network& net, const FloatArray& x, int threads = 2,
                                     std::size_t chunk = 128);

}  // namespace spikeline::snn
