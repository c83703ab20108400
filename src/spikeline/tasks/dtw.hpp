#pragma once
// Multi-dimensional dynamic time warping (dtaidistance `dtw_ndim.distance` semantics).
//
// Layout: a series of `length` samples and `dims` dims is float [length][dims] row-major.
// Local cost of cells (i, j): squared Euclidean distance over the dims; the accumulated cost is
// D(i, j) = cost(i, j) + min(D(i-1, j-1), D(i-1, j), D(i, j-1)), and the distance is
// sqrt(D(n-1, m-1)). Sums are in double.
//
// Sakoe-Chiba window w (0: none), as dtaidistance: row i may use columns j with
//   i - max(0, n - m) - w < j < i + max(0, m - n) + w,
// so w = 1 on equal lengths allows only the diagonal. A window that leaves no path gives +inf.
#include <cstddef>
#include <span>
#include <vector>

namespace spikeline::tasks {

struct DtwOptions {
  int window = 0;  // Sakoe-Chiba band (0: unconstrained)
};

// Scratch rows reused across pairs: after the first pair of a given size no allocation happens.
class DtwScratch {
 public:
  std::vector<double> prev, cur, cost, b_by_dim;
};

// DTW distance of a [na][dims] and b [nb][dims]; two rolling rows (O(nb) memory).
double dtw_distance(std::span<const float> a, std::size_t na, std::span<const float> b, std::size_t nb,
                    std::size_t dims, const DtwOptions& options, DtwScratch& scratch);
double dtw_distance(std::span<const float> a, std::size_t na, std::span<const float> b, std::size_t nb,
                    std::size_t dims, const DtwOptions& options = {});

// Reference twin: the full (na + 1) x (nb + 1) matrix, written as plainly as possible.
double dtw_distance_reference(std::span<const float> a, std::size_t na, std::span<const float> b,
                              std::size_t nb, std::size_t dims, const DtwOptions& options = {});

}  // namespace spikeline::tasks
