// Google Benchmark targets of the task-definition stage:
//  - DTW pairs/s on 40x6 series (the thesis's windows), rolling-row kernel against its full-matrix
//    reference twin in the same process, unconstrained and with a Sakoe-Chiba window of 4;
//  - the binned KDE on 1 M values onto 1000 grid points (bandwidth 0.5), values/s.
// The full 18-class KLD matrix is timed through the CLI (docs/tasks.md, "Speed").
#include <benchmark/benchmark.h>

#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/tasks/dtw.hpp"
#include "spikeline/tasks/kde.hpp"

namespace {

using namespace spikeline;

std::vector<float> series(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal() * 4.0);
  return v;
}

constexpr std::size_t kT = 40, kD = 6, kPool = 64;

void BM_Dtw(benchmark::State& state, bool reference, int window) {
  const auto pool = series(kPool * kT * kD, 1);
  tasks::DtwScratch scratch;
  const tasks::DtwOptions o{window};
  std::size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    const std::span<const float> a(pool.data() + (i % kPool) * kT * kD, kT * kD);
    const std::span<const float> b(pool.data() + ((i * 7 + 3) % kPool) * kT * kD, kT * kD);
    sink += reference ? tasks::dtw_distance_reference(a, kT, b, kT, kD, o)
                      : tasks::dtw_distance(a, kT, b, kT, kD, o, scratch);
    ++i;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_Dtw, rolling_rows, false, 0);
BENCHMARK_CAPTURE(BM_Dtw, reference_full_matrix, true, 0);
BENCHMARK_CAPTURE(BM_Dtw, rolling_rows_window4, false, 4);
BENCHMARK_CAPTURE(BM_Dtw, reference_window4, true, 4);

void BM_KdeBinned(benchmark::State& state) {
  const auto values = series(1'000'000, 2);
  const tasks::Grid grid;
  tasks::KdeOptions o;
  o.tolerance = static_cast<double>(state.range(0)) * 1e-6;
  for (auto _ : state) benchmark::DoNotOptimize(tasks::kde_on_grid(values, grid, o));
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * values.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KdeBinned)->Arg(10)->Arg(1)->Unit(benchmark::kMillisecond);  // tolerance 1e-5 (default), 1e-6

}  // namespace

BENCHMARK_MAIN();
