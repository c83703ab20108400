#pragma once
// The spiking-network engine: forward, records, and BPTT gradients for a Network.
//
// Data in and out is batch-major [B][T][C] (as Rockpool). Internally the batch is cut into
// micro-batches of `micro_batch` elements, each processed time-major ([T][b][n] contiguous) by one
// worker thread with buffers allocated once and reused: activations of a micro-batch stay in cache,
// peak memory does not grow with the batch, and the threads never share writable memory.
// Micro-batches are assigned to workers statically and each worker accumulates its own gradients,
// so a run is reproducible for a given thread count (other thread counts differ only by float
// summation order).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::snn {

struct EngineOptions {
  int threads = 1;
  int micro_batch = 32;
  // Rockpool semantics: each call starts from the final state of batch element 0 of the previous
  // call (detached). Off by default: every call starts from zeros.
  bool carry_state = false;
  std::uint64_t noise_seed = 0;  // for layers with noise_std > 0
};

struct NamedArray {
  std::string name;
  FloatArray values;
};

struct LossResult {
  double loss = 0.0;
  FloatArray logits;  // [B][n_out]: output summed over time
};

// Work statistics of the last call (for benchmarks and the sparsity report).
struct EngineStats {
  double input_events = 0;     // non-zero entries fed to Linear layers
  double input_entries = 0;    // all entries fed to Linear layers
  double window_entries = 0;   // LIF entries with a non-zero surrogate
  double lif_entries = 0;
};

class Engine {
 public:
  // `net` must outlive the engine; its weights are read on every call (so an optimiser may update
  // them in place), its structure and neuron constants are lowered once here.
  explicit Engine(const Network& net, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Re-reads neuron constants (taus, thresholds) after they changed.
  void refresh();

  // x: [B][T][n_in]. Returns the network output [B][T][n_out]. With `records`, appends
  // "<layer path>.vmem", ".isyn", ".spikes" ([B][T][n]) for every LIF layer.
  FloatArray forward(const FloatArray& x, std::vector<NamedArray>* records = nullptr);

  // Cross-entropy of the time-summed outputs against class labels (mean over the batch), with
  // gradients of all trainable parameters (order of trainable_parameters(), overwritten).
  LossResult loss_and_grad_ce(const FloatArray& x, std::span<const int> labels,
                              std::vector<std::vector<float>>& grads);
  // Mean squared error of the output [B][T][n_out] against `target` of the same shape.
  LossResult loss_and_grad_mse(const FloatArray& x, const FloatArray& target,
                               std::vector<std::vector<float>>& grads);

  void reset_state();
  // Carried state (batch element 0 of the last call), per LIF layer: "<path>.vmem/.isyn/.spikes".
  std::vector<NamedArray> state() const;
  const EngineStats& stats() const { return stats_; }
  const EngineOptions& options() const { return options_; }
  void set_threads(int threads) { options_.threads = threads; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  EngineOptions options_;
  EngineStats stats_;
};

}  // namespace spikeline::snn
