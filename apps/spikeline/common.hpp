#pragma once
// Helpers shared by CLI subcommands: loading arrays given on the command line with errors that
// name the file and what was expected.
#include <string>
#include <vector>

#include "spikeline/core/array.hpp"

namespace spikeline::cli {

// Input spikes/values: [B, T, C]; a 2-D [T, C] array is one sample (B = 1), as Rockpool treats it.
FloatArray load_input(const std::string& path);
// Labels: integer class indices [B], or one-hot / scores [B, n_classes] (argmax). Checks the count
// and the range.
std::vector<int> load_labels(const std::string& path, std::size_t expected, int n_classes);
// Peak resident memory of this process in MiB.
double peak_rss_mb();

}  // namespace spikeline::cli
