// The spiking-network value type: shapes, validation, parameter views and the thesis architectures.
#include "spikeline/snn/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "spikeline/core/error.hpp"

namespace spikeline::snn {

std::string_view spike_fn_name(SpikeFn f) {
  switch (f) {
    case SpikeFn::StepPWL:
      return "StepPWL";
    case SpikeFn::PeriodicExponential:
      return "PeriodicExponential";
    case SpikeFn::Softplus:
      return "Softplus";
  }
  SPIKELINE_ASSERT(false && "unknown SpikeFn");
  return {};
}

SpikeFn spike_fn_from_name(std::string_view name) {
  if (name == "StepPWL") return SpikeFn::StepPWL;
  if (name == "PeriodicExponential") return SpikeFn::PeriodicExponential;
  if (name == "Softplus") return SpikeFn::Softplus;
  throw InputError("", fmt::format("unknown spike function '{}' (valid: StepPWL, "
                                   "PeriodicExponential, Softplus)",
                                   std::string(name)));
}

// ---------------------------------------------------------------------------------------------
// Sizes

namespace {

int layer_size_in(const Layer& layer);
int layer_size_out(const Layer& layer);

int sequence_size_in(const std::vector<Layer>& layers) {
  return layers.empty() ? 0 : layer_size_in(layers.front());
}
int sequence_size_out(const std::vector<Layer>& layers) {
  return layers.empty() ? 0 : layer_size_out(layers.back());
}

int layer_size_in(const Layer& layer) {
  if (const auto* lin = std::get_if<Linear>(&layer.op)) return lin->n_in;
  if (const auto* lif = std::get_if<LIF>(&layer.op)) return lif->n;
  return sequence_size_in(std::get<Residual>(layer.op).body);
}

int layer_size_out(const Layer& layer) {
  if (const auto* lin = std::get_if<Linear>(&layer.op)) return lin->n_out;
  if (const auto* lif = std::get_if<LIF>(&layer.op)) return lif->n;
  // A residual adds its input to its body's output, so both sides have the same width.
  return sequence_size_out(std::get<Residual>(layer.op).body);
}

}  // namespace

int Network::n_in() const { return sequence_size_in(layers); }
int Network::n_out() const { return sequence_size_out(layers); }

// ---------------------------------------------------------------------------------------------
// Validation

namespace {

// Deep enough for any sensible model; bounds the recursion of every walker over the layer tree.
constexpr int kMaxResidualDepth = 32;

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

bool is_valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

void check_finite(const std::vector<float>& values, const std::string& path, const char* field) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw InputError(path, fmt::format("{}[{}] is not finite ({})", field, i, values[i]));
}

void check_size(std::size_t actual, std::size_t expected, const std::string& path,
                const char* field, std::string_view expected_what) {
  if (actual != expected)
    throw InputError(path, fmt::format("{} has {} values, expected {} = {}", field, actual,
                                       expected_what, expected));
}

// A per-neuron parameter: 1 value (broadcast) or n values, each finite and (if asked) > 0.
void check_per_neuron(const std::vector<float>& values, int n, bool positive,
                      const std::string& path, const char* field) {
  if (values.size() != 1 && values.size() != static_cast<std::size_t>(n))
    throw InputError(
        path, fmt::format("{} has {} values, expected 1 or n = {}", field, values.size(), n));
  check_finite(values, path, field);
  if (positive)
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!(values[i] > 0.0f))
        throw InputError(path, fmt::format("{}[{}] must be > 0, got {}", field, i, values[i]));
}

void check_scalar(float value, bool allow_zero, const std::string& path, const char* field) {
  if (!std::isfinite(value))
    throw InputError(path, fmt::format("{} is not finite ({})", field, value));
  if (allow_zero ? value < 0.0f : !(value > 0.0f))
    throw InputError(path,
                     fmt::format("{} must be {} 0, got {}", field, allow_zero ? ">=" : ">", value));
}

void validate_linear(const Linear& lin, const std::string& path) {
  if (lin.n_in <= 0) throw InputError(path, fmt::format("n_in must be > 0, got {}", lin.n_in));
  if (lin.n_out <= 0) throw InputError(path, fmt::format("n_out must be > 0, got {}", lin.n_out));
  check_size(lin.weight.size(), std::size_t(lin.n_in) * std::size_t(lin.n_out), path, "weight",
             fmt::format("n_in*n_out = {}*{}", lin.n_in, lin.n_out));
  check_finite(lin.weight, path, "weight");
  if (!lin.bias.empty()) {
    check_size(lin.bias.size(), lin.n_out, path, "bias", "n_out");
    check_finite(lin.bias, path, "bias");
  }
}

void validate_lif(const LIF& lif, const std::string& path) {
  if (lif.n <= 0) throw InputError(path, fmt::format("n must be > 0, got {}", lif.n));
  check_per_neuron(lif.tau_mem, lif.n, true, path, "tau_mem");
  check_per_neuron(lif.tau_syn, lif.n, true, path, "tau_syn");
  check_per_neuron(lif.threshold, lif.n, true, path, "threshold");
  check_per_neuron(lif.bias, lif.n, false, path, "bias");
  check_scalar(lif.dt, false, path, "dt");
  check_scalar(lif.learning_window, false, path, "learning_window");
  check_scalar(lif.max_spikes_per_dt, false, path, "max_spikes_per_dt");
  check_scalar(lif.noise_std, true, path, "noise_std");
  if (lif.has_rec) {
    check_size(lif.w_rec.size(), std::size_t(lif.n) * std::size_t(lif.n), path, "w_rec",
               fmt::format("n*n = {}*{}", lif.n, lif.n));
    check_finite(lif.w_rec, path, "w_rec");
  } else if (!lif.w_rec.empty()) {
    throw InputError(path, "w_rec is set but has_rec is false");
  }
}

// Validates a sequence of layers fed with `size_in` values (nullopt: the network's input, any
// width). Returns the width of its output.
int validate_sequence(const std::vector<Layer>& layers, std::optional<int> size_in,
                      const std::string& prefix, int depth);

void validate_layer(const Layer& layer, std::optional<int> size_in, const std::string& path,
                    int depth) {
  const int expected_in = layer_size_in(layer);
  if (const auto* lin = std::get_if<Linear>(&layer.op)) {
    validate_linear(*lin, path);
  } else if (const auto* lif = std::get_if<LIF>(&layer.op)) {
    validate_lif(*lif, path);
  } else {
    if (depth >= kMaxResidualDepth)
      throw InputError(path,
                       fmt::format("residual blocks nested deeper than {}", kMaxResidualDepth));
    const auto& body = std::get<Residual>(layer.op).body;
    if (body.empty()) throw InputError(path, "residual body has no layers");
    const int body_out = validate_sequence(body, size_in, path, depth + 1);
    const int body_in = sequence_size_in(body);
    if (body_out != body_in)
      throw InputError(path, fmt::format("residual body maps {} to {} values; a residual needs "
                                         "size_in == size_out",
                                         body_in, body_out));
    return;  // the body checked its own input width
  }
  if (size_in && *size_in != expected_in)
    throw InputError(path, fmt::format("takes {} inputs but the preceding layer outputs {}",
                                       expected_in, *size_in));
}

int validate_sequence(const std::vector<Layer>& layers, std::optional<int> size_in,
                      const std::string& prefix, int depth) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    if (!is_valid_name(layer.name))
      throw InputError(
          join_path(prefix, fmt::format("layer[{}]", i)),
          fmt::format("invalid layer name '{}' (use letters, digits, '_' and '-')", layer.name));
    const std::string path = join_path(prefix, layer.name);
    if (!names.insert(layer.name).second) throw InputError(path, "duplicate layer name");
    validate_layer(layer, size_in, path, depth);
    size_in = layer_size_out(layer);
  }
  return size_in.value_or(0);
}

}  // namespace

void Network::validate() const {
  if (layers.empty()) throw InputError("", "network has no layers");
  validate_sequence(layers, std::nullopt, "", 0);
}

// ---------------------------------------------------------------------------------------------
// Parameters

namespace {

void collect_parameters(std::vector<Layer>& layers, const std::string& prefix,
                        std::vector<ParamRef>& out) {
  for (Layer& layer : layers) {
    const std::string path = join_path(prefix, layer.name);
    if (auto* lin = std::get_if<Linear>(&layer.op)) {
      out.push_back(
          {path + ".weight", Shape{std::size_t(lin->n_in), std::size_t(lin->n_out)}, &lin->weight});
      if (!lin->bias.empty())
        out.push_back({path + ".bias", Shape{std::size_t(lin->n_out)}, &lin->bias});
    } else if (auto* lif = std::get_if<LIF>(&layer.op)) {
      if (lif->has_rec)
        out.push_back(
            {path + ".w_rec", Shape{std::size_t(lif->n), std::size_t(lif->n)}, &lif->w_rec});
    } else {
      collect_parameters(std::get<Residual>(layer.op).body, path, out);
    }
  }
}

std::size_t count_parameters(const std::vector<Layer>& layers) {
  std::size_t count = 0;
  for (const Layer& layer : layers) {
    if (const auto* lin = std::get_if<Linear>(&layer.op))
      count += lin->weight.size() + lin->bias.size();
    else if (const auto* lif = std::get_if<LIF>(&layer.op))
      count += lif->has_rec ? lif->w_rec.size() : 0;
    else
      count += count_parameters(std::get<Residual>(layer.op).body);
  }
  return count;
}

}  // namespace

std::vector<ParamRef> trainable_parameters(Network& net) {
  std::vector<ParamRef> out;
  collect_parameters(net.layers, "", out);
  return out;
}

std::size_t parameter_count(const Network& net) { return count_parameters(net.layers); }

// ---------------------------------------------------------------------------------------------
// Architectures

namespace {

// Rockpool's Sequential names submodule i of class C "{i}_{C}".
std::string index_name(std::size_t index, std::string_view class_name) {
  return std::to_string(index) + "_" + std::string(class_name);
}

// sqrt(6 / fan_in), computed in double and rounded once, as Python computes it before torch draws.
float kaiming_bound(int fan_in) { return static_cast<float>(std::sqrt(6.0 / fan_in)); }

std::vector<float> uniform_weights(std::size_t count, int fan_in, Rng& rng) {
  std::vector<float> w(count);
  const float bound = kaiming_bound(fan_in);
  for (float& x : w) x = rng.uniform(-bound, bound);
  return w;
}

LIF make_lif(int n, const NeuronParams& p, bool recurrent, Rng& rng) {
  LIF lif;
  lif.n = n;
  lif.tau_mem = {p.tau_mem};
  lif.tau_syn = {p.tau_syn};
  lif.threshold = {p.threshold};
  lif.bias = {p.bias};
  lif.dt = p.dt;
  lif.learning_window = p.learning_window;
  lif.max_spikes_per_dt = p.max_spikes_per_dt;
  lif.spike_fn = p.spike_fn;
  lif.has_rec = recurrent;
  if (recurrent) lif.w_rec = init_recurrent_weight(n, rng);
  return lif;
}

// Appends layers with Rockpool's names, drawing initial weights in construction order.
class SequenceBuilder {
 public:
  SequenceBuilder(const NeuronParams& neuron, Rng& rng, std::size_t& budget)
      : neuron_(neuron), rng_(rng), budget_(budget) {}

  SequenceBuilder& linear(int n_in, int n_out) {
    spend(std::size_t(n_in) * std::size_t(n_out));
    return add("LinearTorch", Linear{n_in, n_out, init_linear_weight(n_in, n_out, rng_), {}});
  }
  SequenceBuilder& lif(int n, bool recurrent = false) {
    if (recurrent) spend(std::size_t(n) * std::size_t(n));
    return add("LIFTorch", make_lif(n, neuron_, recurrent, rng_));
  }
  // Residual[Lin(n,n) -> LIF(n)]: the block the thesis stacks in its *_res architectures.
  SequenceBuilder& residual_block(int n) {
    SequenceBuilder body(neuron_, rng_, budget_);
    body.linear(n, n).lif(n);
    return add("TorchResidual", Residual{std::move(body.layers_)});
  }
  std::vector<Layer> take() { return std::move(layers_); }

 private:
  template <class Op>
  SequenceBuilder& add(std::string_view class_name, Op op) {
    layers_.push_back(Layer{index_name(layers_.size(), class_name), std::move(op)});
    return *this;
  }
  void spend(std::size_t n_weights) {
    if (n_weights > budget_)
      throw InputError("architecture", fmt::format("too many weights to initialise (limit {} in "
                                                   "all); reduce the layer widths",
                                                   kMaxGeneratedParameters));
    budget_ -= n_weights;
  }
  const NeuronParams& neuron_;
  Rng& rng_;
  std::size_t& budget_;
  std::vector<Layer> layers_;
};

// (fmt::join trips a GCC 12 -Wstringop-overflow false positive at -O3, hence this helper.)
std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) (i ? out.append(separator) : out).append(items[i]);
  return out;
}

// Largest hidden/input/output width accepted: keeps a typo from allocating terabytes.
constexpr int kMaxArchitectureWidth = 1 << 16;

void check_width(int value, const char* field) {
  if (value <= 0 || value > kMaxArchitectureWidth)
    throw InputError(field,
                     fmt::format("must be in [1, {}], got {}", kMaxArchitectureWidth, value));
}

}  // namespace

std::vector<float> init_linear_weight(int n_in, int n_out, Rng& rng) {
  SPIKELINE_ASSERT(n_in > 0 && n_out > 0);
  return uniform_weights(std::size_t(n_in) * std::size_t(n_out), n_in, rng);
}

std::vector<float> init_recurrent_weight(int n, Rng& rng) {
  SPIKELINE_ASSERT(n > 0);
  return uniform_weights(std::size_t(n) * std::size_t(n), n, rng);
}

std::vector<std::string> architecture_names() {
  return {"ff_simple", "ff_deep", "ff_deep_res", "ff_deep_deep_res", "rec_simple", "rec_deep"};
}

Network make_architecture(std::string_view name, int n_in, int n_hidden, int n_out,
                          const NeuronParams& neuron, Rng& rng) {
  const auto names = architecture_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw InputError("architecture", fmt::format("unknown architecture '{}' (valid: {})",
                                                 std::string(name), join(names, ", ")));
  check_width(n_in, "n_in");
  check_width(n_hidden, "n_hidden");
  check_width(n_out, "n_out");

  // Layer tables as in the thesis's lib/xylo_networks.py (docs/reference/lif.md section 7).
  std::size_t budget = kMaxGeneratedParameters;
  SequenceBuilder b(neuron, rng, budget);
  b.linear(n_in, n_hidden);
  if (name == "ff_simple") {
    b.lif(n_hidden);
  } else if (name == "ff_deep") {
    b.lif(n_hidden).linear(n_hidden, n_hidden).lif(n_hidden);
  } else if (name == "ff_deep_res") {
    b.lif(n_hidden).residual_block(n_hidden);
  } else if (name == "ff_deep_deep_res") {
    b.lif(n_hidden).residual_block(n_hidden).residual_block(n_hidden);
  } else if (name == "rec_simple") {
    b.lif(n_hidden, /*recurrent=*/true);
  } else {  // rec_deep
    b.lif(n_hidden).linear(n_hidden, n_hidden).lif(n_hidden, /*recurrent=*/true);
  }
  b.linear(n_hidden, n_out).lif(n_out);

  Network net{b.take()};
  net.validate();  // catches bad neuron parameters (e.g. tau <= 0) with the layer named
  return net;
}

}  // namespace spikeline::snn
