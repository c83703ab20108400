#pragma once
// Supervised training of a spiking network: shuffled mini-batches (last partial batch dropped, as
// the thesis), cross-entropy of summed output spikes, Adam, optional fan-out pruning every k
// epochs, validation accuracy after each epoch, best model kept, early stop on a loss plateau, and
// a stop request (Ctrl-C) honoured after the current batch with the state needed to resume.
//
// Reproducibility: epoch e shuffles with its own generator derived from (seed, e), so a run
// resumed at any batch from its TrainResult continues exactly as the uninterrupted run would.
#include <csignal>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/train/optim.hpp"

namespace spikeline::train {

// Spike rasters [n][T][C] with class labels in [0, n_classes).
struct LabelledSet {
  FloatArray x;
  std::vector<int> y;
  std::size_t size() const { return y.size(); }
};

struct TrainOptions {
  int epochs = 20;
  int batch_size = 128;
  AdamOptions adam;
  double lr_decay = 1.0;  // ExponentialLR gamma, per epoch (1 = off)
  std::uint64_t seed = 0;
  int threads = 1;
  int micro_batch = 32;
  bool progress = true;
  int prune_max_fan_out = 0;  // 0: off; else adapt_network before epochs 0, k, 2k, ...
  int prune_every = 10;
  int early_stop_window = 0;  // 0: off; else stop when |loss[e] - loss[e - window]| < min_delta
  double early_stop_min_delta = 1e-5;
  // Set asynchronously (a signal handler) to stop after the current batch; may be null.
  const volatile std::sig_atomic_t* stop = nullptr;
  // Straight-through estimator hook (quantisation-aware training): when set, before every batch
  // and before validation `forward` is overwritten with transform(master) (e.g. fake-quantised
  // weights); the loss and gradients are computed on `forward` and applied to the float master
  // weights. `forward` must keep the master's structure. Unset: training is unchanged.
  std::function<void(const snn::Network& master, snn::Network& forward)> weight_transform;
};

struct EpochReport {
  int epoch = 0;
  double loss = 0.0;       // mean training loss over the epoch's batches
  double train_acc = 0.0;  // accuracy on the training batches seen, during the epoch
  double val_acc = 0.0;
  double samples_per_s = 0.0;
  double lr = 0.0;
  std::size_t pruned_synapses = 0;  // set to 0 by pruning before this epoch
};

enum class StopReason { finished, interrupted, early_stopped };

// The outcome so far, and everything needed to continue (pass it back to fit as `resume`).
struct TrainResult {
  std::vector<EpochReport> epochs;
  double best_val_acc = -1.0;
  int best_epoch = -1;
  snn::Network best;
  StopReason stop = StopReason::finished;
  // Where to continue: epoch `next_epoch`, batch `next_batch` (> 0 only after an interruption,
  // with the epoch's partial sums).
  int next_epoch = 0;
  std::size_t next_batch = 0;
  double partial_loss_sum = 0.0;
  std::size_t partial_hits = 0, partial_seen = 0;
  std::size_t partial_pruned = 0;
  double partial_seconds = 0.0;
  AdamState adam;
};

// Predicted class per sample: argmax over classes of the time-summed output (ties -> lowest index).
std::vector<int> predict(snn::Engine& engine, const FloatArray& x);
double accuracy(std::span<const int> predicted, std::span<const int> labels);

// Called after every epoch with the result so far (result.epochs.back() is the epoch just done).
using EpochCallback = std::function<void(const TrainResult&)>;
// Trains `net` in place. With `resume` (a previous result and `net` holding that run's current
// weights) training continues where it stopped.
TrainResult fit(snn::Network& net, const LabelledSet& train, const LabelledSet& val,
                const TrainOptions& options, const EpochCallback& on_epoch = {},
                const TrainResult* resume = nullptr);

}  // namespace spikeline::train
