#include "spikeline/pipeline/xylo_finetune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hw/xylo/evaluate.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/hw/xylo/validate.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/train/checkpoint.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::hw::xylo {

namespace {

constexpr double kWeightMax = 127.0;
constexpr double kThresholdMax = 32767.0;
// Tags must be exact float32 integers.
constexpr std::size_t kMaxTaggedWeights = std::size_t{1} << 24;

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::fabs(static_cast<double>(static_cast<float>(x))));
  return m;
}
// As quantize.cpp rounds: float32 product, half to even.
double round_f32(double value, double scale) {
  return std::nearbyint(static_cast<float>(value) * static_cast<float>(scale));
}
double f32(double x) { return static_cast<double>(static_cast<float>(x)); }

// The 16-bit threshold limit of global quantisation: the integers are shrunk by 32767 / max |thr|.
double global_scale(const std::vector<double>& thresholds, double max_w) {
  double s = max_w != 0.0 ? kWeightMax / max_w : 1.0;
  double m = 0.0;
  for (double t : thresholds) m = std::max(m, std::fabs(round_f32(t, s)));
  if (m > kThresholdMax) s *= kThresholdMax / m;
  return s;
}
// Channel quantisation of one neuron: 127 / max |w| of its inputs, or float32(32767 / threshold).
double channel_scale(double threshold, double max_w) {
  if (max_w == 0.0) return 1.0;
  const double s = kWeightMax / max_w;
  if (std::fabs(round_f32(threshold, s)) > kThresholdMax)
    return static_cast<double>(32767.0f / static_cast<float>(threshold));
  return s;
}

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

snn::LIF* find_lif(std::vector<snn::Layer>& layers, const std::string& prefix, const std::string& path) {
  for (auto& layer : layers) {
    const std::string p = join_path(prefix, layer.name);
    if (auto* lif = std::get_if<snn::LIF>(&layer.op); lif && p == path) return lif;
    if (auto* res = std::get_if<snn::Residual>(&layer.op); res && path.starts_with(p + "."))
      if (auto* found = find_lif(res->body, p, path)) return found;
  }
  return nullptr;
}

// The float tau whose exp(-dt / tau) equals the chip's decay factor 1 - 2^-dash. A dash of 0 erases
// the state every step, which a tiny tau reproduces.
float tau_from_dash(std::int64_t dash, float dt) {
  if (dash <= 0) return dt * 1e-3f;
  const double keep = 1.0 - std::ldexp(1.0, -static_cast<int>(dash));
  return static_cast<float>(-static_cast<double>(dt) / std::log(keep));
}

void set_neuron(std::vector<float>& v, int n, int i, float value) {
  if (v.size() != std::size_t(n)) v.assign(std::size_t(n), v.empty() ? 0.0f : v[0]);
  v[std::size_t(i)] = value;
}

}  // namespace

DequantScales dequant_scales(const FloatSpec& f, QuantizeMethod method, const ActivityFactors& factors) {
  DequantScales d;
  d.hidden.assign(std::size_t(f.n_hid), 1.0);
  d.out.assign(std::size_t(f.n_out), 1.0);
  const double g = f32(factors.global);
  if (method == QuantizeMethod::Global) {
    const double s = global_scale(f.threshold, std::max({max_abs(f.weights_in), max_abs(f.weights_rec), max_abs(f.bias)}));
    const double s_out = global_scale(f.threshold_out, std::max(max_abs(f.weights_out), max_abs(f.bias_out)));
    std::fill(d.hidden.begin(), d.hidden.end(), s * g);
    for (int k = 0; k < f.n_out; ++k) d.out[std::size_t(k)] = s_out * g * f32(factors.for_class(k));
    return d;
  }
  for (int j = 0; j < f.n_hid; ++j) {
    double max_w = 0.0;
    for (int c = 0; c < f.n_in; ++c)
      for (int s = 0; s < f.n_syn; ++s) max_w = std::max(max_w, std::fabs(f32(f.w_in(c, j, s))));
    for (int i = 0; i < f.n_hid; ++i)
      for (int s = 0; s < f.n_syn; ++s) max_w = std::max(max_w, std::fabs(f32(f.w_rec(i, j, s))));
    d.hidden[std::size_t(j)] = channel_scale(f.threshold[std::size_t(j)], max_w) * g;
  }
  for (int k = 0; k < f.n_out; ++k) {
    double max_w = 0.0;
    for (int i = 0; i < f.n_hid; ++i) max_w = std::max(max_w, std::fabs(f32(f.w_out(i, k))));
    d.out[std::size_t(k)] = channel_scale(f.threshold_out[std::size_t(k)], max_w) * g * f32(factors.for_class(k));
  }
  return d;
}

// ---- FakeQuantizer ----

FakeQuantizer::FakeQuantizer(const snn::Network& net, FakeQuantOptions options) : options_(std::move(options)) {
  // Map a copy whose weights are their own (1-based) indices: where each index lands is where the
  // mapper puts that weight.
  snn::Network tagged = net;
  auto params = snn::trainable_parameters(tagged);
  std::size_t total = 0;
  for (const auto& p : params) total += p.values->size();
  if (total >= kMaxTaggedWeights)
    throw InputError("network", fmt::format("{} weights; quantisation-aware fine-tuning handles fewer than 2^24", total));
  std::size_t tag = 0;
  for (auto& p : params)
    for (auto& v : *p.values) v = static_cast<float>(++tag);
  const MapResult mapped = map_network(tagged);
  std::vector<Location> flat(total);
  auto record = [&](const std::vector<double>& arr, Target target, auto neuron_of) {
    for (std::size_t i = 0; i < arr.size(); ++i)
      if (arr[i] != 0.0) flat.at(static_cast<std::size_t>(arr[i]) - 1) = {target, std::uint32_t(i), neuron_of(i)};
  };
  const FloatSpec& s = mapped.spec;
  const auto hidden_target = [&](std::size_t i) { return std::int32_t((i / std::size_t(s.n_syn)) % std::size_t(s.n_hid)); };
  record(s.weights_in, Target::In, hidden_target);
  record(s.weights_rec, Target::Rec, hidden_target);
  record(s.weights_out, Target::Out, [&](std::size_t i) { return std::int32_t(i % std::size_t(s.n_out)); });

  const auto original = snn::trainable_parameters(const_cast<snn::Network&>(net));  // read only
  std::size_t k = 0;
  for (const auto& p : original) {
    where_.emplace_back(flat.begin() + std::ptrdiff_t(k), flat.begin() + std::ptrdiff_t(k + p.values->size()));
    std::vector<char> frozen(p.values->size(), 0);
    if (options_.freeze_zeros)
      for (std::size_t e = 0; e < frozen.size(); ++e) frozen[e] = (*p.values)[e] == 0.0f;
    frozen_.push_back(std::move(frozen));
    k += p.values->size();
  }
  template_ = map_network(net).spec;
  for (auto* arr : {&template_.weights_in, &template_.weights_rec, &template_.weights_out})
    std::fill(arr->begin(), arr->end(), 0.0);
  for (const auto& [path, ids] : mapped.hidden_layer_ids) layers_.push_back({path, ids});
  layers_.push_back({net.layers.back().name, {}});
}

snn::Network FakeQuantizer::masked(const snn::Network& master) const {
  snn::Network m = master;
  auto params = snn::trainable_parameters(m);
  SPIKELINE_ASSERT(params.size() == frozen_.size());
  for (std::size_t p = 0; p < params.size(); ++p)
    for (std::size_t e = 0; e < frozen_[p].size(); ++e)
      if (frozen_[p][e]) (*params[p].values)[e] = 0.0f;
  return m;
}

FloatSpec FakeQuantizer::filled(const snn::Network& master) const {
  FloatSpec spec = template_;
  const auto params = snn::trainable_parameters(const_cast<snn::Network&>(master));  // read only
  SPIKELINE_ASSERT(params.size() == where_.size());
  for (std::size_t p = 0; p < params.size(); ++p) {
    const auto& values = *params[p].values;
    SPIKELINE_ASSERT(values.size() == where_[p].size());
    for (std::size_t e = 0; e < values.size(); ++e) {
      const Location& loc = where_[p][e];
      const double v = frozen_[p][e] ? 0.0 : static_cast<double>(values[e]);
      switch (loc.target) {
        case Target::In: spec.weights_in[loc.index] = v; break;
        case Target::Rec: spec.weights_rec[loc.index] = v; break;
        case Target::Out: spec.weights_out[loc.index] = v; break;
        case Target::None: break;
      }
    }
  }
  return spec;
}

IntSpec FakeQuantizer::quantize(const snn::Network& master) const {
  return quantize_with_factors(filled(master), options_.factors, {{options_.method, false}, options_.dash_fix});
}

void FakeQuantizer::apply(const snn::Network& master, snn::Network& forward) const {
  forward = master;
  // quantize_with_factors, with the factored spec kept for the scales.
  const FloatSpec factored = apply_activity_factors(filled(master), options_.factors);
  IntSpec q = ::spikeline::hw::xylo::quantize(factored, {options_.method, false});
  fix_zero_synaptic_dash(q, options_.dash_fix);
  const DequantScales d = dequant_scales(factored, options_.method, options_.factors);

  auto params = snn::trainable_parameters(forward);
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto& values = *params[p].values;
    for (std::size_t e = 0; e < values.size(); ++e) {
      const Location& loc = where_[p][e];
      const auto n = std::size_t(loc.neuron);
      double v = 0.0;  // a Linear bias: not on the chip
      switch (loc.target) {
        case Target::In: v = double(q.weights_in[loc.index]) / d.hidden[n]; break;
        case Target::Rec: v = double(q.weights_rec[loc.index]) / d.hidden[n]; break;
        case Target::Out: v = double(q.weights_out[loc.index]) / d.out[n]; break;
        case Target::None: break;
      }
      values[e] = static_cast<float>(v);
    }
  }
  for (const auto& layer : layers_) {
    snn::LIF* lif = find_lif(forward.layers, "", layer.path);
    SPIKELINE_ASSERT(lif != nullptr);
    const bool readout = layer.ids.empty();
    for (int i = 0; i < lif->n; ++i) {
      const auto id = std::size_t(readout ? i : layer.ids[std::size_t(i)]);
      const double scale = readout ? d.out[id] : d.hidden[id];
      set_neuron(lif->threshold, lif->n, i, float(double(readout ? q.threshold_out[id] : q.threshold[id]) / scale));
      set_neuron(lif->bias, lif->n, i, float(double(readout ? q.bias_out[id] : q.bias[id]) / scale));
      if (options_.match_decay) {
        set_neuron(lif->tau_mem, lif->n, i, tau_from_dash(readout ? q.dash_mem_out[id] : q.dash_mem[id], lif->dt));
        set_neuron(lif->tau_syn, lif->n, i, tau_from_dash(readout ? q.dash_syn_out[id] : q.dash_syn[id], lif->dt));
      }
    }
  }
}

// ---- finetune_checkpoint ----

namespace {

// Bit-accurate accuracy of a configuration; -1 when it breaks a chip limit (`invalid` says which).
double simulated_accuracy(const IntSpec& q, const EventSet& events, std::span<const int> labels, int threads,
                          std::string* invalid) {
  const auto problems = validate(q);
  if (!problems.empty()) {
    if (invalid) *invalid = problems.front();
    return -1.0;
  }
  const SimEvaluation sim = simulate_set(CoreConfig::from_spec(q), events, {threads, false});
  return train::accuracy(sim.predicted, labels);
}

double float_accuracy(const snn::Network& net, const train::LabelledSet& set, int threads) {
  snn::Engine engine(net, {threads, 32, false, 0});
  return train::accuracy(train::predict(engine, set.x), set.y);
}

nlohmann::ordered_json epoch_json(const FinetuneEpoch& e) {
  nlohmann::ordered_json j;
  j["epoch"] = e.epoch;
  j["loss"] = e.loss;
  j["train_acc"] = e.train_acc;
  j["fake_quant_val"] = e.fake_quant_val;
  j["float_val"] = e.float_val;
  j["quantized_val"] = e.quantized_val;
  j["seconds"] = e.seconds;
  return j;
}

}  // namespace

FinetuneResult finetune_checkpoint(const FinetuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.epochs < 1) throw InputError("--epochs", "must be at least 1");
  if (!(o.lr > 0.0) || !std::isfinite(o.lr)) throw InputError("--lr", "must be a positive number");
  if (o.out.empty()) throw InputError("--out", "is required");
  if (std::filesystem::exists(o.out) && std::filesystem::exists(o.checkpoint) &&
      std::filesystem::equivalent(o.checkpoint, o.out))
    throw InputError("--out", "must differ from --checkpoint (the source checkpoint is kept)");
  const CheckpointModel ckpt = load_checkpoint_model(o.checkpoint);
  const train::TrainingData data = train::load_data_like(ckpt.config, o.data, o.threads);
  if (data.train.size() == 0) throw InputError("--checkpoint " + o.checkpoint.string(), "the data have no training samples");
  if (data.val.size() == 0) throw InputError("--checkpoint " + o.checkpoint.string(), "the data have no validation samples");

  FinetuneResult r;
  snn::Network net = prune_for_deploy(ckpt.net, o.max_fan_out, &r.pruned);
  const int n_out = net.n_out();
  const std::optional<TuningRecord> tuning = o.use_tuning ? read_tuning(o.checkpoint, n_out) : std::nullopt;
  FakeQuantOptions fo;
  fo.method = o.method.value_or(tuning ? tuning->recipe.options.method : QuantizeMethod::Global);
  if (tuning) {
    fo.factors = tuning->factors;
    fo.dash_fix = tuning->recipe.dash_fix;
    if (tuning->recipe.options.rockpool_bugs)
      o.log("note: the stored tuning used Rockpool's bugs; fine-tuning quantises without them");
  }
  fo.match_decay = o.match_decay;
  const FakeQuantizer fq(net, fo);
  r.method = fo.method;
  r.tuned_factors = tuning.has_value();

  const EventSet events = to_events(data.val.x, "val split");
  const auto score = [&](const snn::Network& master, IntSpec& config, double& float_val) {
    config = fq.quantize(master);
    std::string invalid;
    const double acc = simulated_accuracy(config, events, data.val.y, o.threads, &invalid);
    if (acc < 0) o.log("note: the quantised configuration breaks a chip limit: " + invalid);
    float_val = float_accuracy(fq.masked(master), data.val, o.threads);
    return acc;
  };
  IntSpec best_config;
  r.quantized_val_before = score(net, best_config, r.float_val_before);
  o.log(fmt::format("before   float {:.4f}, Xylo {:.4f} ({} quantisation{}); pruned {} weights to fan-out {}",
                    r.float_val_before, r.quantized_val_before, method_name(fo.method),
                    tuning ? ", tuned factors" : "", r.pruned.synapses_dropped, o.max_fan_out));
  double best_q = r.quantized_val_before;
  r.float_val_after = r.float_val_before;
  snn::Network best = fq.masked(net);

  train::TrainOptions to;
  to.epochs = o.epochs;
  to.batch_size = o.batch_size > 0 ? o.batch_size : ckpt.config.batch_size;
  to.adam = {o.lr, ckpt.config.optim.beta1, ckpt.config.optim.beta2, ckpt.config.optim.eps, ckpt.config.optim.weight_decay};
  to.seed = o.seed;
  to.threads = o.threads;
  to.micro_batch = ckpt.config.micro_batch;
  to.progress = o.progress;
  if (o.fake_quant)
    to.weight_transform = [&fq](const snn::Network& master, snn::Network& forward) { fq.apply(master, forward); };
  else
    to.weight_transform = [&fq](const snn::Network& master, snn::Network& forward) { forward = fq.masked(master); };
  auto epoch_start = std::chrono::steady_clock::now();
  train::TrainResult tr = train::fit(net, data.train, data.val, to, [&](const train::TrainResult& so_far) {
    const train::EpochReport& rep = so_far.epochs.back();
    FinetuneEpoch e{rep.epoch + 1, rep.loss, rep.train_acc, rep.val_acc};
    IntSpec config;
    e.quantized_val = score(net, config, e.float_val);
    const auto now = std::chrono::steady_clock::now();
    e.seconds = std::chrono::duration<double>(now - epoch_start).count();
    epoch_start = now;
    if (e.quantized_val > best_q) {  // the earliest on ties
      best_q = e.quantized_val;
      r.best_epoch = e.epoch;
      r.float_val_after = e.float_val;
      best = fq.masked(net);
      best_config = std::move(config);
    }
    o.log(fmt::format("  epoch {:3d}  loss {:.4f}  fake-quant val {:.4f}  float val {:.4f}  Xylo val {:.4f}  best {:.4f}",
                      e.epoch, e.loss, e.fake_quant_val, e.float_val, e.quantized_val, best_q));
    r.epochs.push_back(e);
  });
  r.quantized_val_after = best_q;

  // A normal checkpoint: model_params = the kept weights; the log's val_acc is the simulated one.
  for (std::size_t i = 0; i < tr.epochs.size() && i < r.epochs.size(); ++i)
    tr.epochs[i].val_acc = r.epochs[i].quantized_val;
  tr.best = best;
  tr.best_epoch = std::max(0, r.best_epoch - 1);
  tr.best_val_acc = best_q;
  train::TrainConfig config = ckpt.config;
  config.epochs = o.epochs;
  config.optim.lr = o.lr;
  config.seed = o.seed;
  config.batch_size = to.batch_size;
  std::filesystem::create_directories(o.out);
  write_file_atomic(o.out / "config.json", train::config_to_json(config).dump(2) + "\n");
  train::write_checkpoint(o.out, config, data.description, fq.masked(net), tr);
  if (tuning) {
    TuningRecord rec = *tuning;
    rec.recipe = {{fo.method, false}, fo.dash_fix};
    rec.accuracy = best_q;
    rec.float_accuracy = r.float_val_after;
    rec.max_fan_out = o.max_fan_out;
    rec.config = best_config;
    const IntSpec untuned = quantize_with_factors(map_network(best).spec, {}, rec.recipe);
    rec.untuned_accuracy = simulated_accuracy(untuned, events, data.val.y, o.threads, nullptr);
    write_tuning(o.out, rec, nlohmann::json::array());
  } else {  // a tuning left in `out` by an earlier run would not belong to these weights
    std::filesystem::remove(o.out / kTuningFile);
    std::filesystem::remove(o.out / kThesisTuningFile);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::ordered_json q;
  q["format"] = "spikeline-xylo-qat";
  q["checkpoint"] = o.checkpoint.string();
  q["data"] = data.description.file;
  q["method"] = method_name(fo.method);
  q["dash_fix"] = dash_fix_name(fo.dash_fix);
  q["factors"] = tuning ? nlohmann::ordered_json(factors_to_params(fo.factors, n_out)) : nlohmann::ordered_json();
  q["fake_quant"] = o.fake_quant;
  q["match_decay"] = fo.match_decay;
  q["max_fan_out"] = o.max_fan_out;
  q["pruning"] = {{"synapses_dropped", r.pruned.synapses_dropped}, {"neurons_pruned", r.pruned.neurons_pruned}};
  q["epochs"] = o.epochs;
  q["lr"] = o.lr;
  q["batch_size"] = to.batch_size;
  q["seed"] = o.seed;
  q["float_val_before"] = r.float_val_before;
  q["quantized_val_before"] = r.quantized_val_before;
  q["quantized_val_after"] = r.quantized_val_after;
  q["float_val_after"] = r.float_val_after;
  q["best_epoch"] = r.best_epoch;
  q["seconds"] = r.seconds;
  q["history"] = nlohmann::ordered_json::array();
  for (const auto& e : r.epochs) q["history"].push_back(epoch_json(e));
  write_file_atomic(o.out / kQatFile, q.dump(2) + "\n");
  return r;
}

}  // namespace spikeline::hw::xylo
