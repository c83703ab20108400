#pragma once
// Network files in either model format (docs/formats/model.md), told apart by content:
// a top-level "format": "spikeline-network" key means Spikeline's description, layer keys such as
// "0_LinearTorch" mean Rockpool's model JSON.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "spikeline/snn/network.hpp"

namespace spikeline::io {

enum class NetworkFormat { Spikeline, Rockpool };
std::string_view network_format_name(NetworkFormat fmt);        // "spikeline", "rockpool"
NetworkFormat network_format_from_name(std::string_view name);  // InputError on unknown name

// Reads and validates a network. `init_seed` initialises weights that a Spikeline description
// leaves out (an architecture shortcut's own "seed" takes precedence).
snn::Network load_network(const std::filesystem::path& path, std::uint64_t init_seed = 0);

// Validates `net` and writes it atomically.
void save_network(const std::filesystem::path& path, const snn::Network& net, NetworkFormat fmt);

}  // namespace spikeline::io
