#include "common.hpp"

#include <sys/resource.h>

#include <cmath>

#include "spikeline/core/error.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::cli {

FloatArray load_input(const std::string& path) {
  io::NpyArray a = io::read_npy(path);
  FloatArray x = a.to_float_array();
  if (x.ndim() == 2) x.shape.insert(x.shape.begin(), 1);
  if (x.ndim() != 3)
    throw InputError(path, "expected a [batch, time, channels] array, got shape " +
                               shape_to_string(a.shape));
  for (float v : x.data)
    if (!std::isfinite(v)) throw InputError(path, "contains NaN or infinite values");
  return x;
}

std::vector<int> load_labels(const std::string& path, std::size_t expected, int n_classes) {
  io::NpyArray a = io::read_npy(path);
  std::vector<int> labels;
  if (a.shape.size() == 1) {
    const auto v = a.to_double();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != std::floor(v[i]) || v[i] < 0 || v[i] >= n_classes)
        throw InputError(path, "label " + std::to_string(v[i]) + " at index " + std::to_string(i) +
                                   " is not a class index in [0, " + std::to_string(n_classes) + ")");
      labels.push_back(static_cast<int>(v[i]));
    }
  } else if (a.shape.size() == 2 && static_cast<int>(a.shape[1]) == n_classes) {
    const auto v = a.to_double();
    for (std::size_t i = 0; i < a.shape[0]; ++i) {
      int best = 0;
      for (int c = 1; c < n_classes; ++c)
        if (v[i * n_classes + c] > v[i * n_classes + best]) best = c;
      labels.push_back(best);
    }
  } else {
    throw InputError(path, "expected labels [batch] or one-hot [batch, " + std::to_string(n_classes) +
                               "], got shape " + shape_to_string(a.shape));
  }
  if (labels.size() != expected)
    throw InputError(path, "expected " + std::to_string(expected) + " labels (one per input sample), got " +
                               std::to_string(labels.size()));
  return labels;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace spikeline::cli
