#pragma once
// Rockpool's cycle-count model of the Xylo Audio 2 SNN core (xylo.md §7; Rockpool develop
// devices/xylo/syns61201/power_cycles_model.py): master-clock cycles to compute one time step, and
// the clock that runs a network in real time with a safety margin.
#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

// Spiking probabilities per channel/neuron and step (only "any event or none" counts; several
// events in one step cost the same as one). 1 everywhere is Rockpool's worst case.
struct SpikeProbabilities {
  double input = 1.0, hidden = 1.0, output = 1.0;
};

struct CycleEstimate {
  double input = 0, hidden_isyn = 0, output_isyn = 0, hidden_spiking = 0, output_spiking = 0;
  double total = 0;                // cycles per time step
  double additional_isyn2_ops = 0;  // run in parallel to Isyn; 0 with one synapse
  double mean_fan_out = 0;          // F: non-zero recurrent weights per hidden neuron (per synapse)
  double alias_target_prob = 0, alias_source_prob = 0;
};

CycleEstimate estimate_cycles(const IntSpec& spec, const SpikeProbabilities& p = {});

// cycles * (1 + margin) / dt, in Hz (Rockpool's est_clock_freq with a given estimate).
double min_clock_hz(double cycles_per_step, double dt, double margin = 0.2);

inline constexpr double kDefaultClockHz = 50e6;  // Xylo Audio 2's default core clock

}  // namespace spikeline::hw::xylo
