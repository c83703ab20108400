#include "spikeline/tasks/kl.hpp"

#include <cmath>
#include <limits>

#include "spikeline/core/error.hpp"

namespace spikeline::tasks {

namespace {

double checked_sum(std::span<const double> v, const std::string& where, const char* name) {
  double s = 0.0;
  for (double x : v) {
    if (!std::isfinite(x) || x < 0.0)
      throw InputError(where, std::string(name) + " has a negative or non-finite entry");
    s += x;
  }
  if (!(s > 0.0)) throw InputError(where, std::string(name) + " sums to 0 and cannot be normalised");
  return s;
}

}  // namespace

double kl_divergence(std::span<const double> p, std::span<const double> q, const std::string& where) {
  if (p.size() != q.size()) throw InputError(where, "p and q differ in size");
  if (p.empty()) throw InputError(where, "p and q are empty");
  const double sp = checked_sum(p, where, "p"), sq = checked_sum(q, where, "q");
  double kl = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double x = p[i] / sp, y = q[i] / sq;
    if (x == 0.0) continue;  // 0 log(0 / y) = 0
    if (y == 0.0) return std::numeric_limits<double>::infinity();
    kl += x * std::log(x / y);
  }
  return kl;
}

double symmetric_kl(std::span<const double> p, std::span<const double> q, const std::string& where) {
  return kl_divergence(p, q, where) + kl_divergence(q, p, where);
}

}  // namespace spikeline::tasks
