// Google Benchmark: speed of the bit-accurate Xylo simulator (XyloSimulator, sparse synapse lists,
// int16 state) against its plain reference twin (reference_simulate, dense loops written from the
// text of xylo.md §6) in the same binary, in neuron-steps per second on one core
// (items/s = steps x (hidden + readout neurons)).
//  - golden: ff_deep_deep_res at the size of the golden vectors (3 -> 4 -> res -> res -> 2);
//  - thesis: ff_deep_deep_res as deployed by the thesis (12 -> 256 x 3 -> 2, fan-out pruned to 63).
// Inputs: Bernoulli(0.37) events per channel and step, like the phase-coded WISDM data. `run` is
// the fast path used for data sets (no recordings); `evolve` records every state.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/quantize.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/train/prune.hpp"

namespace {

using namespace spikeline;
namespace xylo = spikeline::hw::xylo;

struct Workload {
  xylo::IntSpec spec;
  std::vector<std::uint8_t> input;
  int steps = 0;
};

Workload make_workload(int n_in, int hidden, int n_out, int steps) {
  Rng rng(5);
  snn::NeuronParams np;
  np.tau_mem = 0.081f;  // the thesis's taus at dt 0.05 s: dashes 1
  np.tau_syn = 0.077f;
  np.dt = 0.05f;
  snn::Network net = snn::make_architecture("ff_deep_deep_res", n_in, hidden, n_out, np, rng);
  train::adapt_network(net, 63);
  Workload w;
  w.spec = xylo::quantize(xylo::map_network(net).spec);
  xylo::fix_zero_synaptic_dash(w.spec, xylo::DashZeroFix::PerNeuron);
  w.steps = steps;
  w.input.resize(std::size_t(steps) * n_in);
  for (auto& x : w.input) x = rng.uniform() < 0.37 ? 1 : 0;
  return w;
}

const Workload& golden() {
  static const Workload w = make_workload(3, 4, 2, 400);
  return w;
}
const Workload& thesis() {
  static const Workload w = make_workload(12, 256, 2, 40);
  return w;
}

void report(benchmark::State& state, const Workload& w, std::uint64_t hidden_events) {
  const auto neurons = std::int64_t(w.spec.n_hid + w.spec.n_out);
  state.SetItemsProcessed(state.iterations() * w.steps * neurons);
  state.counters["hidden_activity"] = static_cast<double>(hidden_events) / (double(w.steps) * w.spec.n_hid);
}

void BM_XyloRun(benchmark::State& state, const Workload& (*make)()) {
  const Workload& w = make();
  xylo::XyloSimulator sim(xylo::CoreConfig::from_spec(w.spec));
  xylo::RunTally tally;
  for (auto _ : state) {
    sim.reset_state();
    tally.reset(w.spec.n_out);
    sim.run(w.input, w.steps, tally);
    benchmark::DoNotOptimize(tally.output_events.data());
  }
  report(state, w, tally.hidden_active);
}

void BM_XyloEvolve(benchmark::State& state, const Workload& (*make)()) {
  const Workload& w = make();
  xylo::XyloSimulator sim(xylo::CoreConfig::from_spec(w.spec));
  std::uint64_t active = 0;
  for (auto _ : state) {
    sim.reset_state();
    const auto r = sim.evolve(w.input, w.steps);
    benchmark::DoNotOptimize(r.output.data());
    active = 0;
    for (auto s : r.spikes) active += s != 0;
  }
  report(state, w, active);
}

void BM_XyloReference(benchmark::State& state, const Workload& (*make)()) {
  const Workload& w = make();
  std::uint64_t active = 0;
  for (auto _ : state) {
    const auto r = xylo::reference_simulate(w.spec, w.input, w.steps);
    benchmark::DoNotOptimize(r.output.data());
    active = 0;
    for (auto s : r.spikes) active += s != 0;
  }
  report(state, w, active);
}

BENCHMARK_CAPTURE(BM_XyloRun, golden, golden)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_XyloEvolve, golden, golden)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_XyloReference, golden, golden)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_XyloRun, thesis, thesis)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_XyloEvolve, thesis, thesis)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_XyloReference, thesis, thesis)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
