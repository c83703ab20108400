#include "spikeline/pipeline/xylo_deploy.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hw/xylo/c_header.hpp"
#include "spikeline/pipeline/xylo_deploy_report.hpp"
#include "spikeline/hw/xylo/evaluate.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/hw/xylo/validate.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::hw::xylo {

using nlohmann::json;

CheckpointModel load_checkpoint_model(const std::filesystem::path& dir) {
  const auto config_path = dir / "config.json";
  const auto model_path = dir / "model_params";
  for (const auto& p : {config_path, model_path})
    if (!std::filesystem::exists(p))
      throw InputError(p.string(), "not found: --checkpoint must be a directory written by spikeline train");
  CheckpointModel c;
  c.dir = dir;
  c.config = train::config_from_json(snn::parse_json(read_file_text(config_path), config_path.string()),
                                     config_path.string());
  c.net = io::load_network(model_path);
  return c;
}


snn::Network prune_for_deploy(const snn::Network& net, int max_fan_out, train::PruneStats* stats) {
  snn::Network pruned = net;
  const train::PruneStats s = max_fan_out > 0 ? train::adapt_network(pruned, max_fan_out) : train::PruneStats{};
  if (stats) *stats = s;
  return pruned;
}

// ---- Stored tuning ----

std::optional<TuningRecord> read_tuning(const std::filesystem::path& dir, int n_out) {
  const auto path = dir / kTuningFile;
  if (!std::filesystem::exists(path)) return std::nullopt;
  const std::string src = path.string();
  const json j = snn::parse_json(read_file_text(path), src);
  auto at = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw InputError(src, std::string("missing key '") + key + "'");
    return j.at(key);
  };
  TuningRecord r;
  try {
    r.factors = factors_from_params(at("params"), n_out, src + ": params");
    r.recipe.options.method = method_from_name(at("method").get<std::string>(), src + ": method");
    r.recipe.options.rockpool_bugs = at("rockpool_bugs").get<bool>();
    r.recipe.dash_fix = dash_fix_from_name(at("dash_fix").get<std::string>(), src + ": dash_fix");
    r.split = at("split").get<std::string>();
    r.accuracy = at("accuracy").get<double>();
    r.untuned_accuracy = at("untuned_accuracy").get<double>();
    r.kept_untuned = j.value("kept_untuned", false);  // absent in records before this key existed
    r.best_trial_accuracy = j.value("best_trial_accuracy", r.accuracy);
    r.float_accuracy = at("float_accuracy").get<double>();
    r.max_fan_out = at("max_fan_out").get<int>();
    r.trials = at("trials").get<int>();
    r.seed = at("seed").get<std::uint64_t>();
    r.tuner = at("tuner").get<std::string>();
  } catch (const json::exception& e) {
    throw InputError(src, std::string("malformed tuning record: ") + e.what());
  }
  r.config = int_spec_from_json(at("config"), src + ": config");
  return r;
}

void write_tuning(const std::filesystem::path& dir, const TuningRecord& r, const json& history) {
  const int n_out = r.config.n_out;
  nlohmann::ordered_json j;
  j["format"] = "spikeline-xylo-tuning";
  j["params"] = factors_to_params(r.factors, n_out);
  j["method"] = method_name(r.recipe.options.method);
  j["rockpool_bugs"] = r.recipe.options.rockpool_bugs;
  j["dash_fix"] = dash_fix_name(r.recipe.dash_fix);
  j["split"] = r.split;
  j["accuracy"] = r.accuracy;
  j["untuned_accuracy"] = r.untuned_accuracy;
  j["kept_untuned"] = r.kept_untuned;
  j["best_trial_accuracy"] = r.best_trial_accuracy;
  j["float_accuracy"] = r.float_accuracy;
  j["max_fan_out"] = r.max_fan_out;
  j["trials"] = r.trials;
  j["seed"] = r.seed;
  j["tuner"] = r.tuner;
  j["config"] = to_json(r.config);
  j["history"] = history;
  write_file_atomic(dir / kTuningFile, j.dump(1) + "\n");
  // The thesis's file: c0..c6 always present, unused classes at 1.
  nlohmann::ordered_json thesis;
  thesis["params"] = factors_to_params(r.factors, std::max(n_out, 7));
  thesis["val_accuracy_after_tuning"] = r.accuracy;
  write_file_atomic(dir / kThesisTuningFile, thesis.dump(4));
}

// ---- Figures ----

Resources count_resources(const IntSpec& s) {
  Resources r{s.n_in, s.n_hid, s.n_out};
  for (auto w : s.weights_in) r.synapses_in += w != 0;
  for (auto w : s.weights_out) r.synapses_out += w != 0;
  for (int i = 0; i < s.n_hid; ++i) {
    int fan_out = 0;
    for (int j = 0; j < s.n_hid; ++j)
      for (int k = 0; k < s.n_syn; ++k) fan_out += s.w_rec(i, j, k) != 0;
    r.synapses_rec += std::size_t(fan_out);
    r.max_fan_out = std::max(r.max_fan_out, fan_out);
    r.aliases += !s.aliases[std::size_t(i)].empty();
  }
  return r;
}

namespace {

json cycles_json(const CycleEstimate& e, const SpikeProbabilities& p, double dt, double margin, double clock_hz) {
  const double clk = min_clock_hz(e.total, dt, margin);
  return {{"spike_probabilities", {{"input", p.input}, {"hidden", p.hidden}, {"output", p.output}}},
          {"input", e.input},
          {"hidden_isyn", e.hidden_isyn},
          {"output_isyn", e.output_isyn},
          {"hidden_spiking", e.hidden_spiking},
          {"output_spiking", e.output_spiking},
          {"cycles_per_step", e.total},
          {"additional_isyn2_ops", e.additional_isyn2_ops},
          {"min_clock_hz", clk},
          {"real_time_at_clock", clk <= clock_hz}};
}

json resources_json(const Resources& r, const CycleEstimate& e) {
  return {{"inputs", r.inputs},
          {"hidden_neurons", r.hidden},
          {"outputs", r.outputs},
          {"synapses", {{"input", r.synapses_in}, {"recurrent", r.synapses_rec}, {"output", r.synapses_out},
                        {"total", r.synapses()}}},
          {"max_fan_out", r.max_fan_out},
          {"mean_fan_out", e.mean_fan_out},
          {"aliases", r.aliases},
          {"limits", {{"inputs", kXyloAudio2.max_inputs}, {"hidden_neurons", kXyloAudio2.max_hidden},
                      {"outputs", kXyloAudio2.max_outputs}, {"fan_out", kXyloAudio2.max_fan_out}}}};
}

struct Quantised {
  IntSpec config;
  QuantizeRecipe recipe;
  std::optional<TuningRecord> tuning;  // applied
};

Quantised quantise_for_deploy(const FloatSpec& spec, const DeployOptions& o, std::vector<std::string>& notes) {
  Quantised q;
  q.recipe.options.rockpool_bugs = o.rockpool_bugs;
  q.recipe.dash_fix = o.dash_fix;
  q.recipe.options.method = o.method.value_or(QuantizeMethod::Global);
  ActivityFactors factors;
  if (o.use_tuning) q.tuning = read_tuning(o.checkpoint, spec.n_out);
  if (q.tuning) {
    factors = q.tuning->factors;
    if (!o.method) q.recipe.options.method = q.tuning->recipe.options.method;
    if (q.recipe.options.method != q.tuning->recipe.options.method || o.rockpool_bugs != q.tuning->recipe.options.rockpool_bugs ||
        o.dash_fix != q.tuning->recipe.dash_fix || o.max_fan_out != q.tuning->max_fan_out)
      notes.push_back("the stored tuning was made with method " + method_name(q.tuning->recipe.options.method) +
                      ", dash fix " + dash_fix_name(q.tuning->recipe.dash_fix) + ", max fan-out " +
                      std::to_string(q.tuning->max_fan_out) +
                      "; its factors are applied to this deployment's recipe as they are");
  }
  q.config = quantize_with_factors(spec, factors, q.recipe);
  if (q.tuning && q.recipe.options.method == q.tuning->recipe.options.method && o.dash_fix == q.tuning->recipe.dash_fix &&
      o.rockpool_bugs == q.tuning->recipe.options.rockpool_bugs && o.max_fan_out == q.tuning->max_fan_out && to_json(q.config) != to_json(q.tuning->config))
    notes.push_back(std::string(kTuningFile) + " holds a configuration that differs from this model's: the model "
                    "changed after tuning (run 'spikeline xylo tune' again)");
  return q;
}

// dt is a float32 in the network; the figures use its shortest spelling (0.05, as config.json).
double shortest_dt(double dt) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, static_cast<float>(dt));
  double out = 0.0;
  std::from_chars(buf, res.ptr, out);
  return out;
}

}  // namespace

DeployResult deploy(const DeployOptions& o) {
  DeployResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const CheckpointModel ckpt = load_checkpoint_model(o.checkpoint);
  const train::TrainingData data = train::load_data_like(ckpt.config, o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);
  if (o.sample >= set.size())
    throw InputError("--sample", "must be below the split's " + std::to_string(set.size()) + " samples");

  train::PruneStats pruned;
  const snn::Network net = prune_for_deploy(ckpt.net, o.max_fan_out, &pruned);
  const MapResult mapped = map_network(net);
  for (const auto& w : mapped.warnings) result.notes.push_back(w);
  Quantised q = quantise_for_deploy(mapped.spec, o, result.notes);
  if (const auto problems = validate(q.config); !problems.empty())
    throw limit_violations((o.checkpoint / "model_params").string(), problems, "Xylo Audio 2");
  const CoreConfig core = CoreConfig::from_spec(q.config);

  // The float reference is the model as deployed (pruned); the checkpoint's own accuracy is kept too.
  const train::Evaluation float_eval = train::evaluate(net, set, data.classes, o.threads);
  const double checkpoint_accuracy =
      pruned.synapses_dropped ? train::evaluate(ckpt.net, set, data.classes, o.threads).accuracy : float_eval.accuracy;
  const EventSet events = to_events(set.x, o.split + " split");
  const SimEvaluation sim = simulate_set(core, events, {o.threads, o.carry_state});
  const train::Evaluation quant_eval = train::classify(sim.predicted, set.y, data.classes);

  // One sample with every record, from zero state.
  XyloSimulator one(core);
  const auto sample = events.sample(o.sample);
  const SimRecord record = one.evolve(std::vector<std::uint8_t>(sample.begin(), sample.end()), int(events.steps));

  const Resources res = count_resources(q.config);
  const CycleEstimate worst = estimate_cycles(q.config);
  const CycleEstimate measured = estimate_cycles(q.config, sim.activity);
  const double dt = shortest_dt(q.config.dt);
  json report = {
      {"format", "spikeline-xylo-report"},
      {"chip", "syns61201"},
      {"checkpoint", o.checkpoint.string()},
      {"data", data.description.file},
      {"split", o.split},
      {"classes", data.classes},
      {"samples", set.size()},
      {"quantization", {{"method", method_name(q.recipe.options.method)},
                        {"rockpool_bugs", q.recipe.options.rockpool_bugs},
                        {"dash_fix", dash_fix_name(q.recipe.dash_fix)},
                        {"factors", q.tuning ? json(factors_to_params(q.tuning->factors, q.config.n_out)) : json()},
                        {"tuning", q.tuning ? json{{"accuracy", q.tuning->accuracy},
                                                   {"untuned_accuracy", q.tuning->untuned_accuracy},
                                                   {"split", q.tuning->split},
                                                   {"trials", q.tuning->trials},
                                                   {"tuner", q.tuning->tuner},
                                                   {"seed", q.tuning->seed}}
                                            : json()}}},
      {"pruning", {{"max_fan_out", o.max_fan_out},
                   {"synapses_dropped", pruned.synapses_dropped},
                   {"neurons_pruned", pruned.neurons_pruned},
                   {"checkpoint_float_accuracy", checkpoint_accuracy}}},
      {"simulation", {{"state", o.carry_state ? "carried over between samples" : "reset before each sample"}}},
      {"float", float_eval.to_json()},
      {"quantized", quant_eval.to_json()},
      {"accuracy_drop", float_eval.accuracy - quant_eval.accuracy},
      {"resources", resources_json(res, worst)},
      {"timing", {{"dt", dt},
                  {"clock_hz", o.clock_hz},
                  {"margin", o.margin},
                  {"worst_case", cycles_json(worst, {}, dt, o.margin, o.clock_hz)},
                  {"measured", cycles_json(measured, sim.activity, dt, o.margin, o.clock_hz)}}},
      {"sample", {{"index", o.sample},
                  {"true_class", data.classes.at(std::size_t(set.y[o.sample]))},
                  {"predicted_class", data.classes.at(std::size_t(sim.predicted[o.sample]))},
                  {"output_events", sim.counts[o.sample]}}},
      {"notes", result.notes}};

  std::filesystem::create_directories(o.out);
  json config_json = to_json(q.config);
  config_json["clock_hz"] = o.clock_hz;
  write_file_atomic(o.out / "config.json", config_json.dump(1) + "\n");
  HeaderInfo hi;
  hi.clock_hz = o.clock_hz;
  hi.comment = fmt::format("Xylo Audio 2 (syns61201) configuration written by spikeline xylo deploy\nfrom {} ({} "
                           "quantisation{}). Same arrays as config.json.\nDefine XYLO_CONFIG_IMPLEMENTATION in one C file "
                           "before including this header to get the definitions.",
                           o.checkpoint.string(), method_name(q.recipe.options.method),
                           q.tuning ? ", tuned activity factors" : "");
  write_file_atomic(o.out / "xylo_config.h", c_header(q.config, hi));
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_file_atomic(o.out / "report.json", report.dump(2) + "\n");
  write_file_atomic(o.out / "report.html",
                    render_deploy_report({report, float_eval, quant_eval, q.config, record}));
  result.report = std::move(report);
  return result;
}

}  // namespace spikeline::hw::xylo
