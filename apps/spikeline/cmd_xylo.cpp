// spikeline xylo map | quantize | validate | sim | deploy | tune | finetune: deployment to SynSense Xylo Audio 2
// (docs/xylo.md).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "chip_commands.hpp"
#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/quantize.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/pipeline/xylo_finetune.hpp"
#include "spikeline/pipeline/xylo_tune.hpp"
#include "spikeline/hw/xylo/validate.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::cli {

namespace {

namespace xylo = spikeline::hw::xylo;

struct XyloArgs {
  std::string model, spec, config, input, out;
  std::string method = "global";
  std::string dash_fix = "per-neuron";
  bool rockpool_bugs = false;
  bool reset_each_sample = false;
};

void map_cmd(const XyloArgs& a) {
  const auto result = xylo::map_network(io::load_network(a.model));
  for (const auto& w : result.warnings) std::fprintf(stderr, "spikeline: warning: %s\n", w.c_str());
  xylo::write_spec(a.out, result.spec);
  std::printf("wrote %s: %d inputs, %d hidden, %d readout neurons, dt %g s\n", a.out.c_str(), result.spec.n_in,
              result.spec.n_hid, result.spec.n_out, result.spec.dt);
}

void quantize_cmd(const XyloArgs& a) {
  const xylo::FloatSpec spec = xylo::read_float_spec(a.spec);
  xylo::QuantizeOptions opt;
  opt.method = a.method == "channel" ? xylo::QuantizeMethod::Channel : xylo::QuantizeMethod::Global;
  opt.rockpool_bugs = a.rockpool_bugs;
  xylo::IntSpec q = xylo::quantize(spec, opt);
  const auto fix = a.dash_fix == "thesis" ? xylo::DashZeroFix::Thesis
                   : a.dash_fix == "none" ? xylo::DashZeroFix::None
                                          : xylo::DashZeroFix::PerNeuron;
  if (xylo::fix_zero_synaptic_dash(q, fix))
    std::fprintf(stderr, "spikeline: note: dash_syn/dash_syn_out of 0 raised (--dash-fix %s)\n", a.dash_fix.c_str());
  xylo::write_spec(a.out, q);
  const auto problems = xylo::validate(q);
  std::printf("wrote %s (%s quantisation%s)%s\n", a.out.c_str(), a.method.c_str(),
              a.rockpool_bugs ? ", Rockpool 2.7 bugs reproduced" : "",
              problems.empty() ? "" : ("; " + std::to_string(problems.size()) + " violation(s) of the chip limits, "
                                       "see 'spikeline xylo validate'").c_str());
}

void validate_cmd(const XyloArgs& a) {
  const auto problems = xylo::validate(xylo::read_int_spec(a.config));
  for (const auto& p : problems) std::printf("%s: %s\n", a.config.c_str(), p.c_str());
  if (!problems.empty())
    throw InputError(a.config, std::to_string(problems.size()) + " violation(s) of the Xylo Audio 2 limits");
  std::printf("%s: valid for Xylo Audio 2 (syns61201)\n", a.config.c_str());
}

// Event counts [T, C] or [B, T, C]; integral values 0..255 (the core's uint8 input).
std::vector<std::uint8_t> load_events(const std::string& path, Shape& shape, int n_in) {
  const io::NpyArray arr = io::read_npy(path);
  shape = arr.shape;
  if (shape.size() == 2) shape.insert(shape.begin(), 1);
  if (shape.size() != 3)
    throw InputError(path, "expected event counts [T, C] or [B, T, C], got " + shape_to_string(arr.shape));
  if (shape[2] != std::size_t(n_in))
    throw InputError(path, "expected " + std::to_string(n_in) + " channels (the config's inputs), got " +
                               std::to_string(shape[2]));
  const std::vector<double> v = arr.to_double();
  std::vector<std::uint8_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!(v[i] >= 0.0 && v[i] <= 255.0) || std::nearbyint(v[i]) != v[i])
      throw InputError(path, "element " + std::to_string(i) + " = " + std::to_string(v[i]) +
                                 ": event counts must be integers 0..255");
    out[i] = static_cast<std::uint8_t>(v[i]);
  }
  return out;
}

template <class T>
void append(std::vector<T>& dst, const std::vector<T>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

void sim_cmd(const XyloArgs& a) {
  xylo::XyloSimulator sim(xylo::CoreConfig::from_spec(xylo::read_int_spec(a.config)));
  const auto& c = sim.config();
  Shape shape;
  const std::vector<std::uint8_t> x = load_events(a.input, shape, c.n_in);
  const std::size_t batch = shape[0], steps = shape[1];
  xylo::SimRecord all;
  for (std::size_t b = 0; b < batch; ++b) {
    if (a.reset_each_sample) sim.reset_state();
    const auto first = x.begin() + static_cast<std::ptrdiff_t>(b * steps * c.n_in);
    const auto r = sim.evolve(std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(steps * c.n_in)),
                              static_cast<int>(steps));
    append(all.output, r.output);
    append(all.vmem, r.vmem);
    append(all.isyn, r.isyn);
    append(all.isyn2, r.isyn2);
    append(all.spikes, r.spikes);
    append(all.vmem_out, r.vmem_out);
    append(all.isyn_out, r.isyn_out);
  }
  const bool two_d = io::read_npy(a.input).shape.size() == 2;
  auto dims = [&](int n) { return two_d ? Shape{steps, std::size_t(n)} : Shape{batch, steps, std::size_t(n)}; };
  io::Npz npz;
  npz.add("output", io::NpyArray::from<std::uint8_t>(dims(c.n_out), all.output));
  npz.add("Vmem", io::NpyArray::from<std::int16_t>(dims(c.n_hid), all.vmem));
  npz.add("Isyn", io::NpyArray::from<std::int16_t>(dims(c.n_hid), all.isyn));
  npz.add("Isyn2", io::NpyArray::from<std::int16_t>(dims(c.n_hid), all.isyn2));
  npz.add("Spikes", io::NpyArray::from<std::uint8_t>(dims(c.n_hid), all.spikes));
  npz.add("Vmem_out", io::NpyArray::from<std::int16_t>(dims(c.n_out), all.vmem_out));
  npz.add("Isyn_out", io::NpyArray::from<std::int16_t>(dims(c.n_out), all.isyn_out));
  io::write_npz(a.out, npz);
  std::printf("wrote %s: %zu sample(s) x %zu steps, %d readout neurons\n", a.out.c_str(), batch, steps, c.n_out);
}

struct DeployArgs : ChipDeployArgs {
  std::string method, dash_fix = "per-neuron";
  bool rockpool_bugs = false, carry_state = false;
  int max_fan_out = xylo::kDeployMaxFanOut;
  std::size_t sample = 0;
  double clock_mhz = 50.0;
};

void deploy_cmd(const DeployArgs& a) {
  xylo::DeployOptions o;
  copy_deploy_args(a, o);
  if (!a.method.empty()) o.method = xylo::method_from_name(a.method, "--method");
  o.rockpool_bugs = a.rockpool_bugs;
  o.max_fan_out = a.max_fan_out;
  o.dash_fix = xylo::dash_fix_from_name(a.dash_fix, "--dash-fix");
  o.carry_state = a.carry_state;
  o.sample = a.sample;
  o.clock_hz = a.clock_mhz * 1e6;
  const auto result = xylo::deploy(o);
  const auto& r = result.report;
  if (!print_deploy_notes_or_json(result.notes, r, a.format)) return;
  const auto& t = r.at("timing");
  std::printf("accuracy on %s (%zu samples): float %.4f, Xylo %.4f (%s quantisation%s)\n", a.split.c_str(),
              r.at("samples").get<std::size_t>(), r.at("float").at("accuracy").get<double>(),
              r.at("quantized").at("accuracy").get<double>(), r.at("quantization").at("method").get<std::string>().c_str(),
              r.at("quantization").at("factors").is_null() ? "" : ", tuned factors");
  std::printf("resources: %d hidden neurons, %zu synapses, max fan-out %d; %.0f cycles per step worst case "
              "(min clock %.3f MHz), %.0f at the measured activity (%.3f MHz)\n",
              r.at("resources").at("hidden_neurons").get<int>(),
              r.at("resources").at("synapses").at("total").get<std::size_t>(), r.at("resources").at("max_fan_out").get<int>(),
              t.at("worst_case").at("cycles_per_step").get<double>(), t.at("worst_case").at("min_clock_hz").get<double>() / 1e6,
              t.at("measured").at("cycles_per_step").get<double>(), t.at("measured").at("min_clock_hz").get<double>() / 1e6);
  std::printf("wrote %s/{config.json, xylo_config.h, report.html, report.json}\n", a.out.c_str());
}

struct TuneArgs : ChipTuneArgs {
  std::string method = "global", dash_fix = "per-neuron";
  bool rockpool_bugs = false, carry_state = false;
  int max_fan_out = xylo::kDeployMaxFanOut;
};

void tune_cmd(const TuneArgs& a) {
  xylo::TuneOptions o;
  copy_tune_args(a, o);
  o.recipe.options.method = xylo::method_from_name(a.method, "--method");
  o.recipe.options.rockpool_bugs = a.rockpool_bugs;
  o.recipe.dash_fix = xylo::dash_fix_from_name(a.dash_fix, "--dash-fix");
  o.max_fan_out = a.max_fan_out;
  o.carry_state = a.carry_state;
  const auto rep = xylo::tune_checkpoint(o);
  const auto& r = rep.record;
  const auto params = xylo::factors_to_params(r.factors, r.config.n_out);
  const TuneFigures f{.accuracy = r.accuracy, .untuned_accuracy = r.untuned_accuracy, .float_accuracy = r.float_accuracy,
                      .trials = r.trials, .kept_untuned = r.kept_untuned,
                      .best_trial_accuracy = r.best_trial_accuracy, .seconds = rep.seconds};
  if (a.format == "json") {
    nlohmann::json j = tune_json(f);
    j["params"] = nlohmann::json::parse(params.dump());
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  print_tune_result(f, a.split, "quantised", "quantisation");
  const auto& search = rep.outcome.search;
  if (!r.kept_untuned)
    std::printf("best trial: %lld\n", static_cast<long long>(search.trials.at(*search.best_trial).id));
  std::printf("factors %s\n", params.dump().c_str());
  print_tuning_files(a.checkpoint, xylo::kTuningFile, xylo::kThesisTuningFile);
}

struct FinetuneArgs {
  std::string checkpoint, out, data, method;
  int epochs = 10, threads = 2, max_fan_out = xylo::kDeployMaxFanOut, batch_size = 0;
  double lr = 1e-4;
  std::uint64_t seed = 0;
  bool no_tuning = false, no_match_decay = false, no_fake_quant = false, quiet = false;
};

void finetune_cmd(const FinetuneArgs& a) {
  xylo::FinetuneOptions o;
  o.checkpoint = a.checkpoint;
  o.out = a.out;
  o.data = a.data;
  o.epochs = a.epochs;
  o.lr = a.lr;
  o.seed = a.seed;
  o.threads = a.threads;
  o.progress = !a.quiet;
  if (!a.method.empty()) o.method = xylo::method_from_name(a.method, "--method");
  o.max_fan_out = a.max_fan_out;
  o.use_tuning = !a.no_tuning;
  o.match_decay = !a.no_match_decay;
  o.fake_quant = !a.no_fake_quant;
  o.batch_size = a.batch_size;
  if (!a.quiet) o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const auto r = xylo::finetune_checkpoint(o);
  std::printf("validation accuracy   float    Xylo (%s quantisation%s)\n", xylo::method_name(r.method).c_str(),
              r.tuned_factors ? ", tuned factors" : "");
  std::printf("before fine-tuning    %.4f   %.4f\n", r.float_val_before, r.quantized_val_before);
  std::printf("after  fine-tuning    %.4f   %.4f   (epoch %d of %d%s)\n", r.float_val_after, r.quantized_val_after,
              r.best_epoch, a.epochs, r.best_epoch == 0 ? ": no epoch improved, starting weights kept" : "");
  std::printf("%.1f s; wrote checkpoint %s (with %s)\n", r.seconds, a.out.c_str(), xylo::kQatFile);
}

}  // namespace

void add_xylo_commands(CLI::App& app) {
  auto* xy = app.add_subcommand("xylo", "Deploy to SynSense Xylo Audio 2: map, quantise, validate, simulate");
  xy->require_subcommand(1);

  auto map_args = std::make_shared<XyloArgs>();
  auto* map = xy->add_subcommand("map", "Map a network to a float Xylo specification (Rockpool 2.7 mapper)");
  map->add_option("--model", map_args->model, "Network file: Rockpool model JSON or Spikeline network JSON")
      ->required()->check(CLI::ExistingFile);
  map->add_option("--out", map_args->out, "Output specification JSON (Rockpool's key names, float values)")->required();
  map->callback([map_args] { map_cmd(*map_args); });

  auto q_args = std::make_shared<XyloArgs>();
  auto* quant = xy->add_subcommand("quantize", "Quantise a float specification to the chip's integers");
  quant->add_option("--spec", q_args->spec, "Float specification JSON from 'xylo map'")->required()->check(CLI::ExistingFile);
  quant->add_option("--method", q_args->method, "global (Rockpool global_quantize, as the thesis) or channel (per target neuron)")
      ->capture_default_str()->check(CLI::IsMember({"global", "channel"}));
  quant->add_flag("--rockpool-bugs", q_args->rockpool_bugs,
                  "Reproduce Rockpool 2.7's quantisation bugs bit for bit (default: fixed; see docs/xylo.md)");
  quant->add_option("--dash-fix", q_args->dash_fix,
                    "Synaptic dash of 0 (erases input in one step): per-neuron (raise each 0 to 1), thesis (if "
                    "element 0 is 0, add 1 to all) or none")
      ->capture_default_str()->check(CLI::IsMember({"per-neuron", "thesis", "none"}));
  quant->add_option("--out", q_args->out, "Output integer configuration JSON")->required();
  quant->callback([q_args] { quantize_cmd(*q_args); });

  auto v_args = std::make_shared<XyloArgs>();
  auto* val = xy->add_subcommand("validate", "Check an integer configuration against the chip's limits");
  val->add_option("--config", v_args->config, "Integer configuration JSON from 'xylo quantize'")
      ->required()->check(CLI::ExistingFile);
  val->callback([v_args] { validate_cmd(*v_args); });

  auto s_args = std::make_shared<XyloArgs>();
  auto* sim = xy->add_subcommand("sim", "Simulate the integer core bit-accurately (xylosim 0.1.3 semantics)");
  sim->add_option("--config", s_args->config, "Integer configuration JSON from 'xylo quantize'")
      ->required()->check(CLI::ExistingFile);
  sim->add_option("--input", s_args->input, "Input event counts .npy, [T, C] or [B, T, C], integers 0..255")
      ->required()->check(CLI::ExistingFile);
  sim->add_option("--out", s_args->out, "Output .npz: 'output' (readout events) and the records 'Vmem', 'Isyn', "
                  "'Isyn2', 'Spikes' (hidden) and 'Vmem_out', 'Isyn_out' (readout), shaped like the input")->required();
  sim->add_flag("--reset-each-sample", s_args->reset_each_sample,
                "Reset the state before each sample (default: carry it over, as the thesis evaluated)");
  sim->callback([s_args] { sim_cmd(*s_args); });

  auto d = std::make_shared<DeployArgs>();
  auto* dep = xy->add_subcommand(
      "deploy", "Map, quantise (with the checkpoint's stored tuning, if any), check and simulate a training "
                "checkpoint; write a bundle: config.json, xylo_config.h (C99), report.html, report.json");
  add_deploy_source_flags(*dep, *d, "Checkpoint directory of spikeline train");
  dep->add_option("--method", d->method, "global or channel (default: the stored tuning's method, else global)")
      ->check(CLI::IsMember({"global", "channel"}));
  dep->add_flag("--rockpool-bugs", d->rockpool_bugs, "Quantise with Rockpool 2.7's bugs (see xylo quantize)");
  dep->add_option("--dash-fix", d->dash_fix, "Synaptic dash of 0: per-neuron, thesis or none (see xylo quantize)")
      ->capture_default_str()->check(CLI::IsMember({"per-neuron", "thesis", "none"}));
  dep->add_option("--max-fan-out", d->max_fan_out, "Prune each neuron's outgoing weights to this many before mapping, as "
                  "the thesis (0: no pruning)")->capture_default_str()->check(CLI::Range(0, 1000));
  dep->add_flag("--no-tuning", d->no_tuning, "Ignore the checkpoint's stored tuning (xylo_tuning.json)");
  dep->add_flag("--carry-state", d->carry_state,
                "Simulate the samples in order without reset, as the thesis did (serial; default: reset per sample)");
  dep->add_option("--sample", d->sample, "Sample of the split shown as raster and Vmem_out traces")->capture_default_str();
  dep->add_option("--clock-mhz", d->clock_mhz, "Core clock written to config.json and the header")
      ->capture_default_str()->check(CLI::Range(0.001, 1000.0));
  add_deploy_run_flags(*dep, *d);
  dep->callback([d] { deploy_cmd(*d); });

  auto t = std::make_shared<TuneArgs>();
  auto* tune = xy->add_subcommand(
      "tune", "Search the thesis's activity factors (global, per class) with the HPO engine's tuner; each trial "
              "quantises and simulates the split bit-accurately. Stores the best in the checkpoint "
              "(xylo_tuning.json, xylo_qtuning_metadata), which xylo deploy then uses.");
  add_tune_source_flags(*tune, *t,
                        {"Checkpoint directory of spikeline train",
                         "NNI experiment JSON with search_space and max_trial_number (the thesis's xylo_tuning_*.json "
                         "run unchanged)",
                         "Tuner seed"});
  tune->add_option("--method", t->method, "global (as the thesis) or channel")
      ->capture_default_str()->check(CLI::IsMember({"global", "channel"}));
  tune->add_flag("--rockpool-bugs", t->rockpool_bugs, "Quantise with Rockpool 2.7's bugs (see xylo quantize)");
  tune->add_option("--dash-fix", t->dash_fix, "Synaptic dash of 0: per-neuron, thesis or none (see xylo quantize)")
      ->capture_default_str()->check(CLI::IsMember({"per-neuron", "thesis", "none"}));
  tune->add_option("--max-fan-out", t->max_fan_out, "Prune each neuron's outgoing weights to this many before mapping, as "
                  "the thesis (0: no pruning)")->capture_default_str()->check(CLI::Range(0, 1000));
  tune->add_flag("--carry-state", t->carry_state, "Simulate without reset between samples, as the thesis (serial)");
  add_tune_run_flags(*tune, *t, "Worker threads for the simulation of each trial");
  tune->callback([t] { tune_cmd(*t); });

  auto ft = std::make_shared<FinetuneArgs>();
  auto* fin = xy->add_subcommand(
      "finetune", "Quantisation-aware fine-tuning: train a checkpoint further through the chip's quantisation "
                  "(straight-through estimator), keep the epoch whose bit-accurate simulation scores best on val, "
                  "write a new checkpoint (+ qat.json)");
  fin->add_option("--checkpoint", ft->checkpoint, "Checkpoint directory of spikeline train")->required();
  fin->add_option("--out", ft->out, "New checkpoint directory")->required();
  fin->add_option("--epochs", ft->epochs, "Fine-tuning epochs")->capture_default_str()->check(CLI::PositiveNumber);
  fin->add_option("--lr", ft->lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  fin->add_option("--method", ft->method, "global or channel (default: the stored tuning's method, else global)")
      ->check(CLI::IsMember({"global", "channel"}));
  fin->add_option("--seed", ft->seed, "Shuffling seed")->capture_default_str();
  fin->add_option("--threads", ft->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  fin->add_option("--data", ft->data, "Data file (default: the checkpoint config's data.file)");
  fin->add_option("--batch-size", ft->batch_size, "Batch size (default: the checkpoint config's)")
      ->check(CLI::PositiveNumber);
  fin->add_option("--max-fan-out", ft->max_fan_out, "Prune each neuron's outgoing weights to this many first, as "
                  "xylo deploy (0: no pruning); the sparsity is kept while training")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  fin->add_flag("--no-tuning", ft->no_tuning, "Ignore the checkpoint's stored activity factors (xylo_tuning.json)");
  fin->add_flag("--no-match-decay", ft->no_match_decay,
                "Keep the float taus in the forward pass (default: taus matching the chip's bit-shift decay)");
  fin->add_flag("--no-fake-quant", ft->no_fake_quant,
                "Control run: the same pruning, epochs and selection, but plain float training");
  fin->add_flag("--quiet", ft->quiet, "No progress bar or per-epoch lines");
  fin->callback([ft] { finetune_cmd(*ft); });
}

}  // namespace spikeline::cli
