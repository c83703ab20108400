#pragma once
// Checks an integer specification against the chip's limits (xylo.md §1, §5.6): one message per
// violation, naming the array, the neuron or weight, the value and the allowed range.
#include <string>
#include <vector>

#include "spikeline/hw/xylo/limits.hpp"
#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

std::vector<std::string> validate(const IntSpec& spec, const Limits& limits = kXyloAudio2);

}  // namespace spikeline::hw::xylo
