#pragma once
// A spiking network as a value: layers with their parameters, serialisable, copyable.
// Semantics (Rockpool 2.7 LinearTorch / LIFTorch / Sequential / Residual): docs/engine.md.
//
// Layouts: Linear.weight is [n_in][n_out] row-major (y = x W); LIF.w_rec is [n][n], row = source
// neuron, column = target. Per-neuron LIF parameters hold either 1 value (scalar, broadcast) or n.
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/core/rng.hpp"

namespace spikeline::snn {

// StepPWL and PeriodicExponential: Rockpool's multi-spike functions (integer event counts) with
// their surrogate gradients. Softplus: a smooth relaxation (S = w * softplus((v - threshold) / w),
// derivative exact), used to check the backward pass against finite differences.
enum class SpikeFn { StepPWL, PeriodicExponential, Softplus };
std::string_view spike_fn_name(SpikeFn f);
SpikeFn spike_fn_from_name(std::string_view name);  // InputError on unknown name

struct Linear {
  int n_in = 0;
  int n_out = 0;
  std::vector<float> weight;  // [n_in][n_out]
  std::vector<float> bias;    // empty (no bias, the thesis) or [n_out]
};

struct LIF {
  int n = 0;
  std::vector<float> tau_mem{0.02f};   // seconds; size 1 or n
  std::vector<float> tau_syn{0.02f};   // seconds; size 1 or n (one synapse per neuron)
  std::vector<float> bias{0.0f};       // added to vmem every step; size 1 or n
  std::vector<float> threshold{1.0f};  // size 1 or n
  float dt = 1e-3f;                    // seconds
  float learning_window = 0.5f;        // surrogate window
  float max_spikes_per_dt = 65536.0f;  // cap on events per neuron per step
  float noise_std = 0.0f;              // membrane noise (forward only; 0 in training by default)
  SpikeFn spike_fn = SpikeFn::StepPWL;
  bool has_rec = false;
  std::vector<float> w_rec;  // [n][n] when has_rec
};

struct Layer;
struct Residual {
  std::vector<Layer> body;  // run in sequence; output = body(x) + x
};

struct Layer {
  std::string name;  // Rockpool-style "{index}_{Class}", e.g. "0_LinearTorch", "2_TorchResidual"
  std::variant<Linear, LIF, Residual> op;
};

struct Network {
  std::vector<Layer> layers;

  int n_in() const;
  int n_out() const;
  // Checks shapes and parameter values; throws InputError naming the layer path and field.
  void validate() const;
};

// A trainable parameter: its dotted path ("2_TorchResidual.0_LinearTorch.weight") and storage.
struct ParamRef {
  std::string path;
  Shape shape;
  std::vector<float>* values;
};
// Trainable parameters in network order: Linear.weight, Linear.bias (if present), LIF.w_rec.
std::vector<ParamRef> trainable_parameters(Network& net);
std::size_t parameter_count(const Network& net);

// Neuron parameters shared by all LIF layers of a generated architecture.
struct NeuronParams {
  float tau_mem = 0.02f;
  float tau_syn = 0.02f;
  float threshold = 1.0f;
  float bias = 0.0f;
  float dt = 1e-3f;
  float learning_window = 0.5f;
  float max_spikes_per_dt = 65536.0f;
  SpikeFn spike_fn = SpikeFn::StepPWL;
};

// Rockpool's default initialisation, drawn i.i.d. in row-major order from `rng`:
// Linear weight [n_in][n_out] ~ U(-sqrt(6/n_in), +sqrt(6/n_in)); w_rec [n][n] ~ U(-sqrt(6/n), +sqrt(6/n)).
std::vector<float> init_linear_weight(int n_in, int n_out, Rng& rng);
std::vector<float> init_recurrent_weight(int n, Rng& rng);

// Most weights a network may have initialised from a seed (architectures, descriptions without
// weights): 2^28 floats = 1 GiB. Keeps a typo in a width from allocating terabytes.
inline constexpr std::size_t kMaxGeneratedParameters = std::size_t{1} << 28;

// The six thesis architectures: ff_simple, ff_deep, ff_deep_res, ff_deep_deep_res, rec_simple,
// rec_deep. Weights initialised as Rockpool does (uniform +-sqrt(6/fan_in)), from `rng`.
std::vector<std::string> architecture_names();
Network make_architecture(std::string_view name, int n_in, int n_hidden, int n_out,
                          const NeuronParams& neuron, Rng& rng);

}  // namespace spikeline::snn
