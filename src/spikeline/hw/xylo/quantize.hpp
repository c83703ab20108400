#pragma once
// Rockpool 2.7's global_quantize and channel_quantize (xylo.md §3), bit for bit: float32
// arithmetic where numpy uses float32, round half to even (std::nearbyint).
//
// rockpool_bugs = true reproduces 2.7's quirks: global bias_out scaled with the hidden scale, an
// output-threshold overflow also rescaling weights_rec, the overflow test on max(threshold) rather
// than max |threshold|; channel: hidden biases only rounded (single synapse), bias_out[i] computed
// from bias[i]. false (default) fixes them. The goldens (all biases 0, small thresholds) agree either way.
#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

enum class QuantizeMethod { Global, Channel };

struct QuantizeOptions {
  QuantizeMethod method = QuantizeMethod::Global;
  bool rockpool_bugs = false;
};

IntSpec quantize(const FloatSpec& spec, const QuantizeOptions& options = {});

// What to do with dash_syn / dash_syn_out == 0 (decay would erase the synaptic current in the step it
// arrives, xylo.md §3.4). Thesis: if element 0 is 0, add 1 to every element. PerNeuron: raise each 0 to 1.
enum class DashZeroFix { None, Thesis, PerNeuron };
// Returns true when anything was changed.
bool fix_zero_synaptic_dash(IntSpec& spec, DashZeroFix fix);

}  // namespace spikeline::hw::xylo
