#pragma once
// The Anneal tuner's building blocks (hpo.md 2.2), exposed so tests can check each rule; the
// tuner itself is made by make_tuner("Anneal", ...).
#include <cstddef>

#include "spikeline/core/rng.hpp"
#include "spikeline/hpo/search_space.hpp"

namespace spikeline::hpo::anneal {

// Rank of the base trial among n completed ones sorted by loss: min(g - 1, n - 1) with
// g ~ Geometric(1/2), so P(0) = 1/2, P(1) = 1/4, ..., the tail lumped on rank n - 1. n >= 1.
std::size_t pick_rank(Rng& rng, std::size_t n);

// Shrink factor s = 1 / (1 + 0.1 n) for n completed trials carrying the parameter.
double shrink(std::size_t n_trials);

// The sampling window of a uniform-family parameter around `base` (log space for log types):
// width (high - low) * s, centre clamped so the window stays inside the bounds.
struct Window {
  double lo, hi;
};
Window window(const ParamSpec& s, double base, std::size_t n_trials);

// One perturbed draw around `base` (category index or value, as in a Point), already rounded
// and clipped like NNI.
double perturb(const ParamSpec& s, double base, std::size_t n_trials, Rng& rng);

}  // namespace spikeline::hpo::anneal
