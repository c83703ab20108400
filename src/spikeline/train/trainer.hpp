#pragma once
// Supervised training of a spiking network: shuffled mini-batches (last partial batch dropped, as
// the thesis), cross-entropy of summed output spikes, Adam, validation accuracy after each epoch,
// best model kept.
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
};

struct EpochReport {
  int epoch = 0;
  double loss = 0.0;       // mean training loss over the epoch's batches
  double train_acc = 0.0;  // accuracy on the training batches seen, during the epoch
  double val_acc = 0.0;
  double samples_per_s = 0.0;
  double lr = 0.0;
};

struct TrainResult {
  std::vector<EpochReport> epochs;
  double best_val_acc = -1.0;
  int best_epoch = -1;
  snn::Network best;
};

// Predicted class per sample: argmax over classes of the time-summed output (ties -> lowest index).
std::vector<int> predict(snn::Engine& engine, const FloatArray& x);
double accuracy(std::span<const int> predicted, std::span<const int> labels);

using EpochCallback = std::function<void(const EpochReport&)>;
TrainResult fit(snn::Network& net, const LabelledSet& train, const LabelledSet& val,
                const TrainOptions& options, const EpochCallback& on_epoch = {});

}  // namespace spikeline::train
