// KDE: the binned evaluation against direct summation within the documented bound; bandwidth
// rules against scipy's formulas. KL: scipy.stats.entropy semantics against hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/tasks/kde.hpp"
#include "spikeline/tasks/kl.hpp"

using namespace spikeline;
using namespace spikeline::tasks;

namespace {

// A two-bump mixture with a few far outliers, in float as the windows are.
std::vector<float> mixture(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.uniform();
    v[i] = static_cast<float>(u < 0.6 ? rng.normal() * 1.5 - 3 : u < 0.999 ? rng.normal() * 0.7 + 6 : rng.normal() * 5 + 30);
  }
  return v;
}

}  // namespace

TEST(Kde, FastWithinBoundOfDirectSummation) {
  const auto values = mixture(10000, 3);
  const Grid grid;  // 1000 points on [-20, 20], as the thesis
  for (double h : {0.5, 0.2, 2.0}) {
    for (double tol : {1e-5, 1e-3}) {
      KdeOptions o;
      o.bandwidth = h;
      o.tolerance = tol;
      const auto fast = kde_on_grid(values, grid, o);
      const auto direct = kde_direct(values, grid, h);
      const double bound = kde_error_bound(h, grid, tol);
      EXPECT_LE(bound, tol / (h * std::sqrt(2 * M_PI)) * (1 + 1e-12));  // the bound honours the tolerance
      double worst = 0;
      for (std::size_t i = 0; i < grid.points; ++i) worst = std::max(worst, std::abs(fast[i] - direct[i]));
      EXPECT_LE(worst, bound) << "h " << h << " tol " << tol;
      EXPECT_GT(worst, 0.0);  // it is an approximation, and the test would notice a no-op
    }
  }
}

TEST(Kde, TailsKeepRelativeAccuracyAndExactZeros) {
  // One cluster near -19: at the right end (39 units = 78 h away) direct summation underflows to 0,
  // in the middle it is tiny but positive; the fast path must agree on both (KL turns 0 into inf).
  std::vector<float> values;
  Rng rng(5);
  for (int i = 0; i < 5000; ++i) values.push_back(static_cast<float>(-19 + 0.3 * rng.normal()));
  const Grid grid;
  const auto fast = kde_on_grid(values, grid, {});
  const auto direct = kde_direct(values, grid, 0.5);
  const double top = *std::max_element(values.begin(), values.end());
  std::size_t zeros = 0, tiny = 0;
  for (std::size_t i = 0; i < grid.points; ++i) {
    if (direct[i] == 0.0) {
      ++zeros;
      if (grid.at(i) - top > 38.6 * 0.5 + 0.1) EXPECT_EQ(fast[i], 0.0) << "at " << grid.at(i);
    } else if (direct[i] < 1e-100 && direct[i] > 1e-300) {  // subnormals have no relative precision
      ++tiny;
      EXPECT_NEAR(fast[i] / direct[i], 1.0, 0.05) << "at " << grid.at(i);
    }
  }
  EXPECT_GT(zeros, 0u);
  EXPECT_GT(tiny, 0u);
}

TEST(Kde, IntegratesToOneInsideTheGrid) {
  const auto values = mixture(50000, 9);
  std::vector<float> inside;
  for (float v : values)
    if (std::abs(v) < 15) inside.push_back(v);
  const Grid grid;
  const auto d = kde_on_grid(inside, grid, {});
  double integral = 0;
  for (double x : d) integral += x * grid.step();
  EXPECT_NEAR(integral, 1.0, 1e-4);
}

TEST(Kde, BandwidthRulesFollowScipy) {
  const std::vector<float> v{1, 2, 4, 7, 11};
  // mean 5, sample variance (16 + 9 + 1 + 4 + 36) / 4 = 16.5
  const double sd = std::sqrt(16.5), n = 5;
  EXPECT_DOUBLE_EQ(kde_bandwidth(v, {BandwidthRule::fixed, 0.5}), 0.5);
  EXPECT_NEAR(kde_bandwidth(v, {BandwidthRule::factor, 0.5}), 0.5 * sd, 1e-12);
  EXPECT_NEAR(kde_bandwidth(v, {BandwidthRule::scott, 0}), std::pow(n, -0.2) * sd, 1e-12);
  EXPECT_NEAR(kde_bandwidth(v, {BandwidthRule::silverman, 0}), std::pow(n * 3 / 4, -0.2) * sd, 1e-12);
  EXPECT_EQ(bandwidth_rule_from_name("scott"), BandwidthRule::scott);
  EXPECT_THROW(bandwidth_rule_from_name("sheather"), InputError);
}

TEST(Kde, ScottOnSmallDataStillWithinBound) {
  const auto values = mixture(3000, 4);
  const KdeOptions o{BandwidthRule::scott, 0, 1e-5};
  const double h = kde_bandwidth(values, o);
  const Grid grid{-10, 10, 400};
  const auto fast = kde_on_grid(values, grid, o), direct = kde_direct(values, grid, h);
  for (std::size_t i = 0; i < grid.points; ++i) EXPECT_NEAR(fast[i], direct[i], kde_error_bound(h, grid, 1e-5));
}

TEST(Kde, BadInputsAreInputErrorsNamingTheData) {
  const std::vector<float> constant(10, 1.0f), empty;
  try {
    kde_on_grid(constant, {}, {BandwidthRule::scott, 0}, "class walking, dim 3");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("class walking, dim 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kde_on_grid(empty, {}, {}), InputError);
  EXPECT_THROW(kde_on_grid(constant, {0, 0, 10}, {}), InputError);
  const std::vector<float> nan{1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(kde_on_grid(nan, {}, {}), InputError);
}

TEST(Kl, HandComputedValues) {
  const std::vector<double> p{0.5, 0.5}, q{0.25, 0.75};
  const double expected = 0.5 * std::log(2.0) + 0.5 * std::log(0.5 / 0.75);
  EXPECT_NEAR(kl_divergence(p, q), expected, 1e-15);
  // scipy normalises both arguments first.
  const std::vector<double> p2{2, 2}, q2{1, 3};
  EXPECT_NEAR(kl_divergence(p2, q2), expected, 1e-15);
  EXPECT_NEAR(symmetric_kl(p, q), expected + 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-15);
  EXPECT_EQ(kl_divergence(p, p), 0.0);
}

TEST(Kl, ZerosFollowScipyEntropy) {
  // p = 0 terms contribute 0, whatever q is.
  const std::vector<double> p{0, 1}, q{0.5, 0.5};
  EXPECT_NEAR(kl_divergence(p, q), std::log(2.0), 1e-15);
  const std::vector<double> p0{0, 1, 0}, q0{0, 1, 0};
  EXPECT_EQ(kl_divergence(p0, q0), 0.0);
  // p > 0 where q = 0: +inf.
  EXPECT_EQ(kl_divergence(q, p), std::numeric_limits<double>::infinity());
  EXPECT_EQ(symmetric_kl(p, q), std::numeric_limits<double>::infinity());
}

TEST(Kl, BadInputsAreInputErrors) {
  const std::vector<double> a{1, 2}, b{1, 2, 3}, neg{1, -1}, zero{0, 0};
  EXPECT_THROW(kl_divergence(a, b), InputError);
  EXPECT_THROW(kl_divergence(a, neg), InputError);
  EXPECT_THROW(kl_divergence(zero, a), InputError);
  EXPECT_THROW(kl_divergence(std::vector<double>{}, std::vector<double>{}), InputError);
  try {
    kl_divergence(a, zero, "KL of walking and jogging");
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "KL of walking and jogging");
  }
}
