#pragma once
// The thesis's Dynap-SE2 training loop (shared docs dynapse2.md §4) on a DynapseNet: shuffled
// mini-batches (seeded per epoch; the last partial batch dropped), loss mean((spikes - target)^2)
// over batch, steps and neurons with target[t] = one-hot(label) at every step, BPTT gradients
// (dynapsim_grad.hpp) computed in parallel over the samples of a batch and summed in sample order
// (so results do not depend on the thread count), Adam as jax.example_libraries.optimizers.adam,
// validation accuracy after every epoch, best model kept, optional re-drawn weight mismatch.
#include <csignal>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/hw/dynapse2/dynapsim_grad.hpp"

namespace spikeline::hw::dynapse2 {

struct DynamicMismatch {
  bool enabled = false;
  double percent = 0.30, sigma_rule = 3.0;
  int every = 100, after = 0;
  bool no_effect = false;  // thesis quirk: values drawn, then overwritten by the optimiser's parameters
};

struct FitOptions {
  int epochs = 10;
  int batch_size = 128;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool adam_step_epoch = false;  // thesis quirk: bias correction with the epoch index for every batch
  bool float64 = false;
  std::uint64_t seed = 0;
  int threads = 1;
  bool progress = true;
  DynamicMismatch dynamic_mismatch;
  const volatile std::sig_atomic_t* stop = nullptr;  // stop after the current batch
};

struct EpochStats {
  int epoch = 0;  // 0-based
  double loss = 0.0, train_acc = 0.0, val_acc = 0.0, samples_per_s = 0.0, lr = 0.0;
  bool mismatch_redrawn = false;
};

// jax's adam state: first and second moments per parameter, and the number of updates made.
struct AdamMoments {
  std::int64_t updates = 0;
  std::vector<double> m_in, v_in, m_rec, v_rec;
};

struct FitState {
  std::vector<EpochStats> epochs;
  double best_val_acc = -1.0;
  int best_epoch = -1;
  DynapseNet best;
  int next_epoch = 0;  // an interrupted epoch is repeated from its start on resume
  bool interrupted = false;
  AdamMoments adam;
};

// One step of jax.example_libraries.optimizers.adam with step index `i` (bias correction i + 1).
void adam_update(std::vector<double>& x, std::span<const double> g, std::vector<double>& m, std::vector<double>& v,
                 std::int64_t i, const FitOptions& o);

// Argmax over neurons of the summed spikes per sample of x [n][T][C] (ties -> lowest index).
template <class T>
std::vector<int> predict_classes(const DynapKernel<T>& k, const FloatArray& x, int threads);

// Mean loss, accuracy and summed gradients of one batch (sample indices `batch` of x/y).
template <class T>
struct BatchResult {
  double loss = 0.0;
  std::size_t hits = 0;
  std::vector<double> g_in, g_rec;  // d loss / d w (loss = mean over batch, steps, neurons)
};
template <class T>
BatchResult<T> batch_gradient(const DynapKernel<T>& k, const FloatArray& x, std::span<const int> y,
                              std::span<const std::size_t> batch, int threads, SpikeModel spike = SpikeModel::step_pwl);

using FitCallback = std::function<void(const FitState& so_far, const DynapseNet& current)>;
// Trains net.w_in and net.sim.w_rec in place (the currents are frozen). `resume` continues a
// previous FitState with `net` holding that run's current weights.
FitState fit_dynapse(DynapseNet& net, const FloatArray& train_x, std::span<const int> train_y,
                     const FloatArray& val_x, std::span<const int> val_y, const FitOptions& o,
                     const FitCallback& on_epoch = {}, const FitState* resume = nullptr);

}  // namespace spikeline::hw::dynapse2
