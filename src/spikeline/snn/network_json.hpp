#pragma once
// Spikeline's own network description as JSON (docs/formats/model.md, "spikeline-network"):
//
//   {"format": "spikeline-network", "version": 1, "layers": [
//      {"type": "linear", "n_in": 12, "n_out": 256, "weight": [[...]]},   weight optional
//      {"type": "lif", "n": 256, "tau_mem": 0.081, "recurrent": true},    w_rec optional
//      {"type": "residual", "body": [ ... ]} ]}
//
// or an architecture shortcut:
//
//   {"format": "spikeline-network", "architecture": "ff_deep_deep_res",
//    "n_in": 12, "n_hidden": 256, "n_out": 7, "neuron": {"tau_mem": 0.081, ...}, "seed": 0}
//
// Weights that are absent are initialised as Rockpool does (snn::make_architecture), drawing from
// the generator in layer order, so a description without weights and the same seed gives the same
// network as make_architecture. Unknown keys are errors naming the layer and the key.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::snn {

inline constexpr std::string_view kNetworkFormatName = "spikeline-network";
inline constexpr int kNetworkFormatVersion = 1;

// Builds (and validates) a network from a parsed description. `source` (a file name) prefixes
// error messages; `init_rng` initialises weights the description leaves out.
Network network_from_json(const nlohmann::json& doc, const std::string& source, Rng& init_rng);
// The same from text; malformed JSON is an InputError with the byte position.
Network network_from_json_text(std::string_view text, const std::string& source, Rng& init_rng);

// The description of `net` (always the "layers" form). Without weights, reading it back
// re-initialises them from a seed.
nlohmann::json network_to_json(const Network& net, bool include_weights = true);
// The file layout: one layer per line, readable in a diff; ends with a newline.
std::string network_to_json_text(const Network& net, bool include_weights = true);

// ---------------------------------------------------------------------------------------------
// JSON helpers shared by the model-file readers (this format and Rockpool's).

// Parses `text`; malformed JSON -> InputError "<source>: invalid JSON at byte N: ...".
nlohmann::json parse_json(std::string_view text, const std::string& source);

// Where in which file a value sits; fail() throws InputError "<source>: <path>: <message>".
struct JsonLocation {
  std::string source;
  std::string path;  // e.g. "layers[2].body[0]" or "2_TorchResidual.1_LIFTorch"

  JsonLocation field(std::string_view name) const;  // path + "." + name
  JsonLocation index(std::size_t i) const;          // path + "[i]"
  [[noreturn]] void fail(std::string_view message) const;
};

// A JSON number as float32; non-numbers and values outside float32's range are errors.
float json_to_float(const nlohmann::json& value, const JsonLocation& at);
// A number (-> 1 value) or a flat list of numbers.
std::vector<float> json_to_float_list(const nlohmann::json& value, const JsonLocation& at);
// A non-empty rectangular list of lists of numbers, stored row-major.
struct FloatMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<float> values;
};
FloatMatrix json_to_float_matrix(const nlohmann::json& value, const JsonLocation& at);

// Float formatting for model files. Both give the shortest decimal that reads back -- through a
// double, as JSON readers (nlohmann, Python's json) do -- as exactly `f`.
std::string format_float_python(float f);  // Python's repr style: "0.081", "1.0", "1e-05"
double float_as_short_double(float f);     // that decimal as a double (nlohmann prints it short)

}  // namespace spikeline::snn
