#pragma once
// Device mismatch as Rockpool's mismatch_generator (shared docs dynapse2.md §3): every selected
// value x becomes x * (1 + (percent / sigma_rule) * z), z ~ N(0, 1) i.i.d. per element. Our own
// seeded generator (core/rng.hpp): the values cannot equal jax's PRNG draws, only their law.
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"

namespace spikeline::hw::dynapse2 {

// Rockpool's "frozen" set: every per-neuron current, capacitance and layout value of DynapSim
// (dynapsim_vector_names()); each neuron gets its own draw. percent 0 leaves `p` unchanged and draws nothing.
void apply_frozen_mismatch(DynapSimParams& p, double percent, double sigma_rule, Rng& rng);

// The same law on a weight matrix (Rockpool's dynamic_mismatch_prototype: w_rec and the Linear weight).
void apply_weight_mismatch(std::vector<double>& w, double percent, double sigma_rule, Rng& rng);

}  // namespace spikeline::hw::dynapse2
