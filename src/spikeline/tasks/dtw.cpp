#include "spikeline/tasks/dtw.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "spikeline/core/error.hpp"

namespace spikeline::tasks {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Allowed columns [lo, hi) of row i (dtaidistance's window rule).
struct Band {
  std::size_t lo, hi;
};
Band band(std::size_t i, std::size_t na, std::size_t nb, int window) {
  if (window <= 0) return {0, nb};
  const auto w = static_cast<std::ptrdiff_t>(window);
  const auto ii = static_cast<std::ptrdiff_t>(i);
  const auto n = static_cast<std::ptrdiff_t>(na), m = static_cast<std::ptrdiff_t>(nb);
  const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, ii - std::max<std::ptrdiff_t>(0, n - m) - w + 1);
  const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(m, ii + std::max<std::ptrdiff_t>(0, m - n) + w);
  return {static_cast<std::size_t>(lo), static_cast<std::size_t>(std::max(lo, hi))};
}

void check_sizes(std::span<const float> a, std::size_t na, std::span<const float> b, std::size_t nb,
                 std::size_t dims) {
  if (a.size() != na * dims || b.size() != nb * dims)
    throw InputError("dtw", "series sizes do not match length x dims");
}

}  // namespace

double dtw_distance(std::span<const float> a, std::size_t na, std::span<const float> b, std::size_t nb,
                    std::size_t dims, const DtwOptions& options, DtwScratch& s) {
  check_sizes(a, na, b, nb, dims);
  if (na == 0 || nb == 0) return na == nb ? 0.0 : kInf;
  // Column j of row 0 lives at index j + 1; index 0 is the virtual D(i, -1) = inf.
  s.prev.resize(nb + 1);
  s.cur.resize(nb + 1);
  s.cost.resize(nb);
  // b transposed to [dims][nb] so that one row's local costs are a vectorisable loop over j.
  s.b_by_dim.resize(dims * nb);
  for (std::size_t j = 0; j < nb; ++j)
    for (std::size_t d = 0; d < dims; ++d) s.b_by_dim[d * nb + j] = b[j * dims + d];

  double* prev = s.prev.data();
  double* cur = s.cur.data();
  double* cost = s.cost.data();
  std::fill(prev, prev + nb + 1, kInf);
  prev[0] = 0.0;  // D(-1, -1) = 0: the path starts at (0, 0)
  for (std::size_t i = 0; i < na; ++i) {
    const Band bd = band(i, na, nb, options.window);
    std::fill(cost + bd.lo, cost + bd.hi, 0.0);
    for (std::size_t d = 0; d < dims; ++d) {
      const double ai = a[i * dims + d];
      const double* bj = s.b_by_dim.data() + d * nb;
      for (std::size_t j = bd.lo; j < bd.hi; ++j) {
        const double diff = ai - bj[j];
        cost[j] += diff * diff;
      }
    }
    // Cells outside the band are inf; only the band's neighbours need resetting.
    std::fill(cur, cur + nb + 1, kInf);
    double left = kInf;
    for (std::size_t j = bd.lo; j < bd.hi; ++j) {
      const double best = std::min(std::min(prev[j], prev[j + 1]), left);
      left = cost[j] + best;
      cur[j + 1] = left;
    }
    std::swap(prev, cur);
    prev[0] = kInf;  // D(i, -1) for the rows after the first
  }
  return std::sqrt(prev[nb]);
}

double dtw_distance(std::span<const float> a, std::size_t na, std::span<const float> b, std::size_t nb,
                    std::size_t dims, const DtwOptions& options) {
  DtwScratch scratch;
  return dtw_distance(a, na, b, nb, dims, options, scratch);
}

double dtw_distance_reference(std::span<const float> a, std::size_t na, std::span<const float> b,
                              std::size_t nb, std::size_t dims, const DtwOptions& options) {
  check_sizes(a, na, b, nb, dims);
  if (na == 0 || nb == 0) return na == nb ? 0.0 : kInf;
  // D[i][j] with a border row and column of inf, D[0][0] = 0.
  std::vector<std::vector<double>> D(na + 1, std::vector<double>(nb + 1, kInf));
  D[0][0] = 0.0;
  for (std::size_t i = 1; i <= na; ++i) {
    const Band bd = band(i - 1, na, nb, options.window);
    for (std::size_t j = bd.lo + 1; j <= bd.hi; ++j) {
      double c = 0.0;
      for (std::size_t d = 0; d < dims; ++d) {
        const double diff = static_cast<double>(a[(i - 1) * dims + d]) - b[(j - 1) * dims + d];
        c += diff * diff;
      }
      D[i][j] = c + std::min({D[i - 1][j - 1], D[i - 1][j], D[i][j - 1]});
    }
  }
  return std::sqrt(D[na][nb]);
}

}  // namespace spikeline::tasks
