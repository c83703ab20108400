#pragma once
// Rockpool 2.7's Xylo mapper for a Sequential of Linear/LIF/Residual (xylo.md §2): hidden ids in
// layer order, the last LIF layer as readout, residuals as aliases, dash = log2(tau / dt) in float32.
#include <string>
#include <vector>

#include "spikeline/hw/xylo/limits.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::hw::xylo {

struct MapResult {
  FloatSpec spec;
  std::vector<std::string> warnings;  // Rockpool's warnings (too many inputs/outputs, Linear bias dropped)
  // Hidden ids per hidden LIF layer path ("2_TorchResidual.1_LIFTorch"), in allocation order.
  std::vector<std::pair<std::string, std::vector<int>>> hidden_layer_ids;
};

// Throws InputError naming the layer when a design rule (xylo.md §2.1) is broken.
MapResult map_network(const snn::Network& net, const Limits& limits = kXyloAudio2);

}  // namespace spikeline::hw::xylo
