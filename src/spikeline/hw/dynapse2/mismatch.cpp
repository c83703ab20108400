#include "spikeline/hw/dynapse2/mismatch.hpp"

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

void check(double percent, double sigma_rule) {
  if (!(percent >= 0.0)) throw InputError("mismatch", "percent deviation must be >= 0");
  if (!(sigma_rule > 0.0)) throw InputError("mismatch", "sigma_rule must be > 0");
}

}  // namespace

void apply_weight_mismatch(std::vector<double>& w, double percent, double sigma_rule, Rng& rng) {
  check(percent, sigma_rule);
  if (percent == 0.0) return;
  const double sigma = percent / sigma_rule;
  for (double& v : w) v *= 1.0 + sigma * rng.normal();
}

void apply_frozen_mismatch(DynapSimParams& p, double percent, double sigma_rule, Rng& rng) {
  check(percent, sigma_rule);
  if (percent == 0.0) return;
  // A sub-stream per leaf, as Rockpool splits one jax key per leaf.
  for (const DynapSimVector& v : dynapsim_vectors()) {
    Rng leaf = rng.split();
    apply_weight_mismatch(p.*v.member, percent, sigma_rule, leaf);
  }
}

}  // namespace spikeline::hw::dynapse2
