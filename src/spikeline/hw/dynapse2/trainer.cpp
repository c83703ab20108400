#include "spikeline/hw/dynapse2/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/mismatch.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

// Independent, reproducible streams per (seed, epoch, purpose): resuming at an epoch replays it.
Rng stream(std::uint64_t seed, int epoch, std::uint64_t purpose) {
  Rng r(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(epoch) + 1)) ^ (purpose << 56));
  return r;
}
constexpr std::uint64_t kShuffle = 1, kMismatch = 2;

template <class T>
std::vector<T> sample_of(const FloatArray& x, std::size_t i) {
  const std::size_t len = x.dim(1) * x.dim(2);
  return std::vector<T>(x.data.begin() + i * len, x.data.begin() + (i + 1) * len);
}

template <class T>
int argmax_of_sums(const std::vector<T>& spikes, int steps, int n) {
  std::vector<T> sums(static_cast<std::size_t>(n), T(0));
  for (int t = 0; t < steps; ++t)
    for (int j = 0; j < n; ++j) sums[j] += spikes[static_cast<std::size_t>(t) * n + j];
  return static_cast<int>(std::max_element(sums.begin(), sums.end()) - sums.begin());  // first maximum
}

void check_set(const FloatArray& x, std::span<const int> y, int n_in, int n, const char* name) {
  if (x.shape.size() != 3 || x.dim(0) != y.size())
    throw InputError(name, "expected spike rasters [samples][steps][channels] with one label per sample");
  if (x.dim(0) > 0 && static_cast<int>(x.dim(2)) != n_in)
    throw InputError(name, fmt::format("{} channels, but the network has {} inputs", x.dim(2), n_in));
  for (int label : y)
    if (label < 0 || label >= n) throw InputError(name, fmt::format("label {} outside 0..{}", label, n - 1));
}

template <class T>
double validation_accuracy(const DynapseNet& net, const FloatArray& x, std::span<const int> y, int threads) {
  if (y.empty()) return 0.0;
  const auto pred = predict_classes(make_kernel<T>(net), x, threads);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < y.size(); ++i) hits += pred[i] == y[i];
  return static_cast<double>(hits) / static_cast<double>(y.size());
}

template <class T>
BatchResult<T> train_batch(DynapseNet& net, AdamMoments& adam, const FloatArray& x, std::span<const int> y,
                           std::span<const std::size_t> batch, int epoch, const FitOptions& o) {
  BatchResult<T> r = batch_gradient(make_kernel<T>(net), x, y, batch, o.threads);
  if (adam.m_in.empty()) {
    adam.m_in.assign(net.w_in.size(), 0.0);
    adam.v_in.assign(net.w_in.size(), 0.0);
    adam.m_rec.assign(net.sim.w_rec.size(), 0.0);
    adam.v_rec.assign(net.sim.w_rec.size(), 0.0);
  }
  const std::int64_t i = o.adam_step_epoch ? epoch : adam.updates;
  adam_update(net.w_in, r.g_in, adam.m_in, adam.v_in, i, o);
  adam_update(net.sim.w_rec, r.g_rec, adam.m_rec, adam.v_rec, i, o);
  ++adam.updates;
  return r;
}

// Re-drawn weight mismatch before `epoch` when due; returns whether it was drawn.
bool dynamic_mismatch(DynapseNet& net, int epoch, const FitOptions& o) {
  const DynamicMismatch& d = o.dynamic_mismatch;
  if (!d.enabled || epoch < d.after || (epoch - d.after) % d.every != 0) return false;
  Rng rng = stream(o.seed, epoch, kMismatch);
  std::vector<double> w_in = net.w_in, w_rec = net.sim.w_rec;
  apply_weight_mismatch(w_in, d.percent, d.sigma_rule, rng);
  apply_weight_mismatch(w_rec, d.percent, d.sigma_rule, rng);
  if (!d.no_effect) {  // the thesis overwrote these with the optimiser's parameters right away
    net.w_in = std::move(w_in);
    net.sim.w_rec = std::move(w_rec);
  }
  return true;
}

}  // namespace

void adam_update(std::vector<double>& x, std::span<const double> g, std::vector<double>& m, std::vector<double>& v,
                 std::int64_t i, const FitOptions& o) {
  SPIKELINE_ASSERT(g.size() == x.size() && m.size() == x.size() && v.size() == x.size());
  const double c1 = 1.0 - std::pow(o.beta1, static_cast<double>(i + 1));
  const double c2 = 1.0 - std::pow(o.beta2, static_cast<double>(i + 1));
  for (std::size_t k = 0; k < x.size(); ++k) {
    m[k] = (1.0 - o.beta1) * g[k] + o.beta1 * m[k];
    v[k] = (1.0 - o.beta2) * g[k] * g[k] + o.beta2 * v[k];
    x[k] -= o.lr * (m[k] / c1) / (std::sqrt(v[k] / c2) + o.eps);
  }
}

template <class T>
std::vector<int> predict_classes(const DynapKernel<T>& k, const FloatArray& x, int threads) {
  const std::size_t n = x.shape.empty() ? 0 : x.dim(0);
  std::vector<int> out(n, 0);
  if (n == 0) return out;
  if (x.shape.size() != 3 || static_cast<int>(x.dim(2)) != k.n_in)
    throw InputError("input", fmt::format("expected [samples][steps][{}] spike counts", k.n_in));
  const int steps = static_cast<int>(x.dim(1));
  parallel_for(n, threads, [&](std::size_t i, int) {
    out[i] = argmax_of_sums(kernel_forward(k, sample_of<T>(x, i), steps), steps, k.n);
  });
  return out;
}

template <class T>
BatchResult<T> batch_gradient(const DynapKernel<T>& k, const FloatArray& x, std::span<const int> y,
                              std::span<const std::size_t> batch, int threads, SpikeModel spike) {
  const int steps = static_cast<int>(x.dim(1));
  const auto N = static_cast<std::size_t>(k.n);
  std::vector<SampleGrad<T>> per(batch.size());
  parallel_for(batch.size(), threads, [&](std::size_t b, int) {
    const std::size_t i = batch[b];
    std::vector<T> target(static_cast<std::size_t>(steps) * N, T(0));
    for (int t = 0; t < steps; ++t) target[static_cast<std::size_t>(t) * N + y[i]] = T(1);
    per[b] = sse_and_grad(k, sample_of<T>(x, i), target, steps, spike);
  });
  BatchResult<T> r;
  r.g_in.assign(static_cast<std::size_t>(k.n_in) * N, 0.0);
  r.g_rec.assign(N * N, 0.0);
  // Summed in sample order: the same result for any thread count.
  const double scale = 1.0 / static_cast<double>(batch.size() * static_cast<std::size_t>(steps) * N);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    r.loss += static_cast<double>(per[b].sse) * scale;
    r.hits += argmax_of_sums(per[b].spikes, steps, k.n) == y[batch[b]];
    for (std::size_t q = 0; q < r.g_in.size(); ++q) r.g_in[q] += static_cast<double>(per[b].g_w_in[q]) * scale;
    for (std::size_t q = 0; q < r.g_rec.size(); ++q) r.g_rec[q] += static_cast<double>(per[b].g_w_rec[q]) * scale;
  }
  return r;
}

FitState fit_dynapse(DynapseNet& net, const FloatArray& train_x, std::span<const int> train_y,
                     const FloatArray& val_x, std::span<const int> val_y, const FitOptions& o,
                     const FitCallback& on_epoch, const FitState* resume) {
  check_set(train_x, train_y, net.n_in, net.n, "training set");
  check_set(val_x, val_y, net.n_in, net.n, "validation set");
  if (o.batch_size < 1) throw InputError("batch_size", "must be >= 1");
  FitState st = resume ? *resume : FitState{};
  st.interrupted = false;
  const std::size_t n = train_y.size();
  const std::size_t n_batches = n / static_cast<std::size_t>(o.batch_size);
  if (n_batches == 0)
    throw InputError("batch_size", fmt::format("{} is larger than the {} training samples", o.batch_size, n));
  for (int epoch = st.next_epoch; epoch < o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    EpochStats es;
    es.epoch = epoch;
    es.lr = o.lr;
    es.mismatch_redrawn = dynamic_mismatch(net, epoch, o);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng shuffle = stream(o.seed, epoch, kShuffle);
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[shuffle.below(i)]);
    ProgressBar bar(fmt::format("epoch {}/{}", epoch + 1, o.epochs), n_batches, o.progress);
    double loss_sum = 0.0;
    std::size_t hits = 0;
    for (std::size_t b = 0; b < n_batches; ++b) {
      if (o.stop && *o.stop) {
        st.interrupted = true;
        st.next_epoch = epoch;
        return st;
      }
      const std::span<const std::size_t> batch(order.data() + b * o.batch_size, static_cast<std::size_t>(o.batch_size));
      if (o.float64) {
        const auto r = train_batch<double>(net, st.adam, train_x, train_y, batch, epoch, o);
        loss_sum += r.loss;
        hits += r.hits;
      } else {
        const auto r = train_batch<float>(net, st.adam, train_x, train_y, batch, epoch, o);
        loss_sum += r.loss;
        hits += r.hits;
      }
      bar.update(b + 1, fmt::format("loss {:.4f}", loss_sum / static_cast<double>(b + 1)));
    }
    const std::size_t seen = n_batches * static_cast<std::size_t>(o.batch_size);
    es.loss = loss_sum / static_cast<double>(n_batches);
    es.train_acc = static_cast<double>(hits) / static_cast<double>(seen);
    es.val_acc = o.float64 ? validation_accuracy<double>(net, val_x, val_y, o.threads)
                           : validation_accuracy<float>(net, val_x, val_y, o.threads);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    es.samples_per_s = secs > 0 ? static_cast<double>(seen) / secs : 0.0;
    bar.finish(fmt::format("loss {:.4f} val acc {:.3f}", es.loss, es.val_acc));
    st.epochs.push_back(es);
    if (es.val_acc > st.best_val_acc) {
      st.best_val_acc = es.val_acc;
      st.best_epoch = epoch;
      st.best = net;
    }
    st.next_epoch = epoch + 1;
    if (on_epoch) on_epoch(st, net);
  }
  return st;
}

template std::vector<int> predict_classes<float>(const DynapKernel<float>&, const FloatArray&, int);
template std::vector<int> predict_classes<double>(const DynapKernel<double>&, const FloatArray&, int);
template BatchResult<float> batch_gradient<float>(const DynapKernel<float>&, const FloatArray&, std::span<const int>,
                                                  std::span<const std::size_t>, int, SpikeModel);
template BatchResult<double> batch_gradient<double>(const DynapKernel<double>&, const FloatArray&,
                                                    std::span<const int>, std::span<const std::size_t>, int,
                                                    SpikeModel);

}  // namespace spikeline::hw::dynapse2
