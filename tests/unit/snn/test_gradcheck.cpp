// Finite-difference checks of the BPTT gradients on random small networks of every layer type.
// The spike function is the smooth Softplus relaxation, whose derivative is exact, so the whole
// backward pass (reset by subtraction, both decays, recurrence, residual sums, biases, the loss)
// must agree with central differences of the forward pass.
// Tolerance: central differences with step h in float32 have rounding error ~ eps32 * |L| / h
// (~1e-4 for h = 1e-3, |L| ~ 1) plus truncation O(h^2); we accept |fd - g| <= 2e-3 + 2e-2 |g|.
#include <gtest/gtest.h>

#include <cmath>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::snn {
namespace {

LIF make_lif(int n, bool rec, Rng& rng) {
  LIF l;
  l.n = n;
  l.tau_mem = {0.05f};
  l.tau_syn = std::vector<float>(n);
  for (auto& t : l.tau_syn) t = rng.uniform(0.02f, 0.1f);  // per-neuron parameters too
  l.threshold = {1.0f};
  l.bias = {0.1f};
  l.dt = 0.02f;
  l.learning_window = 0.5f;
  l.spike_fn = SpikeFn::Softplus;
  l.has_rec = rec;
  if (rec) {
    l.w_rec.resize(static_cast<std::size_t>(n) * n);
    for (auto& w : l.w_rec) w = rng.uniform(-0.5f, 0.5f);
  }
  return l;
}
Linear make_linear(int in, int out, bool bias, Rng& rng) {
  Linear l;
  l.n_in = in;
  l.n_out = out;
  l.weight.resize(static_cast<std::size_t>(in) * out);
  for (auto& w : l.weight) w = rng.uniform(-1.0f, 1.0f);
  if (bias) {
    l.bias.resize(out);
    for (auto& b : l.bias) b = rng.uniform(-0.5f, 0.5f);
  }
  return l;
}

Network network_of_kind(const std::string& kind, Rng& rng) {
  Network net;
  const int in = 3, h = 4, out = 2;
  net.layers.push_back({"0_LinearTorch", make_linear(in, h, kind == "bias", rng)});
  net.layers.push_back({"1_LIFTorch", make_lif(h, kind == "recurrent", rng)});
  if (kind == "residual") {
    Residual r;
    r.body.push_back({"0_LinearTorch", make_linear(h, h, false, rng)});
    r.body.push_back({"1_LIFTorch", make_lif(h, false, rng)});
    net.layers.push_back({"2_TorchResidual", std::move(r)});
  }
  net.layers.push_back({std::to_string(net.layers.size()) + "_LinearTorch", make_linear(h, out, false, rng)});
  net.layers.push_back({std::to_string(net.layers.size()) + "_LIFTorch", make_lif(out, false, rng)});
  return net;
}

class GradCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(GradCheck, BackwardMatchesFiniteDifferences) {
  Rng rng(42);
  Network net = network_of_kind(GetParam(), rng);
  FloatArray x(Shape{3, 12, 3});
  for (auto& v : x.data) v = rng.uniform() < 0.3 ? static_cast<float>(1 + rng.below(2)) : 0.0f;
  const std::vector<int> labels{0, 1, 1};
  FloatArray target(Shape{3, 12, 2});
  for (auto& v : target.data) v = rng.uniform(0.0f, 1.0f);

  for (bool mse : {false, true}) {
    Engine engine(net, {2, 2, false, 0});
    auto loss_of = [&] {
      std::vector<std::vector<float>> g;
      return mse ? engine.loss_and_grad_mse(x, target, g).loss : engine.loss_and_grad_ce(x, labels, g).loss;
    };
    std::vector<std::vector<float>> grads;
    if (mse) engine.loss_and_grad_mse(x, target, grads); else engine.loss_and_grad_ce(x, labels, grads);
    auto params = trainable_parameters(net);
    ASSERT_EQ(params.size(), grads.size());
    const float h = 1e-3f;
    for (std::size_t p = 0; p < params.size(); ++p) {
      auto& values = *params[p].values;
      for (std::size_t i = 0; i < values.size(); ++i) {
        const float saved = values[i];
        values[i] = saved + h;
        const double up = loss_of();
        values[i] = saved - h;
        const double down = loss_of();
        values[i] = saved;
        const double fd = (up - down) / (2.0 * h);
        EXPECT_NEAR(grads[p][i], fd, 2e-3 + 2e-2 * std::fabs(fd))
            << (mse ? "mse " : "ce ") << params[p].path << "[" << i << "]";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LayerKinds, GradCheck,
                         ::testing::Values("feedforward", "bias", "recurrent", "residual"));

TEST(GradCheck, CarriedStateFeedsRecurrentWeightGradient) {
  // With carry-over, the first step's recurrent input comes from the carried spikes: W_rec must
  // receive that gradient too (the state itself is detached).
  Rng rng(3);
  Network net = network_of_kind("recurrent", rng);
  FloatArray x(Shape{2, 8, 3});
  for (auto& v : x.data) v = rng.uniform() < 0.5 ? 1.0f : 0.0f;
  const std::vector<int> labels{1, 0};
  Engine engine(net, {1, 4, true, 0});
  engine.forward(x);  // establishes the carried state
  const auto state = engine.state();
  std::vector<std::vector<float>> grads;
  Engine probe(net, {1, 4, true, 0});
  probe.forward(x);
  probe.loss_and_grad_ce(x, labels, grads);
  auto params = trainable_parameters(net);
  const float h = 1e-3f;
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto& values = *params[p].values;
    for (std::size_t i = 0; i < values.size(); i += 3) {
      auto loss_at = [&](float v) {
        const float saved = values[i];
        values[i] = v;
        Engine e(net, {1, 4, true, 0});
        // The carried state is the one computed with the original weights.
        const float keep = values[i];
        values[i] = saved;
        e.forward(x);
        values[i] = keep;
        std::vector<std::vector<float>> g;
        const double l = e.loss_and_grad_ce(x, labels, g).loss;
        values[i] = saved;
        return l;
      };
      const double fd = (loss_at(values[i] + h) - loss_at(values[i] - h)) / (2.0 * h);
      EXPECT_NEAR(grads[p][i], fd, 2e-3 + 2e-2 * std::fabs(fd)) << params[p].path << "[" << i << "]";
    }
  }
  EXPECT_FALSE(state.empty());
}

}  // namespace
}  // namespace spikeline::snn
