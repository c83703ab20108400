#pragma once
// Rockpool's model JSON, as `Sequential.save()` writes it (docs/formats/model.md, "Rockpool"):
//
//   {"0_LinearTorch": {"weight": "[[0.1, ...], ...]"},
//    "1_LIFTorch": {"tau_mem": "0.081", ..., "spike_generation_fn": null, "leak_mode": "\"taus\""},
//    "2_TorchResidual": {"0_LinearTorch": {...}, "1_LIFTorch": {...}}, ...}
//
// Layers are nested objects named "{index}_{Class}" (LinearTorch, LIFTorch, TorchResidual), ordered
// by index (not by key order in the file); every parameter value is itself a JSON-encoded string.
// Only leak_mode "taus" and one synapse per neuron are supported.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "spikeline/snn/network.hpp"

namespace spikeline::io {

// Parses and validates a model; errors are InputErrors "<source>: <layer path>: <what>".
snn::Network parse_rockpool_json(std::string_view text, const std::string& source);
// The same from an already parsed document (used by load_network to parse only once).
snn::Network rockpool_from_json(const nlohmann::json& doc, const std::string& source);
snn::Network read_rockpool_json(const std::filesystem::path& path);

// The file Rockpool's save() would write for `net`, in layer-index order. Layer names are written
// as Rockpool's "{index}_{Class}" whatever they are in `net`. Every float is printed so that it
// reads back as exactly the same float32. The network must be valid.
std::string to_rockpool_json(const snn::Network& net);
void write_rockpool_json(const std::filesystem::path& path, const snn::Network& net);  // atomic

}  // namespace spikeline::io
