#include "spikeline/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

#include "spikeline/core/error.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/core/rng.hpp"

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
// Copies samples `index[begin, begin + n)` of `set` into a batch.
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
}  // namespace

TrainResult fit(snn::Network& net, const LabelledSet& train, const LabelledSet& val,
                const TrainOptions& options, const EpochCallback& on_epoch) {
  if (train.size() == 0) throw InputError("training set", "is empty");
  if (options.batch_size < 1) throw InputError("batch_size", "must be >= 1");
  const std::size_t batch = std::min<std::size_t>(options.batch_size, train.size());
  const std::size_t batches = train.size() / batch;  // the last partial batch is dropped
  snn::EngineOptions eo;
  eo.threads = options.threads;
  eo.micro_batch = options.micro_batch;
  snn::Engine engine(net, eo);
  Adam adam(options.adam);
  auto params = snn::trainable_parameters(net);
  Rng rng(options.seed);
  std::vector<std::size_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::vector<float>> grads;
  FloatArray xb;
  std::vector<int> yb;
  TrainResult result;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    adam.set_lr(exponential_lr(options.adam.lr, options.lr_decay, epoch));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs),
                    batches, options.progress);
    double loss_sum = 0.0;
    std::size_t hits = 0, seen = 0;
    for (std::size_t k = 0; k < batches; ++k) {
      gather(train, std::span(order).subspan(k * batch, batch), xb, yb);
      const snn::LossResult lr = engine.loss_and_grad_ce(xb, yb, grads);
      adam.step(params, grads);
      loss_sum += lr.loss;
      const std::size_t C = lr.logits.dim(1);
      for (std::size_t b = 0; b < batch; ++b) {
        const float* l = lr.logits.ptr() + b * C;
        hits += static_cast<int>(std::max_element(l, l + C) - l) == yb[b];
      }
      seen += batch;
      bar.update(k + 1, "loss " + std::to_string(loss_sum / (k + 1)).substr(0, 6));
    }
    bar.finish();
    EpochReport rep;
    rep.epoch = epoch;
    rep.loss = batches ? loss_sum / batches : 0.0;
    rep.train_acc = seen ? static_cast<double>(hits) / seen : 0.0;
    rep.lr = adam.lr();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rep.samples_per_s = secs > 0 ? seen / secs : 0.0;
    rep.val_acc = val.size() ? accuracy(predict(engine, val.x), val.y) : rep.train_acc;
    if (rep.val_acc > result.best_val_acc) {
      result.best_val_acc = rep.val_acc;
      result.best_epoch = epoch;
      result.best = net;
    }
    result.epochs.push_back(rep);
    if (on_epoch) on_epoch(rep);
  }
  return result;
}

}  // namespace spikeline::train
