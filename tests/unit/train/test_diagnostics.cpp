// Training diagnostics: the prior cross-entropy by hand, and the stuck-at-prior rule on loss curves
// taken from WISDM runs (docs/results.md: 3CW stuck, 4CW and 7CW learning slowly).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spikeline/train/diagnostics.hpp"

namespace spikeline::train {
namespace {

std::vector<EpochReport> curve(const std::vector<double>& losses) {
  std::vector<EpochReport> e;
  for (std::size_t i = 0; i < losses.size(); ++i) e.push_back({static_cast<int>(i), losses[i]});
  return e;
}

TEST(PriorCrossEntropy, IsTheEntropyOfTheClassFrequencies) {
  const std::vector<int> balanced = {0, 1, 2, 0, 1, 2};
  EXPECT_NEAR(prior_cross_entropy(balanced, 3), std::log(3.0), 1e-15);
  // 3 of class 0, 1 of class 1, none of class 2: -(3/4 ln 3/4 + 1/4 ln 1/4).
  const std::vector<int> skewed = {0, 0, 0, 1};
  EXPECT_NEAR(prior_cross_entropy(skewed, 3), -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)), 1e-15);
  EXPECT_EQ(prior_cross_entropy(std::vector<int>{}, 3), 0.0);
  EXPECT_EQ(prior_cross_entropy(std::vector<int>{1, 1}, 2), 0.0);  // one class: nothing to learn
}

TEST(StuckAtPrior, FiresOnAFlatCurveAtThePriorOnly) {
  const double ln3 = std::log(3.0), ln4 = std::log(4.0), ln7 = std::log(7.0);
  // WISDM 3CW, N 32, batch 1024 (`spikeline train` of the 3CW run's train_config.json): in the
  // band (ln 3 +- 1 %) from epoch 4 on, so the 13th epoch is the 10th in it.
  const std::vector<double> stuck = {7.1417, 1.4944, 1.1250, 1.1077, 1.1062, 1.1052, 1.1052,
                                     1.1050, 1.1042, 1.1040, 1.1033, 1.1025, 1.1024, 1.1023};
  EXPECT_FALSE(stuck_at_prior(curve({stuck.begin(), stuck.begin() + 12}), ln3));
  EXPECT_TRUE(stuck_at_prior(curve({stuck.begin(), stuck.begin() + 13}), ln3));
  EXPECT_TRUE(stuck_at_prior(curve(stuck), ln3));
  // WISDM 4CW and 7CW (N 64, the first 14 epochs): pass through the band and learn.
  const auto w4 = curve({9.5223, 2.3736, 1.4428, 1.3892, 1.3709, 1.3597, 1.3510, 1.3465, 1.3433, 1.3429, 1.3460,
                         1.3415, 1.3333, 1.3327});
  EXPECT_FALSE(stuck_at_prior(w4, ln4));
  const auto w7 = curve({3.8810, 1.9474, 1.9394, 1.9310, 1.9008, 1.7501, 1.6797, 1.6331, 1.5931, 1.5729, 1.5555,
                         1.5429, 1.5285, 1.5235});
  EXPECT_FALSE(stuck_at_prior(w7, ln7));
  // A curve that has learned (below the prior) is not stuck, nor one far above it.
  EXPECT_FALSE(stuck_at_prior(curve(std::vector<double>(12, 0.3)), ln3));
  EXPECT_FALSE(stuck_at_prior(curve(std::vector<double>(12, 2.5)), ln3));
  // NaN losses are not "at the prior".
  EXPECT_FALSE(stuck_at_prior(curve(std::vector<double>(12, std::nan(""))), ln3));
}

}  // namespace
}  // namespace spikeline::train
