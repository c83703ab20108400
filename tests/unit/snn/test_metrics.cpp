// NeuroBench-style complexity metrics: counts checked against hand-computed values.
#include <gtest/gtest.h>

#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/metrics.hpp"

namespace spikeline::snn {
namespace {

Network two_layer() {
  Network net;
  Linear l1;
  l1.n_in = 2;
  l1.n_out = 2;
  l1.weight = {1.0f, 0.0f,   // input 0 -> one non-zero weight
               0.5f, 0.5f};  // input 1 -> two
  LIF lif;
  lif.n = 2;
  lif.dt = 1e-3f;
  lif.tau_mem = {0.02f};
  lif.tau_syn = {0.02f};
  lif.threshold = {0.1f};
  Linear l2;
  l2.n_in = 2;
  l2.n_out = 3;
  l2.weight = {0.0f, 0.0f, 1.0f,   // neuron 0 -> 1
               1.0f, 1.0f, 1.0f};  // neuron 1 -> 3
  net.layers = {{"0_LinearTorch", l1}, {"1_LIFTorch", lif}, {"2_LinearTorch", l2}};
  return net;
}

TEST(Metrics, StaticFootprintAndConnectionSparsity) {
  const auto m = static_metrics(two_layer());
  // 4 + 6 weights, 4 LIF parameters of size 1.
  EXPECT_EQ(m.parameters, 14u);
  EXPECT_EQ(m.footprint_bytes, 56u);
  EXPECT_EQ(m.connections, 10u);
  EXPECT_EQ(m.zero_connections, 3u);
  EXPECT_DOUBLE_EQ(m.connection_sparsity, 0.3);
}

TEST(Metrics, SynapticOperationsSplitSpikesFromCounts) {
  const Network net = two_layer();
  // One sample, 3 steps: [1,0], [2,1], [0,0].
  FloatArray x(Shape{1, 3, 2}, std::vector<float>{1, 0, 2, 1, 0, 0});
  const auto m = measure_complexity(net, x, 1, 1);
  // Layer 1 by hand: t0 input0 = 1 (spike) -> 1 AC; t1 input0 = 2 (count) -> 1 MAC, input1 = 1 -> 2 ACs.
  // Layer 2 from the recorded spikes of the LIF layer: fan-outs 1 and 3.
  Engine engine(net, {1, 32, false, 0});
  std::vector<NamedArray> rec;
  engine.forward(x, &rec);
  const auto& s = rec.at(2).values;  // "1_LIFTorch.spikes"
  ASSERT_EQ(rec.at(2).name, "1_LIFTorch.spikes");
  double acs2 = 0, macs2 = 0, active = 0;
  const double fo[2] = {1, 3};
  for (std::size_t t = 0; t < 3; ++t)
    for (std::size_t i = 0; i < 2; ++i) {
      const float v = s.data[t * 2 + i];
      if (v == 0) continue;
      ++active;
      (v == 1 ? acs2 : macs2) += fo[i];
    }
  ASSERT_GT(active, 0) << "the test needs the LIF layer to spike";
  EXPECT_DOUBLE_EQ(m.dense_ops, 3 * 4 + 3 * 6);
  EXPECT_DOUBLE_EQ(m.effective_acs, 3 + acs2);
  EXPECT_DOUBLE_EQ(m.effective_macs, 1 + macs2);
  EXPECT_DOUBLE_EQ(m.activation_sparsity, 1.0 - active / 6.0);
  EXPECT_EQ(m.samples, 1u);
}

TEST(Metrics, ChunkingDoesNotChangeTheFigures) {
  NeuronParams neuron;
  neuron.tau_mem = neuron.tau_syn = 0.05f;
  neuron.dt = 0.01f;
  neuron.threshold = 0.3f;
  Rng init(7);
  const Network net = make_architecture("rec_deep", 4, 16, 3, neuron, init);
  FloatArray x(Shape{10, 8, 4});
  Rng rng(3);
  for (float& v : x.data) v = rng.uniform() < 0.3 ? static_cast<float>(1 + rng.below(2)) : 0.0f;
  const auto a = measure_complexity(net, x, 1, 3);
  const auto b = measure_complexity(net, x, 2, 128);
  EXPECT_DOUBLE_EQ(a.effective_acs, b.effective_acs);
  EXPECT_DOUBLE_EQ(a.effective_macs, b.effective_macs);
  EXPECT_DOUBLE_EQ(a.activation_sparsity, b.activation_sparsity);
  EXPECT_GT(a.effective_acs + a.effective_macs, 0);
  EXPECT_LT(a.effective_acs + a.effective_macs, a.dense_ops);
}

}  // namespace
}  // namespace spikeline::snn
