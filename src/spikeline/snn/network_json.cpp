// Spikeline's JSON network description: reading (with weight initialisation) and writing.
#include "spikeline/snn/network_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "spikeline/core/error.hpp"

namespace spikeline::snn {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Shared JSON helpers

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string strip_exception_tag(std::string_view message) {
  if (!message.empty() && message.front() == '[') {
    const auto end = message.find("] ");
    if (end != std::string_view::npos) message.remove_prefix(end + 2);
  }
  return std::string(message);
}

}  // namespace

json parse_json(std::string_view text, const std::string& source) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw InputError(
        source, fmt::format("invalid JSON at byte {}: {}", e.byte, strip_exception_tag(e.what())));
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number too large for a double
    throw InputError(source, fmt::format("invalid JSON: {}", strip_exception_tag(e.what())));
  }
}

JsonLocation JsonLocation::field(std::string_view name) const {
  return {source, path.empty() ? std::string(name) : path + "." + std::string(name)};
}

JsonLocation JsonLocation::index(std::size_t i) const {
  return {source, fmt::format("{}[{}]", path, i)};
}

void JsonLocation::fail(std::string_view message) const {
  throw InputError(source,
                   path.empty() ? std::string(message) : fmt::format("{}: {}", path, message));
}

namespace {

const char* json_type_name(const json& value) { return value.type_name(); }

}  // namespace

float json_to_float(const json& value, const JsonLocation& at) {
  if (!value.is_number()) at.fail(fmt::format("expected a number, got {}", json_type_name(value)));
  const double d = value.get<double>();
  // Doubles below FLT_MAX + half an ulp round to FLT_MAX ("3.4028235e+38" is one); beyond, the
  // value would become infinite (and converting out of range is undefined behaviour in C++).
  const double limit = double(std::numeric_limits<float>::max()) + std::ldexp(1.0, 103);
  if (!std::isfinite(d) || std::fabs(d) >= limit)
    at.fail(fmt::format("{} is outside the float32 range", d));
  return static_cast<float>(d);
}

std::vector<float> json_to_float_list(const json& value, const JsonLocation& at) {
  if (value.is_number()) return {json_to_float(value, at)};
  if (!value.is_array())
    at.fail(fmt::format("expected a number or a list of numbers, got {}", json_type_name(value)));
  if (value.empty()) at.fail("expected a number or a list of numbers, got an empty list");
  std::vector<float> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(json_to_float(value[i], at.index(i)));
  return out;
}

FloatMatrix json_to_float_matrix(const json& value, const JsonLocation& at) {
  if (!value.is_array() || value.empty() || !value[0].is_array() || value[0].empty())
    at.fail("expected a non-empty list of non-empty lists of numbers (a matrix)");
  if (value.size() > std::size_t(std::numeric_limits<int>::max()) ||
      value[0].size() > std::size_t(std::numeric_limits<int>::max()))
    at.fail("matrix too large");
  FloatMatrix m;
  m.rows = static_cast<int>(value.size());
  m.cols = static_cast<int>(value[0].size());
  m.values.reserve(std::size_t(m.rows) * std::size_t(m.cols));
  for (std::size_t r = 0; r < value.size(); ++r) {
    const json& row = value[r];
    if (!row.is_array() || row.size() != std::size_t(m.cols))
      at.index(r).fail(
          fmt::format("expected a row of {} numbers (every row as long as the first)", m.cols));
    for (std::size_t c = 0; c < row.size(); ++c)
      m.values.push_back(json_to_float(row[c], at.index(r).index(c)));
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Float formatting

namespace {

// Shortest scientific digits of f ("8.1e-02") that read back through a double as exactly f.
// The float-shortest form nearly always does; a double rounding can in principle break it, so
// fall back to the double-shortest form of the same value, which is exact by construction.
std::string shortest_scientific(float f) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  *res.ptr = '\0';
  if (static_cast<float>(std::strtod(buf, nullptr)) != f) {
    res =
        std::to_chars(buf, buf + sizeof buf, static_cast<double>(f), std::chars_format::scientific);
    *res.ptr = '\0';
  }
  return std::string(buf, res.ptr);
}

}  // namespace

std::string format_float_python(float f) {
  SPIKELINE_ASSERT(std::isfinite(f));
  if (f == 0.0f) return std::signbit(f) ? "-0.0" : "0.0";
  const std::string sci = shortest_scientific(f);  // [-]d[.ddd]e[+-]XX
  const auto e_pos = sci.find('e');
  std::string_view mantissa(sci.data(), e_pos);
  const bool negative = mantissa.front() == '-';
  if (negative) mantissa.remove_prefix(1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);

  std::string out = negative ? "-" : "";
  // Python's repr switches to exponent notation outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out.append(".").append(digits, 1);
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  } else if (exponent < 0) {
    out += "0.";
    out.append(std::size_t(-exponent - 1), '0');
    out += digits;
  } else {
    const std::size_t int_digits = std::size_t(exponent) + 1;
    if (digits.size() <= int_digits) {
      out.append(digits).append(int_digits - digits.size(), '0').append(".0");
    } else {
      out.append(digits, 0, int_digits).append(".").append(digits, int_digits);
    }
  }
  return out;
}

double float_as_short_double(float f) {
  return std::strtod(format_float_python(f).c_str(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

constexpr int kMaxLayerWidth = 1 << 24;
constexpr int kMaxResidualDepth = 32;

// (fmt::join trips a GCC 12 -Wstringop-overflow false positive at -O3, hence this helper.)
std::string join(std::initializer_list<std::string_view> items, std::string_view separator) {
  std::string out;
  for (std::string_view item : items) (out.empty() ? out : out.append(separator)).append(item);
  return out;
}

void check_keys(const json& obj, std::initializer_list<std::string_view> allowed,
                const JsonLocation& at) {
  for (const auto& [key, _] : obj.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      at.fail(fmt::format("unknown key '{}' (valid: {})", key, join(allowed, ", ")));
}

const json* find_key(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const json& require_key(const json& obj, std::string_view key, const JsonLocation& at) {
  const json* v = find_key(obj, key);
  if (!v) at.fail(fmt::format("missing key '{}'", key));
  return *v;
}

// An integer JSON value; parsed documents store non-negative integers as unsigned, documents
// built in code as signed, so both are read.
std::optional<std::int64_t> json_integer(const json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return std::nullopt;
}

int json_to_width(const json& value, const JsonLocation& at) {
  if (!value.is_number_integer())
    at.fail(fmt::format("expected an integer, got {}", json_type_name(value)));
  const auto n = json_integer(value);
  if (!n || *n < 1 || *n > kMaxLayerWidth)
    at.fail(fmt::format("must be an integer in [1, {}], got {}", kMaxLayerWidth, value.dump()));
  return static_cast<int>(*n);
}

std::string json_to_string(const json& value, const JsonLocation& at) {
  if (!value.is_string()) at.fail(fmt::format("expected a string, got {}", json_type_name(value)));
  return value.get<std::string>();
}

bool json_to_bool(const json& value, const JsonLocation& at) {
  if (!value.is_boolean())
    at.fail(fmt::format("expected true or false, got {}", json_type_name(value)));
  return value.get<bool>();
}

SpikeFn json_to_spike_fn(const json& value, const JsonLocation& at) {
  const std::string name = json_to_string(value, at);
  try {
    return spike_fn_from_name(name);
  } catch (const InputError& e) {
    at.fail(e.what());
  }
}

std::string default_layer_name(std::size_t index, std::string_view type) {
  const std::string_view cls = type == "linear" ? "LinearTorch"
                               : type == "lif"  ? "LIFTorch"
                                                : "TorchResidual";
  return fmt::format("{}_{}", index, cls);
}

// Reads layer descriptions in order, tracking the running width so sizes can be left out, and
// initialising absent weights from the generator (in layer order, like make_architecture).
class DescriptionReader {
 public:
  explicit DescriptionReader(Rng& rng) : rng_(rng) {}

  std::vector<Layer> sequence(const json& list, const JsonLocation& at, std::optional<int>& width,
                              int depth) {
    if (!list.is_array())
      at.fail(fmt::format("expected a list of layers, got {}", json_type_name(list)));
    if (list.empty()) at.fail("expected at least one layer");
    std::vector<Layer> layers;
    for (std::size_t i = 0; i < list.size(); ++i)
      layers.push_back(layer(list[i], i, at.index(i), width, depth));
    return layers;
  }

 private:
  Layer layer(const json& obj, std::size_t index, const JsonLocation& at, std::optional<int>& width,
              int depth) {
    if (!obj.is_object())
      at.fail(fmt::format("expected a layer object, got {}", json_type_name(obj)));
    const std::string type = json_to_string(require_key(obj, "type", at), at.field("type"));
    if (type != "linear" && type != "lif" && type != "residual")
      at.field("type").fail(
          fmt::format("unknown layer type '{}' (valid: linear, lif, residual)", type));
    Layer out;
    const json* name = find_key(obj, "name");
    out.name = name ? json_to_string(*name, at.field("name")) : default_layer_name(index, type);
    if (type == "linear") {
      out.op = linear(obj, at, width);
    } else if (type == "lif") {
      out.op = lif(obj, at, width);
    } else {
      check_keys(obj, {"type", "name", "body"}, at);
      if (depth >= kMaxResidualDepth)
        at.fail(fmt::format("residual blocks nested deeper than {}", kMaxResidualDepth));
      // The body's output width is the residual's output width (validate() checks it matches).
      out.op = Residual{sequence(require_key(obj, "body", at), at.field("body"), width, depth + 1)};
    }
    return out;
  }

  Linear linear(const json& obj, const JsonLocation& at, std::optional<int>& width) {
    check_keys(obj, {"type", "name", "n_in", "n_out", "weight", "bias"}, at);
    Linear lin;
    const json* n_in = find_key(obj, "n_in");
    const json* n_out = find_key(obj, "n_out");
    if (const json* weight = find_key(obj, "weight")) {
      FloatMatrix m = json_to_float_matrix(*weight, at.field("weight"));
      lin.n_in = m.rows;
      lin.n_out = m.cols;
      lin.weight = std::move(m.values);
      if (n_in && json_to_width(*n_in, at.field("n_in")) != lin.n_in)
        at.field("n_in").fail(fmt::format("is {} but weight has {} rows", n_in->dump(), lin.n_in));
      if (n_out && json_to_width(*n_out, at.field("n_out")) != lin.n_out)
        at.field("n_out").fail(
            fmt::format("is {} but weight has {} columns", n_out->dump(), lin.n_out));
    } else {
      if (!n_out) at.fail("needs 'n_out' (or a 'weight' matrix)");
      lin.n_out = json_to_width(*n_out, at.field("n_out"));
      if (n_in) {
        lin.n_in = json_to_width(*n_in, at.field("n_in"));
      } else if (width) {
        lin.n_in = *width;
      } else {
        at.fail("needs 'n_in' (or a 'weight' matrix): nothing precedes it to take the width from");
      }
      spend(std::size_t(lin.n_in) * std::size_t(lin.n_out), at);
      lin.weight = init_linear_weight(lin.n_in, lin.n_out, rng_);
    }
    if (const json* bias = find_key(obj, "bias")) {
      if (!bias->is_array()) at.field("bias").fail("expected a list of n_out numbers");
      lin.bias = json_to_float_list(*bias, at.field("bias"));
    }
    width = lin.n_out;
    return lin;
  }

  LIF lif(const json& obj, const JsonLocation& at, std::optional<int>& width) {
    check_keys(
        obj,
        {"type", "name", "n", "tau_mem", "tau_syn", "threshold", "bias", "dt", "learning_window",
         "max_spikes_per_dt", "noise_std", "spike_fn", "recurrent", "w_rec"},
        at);
    LIF lif;
    auto per_neuron = [&](const char* key, std::vector<float>& target) {
      if (const json* v = find_key(obj, key)) target = json_to_float_list(*v, at.field(key));
    };
    auto scalar = [&](const char* key, float& target) {
      if (const json* v = find_key(obj, key)) target = json_to_float(*v, at.field(key));
    };
    per_neuron("tau_mem", lif.tau_mem);
    per_neuron("tau_syn", lif.tau_syn);
    per_neuron("threshold", lif.threshold);
    per_neuron("bias", lif.bias);
    scalar("dt", lif.dt);
    scalar("learning_window", lif.learning_window);
    scalar("max_spikes_per_dt", lif.max_spikes_per_dt);
    scalar("noise_std", lif.noise_std);
    if (const json* v = find_key(obj, "spike_fn"))
      lif.spike_fn = json_to_spike_fn(*v, at.field("spike_fn"));

    std::optional<FloatMatrix> w_rec;
    if (const json* v = find_key(obj, "w_rec")) {
      w_rec = json_to_float_matrix(*v, at.field("w_rec"));
      if (w_rec->rows != w_rec->cols)
        at.field("w_rec").fail(fmt::format("must be square, got {}x{}", w_rec->rows, w_rec->cols));
    }
    const json* recurrent = find_key(obj, "recurrent");
    lif.has_rec = recurrent ? json_to_bool(*recurrent, at.field("recurrent")) : w_rec.has_value();
    if (w_rec && !lif.has_rec) at.field("w_rec").fail("given but 'recurrent' is false");

    // Size: explicit n, else w_rec, else a per-neuron vector, else the preceding layer's width.
    if (const json* n = find_key(obj, "n")) {
      lif.n = json_to_width(*n, at.field("n"));
    } else if (w_rec) {
      lif.n = w_rec->rows;
    } else if (const std::size_t longest = std::max(
                   {lif.tau_mem.size(), lif.tau_syn.size(), lif.threshold.size(), lif.bias.size()});
               longest > 1) {
      lif.n = static_cast<int>(longest);
    } else if (width) {
      lif.n = *width;
    } else {
      at.fail("needs 'n': nothing precedes it to take the width from");
    }
    if (w_rec) {
      lif.w_rec = std::move(w_rec->values);
    } else if (lif.has_rec) {
      spend(std::size_t(lif.n) * std::size_t(lif.n), at);
      lif.w_rec = init_recurrent_weight(lif.n, rng_);
    }
    width = lif.n;
    return lif;
  }

  void spend(std::size_t n_weights, const JsonLocation& at) {
    if (n_weights > budget_)
      at.fail(
          fmt::format("too many weights to initialise (limit {} in all)", kMaxGeneratedParameters));
    budget_ -= n_weights;
  }

  Rng& rng_;
  std::size_t budget_ = kMaxGeneratedParameters;
};

NeuronParams neuron_params_from_json(const json& obj, const JsonLocation& at) {
  if (!obj.is_object()) at.fail(fmt::format("expected an object, got {}", json_type_name(obj)));
  check_keys(obj,
             {"tau_mem", "tau_syn", "threshold", "bias", "dt", "learning_window",
              "max_spikes_per_dt", "spike_fn"},
             at);
  NeuronParams p;
  auto scalar = [&](const char* key, float& target) {
    if (const json* v = find_key(obj, key)) target = json_to_float(*v, at.field(key));
  };
  scalar("tau_mem", p.tau_mem);
  scalar("tau_syn", p.tau_syn);
  scalar("threshold", p.threshold);
  scalar("bias", p.bias);
  scalar("dt", p.dt);
  scalar("learning_window", p.learning_window);
  scalar("max_spikes_per_dt", p.max_spikes_per_dt);
  if (const json* v = find_key(obj, "spike_fn"))
    p.spike_fn = json_to_spike_fn(*v, at.field("spike_fn"));
  return p;
}

Network architecture_from_json(const json& doc, const JsonLocation& at, Rng& init_rng) {
  check_keys(doc,
             {"format", "version", "architecture", "n_in", "n_hidden", "n_out", "neuron", "seed"},
             at);
  const std::string name =
      json_to_string(require_key(doc, "architecture", at), at.field("architecture"));
  const int n_in = json_to_width(require_key(doc, "n_in", at), at.field("n_in"));
  const int n_hidden = json_to_width(require_key(doc, "n_hidden", at), at.field("n_hidden"));
  const int n_out = json_to_width(require_key(doc, "n_out", at), at.field("n_out"));
  const json* neuron = find_key(doc, "neuron");
  const NeuronParams params =
      neuron ? neuron_params_from_json(*neuron, at.field("neuron")) : NeuronParams{};
  std::optional<Rng> own_rng;
  if (const json* seed = find_key(doc, "seed")) {
    const bool non_negative =
        seed->is_number_unsigned() || (seed->is_number_integer() && seed->get<std::int64_t>() >= 0);
    if (!non_negative) at.field("seed").fail("expected a non-negative integer");
    own_rng.emplace(seed->get<std::uint64_t>());
  }
  try {
    return make_architecture(name, n_in, n_hidden, n_out, params, own_rng ? *own_rng : init_rng);
  } catch (const InputError& e) {
    at.fail(e.what());
  }
}

}  // namespace

Network network_from_json(const json& doc, const std::string& source, Rng& init_rng) {
  const JsonLocation top{source, ""};
  if (!doc.is_object())
    top.fail(fmt::format("expected a JSON object, got {}", json_type_name(doc)));
  const std::string format = json_to_string(require_key(doc, "format", top), top.field("format"));
  if (format != kNetworkFormatName)
    top.field("format").fail(
        fmt::format("expected \"{}\", got \"{}\"", kNetworkFormatName, format));
  if (const json* version = find_key(doc, "version")) {
    if (json_integer(*version) != std::optional<std::int64_t>(kNetworkFormatVersion))
      top.field("version").fail(fmt::format("unsupported version {} (this build reads version {})",
                                            version->dump(), kNetworkFormatVersion));
  }
  const bool has_layers = doc.contains("layers");
  const bool has_architecture = doc.contains("architecture");
  if (has_layers == has_architecture)
    top.fail(
        "needs exactly one of 'layers' (a layer list) or 'architecture' (a named architecture)");

  Network net;
  if (has_architecture) {
    net = architecture_from_json(doc, top, init_rng);
  } else {
    check_keys(doc, {"format", "version", "layers"}, top);
    std::optional<int> width;
    net.layers = DescriptionReader(init_rng).sequence(doc["layers"], top.field("layers"), width, 0);
  }
  try {
    net.validate();
  } catch (const InputError& e) {
    top.fail(e.what());
  }
  return net;
}

Network network_from_json_text(std::string_view text, const std::string& source, Rng& init_rng) {
  return network_from_json(parse_json(text, source), source, init_rng);
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

json float_value(float f) { return float_as_short_double(f); }

json float_list(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) out.push_back(float_value(v));
  return out;
}

// A per-neuron parameter: a plain number when it is shared by all neurons.
json per_neuron_value(const std::vector<float>& values) {
  return values.size() == 1 ? float_value(values[0]) : float_list(values);
}

json float_matrix(const std::vector<float>& values, int rows, int cols) {
  json out = json::array();
  for (int r = 0; r < rows; ++r) {
    json row = json::array();
    for (int c = 0; c < cols; ++c) row.push_back(float_value(values[std::size_t(r) * cols + c]));
    out.push_back(std::move(row));
  }
  return out;
}

json layers_to_json(const std::vector<Layer>& layers, bool include_weights) {
  json out = json::array();
  for (const Layer& layer : layers) {
    json j = {{"name", layer.name}};
    if (const auto* lin = std::get_if<Linear>(&layer.op)) {
      j["type"] = "linear";
      j["n_in"] = lin->n_in;
      j["n_out"] = lin->n_out;
      if (include_weights) {
        j["weight"] = float_matrix(lin->weight, lin->n_in, lin->n_out);
        if (!lin->bias.empty()) j["bias"] = float_list(lin->bias);
      }
    } else if (const auto* lif = std::get_if<LIF>(&layer.op)) {
      j["type"] = "lif";
      j["n"] = lif->n;
      j["tau_mem"] = per_neuron_value(lif->tau_mem);
      j["tau_syn"] = per_neuron_value(lif->tau_syn);
      j["threshold"] = per_neuron_value(lif->threshold);
      j["bias"] = per_neuron_value(lif->bias);
      j["dt"] = float_value(lif->dt);
      j["learning_window"] = float_value(lif->learning_window);
      j["max_spikes_per_dt"] = float_value(lif->max_spikes_per_dt);
      j["noise_std"] = float_value(lif->noise_std);
      j["spike_fn"] = std::string(spike_fn_name(lif->spike_fn));
      j["recurrent"] = lif->has_rec;
      if (include_weights && lif->has_rec) j["w_rec"] = float_matrix(lif->w_rec, lif->n, lif->n);
    } else {
      j["type"] = "residual";
      j["body"] = layers_to_json(std::get<Residual>(layer.op).body, include_weights);
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

json network_to_json(const Network& net, bool include_weights) {
  return {{"format", kNetworkFormatName},
          {"version", kNetworkFormatVersion},
          {"layers", layers_to_json(net.layers, include_weights)}};
}

std::string network_to_json_text(const Network& net, bool include_weights) {
  const json layers = layers_to_json(net.layers, include_weights);
  std::string out = fmt::format("{{\n  \"format\": \"{}\",\n  \"version\": {},\n  \"layers\": [\n",
                                kNetworkFormatName, kNetworkFormatVersion);
  for (std::size_t i = 0; i < layers.size(); ++i)
    out += "    " + layers[i].dump() + (i + 1 < layers.size() ? ",\n" : "\n");
  out += "  ]\n}\n";
  return out;
}

}  // namespace spikeline::snn
