#pragma once
// Hardware limits of Xylo Audio 2 (SYNS61201), from shared/docs/reference/xylo.md §1 and §5.6.
#include <cstdint>

namespace spikeline::hw::xylo {

struct Limits {
  int max_inputs = 16;
  int max_hidden = 1000;
  int max_outputs = 8;
  int max_fan_out = 64;           // non-zero recurrent weights per hidden source neuron
  int max_input_events = 15;      // per input channel per step (extra events are clipped)
  int max_hidden_events = 31;     // per hidden neuron per step
  int max_output_events = 1;      // per readout neuron per step
  int max_aliases_per_neuron = 1;
  std::int64_t weight_min = -128, weight_max = 127;       // signed 8 bit
  std::int64_t state_min = -32768, state_max = 32767;     // thresholds, biases: signed 16 bit
  std::int64_t dash_min = 0, dash_max = 15;               // 4-bit bit-shift decay
  // Weight bit shifts are cast to int8 by Rockpool; their hardware range is not public. We accept
  // 0..15 (enough to move an 8-bit weight anywhere in the 16-bit state).
  std::int64_t weight_shift_min = 0, weight_shift_max = 15;
};

inline constexpr Limits kXyloAudio2{};

}  // namespace spikeline::hw::xylo
