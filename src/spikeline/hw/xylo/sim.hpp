#pragma once
// Bit-accurate simulator of the Xylo SNN core (xylosim 0.1.3 "v2"; xylo.md §6): int16 states with
// saturating adds, int8 weights, bit-shift decay, event caps, one-step delay of hidden events,
// aliases. State carries over between evolve() calls (as XyloSim does) until reset_state().
#include <cstdint>
#include <span>
#include <vector>

#include "spikeline/hw/xylo/limits.hpp"
#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

// The chip's view of a valid integer spec: every value in its hardware width.
struct CoreConfig {
  int n_in = 0, n_hid = 0, n_out = 0, n_syn = 1;
  std::vector<std::int8_t> weights_in, weights_rec, weights_out;  // layouts as in Spec
  std::vector<std::uint8_t> dash_mem, dash_syn, dash_syn_2, dash_mem_out, dash_syn_out;
  std::vector<std::int16_t> threshold, bias, threshold_out, bias_out;
  std::vector<std::int32_t> alias_target;  // [n_hid]; -1 = none
  std::uint8_t weight_shift_in = 0, weight_shift_rec = 0, weight_shift_out = 0;
  Limits limits{};

  // Throws InputError listing the violations when `spec` is not valid for `limits`.
  static CoreConfig from_spec(const IntSpec& spec, const Limits& limits = kXyloAudio2);
};

// Recordings after each step, row-major [T][N].
struct SimRecord {
  int steps = 0;
  std::vector<std::uint8_t> output;                    // [T][n_out] readout events (0/1)
  std::vector<std::int16_t> vmem, isyn, isyn2;         // [T][n_hid] (isyn2 zeros when n_syn == 1)
  std::vector<std::uint8_t> spikes;                    // [T][n_hid] hidden events emitted at t
  std::vector<std::int16_t> vmem_out, isyn_out;        // [T][n_out]
};

// What run() accumulates instead of recordings: summed readout events and, for the cycle model,
// how many (step, channel/neuron) pairs carried at least one event.
struct RunTally {
  std::vector<std::uint32_t> output_events;  // [n_out], summed over the steps run
  std::uint64_t steps = 0, input_active = 0, hidden_active = 0, output_active = 0;
  void reset(int n_out) { *this = RunTally{}; output_events.assign(std::size_t(n_out), 0); }
};

class XyloSimulator {
 public:
  explicit XyloSimulator(CoreConfig config);
  // input: [steps][n_in] event counts, 0..255 each. Continues from the current state.
  SimRecord evolve(const std::vector<std::uint8_t>& input, int steps);
  // The same dynamics without recordings (the fast path for evaluating data sets): adds the
  // readout events and activity of `steps` steps to `tally` (sized by tally.reset(n_out)).
  void run(std::span<const std::uint8_t> input, int steps, RunTally& tally);
  void reset_state();
  const CoreConfig& config() const { return config_; }

 private:
  struct Synapse {
    std::int32_t target;     // hidden id * n_syn + synapse (or readout id)
    std::int32_t weight;     // already shifted (may exceed 16 bits; sat_add handles it)
  };
  void step(const std::uint8_t* input);

  CoreConfig config_;
  std::vector<std::vector<Synapse>> input_synapses_, rec_synapses_, out_synapses_;
  std::vector<std::int16_t> isyn_, vmem_, isyn_out_, vmem_out_;  // isyn_: [n_hid][n_syn]
  std::vector<std::uint8_t> events_, out_events_;               // R and O
};

// A plain twin written straight from the text of xylo.md §6 (wide integers, clamping), used to
// cross-check the simulator. `state` is not kept: it simulates from zero state.
SimRecord reference_simulate(const IntSpec& spec, const std::vector<std::uint8_t>& input, int steps);

}  // namespace spikeline::hw::xylo
