#pragma once
// Kullback-Leibler divergence with scipy.stats.entropy(p, q) semantics: p and q are normalised to
// sum 1, then KL = sum_i rel_entr(p_i, q_i) with rel_entr(x, y) = x log(x / y) for x > 0, y > 0;
// 0 for x = 0, y >= 0; +inf otherwise (so p_i > 0 with q_i = 0 gives +inf). Natural log, double.
#include <span>
#include <string>

namespace spikeline::tasks {

// InputError (naming `where`) on different sizes, empty input, a negative or non-finite entry or
// a zero sum.
double kl_divergence(std::span<const double> p, std::span<const double> q, const std::string& where = "kl");
// KL(p || q) + KL(q || p).
double symmetric_kl(std::span<const double> p, std::span<const double> q, const std::string& where = "kl");

}  // namespace spikeline::tasks
