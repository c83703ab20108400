#pragma once
// One-dimensional Gaussian kernel density estimates evaluated on an even grid.
//
// density(y) = 1 / (n h sqrt(2 pi)) * sum_i exp(-((y - x_i) / h)^2 / 2), in double, h the kernel's
// standard deviation ("bandwidth"). Bandwidth rules follow scipy.stats.gaussian_kde for 1-D data:
// a factor times the sample standard deviation (ddof = 1), the factor being a given scalar,
// Scott's n^(-1/5) or Silverman's (3 n / 4)^(-1/5).
//
// The fast evaluation (kde_on_grid) bins the data linearly onto a fine grid of spacing delta that
// contains the output points, then sums the sampled kernel over the bins. At every output point
//   |fast - direct| <= delta^2 / (8 sqrt(2 pi) h^3)      (linear interpolation of the kernel)
//                    + phi(c) / h                        (kernel cut at c = 38.6 h, phi(c) < 1e-323)
// where delta is chosen as the largest divisor of the output spacing with
// delta <= h sqrt(8 tolerance), i.e. the first term is at most tolerance * (kernel peak 1/(h sqrt(2 pi))).
// c = 38.6 h is where exp underflows to 0 in double, so densities are exactly 0 where direct
// summation gives exactly 0 (up to a band of width delta): scipy's `entropy` turns such zeros into
// +inf, and the fast path keeps that behaviour instead of inventing zeros with a short cutoff.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::tasks {

// n points evenly spaced over [lo, hi] (numpy.linspace with endpoint).
struct Grid {
  double lo = -20.0, hi = 20.0;
  std::size_t points = 1000;
  double step() const { return points > 1 ? (hi - lo) / static_cast<double>(points - 1) : 0.0; }
  double at(std::size_t i) const { return lo + step() * static_cast<double>(i); }
};

enum class BandwidthRule {
  fixed,      // h = value (the thesis: 0.5)
  factor,     // h = value * std (scipy gaussian_kde(bw_method=value))
  scott,      // h = n^(-1/5) * std
  silverman,  // h = (3 n / 4)^(-1/5) * std
};
std::string_view bandwidth_rule_name(BandwidthRule rule);
BandwidthRule bandwidth_rule_from_name(std::string_view name);  // InputError on unknown name

struct KdeOptions {
  BandwidthRule rule = BandwidthRule::fixed;
  double bandwidth = 0.5;    // h for `fixed`, the factor for `factor`; unused otherwise
  double tolerance = 1e-5;   // fast path: binning error relative to the kernel peak
};

// The kernel standard deviation h for `values` under `options` (InputError if not positive).
double kde_bandwidth(std::span<const float> values, const KdeOptions& options);

// Fast evaluation on `grid` (see the bound above). `where` names the data in error messages.
std::vector<double> kde_on_grid(std::span<const float> values, const Grid& grid, const KdeOptions& options,
                                const std::string& where = "kde");

// The bound above for the given h and grid: the largest |fast - direct| at any grid point.
double kde_error_bound(double h, const Grid& grid, double tolerance);

// Reference: direct summation over all values at every grid point, O(n * points).
std::vector<double> kde_direct(std::span<const float> values, const Grid& grid, double h);

}  // namespace spikeline::tasks
