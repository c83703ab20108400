#pragma once
// Quantisation-aware fine-tuning (QAT) for Xylo (`spikeline xylo finetune`, docs/xylo.md): a
// training checkpoint, pruned for deployment, is trained further through the chip's integer
// quantisation with a straight-through estimator. Before every batch the network's weights are
// replaced by fake-quantised copies (quantised exactly as hw/xylo's global or channel quantisation
// does, with the stored activity factors, then divided by each neuron's scale back to float
// scale); the gradient taken there updates the float master weights. The epoch kept is the one
// whose bit-accurate simulation scores best on the validation split.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spikeline/hw/xylo/factors.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::hw::xylo {

struct FakeQuantOptions {
  QuantizeMethod method = QuantizeMethod::Global;  // Rockpool's method without its 2.7 bugs
  ActivityFactors factors;
  DashZeroFix dash_fix = DashZeroFix::PerNeuron;
  // Taus from the integer dashes: the chip decays by v -= v >> dash, i.e. by (1 - 2^-dash) per
  // step, so tau = -dt / ln(1 - 2^-dash) gives the float model the chip's decay.
  bool match_decay = true;
  // Weights that are 0 in the network given to the constructor stay 0 (the deployment pruning's
  // sparsity pattern, so the fan-out limit keeps holding while weights train).
  bool freeze_zeros = true;
};

// Per-neuron factors from the integers back to float scale: hidden[j] for hidden neuron j (its
// input weights, threshold and bias), out[k] for readout k. Dividing all of a neuron's integers by
// one factor does not change when it spikes (the dynamics are linear in weights, threshold and
// bias; the chip's integer rounding of the states aside); the factor includes the activity factors, so dequantised weights sit next
// to the float weights they came from.
struct DequantScales {
  std::vector<double> hidden, out;
};
// The scales `quantize(factored, {method})` used (without Rockpool's bugs): 127 / max |w| per
// matrix (global) or per target neuron (channel), times the 16-bit threshold rescale when it
// applied, times the activity factors.
DequantScales dequant_scales(const FloatSpec& factored, QuantizeMethod method, const ActivityFactors& factors);

class FakeQuantizer {
 public:
  // Records where every trainable weight of `net` lands in the Xylo specification, from the mapper
  // itself (a copy whose weights are their own indices is mapped). InputError when the network
  // cannot be mapped (design rules) or has more than 2^24 weights.
  FakeQuantizer(const snn::Network& net, FakeQuantOptions options);

  // `master` with the frozen zeros applied (what would be deployed).
  snn::Network masked(const snn::Network& master) const;
  // The integer configuration of (masked) `master`: quantize_with_factors(map_network(.).spec, ...).
  IntSpec quantize(const snn::Network& master) const;
  // forward = (masked) master with every mapped weight, and each LIF's thresholds and biases (and
  // taus with match_decay), replaced by integer / scale. Linear biases, which Xylo drops, become 0.
  void apply(const snn::Network& master, snn::Network& forward) const;

  const FakeQuantOptions& options() const { return options_; }

 private:
  enum class Target : std::uint8_t { None, In, Rec, Out };
  struct Location {
    Target target = Target::None;
    std::uint32_t index = 0;  // into the spec array
    std::int32_t neuron = 0;  // the receiving hidden or readout neuron
  };
  struct NeuronLayer {
    std::string path;          // LIF layer path, as the mapper names it
    std::vector<int> ids;      // hidden ids; empty for the readout
  };
  FloatSpec filled(const snn::Network& master) const;  // the mapper's spec of masked master

  FakeQuantOptions options_;
  FloatSpec template_;                          // non-weight fields of the mapped spec
  std::vector<std::vector<Location>> where_;    // [param][element]
  std::vector<std::vector<char>> frozen_;       // [param][element]: held at 0
  std::vector<NeuronLayer> layers_;             // hidden LIF layers, then the readout
};

struct FinetuneOptions {
  std::filesystem::path checkpoint, out, data;  // data: empty = the checkpoint config's data.file
  int epochs = 10;
  double lr = 1e-4;
  std::uint64_t seed = 0;
  int threads = 2;
  bool progress = true;
  std::optional<QuantizeMethod> method;  // default: the stored tuning's method, else global
  int max_fan_out = kDeployMaxFanOut;    // deployment pruning before fine-tuning; 0: none
  bool use_tuning = true;                // apply xylo_tuning.json's activity factors when present
  bool match_decay = true;               // see FakeQuantOptions
  // false: a control run - the same pruning, frozen zeros, epochs and selection by the simulated
  // accuracy, but plain float training (no fake quantisation in the forward pass).
  bool fake_quant = true;
  int batch_size = 0;                    // 0: the checkpoint config's batch size
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct FinetuneEpoch {
  int epoch = 0;  // 1-based
  double loss = 0.0, train_acc = 0.0;
  double fake_quant_val = 0.0;  // float engine on the forward-pass weights (fake-quantised unless the control run)
  double float_val = 0.0;       // float engine on the master weights
  double quantized_val = 0.0;   // bit-accurate simulation
  double seconds = 0.0;
};

struct FinetuneResult {
  double float_val_before = 0.0, quantized_val_before = 0.0;
  double quantized_val_after = 0.0, float_val_after = 0.0;
  int best_epoch = 0;  // 0: no epoch beat the starting point, which is kept
  double seconds = 0.0;
  std::vector<FinetuneEpoch> epochs;
  QuantizeMethod method = QuantizeMethod::Global;
  bool tuned_factors = false;  // the stored activity factors were applied (and carried over)
  train::PruneStats pruned;
};

// Writes into `out` a normal training checkpoint (model_params = the kept epoch, masked; config,
// metadata, log, resume files), the carried-over tuning (xylo_tuning.json with the factors used,
// and the new configuration and accuracies) when factors were applied, and qat.json with the
// figures. InputError when the checkpoint, its data or the network is unusable.
FinetuneResult finetune_checkpoint(const FinetuneOptions& options);

inline constexpr const char* kQatFile = "qat.json";

}  // namespace spikeline::hw::xylo
