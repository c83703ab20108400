// Rockpool's model JSON: nested layer objects whose parameter values are JSON-encoded strings.
#include "spikeline/io/rockpool_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::io {

using nlohmann::json;
using snn::FloatMatrix;
using snn::JsonLocation;
using snn::Layer;
using snn::LIF;
using snn::Linear;
using snn::Residual;

namespace {

constexpr std::string_view kLinearClass = "LinearTorch";
constexpr std::string_view kLifClass = "LIFTorch";
constexpr std::string_view kResidualClass = "TorchResidual";
constexpr int kMaxResidualDepth = 32;

// ---------------------------------------------------------------------------------------------
// Reading

struct LayerEntry {
  int index = 0;
  std::string class_name;
  std::string key;
  const json* value = nullptr;
};

// "12_LIFTorch" -> (12, "LIFTorch"); nullopt when the key is not of that form.
std::optional<LayerEntry> split_layer_key(const std::string& key) {
  std::size_t digits = 0;
  while (digits < key.size() && key[digits] >= '0' && key[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9 || digits + 1 >= key.size() || key[digits] != '_')
    return std::nullopt;
  if (digits > 1 && key[0] == '0') return std::nullopt;  // Rockpool never writes leading zeros
  return LayerEntry{std::stoi(key.substr(0, digits)), key.substr(digits + 1), key, nullptr};
}

// A parameter value: Rockpool stores each as a JSON-encoded string; a plain JSON value is
// accepted as well.
json decode_value(const json& value, const JsonLocation& at) {
  if (!value.is_string()) return value;
  const auto& text = value.get_ref<const std::string&>();
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    at.fail(fmt::format("value is not valid JSON (byte {} of the string)", e.byte));
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    std::string message = e.what();
    message.erase(0, message.find("] ") == std::string::npos ? 0 : message.find("] ") + 2);
    at.fail(fmt::format("value is not valid JSON: {}", message));
  }
}

// A name-valued parameter (leak_mode, spike_generation_fn): "\"taus\"" as Rockpool writes it, or a
// bare name. nullopt for null.
std::optional<std::string> decode_name(const json& value, const JsonLocation& at) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_string()) at.fail(fmt::format("expected a name, got {}", value.type_name()));
  const auto& text = value.get_ref<const std::string&>();
  json decoded;
  try {
    decoded = json::parse(text);
  } catch (const json::exception&) {
    return text;  // a bare name
  }
  if (decoded.is_null()) return std::nullopt;
  if (!decoded.is_string()) at.fail(fmt::format("expected a name, got {}", decoded.type_name()));
  return decoded.get<std::string>();
}

// A per-neuron parameter: a number, a list (N,), or -- for tau_syn, stored per synapse -- a list of
// one-element lists (N, 1).
std::vector<float> decode_per_neuron(const json& raw, const JsonLocation& at, bool per_synapse) {
  const json value = decode_value(raw, at);
  if (per_synapse && value.is_array() && !value.empty() && value[0].is_array()) {
    std::vector<float> out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
      const json& row = value[i];
      if (!row.is_array() || row.size() != 1)
        at.index(i).fail(
            fmt::format("expected one value per neuron (shape (N, 1)); {} synapses per neuron are "
                        "not supported",
                        row.is_array() ? row.size() : 0));
      out.push_back(snn::json_to_float(row[0], at.index(i).index(0)));
    }
    return out;
  }
  return snn::json_to_float_list(value, at);
}

class RockpoolReader {
 public:
  // The layers of one Sequential (the file's top level or a residual body), in index order.
  std::vector<Layer> sequence(const json& obj, const JsonLocation& at, std::optional<int>& width,
                              int depth) {
    if (!obj.is_object())
      at.fail(fmt::format("expected an object of layers, got {}", obj.type_name()));
    if (obj.empty()) at.fail("has no layers");
    std::vector<LayerEntry> entries;
    for (const auto& [key, value] : obj.items()) {
      auto entry = split_layer_key(key);
      if (!entry)
        at.fail(
            fmt::format("'{}' is not a layer name of the form '{{index}}_{{Class}}' "
                        "(e.g. '0_LinearTorch')",
                        key));
      entry->value = &value;
      entries.push_back(std::move(*entry));
    }
    // Key order in the file is arbitrary; Rockpool's Sequential order is the index.
    std::sort(entries.begin(), entries.end(),
              [](const LayerEntry& a, const LayerEntry& b) { return a.index < b.index; });
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (entries[i].index != static_cast<int>(i))
        at.fail(
            fmt::format("layer indices must run 0..{} without gaps or repeats; found '{}' "
                        "where index {} belongs",
                        entries.size() - 1, entries[i].key, i));

    std::vector<Layer> layers;
    for (const LayerEntry& entry : entries) {
      const JsonLocation layer_at = at.field(entry.key);
      if (!entry.value->is_object())
        layer_at.fail(fmt::format("expected an object, got {}", entry.value->type_name()));
      Layer layer;
      layer.name = entry.key;
      if (entry.class_name == kLinearClass) {
        layer.op = linear(*entry.value, layer_at, width);
      } else if (entry.class_name == kLifClass) {
        layer.op = lif(*entry.value, layer_at, width);
      } else if (entry.class_name == kResidualClass) {
        if (depth >= kMaxResidualDepth)
          layer_at.fail(fmt::format("residual blocks nested deeper than {}", kMaxResidualDepth));
        layer.op = Residual{sequence(*entry.value, layer_at, width, depth + 1)};
      } else {
        layer_at.fail(fmt::format("unknown layer class '{}' (supported: {}, {}, {})",
                                  entry.class_name, kLinearClass, kLifClass, kResidualClass));
      }
      layers.push_back(std::move(layer));
    }
    return layers;
  }

 private:
  static void check_parameters(const json& obj, std::initializer_list<std::string_view> known,
                               const JsonLocation& at) {
    for (const auto& [key, _] : obj.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        at.fail(fmt::format("unknown parameter '{}'", key));
  }

  static const json* find(const json& obj, std::string_view key) {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  Linear linear(const json& obj, const JsonLocation& at, std::optional<int>& width) {
    check_parameters(obj, {"weight", "bias"}, at);
    const json* weight = find(obj, "weight");
    if (!weight) at.fail("missing parameter 'weight'");
    FloatMatrix m =
        snn::json_to_float_matrix(decode_value(*weight, at.field("weight")), at.field("weight"));
    Linear lin{m.rows, m.cols, std::move(m.values), {}};
    if (const json* bias = find(obj, "bias")) {
      const json decoded = decode_value(*bias, at.field("bias"));
      if (!decoded.is_array()) at.field("bias").fail("expected a list of n_out numbers");
      lin.bias = snn::json_to_float_list(decoded, at.field("bias"));
    }
    width = lin.n_out;
    return lin;
  }

  LIF lif(const json& obj, const JsonLocation& at, std::optional<int>& width) {
    check_parameters(obj,
                     {"tau_mem", "tau_syn", "threshold", "bias", "max_spikes_per_dt", "noise_std",
                      "learning_window", "dt", "spike_generation_fn", "leak_mode", "w_rec"},
                     at);
    if (const json* mode = find(obj, "leak_mode")) {
      const auto name = decode_name(*mode, at.field("leak_mode"));
      if (name && *name != "taus")
        at.field("leak_mode")
            .fail(fmt::format("'{}' is not supported: only \"taus\" (decays/bitshifts models must "
                              "be converted to "
                              "time constants first)",
                              *name));
    }
    LIF lif;  // absent parameters keep Rockpool's defaults
    auto per_neuron = [&](const char* key, std::vector<float>& target, bool per_synapse = false) {
      if (const json* v = find(obj, key))
        target = decode_per_neuron(*v, at.field(key), per_synapse);
    };
    auto scalar = [&](const char* key, float& target) {
      if (const json* v = find(obj, key))
        target = snn::json_to_float(decode_value(*v, at.field(key)), at.field(key));
    };
    per_neuron("tau_mem", lif.tau_mem);
    per_neuron("tau_syn", lif.tau_syn, /*per_synapse=*/true);
    per_neuron("threshold", lif.threshold);
    per_neuron("bias", lif.bias);
    scalar("dt", lif.dt);
    scalar("learning_window", lif.learning_window);
    scalar("max_spikes_per_dt", lif.max_spikes_per_dt);
    scalar("noise_std", lif.noise_std);
    if (obj.contains("spike_generation_fn")) {
      const JsonLocation fn_at = at.field("spike_generation_fn");
      // Rockpool writes null for its default, StepPWL.
      if (const auto name = decode_name(obj.at("spike_generation_fn"), fn_at)) {
        try {
          lif.spike_fn = snn::spike_fn_from_name(*name);
        } catch (const InputError& e) {
          fn_at.fail(e.what());
        }
      }
    }
    if (const json* w_rec = find(obj, "w_rec")) {
      FloatMatrix m =
          snn::json_to_float_matrix(decode_value(*w_rec, at.field("w_rec")), at.field("w_rec"));
      if (m.rows != m.cols)
        at.field("w_rec").fail(fmt::format("must be square, got {}x{}", m.rows, m.cols));
      lif.has_rec = true;
      lif.n = m.rows;
      lif.w_rec = std::move(m.values);
    }
    // Size: from w_rec (above), else a per-neuron vector, else the preceding layer's width.
    if (lif.n == 0) {
      const std::size_t longest =
          std::max({lif.tau_mem.size(), lif.tau_syn.size(), lif.threshold.size(), lif.bias.size()});
      if (longest > 1) {
        lif.n = static_cast<int>(longest);
      } else if (width) {
        lif.n = *width;
      } else {
        at.fail(
            "cannot tell the number of neurons: no w_rec, no per-neuron parameter, and no "
            "preceding LinearTorch");
      }
    }
    width = lif.n;
    return lif;
  }
};

// ---------------------------------------------------------------------------------------------
// Writing

std::string quoted(const std::string& text) { return json(text).dump(); }

std::string float_text(float f) { return snn::format_float_python(f); }

// Python's json.dumps layout: "[a, b, c]".
std::string list_text(const std::vector<float>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += float_text(values[i]);
  }
  return out + "]";
}

std::string matrix_text(const std::vector<float>& values, int rows, int cols) {
  std::string out = "[";
  for (int r = 0; r < rows; ++r) {
    if (r) out += ", ";
    out += list_text(
        {values.begin() + std::size_t(r) * cols, values.begin() + std::size_t(r + 1) * cols});
  }
  return out + "]";
}

// tau_mem, threshold, bias: a scalar when shared, else (N,). tau_syn per neuron is (N, 1).
std::string per_neuron_text(const std::vector<float>& values, bool per_synapse = false) {
  if (values.size() == 1) return float_text(values[0]);
  return per_synapse ? matrix_text(values, static_cast<int>(values.size()), 1) : list_text(values);
}

void append_entry(std::string& out, bool& first, std::string_view key, const std::string& value) {
  if (!first) out += ", ";
  first = false;
  out += fmt::format("\"{}\": {}", key, value);
}

void append_layers(std::string& out, const std::vector<Layer>& layers) {
  out += '{';
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (i) out += ", ";
    const auto& op = layers[i].op;
    bool first = true;
    if (const auto* lin = std::get_if<Linear>(&op)) {
      out += fmt::format("\"{}_{}\": {{", i, kLinearClass);
      append_entry(out, first, "weight", quoted(matrix_text(lin->weight, lin->n_in, lin->n_out)));
      if (!lin->bias.empty()) append_entry(out, first, "bias", quoted(list_text(lin->bias)));
      out += '}';
    } else if (const auto* lif = std::get_if<LIF>(&op)) {
      out += fmt::format("\"{}_{}\": {{", i, kLifClass);
      append_entry(out, first, "tau_mem", quoted(per_neuron_text(lif->tau_mem)));
      append_entry(out, first, "tau_syn", quoted(per_neuron_text(lif->tau_syn, true)));
      append_entry(out, first, "threshold", quoted(per_neuron_text(lif->threshold)));
      append_entry(out, first, "bias", quoted(per_neuron_text(lif->bias)));
      append_entry(out, first, "max_spikes_per_dt", quoted(float_text(lif->max_spikes_per_dt)));
      append_entry(out, first, "noise_std", quoted(float_text(lif->noise_std)));
      append_entry(out, first, "learning_window", quoted(float_text(lif->learning_window)));
      append_entry(out, first, "dt", quoted(float_text(lif->dt)));
      // Rockpool writes null for its default spike function; anything else by name.
      append_entry(out, first, "spike_generation_fn",
                   lif->spike_fn == snn::SpikeFn::StepPWL
                       ? "null"
                       : quoted(quoted(std::string(snn::spike_fn_name(lif->spike_fn)))));
      append_entry(out, first, "leak_mode", quoted(quoted("taus")));
      if (lif->has_rec)
        append_entry(out, first, "w_rec", quoted(matrix_text(lif->w_rec, lif->n, lif->n)));
      out += '}';
    } else {
      out += fmt::format("\"{}_{}\": ", i, kResidualClass);
      append_layers(out, std::get<Residual>(op).body);
    }
  }
  out += '}';
}

}  // namespace

snn::Network rockpool_from_json(const json& doc, const std::string& source) {
  const JsonLocation top{source, ""};
  std::optional<int> width;
  snn::Network net{RockpoolReader().sequence(doc, top, width, 0)};
  try {
    net.validate();
  } catch (const InputError& e) {
    top.fail(e.what());
  }
  return net;
}

snn::Network parse_rockpool_json(std::string_view text, const std::string& source) {
  return rockpool_from_json(snn::parse_json(text, source), source);
}

snn::Network read_rockpool_json(const std::filesystem::path& path) {
  return parse_rockpool_json(read_file_text(path), path.string());
}

std::string to_rockpool_json(const snn::Network& net) {
  net.validate();  // the writer relies on consistent sizes and finite values
  std::string out;
  append_layers(out, net.layers);
  return out;
}

void write_rockpool_json(const std::filesystem::path& path, const snn::Network& net) {
  write_file_atomic(path, to_rockpool_json(net));
}

}  // namespace spikeline::io
