#pragma once
// A labelled data set through the bit-accurate simulator: predictions (argmax of summed readout
// events, ties to the lowest index, as the thesis's np.argmax) and the measured spiking
// probabilities for the cycle model.
#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/hw/xylo/cycles.hpp"
#include "spikeline/hw/xylo/sim.hpp"

namespace spikeline::hw::xylo {

// Event counts [samples][steps][channels], the core's uint8 input.
struct EventSet {
  std::size_t samples = 0, steps = 0, channels = 0;
  std::vector<std::uint8_t> data;
  std::span<const std::uint8_t> sample(std::size_t i) const {
    return std::span<const std::uint8_t>(data).subspan(i * steps * channels, steps * channels);
  }
};
// From spike rasters [n][T][C] holding integral counts 0..255; InputError naming `where` otherwise.
EventSet to_events(const FloatArray& x, const std::string& where);

struct SimEvalOptions {
  int threads = 1;
  // false: zero state before every sample (independent samples; parallel over samples).
  // true: one simulator runs the samples in order without reset, as the thesis evaluated (serial).
  bool carry_state = false;
};

struct SimEvaluation {
  std::vector<int> predicted;                          // [samples]
  std::vector<std::vector<std::uint32_t>> counts;      // [samples][n_out] summed readout events
  SpikeProbabilities activity;                         // measured over the whole set
};

// InputError when the set's channel count is not the config's input count.
SimEvaluation simulate_set(const CoreConfig& config, const EventSet& set, const SimEvalOptions& options = {});

// argmax with ties to the lowest index.
int argmax_class(std::span<const std::uint32_t> counts);

}  // namespace spikeline::hw::xylo
