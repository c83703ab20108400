#include "spikeline/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/train/prune.hpp"

namespace spikeline::train {

std::vector<int> predict(snn::Engine& engine, const FloatArray& x) {
  const FloatArray out = engine.forward(x);
  const std::size_t B = out.dim(0), T = out.dim(1), C = out.dim(2);
  std::vector<int> pred(B);
  std::vector<double> sums(C);
  for (std::size_t b = 0; b < B; ++b) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t c = 0; c < C; ++c) sums[c] += out[(b * T + t) * C + c];
    pred[b] = static_cast<int>(std::max_element(sums.begin(), sums.end()) - sums.begin());
  }
  return pred;
}

double accuracy(std::span<const int> predicted, std::span<const int> labels) {
  SPIKELINE_ASSERT(predicted.size() == labels.size());
  if (labels.empty()) return 0.0;
  std::size_t hits = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) hits += predicted[i] == labels[i];
  return static_cast<double>(hits) / labels.size();
}

namespace {
// Copies samples `index` of `set` into a batch.
void gather(const LabelledSet& set, std::span<const std::size_t> index, FloatArray& x,
            std::vector<int>& y) {
  const std::size_t sample = set.x.dim(1) * set.x.dim(2);
  x.shape = {index.size(), set.x.dim(1), set.x.dim(2)};
  x.data.resize(index.size() * sample);
  y.resize(index.size());
  for (std::size_t i = 0; i < index.size(); ++i) {
    std::memcpy(x.ptr() + i * sample, set.x.ptr() + index[i] * sample, sizeof(float) * sample);
    y[i] = set.y[index[i]];
  }
}

// The order of epoch `epoch`: a permutation drawn from a generator of its own, so any epoch can be
// replayed without the ones before it.
std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, int epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(epoch) + 1)));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

bool stop_requested(const TrainOptions& o) { return o.stop && *o.stop != 0; }
}  // namespace

TrainResult fit(snn::Network& net, const LabelledSet& train, const LabelledSet& val,
                const TrainOptions& options, const EpochCallback& on_epoch, const TrainResult* resume) {
  if (train.size() == 0) throw InputError("training set", "is empty");
  if (options.batch_size < 1) throw InputError("batch_size", "must be >= 1");
  const std::size_t batch = std::min<std::size_t>(options.batch_size, train.size());
  const std::size_t batches = train.size() / batch;  // the last partial batch is dropped
  snn::EngineOptions eo;
  eo.threads = options.threads;
  eo.micro_batch = options.micro_batch;
  // With a weight transform the engine runs on a transformed copy; the optimiser updates `net`.
  const bool ste = static_cast<bool>(options.weight_transform);
  snn::Network forward_net;
  if (ste) {
    forward_net = net;
    options.weight_transform(net, forward_net);
  }
  snn::Engine engine(ste ? forward_net : net, eo);
  const std::size_t n_params = snn::parameter_count(net);
  // Refreshes the forward copy from the current master weights (no-op without a transform).
  const auto sync_forward = [&] {
    if (!ste) return;
    options.weight_transform(net, forward_net);
    if (snn::parameter_count(forward_net) != n_params)
      throw InputError("weight_transform", "changed the network's structure");
    engine.refresh();  // thresholds and taus may have changed too
  };
  Adam adam(options.adam);
  TrainResult result;
  if (resume) {
    result = *resume;
    adam.set_state(resume->adam);
  }
  result.stop = StopReason::finished;
  auto params = snn::trainable_parameters(net);
  std::vector<std::vector<float>> grads;
  FloatArray xb;
  std::vector<int> yb;
  for (int epoch = result.next_epoch; epoch < options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    adam.set_lr(exponential_lr(options.adam.lr, options.lr_decay, epoch));
    const auto order = epoch_order(train.size(), options.seed, epoch);
    const bool fresh = result.next_batch == 0;
    double loss_sum = fresh ? 0.0 : result.partial_loss_sum;
    std::size_t hits = fresh ? 0 : result.partial_hits, seen = fresh ? 0 : result.partial_seen;
    std::size_t pruned = fresh ? 0 : result.partial_pruned;
    const double earlier_seconds = fresh ? 0.0 : result.partial_seconds;
    // The thesis prunes before the epoch's batches when epoch % k == 0 (epoch 0 included).
    if (fresh && options.prune_max_fan_out > 0 && epoch % options.prune_every == 0)
      pruned = adapt_network(net, options.prune_max_fan_out).synapses_dropped;
    ProgressBar bar(fmt::format("epoch {}/{}", epoch + 1, options.epochs), batches, options.progress);
    const auto elapsed = [&] {
      return earlier_seconds +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    for (std::size_t k = result.next_batch; k < batches; ++k) {
      gather(train, std::span(order).subspan(k * batch, batch), xb, yb);
      sync_forward();
      const snn::LossResult lr = engine.loss_and_grad_ce(xb, yb, grads);
      adam.step(params, grads);
      loss_sum += lr.loss;
      const std::size_t C = lr.logits.dim(1);
      for (std::size_t b = 0; b < batch; ++b) {
        const float* l = lr.logits.ptr() + b * C;
        hits += static_cast<int>(std::max_element(l, l + C) - l) == yb[b];
      }
      seen += batch;
      const double secs = elapsed();
      bar.update(k + 1, fmt::format("loss {:.4f} acc {:.3f} best {:.3f} {:.0f} samples/s",
                                    loss_sum / (k + 1), static_cast<double>(hits) / seen,
                                    std::max(0.0, result.best_val_acc), secs > 0 ? seen / secs : 0.0));
      if (k + 1 < batches && stop_requested(options)) {
        bar.finish("stopped");
        result.stop = StopReason::interrupted;
        result.next_epoch = epoch;
        result.next_batch = k + 1;
        result.partial_loss_sum = loss_sum;
        result.partial_hits = hits;
        result.partial_seen = seen;
        result.partial_pruned = pruned;
        result.partial_seconds = elapsed();
        result.adam = adam.state();
        return result;
      }
    }
    bar.finish();
    EpochReport rep;
    rep.epoch = epoch;
    rep.loss = batches ? loss_sum / batches : 0.0;
    rep.train_acc = seen ? static_cast<double>(hits) / seen : 0.0;
    rep.lr = adam.lr();
    rep.pruned_synapses = pruned;
    const double secs = elapsed();
    rep.samples_per_s = secs > 0 ? seen / secs : 0.0;
    sync_forward();
    rep.val_acc = val.size() ? accuracy(predict(engine, val.x), val.y) : rep.train_acc;
    if (rep.val_acc > result.best_val_acc) {
      result.best_val_acc = rep.val_acc;
      result.best_epoch = epoch;
      result.best = net;
    }
    result.epochs.push_back(rep);
    result.next_epoch = epoch + 1;
    result.next_batch = 0;
    result.partial_loss_sum = 0.0;
    result.partial_hits = result.partial_seen = result.partial_pruned = 0;
    result.partial_seconds = 0.0;
    result.adam = adam.state();
    const std::size_t w = static_cast<std::size_t>(options.early_stop_window);
    if (w > 0 && result.epochs.size() > w &&
        std::fabs(result.epochs.back().loss - result.epochs[result.epochs.size() - 1 - w].loss) <
            options.early_stop_min_delta)
      result.stop = StopReason::early_stopped;
    else if (stop_requested(options) && epoch + 1 < options.epochs)
      result.stop = StopReason::interrupted;
    if (on_epoch) on_epoch(result);
    if (result.stop != StopReason::finished) return result;
  }
  return result;
}

}  // namespace spikeline::train
