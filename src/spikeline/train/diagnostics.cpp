#include "spikeline/train/diagnostics.hpp"

#include <cmath>
#include <vector>

namespace spikeline::train {

double prior_cross_entropy(std::span<const int> labels, int n_classes) {
  if (labels.empty() || n_classes <= 0) return 0.0;
  std::vector<double> count(static_cast<std::size_t>(n_classes), 0.0);
  for (int y : labels)
    if (y >= 0 && y < n_classes) count[static_cast<std::size_t>(y)] += 1.0;
  double h = 0.0;
  for (double c : count)
    if (c > 0) {
      const double p = c / static_cast<double>(labels.size());
      h -= p * std::log(p);
    }
  return h;
}

bool stuck_at_prior(std::span<const EpochReport> epochs, double prior_loss, int window, double tolerance) {
  if (window <= 0 || prior_loss <= 0 || epochs.size() < static_cast<std::size_t>(window)) return false;
  for (const auto& e : epochs.last(static_cast<std::size_t>(window)))
    if (!(std::abs(e.loss - prior_loss) <= tolerance * prior_loss)) return false;
  return true;
}

}  // namespace spikeline::train
