// Google Benchmark targets of the engine. The peer comparison (plain PyTorch on the identical
// workload) is bench/compare_peers.sh; here the baselines run in the same process:
//  - events vs dense: the event-driven product against the dense reference kernel on the same
//    spike raster (the speed-up sparsity buys);
//  - masked vs dense input gradient at window densities of the reference workload;
//  - train/infer steps of the reference workload (ff_deep_deep_res and rec_simple, 12 -> 256 -> 7,
//    T = 40, Bernoulli(0.1) inputs), reported as samples/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/kernels.hpp"
#include "spikeline/train/optim.hpp"
#include "spikeline/train/trainer.hpp"

namespace {

using namespace spikeline;

std::vector<float> spikes(std::size_t n, double p, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform() < p ? 1.0f : 0.0f;
  return v;
}

void BM_LinearForward(benchmark::State& state, bool events) {
  const int rows = 40 * 32, n = 256;
  const auto x = spikes(static_cast<std::size_t>(rows) * n, 0.1, 1);
  const auto w = spikes(static_cast<std::size_t>(n) * n, 0.5, 2);
  std::vector<float> out(static_cast<std::size_t>(rows) * n);
  snn::kernels::Csr ev;
  for (auto _ : state) {
    if (events) {
      snn::kernels::to_csr(x.data(), rows, n, ev);
      snn::kernels::events_matmul(ev, w.data(), n, nullptr, out.data());
    } else {
      snn::kernels::dense_matmul_ref(x.data(), rows, n, w.data(), n, nullptr, out.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK_CAPTURE(BM_LinearForward, events, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_LinearForward, dense_reference, false)->Unit(benchmark::kMicrosecond);

// Input gradient of a 256 -> 256 Linear at a surrogate-window density like the reference
// workload's (~25 % for one LIF layer, ~40 % for the union of two): masked dot products against
// the dense transposed product the engine switches to above kDenseMaskDensity.
void BM_InputGrad(benchmark::State& state, bool masked) {
  const int rows = 40 * 32, n = 256;
  const double density = state.range(0) / 100.0;
  const auto w = spikes(static_cast<std::size_t>(n) * n, 0.5, 2);
  const auto dy = spikes(static_cast<std::size_t>(rows) * n, 0.5, 4);
  const auto pattern = spikes(static_cast<std::size_t>(rows) * n, density, 5);
  snn::kernels::BitMask mask;
  mask.resize(rows, n);
  std::fill(mask.bits.begin(), mask.bits.end(), 0);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i)
      if (pattern[static_cast<std::size_t>(r) * n + i] != 0.0f) mask.row(r)[i >> 6] |= std::uint64_t{1} << (i & 63);
  std::vector<float> dx(static_cast<std::size_t>(rows) * n), wt;
  std::vector<std::int32_t> scratch;
  for (auto _ : state) {
    if (masked) {
      snn::kernels::masked_input_grad(mask, dy.data(), w.data(), n, n, dx.data(), scratch);
    } else {
      snn::kernels::transpose_weights(w.data(), n, n, wt);
      snn::kernels::dense_input_grad(dy.data(), rows, wt.data(), n, n, dx.data(), true);
    }
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK_CAPTURE(BM_InputGrad, masked, true)->Arg(25)->Arg(40)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_InputGrad, dense, false)->Arg(25)->Unit(benchmark::kMicrosecond);

struct Workload {
  snn::Network net;
  FloatArray x;
  std::vector<int> y;
};

Workload make_workload(const std::string& arch, int batch) {
  Workload w;
  snn::NeuronParams np;
  np.tau_mem = 0.081f;
  np.tau_syn = 0.077f;
  np.dt = 0.05f;
  Rng rng(1);
  w.net = snn::make_architecture(arch, 12, 256, 7, np, rng);
  w.x = FloatArray(Shape{static_cast<std::size_t>(batch), 40, 12});
  const auto s = spikes(w.x.size(), 0.1, 3);
  w.x.data = s;
  w.y.resize(batch);
  for (auto& v : w.y) v = static_cast<int>(rng.below(7));
  return w;
}

void BM_Train(benchmark::State& state, const std::string& arch) {
  Workload w = make_workload(arch, static_cast<int>(state.range(0)));
  snn::Engine engine(w.net, {static_cast<int>(state.range(1)), 32, false, 0});
  auto params = snn::trainable_parameters(w.net);
  train::Adam adam;
  std::vector<std::vector<float>> grads;
  for (auto _ : state) {
    engine.loss_and_grad_ce(w.x, w.y, grads);
    adam.step(params, grads);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_Infer(benchmark::State& state, const std::string& arch) {
  Workload w = make_workload(arch, static_cast<int>(state.range(0)));
  snn::Engine engine(w.net, {static_cast<int>(state.range(1)), 32, false, 0});
  for (auto _ : state) benchmark::DoNotOptimize(train::predict(engine, w.x));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK_CAPTURE(BM_Train, ff_deep_deep_res, std::string("ff_deep_deep_res"))
    ->Args({128, 2})->Args({1024, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Train, rec_simple, std::string("rec_simple"))
    ->Args({128, 2})->Args({1024, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Infer, ff_deep_deep_res, std::string("ff_deep_deep_res"))
    ->Args({128, 2})->Args({1024, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Infer, rec_simple, std::string("rec_simple"))
    ->Args({128, 2})->Args({1024, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
