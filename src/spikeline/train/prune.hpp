#pragma once
// Xylo fan-out pruning as the thesis does it (lib/xylo_net_adaptation.py, adapt_network /
// drop_exceeding_synapses; ../shared/docs/reference/lif.md section 8).
#include <cstddef>
#include <vector>

#include "spikeline/snn/network.hpp"

namespace spikeline::train {

struct PruneStats {
  std::size_t neurons_pruned = 0;    // rows that had more than max_fan_out non-zeros
  std::size_t synapses_dropped = 0;  // non-zero weights set to 0
};

// One matrix, rows x cols row-major (a row = the outgoing weights of one source neuron): in every
// row with more than `max_fan_out` non-zeros, all but the `max_fan_out` largest |w| become 0;
// ties in |w| are ranked by column (scipy rankdata "ordinal": the earlier column counts smaller).
PruneStats prune_rows(std::vector<float>& weights, int rows, int cols, int max_fan_out);

// Every Linear in network order (recursing into residual blocks); its weight [n_in][n_out] is
// pruned row by row stacked side by side with the w_rec [n_in][n_in] of the LIF layer before it
// when that layer is recurrent, so a neuron's recurrent synapses count towards its fan-out.
PruneStats adapt_network(snn::Network& net, int max_fan_out);

}  // namespace spikeline::train
