#include "spikeline/tasks/kde.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/core/error.hpp"

namespace spikeline::tasks {

namespace {

constexpr double kInvSqrt2Pi = 0.3989422804014327;
// exp(-c^2 / 2) underflows to 0 in double beyond c = 38.6 (exp(-745.1) is the smallest subnormal).
constexpr double kCutoff = 38.6;

// Spacing of the fine grid: the output step divided by an integer r, with delta <= h sqrt(8 tol).
std::size_t refinement(double h, const Grid& grid, double tolerance) {
  const double delta_max = h * std::sqrt(8.0 * tolerance);
  const double step = grid.step();
  if (step <= 0) return 1;
  return static_cast<std::size_t>(std::max(1.0, std::ceil(step / delta_max)));
}

void check_grid(const Grid& grid, const std::string& where) {
  if (grid.points < 2 || !(grid.hi > grid.lo) || !std::isfinite(grid.lo) || !std::isfinite(grid.hi))
    throw InputError(where, "the grid needs at least 2 points and lo < hi (finite)");
}

}  // namespace

std::string_view bandwidth_rule_name(BandwidthRule rule) {
  switch (rule) {
    case BandwidthRule::fixed: return "fixed";
    case BandwidthRule::factor: return "factor";
    case BandwidthRule::scott: return "scott";
    case BandwidthRule::silverman: return "silverman";
  }
  return "?";
}

BandwidthRule bandwidth_rule_from_name(std::string_view name) {
  for (auto r : {BandwidthRule::fixed, BandwidthRule::factor, BandwidthRule::scott, BandwidthRule::silverman})
    if (bandwidth_rule_name(r) == name) return r;
  throw InputError("bandwidth rule", "unknown rule '" + std::string(name) + "' (fixed, factor, scott, silverman)");
}

double kde_bandwidth(std::span<const float> values, const KdeOptions& options) {
  double h = options.bandwidth;
  if (options.rule != BandwidthRule::fixed) {
    const double n = static_cast<double>(values.size());
    if (values.size() < 2) throw InputError("bandwidth", "a bandwidth rule needs at least 2 values");
    double mean = 0;
    for (float v : values) mean += v;
    mean /= n;
    double ss = 0;
    for (float v : values) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / (n - 1));
    const double factor = options.rule == BandwidthRule::factor ? options.bandwidth
                          : options.rule == BandwidthRule::scott ? std::pow(n, -0.2)
                                                                 : std::pow(n * 0.75, -0.2);
    h = factor * sd;
  }
  if (!(h > 0) || !std::isfinite(h))
    throw InputError("bandwidth", "kernel bandwidth is " + std::to_string(h) +
                                      " (constant data or a non-positive value); use a fixed bandwidth");
  return h;
}

double kde_error_bound(double h, const Grid& grid, double tolerance) {
  const double delta = grid.step() / static_cast<double>(refinement(h, grid, tolerance));
  // phi(38.6) / h is below the smallest double; it is kept as a term for the record.
  return delta * delta * kInvSqrt2Pi / (8.0 * h * h * h) + std::exp(-0.5 * kCutoff * kCutoff) * kInvSqrt2Pi / h;
}

std::vector<double> kde_on_grid(std::span<const float> values, const Grid& grid, const KdeOptions& options,
                                const std::string& where) {
  check_grid(grid, where);
  if (values.empty()) throw InputError(where, "no values to estimate a density from");
  double h;
  try {
    h = kde_bandwidth(values, options);
  } catch (const InputError& e) {
    throw InputError(where, e.what());
  }
  if (!(options.tolerance > 0) || options.tolerance >= 1) throw InputError(where, "KDE tolerance must be in (0, 1)");

  const std::size_t r = refinement(h, grid, options.tolerance);
  const double delta = grid.step() / static_cast<double>(r);
  const auto taps = static_cast<std::size_t>(std::ceil(kCutoff * h / delta));
  // Fine grid: node k at grid.lo + (k - taps) * delta, covering the output range widened by the
  // cutoff on both sides. Values beyond it contribute exactly 0 to every output point.
  const std::size_t output_nodes = (grid.points - 1) * r + 1;
  const std::size_t nodes = output_nodes + 2 * taps;
  std::vector<double> weight(nodes + 1, 0.0);  // +1: the right neighbour of the last node
  const double origin = grid.lo - static_cast<double>(taps) * delta;
  const double last = static_cast<double>(nodes - 1);
  for (float v : values) {
    if (!std::isfinite(v)) throw InputError(where, "non-finite value in the data");
    const double pos = (static_cast<double>(v) - origin) / delta;
    if (pos < 0.0 || pos > last) continue;
    const double k = std::floor(pos);
    const double frac = pos - k;
    const auto ki = static_cast<std::size_t>(k);
    weight[ki] += 1.0 - frac;
    weight[ki + 1] += frac;
  }
  // Sampled kernel on the fine grid, symmetric: kernel[t] for offsets -taps..taps.
  std::vector<double> kernel(2 * taps + 1);
  for (std::size_t t = 0; t <= 2 * taps; ++t) {
    const double u = (static_cast<double>(t) - static_cast<double>(taps)) * delta / h;
    kernel[t] = std::exp(-0.5 * u * u);
  }
  const double norm = kInvSqrt2Pi / (h * static_cast<double>(values.size()));
  std::vector<double> density(grid.points);
  for (std::size_t i = 0; i < grid.points; ++i) {
    // Output point i is fine node taps + i * r; its window is nodes [i * r, i * r + 2 taps].
    const double* w = weight.data() + i * r;
    // Four independent partial sums (fixed order, so deterministic) let the loop pipeline.
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    const std::size_t n_taps = 2 * taps + 1;
    std::size_t t = 0;
    for (; t + 4 <= n_taps; t += 4)
      for (std::size_t l = 0; l < 4; ++l) acc[l] += w[t + l] * kernel[t + l];
    for (; t < n_taps; ++t) acc[0] += w[t] * kernel[t];
    density[i] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) * norm;
  }
  return density;
}

std::vector<double> kde_direct(std::span<const float> values, const Grid& grid, double h) {
  std::vector<double> density(grid.points, 0.0);
  if (values.empty()) return density;
  for (std::size_t i = 0; i < grid.points; ++i) {
    const double y = grid.at(i);
    double sum = 0.0;
    for (float v : values) {
      const double u = (y - v) / h;
      sum += std::exp(-0.5 * u * u);
    }
    density[i] = sum * kInvSqrt2Pi / (h * static_cast<double>(values.size()));
  }
  return density;
}

}  // namespace spikeline::tasks
