// Adam against a double-precision transcription of torch.optim.Adam's update (PyTorch 1.13):
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// The implementation runs in float32 like torch; over 5 steps the two agree to float32 rounding
// of values ~1 (1e-6).
#include <gtest/gtest.h>

#include <cmath>

#include "spikeline/train/optim.hpp"

namespace spikeline::train {
namespace {

TEST(Adam, MatchesTorchUpdateRule) {
  for (double wd : {0.0, 0.01}) {
    std::vector<float> w{0.5f, -1.0f, 2.0f, 0.0f};
    std::vector<double> ref(w.begin(), w.end()), m(4, 0), v(4, 0);
    std::vector<snn::ParamRef> params{{"w", {4}, &w}};
    AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = wd;
    Adam adam(o);
    for (int t = 1; t <= 5; ++t) {
      std::vector<std::vector<float>> g{{0.1f * t, -0.3f, 1e-4f, 0.0f}};
      adam.step(params, g);
      for (int i = 0; i < 4; ++i) {
        const double gi = g[0][i] + wd * ref[i];
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(0.999, t)) + 1e-8;
        ref[i] -= o.lr / (1 - std::pow(0.9, t)) * m[i] / denom;
      }
      for (int i = 0; i < 4; ++i) EXPECT_NEAR(w[i], ref[i], 1e-6) << "step " << t << " i " << i;
    }
    EXPECT_EQ(adam.steps(), 5);
  }
}

TEST(ExponentialLr, DecaysPerEpoch) {
  EXPECT_DOUBLE_EQ(exponential_lr(1e-3, 0.5, 0), 1e-3);
  EXPECT_DOUBLE_EQ(exponential_lr(1e-3, 0.5, 3), 1.25e-4);
}

}  // namespace
}  // namespace spikeline::train
