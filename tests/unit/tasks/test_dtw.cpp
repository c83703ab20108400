// DTW: the rolling-row kernel against its full-matrix reference twin over random sizes, dims and
// windows, plus hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/tasks/dtw.hpp"

using namespace spikeline;
using namespace spikeline::tasks;

namespace {

std::vector<float> random_series(Rng& rng, std::size_t n, std::size_t dims) {
  std::vector<float> v(n * dims);
  for (auto& x : v) x = static_cast<float>(rng.normal() * 3.0);
  return v;
}

}  // namespace

TEST(Dtw, HandComputedOneDim) {
  // cost rows: a0 = 0 -> (0, 4); a1 = 1 -> (1, 1); a2 = 2 -> (4, 0); the best path costs 0 + 1 + 0.
  const std::vector<float> a{0, 1, 2}, b{0, 2};
  EXPECT_DOUBLE_EQ(dtw_distance(a, 3, b, 2, 1), 1.0);
  EXPECT_DOUBLE_EQ(dtw_distance_reference(a, 3, b, 2, 1), 1.0);
}

TEST(Dtw, HandComputedTwoDimsWarpsToZero) {
  // b repeats a's first sample: warping absorbs it, squared-Euclidean costs are all 0 on the path.
  const std::vector<float> a{0, 0, 1, 1}, b{0, 0, 0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(dtw_distance(a, 2, b, 3, 2), 0.0);
  // Without warping room the Euclidean distance remains: (0,0)-(0,0), (1,1)-(0,0) -> sqrt(2).
  const std::vector<float> c{0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(dtw_distance(a, 2, c, 2, 2), std::sqrt(2.0));
}

TEST(Dtw, SakoeChibaWindow) {
  const std::vector<float> a{0, 1, 2, 3}, b{1, 2, 3, 3};
  EXPECT_DOUBLE_EQ(dtw_distance(a, 4, b, 4, 1), 1.0);                 // shift by one: only a0 - b0 costs 1
  EXPECT_DOUBLE_EQ(dtw_distance(a, 4, b, 4, 1, {.window = 1}), std::sqrt(3.0));  // diagonal: 1 + 1 + 1 + 0
  EXPECT_DOUBLE_EQ(dtw_distance(a, 4, b, 4, 1, {.window = 2}), 1.0);  // |i - j| <= 1 holds the shifted path
}

TEST(Dtw, DtaidistanceDocumentationExample) {
  // dtaidistance's README example: dtw.distance(s1, s2) == sqrt(2).
  const std::vector<float> s1{0, 0, 1, 2, 1, 0, 1, 0, 0}, s2{0, 1, 2, 0, 0, 0, 0, 0, 0};
  EXPECT_NEAR(dtw_distance(s1, 9, s2, 9, 1), std::sqrt(2.0), 1e-12);
}

TEST(Dtw, MatchesReferenceOverRandomSizesAndWindows) {
  Rng rng(7);
  DtwScratch scratch;  // reused across pairs of different sizes
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t na = 1 + rng.below(50), nb = 1 + rng.below(50), dims = 1 + rng.below(7);
    const int window = static_cast<int>(rng.below(8));  // 0: none
    const auto a = random_series(rng, na, dims), b = random_series(rng, nb, dims);
    const DtwOptions o{window};
    const double fast = dtw_distance(a, na, b, nb, dims, o, scratch);
    const double ref = dtw_distance_reference(a, na, b, nb, dims, o);
    // Same operations in the same order: equal to the last bit.
    EXPECT_EQ(fast, ref) << "na " << na << " nb " << nb << " dims " << dims << " window " << window;
    // Symmetric in its arguments.
    EXPECT_NEAR(dtw_distance(b, nb, a, na, dims, o, scratch), fast, 1e-9 * (1 + fast));
  }
}

TEST(Dtw, WindowNeverBelowUnconstrainedAndIdentityIsZero) {
  Rng rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t n = 40, dims = 6;
    const auto a = random_series(rng, n, dims), b = random_series(rng, n, dims);
    const double free = dtw_distance(a, n, b, n, dims);
    for (int w : {1, 3, 10}) EXPECT_GE(dtw_distance(a, n, b, n, dims, {w}), free);
    EXPECT_EQ(dtw_distance(a, n, a, n, dims), 0.0);
  }
}

TEST(Dtw, BadSizesAreInputErrors) {
  const std::vector<float> a{0, 1, 2}, b{0, 1};
  EXPECT_THROW(dtw_distance(a, 2, b, 2, 1), InputError);
  EXPECT_THROW(dtw_distance_reference(a, 3, b, 3, 1), InputError);
}
