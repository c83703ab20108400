#include "spikeline/pipeline/dynapse2_deploy.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hw/dynapse2/from_config.hpp"
#include "spikeline/pipeline/dynapse2_deploy_report.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"

namespace spikeline::hw::dynapse2 {

using nlohmann::json;

Configured configure(const Spec& spec, const ActivityFactors& factors, const AutoencoderOptions& autoencoder) {
  Configured c;
  c.quantized = quantize_spec(apply_activity_factors(spec, factors), autoencoder);
  c.config = chip_config_from_spec(c.quantized);
  c.problems = validate_chip_config(c.config);
  if (c.problems.empty()) c.net = net_from_config(c.config);
  return c;
}

// ---- Stored tuning ----

std::optional<TuningRecord> read_tuning(const std::filesystem::path& dir, int n_neurons) {
  const auto path = dir / kTuningFile;
  if (!std::filesystem::exists(path)) return std::nullopt;
  const std::string src = path.string();
  json j;
  try {
    j = json::parse(read_file_text(path));
  } catch (const json::exception& e) {
    throw InputError(src, std::string("not valid JSON: ") + e.what());
  }
  const auto at = [&](const char* key) -> const json& {
    if (!j.is_object() || !j.contains(key)) throw InputError(src, std::string("missing key '") + key + "'");
    return j.at(key);
  };
  TuningRecord r;
  r.factors = factors_from_params(at("params"), n_neurons, src + ": params");
  try {
    r.split = at("split").get<std::string>();
    r.accuracy = at("accuracy").get<double>();
    r.untuned_accuracy = at("untuned_accuracy").get<double>();
    r.kept_untuned = j.value("kept_untuned", false);  // absent in records before this key existed
    r.best_trial_accuracy = j.value("best_trial_accuracy", r.accuracy);
    r.float_accuracy = at("float_accuracy").get<double>();
    r.trials = at("trials").get<int>();
    r.seed = at("seed").get<std::uint64_t>();
    r.tuner = at("tuner").get<std::string>();
  } catch (const json::exception& e) {
    throw InputError(src, std::string("malformed tuning record: ") + e.what());
  }
  return r;
}

void write_tuning(const std::filesystem::path& dir, const TuningRecord& r, int n_classes, const json& history) {
  nlohmann::ordered_json j;
  j["format"] = "spikeline-dynapse2-tuning";
  j["params"] = factors_to_params(r.factors, n_classes);
  j["split"] = r.split;
  j["accuracy"] = r.accuracy;
  j["untuned_accuracy"] = r.untuned_accuracy;
  j["kept_untuned"] = r.kept_untuned;
  j["best_trial_accuracy"] = r.best_trial_accuracy;
  j["float_accuracy"] = r.float_accuracy;
  j["trials"] = r.trials;
  j["seed"] = r.seed;
  j["tuner"] = r.tuner;
  j["history"] = history;
  write_file_atomic(dir / kTuningFile, j.dump(1) + "\n");
  // The thesis's file: c0..c6 always present, absent classes at 1.
  nlohmann::ordered_json thesis;
  thesis["params"] = factors_to_params(r.factors, std::max(n_classes, 7));
  thesis["val_accuracy_after_tuning"] = r.accuracy;
  write_file_atomic(dir / kThesisTuningFile, thesis.dump(4));
}

// ---- Deployment ----

namespace {

json resources_json(const ChipConfig& c) {
  const ChipResources r = count_chip_resources(c);
  json per_core = json::array();
  for (const CoreSetup& k : c.cores) {
    int neurons = 0, cam = 0;
    for (const NeuronSetup& n : c.neurons)
      if (n.cluster == k.cluster) ++neurons, cam += int(n.cam.size());
    per_core.push_back({{"cluster", k.cluster}, {"chip", k.chip()}, {"core", k.core()}, {"neurons", neurons},
                        {"cam_entries", cam}});
  }
  return {{"cores", r.cores},
          {"neurons", r.neurons},
          {"inputs", r.inputs},
          {"cam_entries", r.cam_entries},
          {"max_cam_per_neuron", r.max_cam},
          {"sram_entries", r.sram_entries},
          {"max_sram_per_neuron", r.max_sram},
          {"tags", r.tags},
          {"per_core", per_core},
          {"limits", {{"cores", kCoresPerBoard}, {"neurons_per_core", kNeuronsPerCore}, {"cam_per_neuron", kCamPerNeuron},
                      {"sram_per_neuron", kSramPerNeuron}, {"tags", kNumTags}}}};
}

json cores_json(const ChipConfig& c) {
  json out = json::array();
  for (const CoreSetup& k : c.cores) {
    json params = json::array();
    for (const DeviceSetting& p : k.params)
      params.push_back({{"name", p.sim_name}, {"device", p.device_name}, {"coarse", p.cf.coarse}, {"fine", p.cf.fine},
                        {"current", p.current}, {"requested", p.requested}});
    out.push_back({{"cluster", k.cluster}, {"chip", k.chip()}, {"core", k.core()}, {"parameters", params}});
  }
  return out;
}

// One sample of the set as the simulator's input [T * C].
std::vector<float> sample_of(const FloatArray& x, std::size_t i) {
  const std::size_t per = x.shape.at(1) * x.shape.at(2);
  return {x.data.begin() + std::ptrdiff_t(i * per), x.data.begin() + std::ptrdiff_t((i + 1) * per)};
}

std::vector<int> spike_counts(const DynapSimRecord<float>& r) {
  std::vector<int> counts(std::size_t(r.n), 0);
  for (int t = 0; t < r.steps; ++t)
    for (int k = 0; k < r.n; ++k) counts[std::size_t(k)] += int(r.spikes[std::size_t(t) * r.n + k]);
  return counts;
}

}  // namespace

DeployResult deploy(const DeployOptions& o) {
  DeployResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const Dynapse2Checkpoint ckpt = load_dynapse2_checkpoint(o.checkpoint);
  const train::TrainingData data =
      train::load_data_like(ckpt.config, o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);

  const Spec spec = map_network(ckpt.net);
  std::optional<TuningRecord> tuning;
  if (o.use_tuning) tuning = read_tuning(o.checkpoint, ckpt.net.n);
  AutoencoderOptions ae;
  ae.seed = tuning ? tuning->seed : o.seed;
  if (tuning && tuning->seed != o.seed)
    result.notes.push_back(fmt::format("the autoencoder uses the tuning's seed {} (the factors were tuned for it)", tuning->seed));
  const Configured c = configure(spec, tuning ? tuning->factors : ActivityFactors{}, ae);
  if (!c.problems.empty()) throw limit_violations((o.checkpoint / kModelFile).string(), c.problems, "Dynap-SE2");

  const train::Evaluation float_eval = train::classify(predict(ckpt.net, set.x, o.threads), set.y, data.classes);
  const train::Evaluation chip_eval = train::classify(predict(c.net, set.x, o.threads), set.y, data.classes);
  if (tuning && tuning->split == o.split && std::abs(tuning->accuracy - chip_eval.accuracy) > 1e-12)
    result.notes.push_back(fmt::format("{} recorded accuracy {:.4f} on {}, this deployment measures {:.4f}: the model or "
                                       "data changed after tuning (run 'spikeline dynapse2 tune' again)",
                                       kTuningFile, tuning->accuracy, o.split, chip_eval.accuracy));

  // Sample 0 through both networks, every record.
  const int steps = int(set.x.shape.at(1));
  const std::vector<float> x0 = sample_of(set.x, 0);
  const DynapSimRecord<float> chip_rec = run_dynapse_net<float>(c.net, x0, steps);
  const DynapSimRecord<float> float_rec = run_dynapse_net<float>(ckpt.net, x0, steps);
  const auto counts = spike_counts(chip_rec);
  const int predicted = int(std::max_element(counts.begin(), counts.end()) - counts.begin());

  json loss = json::array(), Iw = json::array();
  for (std::size_t k = 0; k < c.quantized.Iw.size(); ++k) {
    loss.push_back(c.quantized.quantization_loss.at(k));
    Iw.push_back(c.quantized.Iw[k]);
  }
  json report = {
      {"format", "spikeline-dynapse2-report"},
      {"chip", "Dynap-SE2"},
      {"checkpoint", o.checkpoint.string()},
      {"data", data.description.file},
      {"split", o.split},
      {"classes", data.classes},
      {"samples", set.size()},
      {"network", {{"inputs", ckpt.net.n_in}, {"neurons", ckpt.net.n}, {"clusters", spec.n_cluster},
                   {"Iscale", spec.Iscale}, {"dt", spec.dt}}},
      {"quantization", {{"autoencoder_seed", ae.seed},
                        {"quantization_loss", loss},
                        {"Iw", Iw},
                        {"factors", tuning ? json::parse(factors_to_params(tuning->factors, ckpt.net.n).dump()) : json()},
                        {"tuning", tuning ? json{{"accuracy", tuning->accuracy},
                                                 {"untuned_accuracy", tuning->untuned_accuracy},
                                                 {"split", tuning->split},
                                                 {"trials", tuning->trials},
                                                 {"tuner", tuning->tuner},
                                                 {"seed", tuning->seed}}
                                          : json()}}},
      {"float", float_eval.to_json()},
      {"configured", chip_eval.to_json()},
      {"accuracy_drop", float_eval.accuracy - chip_eval.accuracy},
      {"resources", resources_json(c.config)},
      {"cores", cores_json(c.config)},
      {"sample", {{"index", 0},
                  {"true_class", data.classes.at(std::size_t(set.y[0]))},
                  {"predicted_class", predicted < int(data.classes.size()) ? data.classes[std::size_t(predicted)]
                                                                             : fmt::format("neuron {}", predicted)},
                  {"spike_counts", counts}}},
      {"notes", result.notes}};

  std::filesystem::create_directories(o.out);
  write_chip_config(o.out / "config.json", c.config);
  write_file_atomic(o.out / "spec.json", to_json(c.quantized).dump(1) + "\n");
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_file_atomic(o.out / "report.json", report.dump(2) + "\n");
  write_file_atomic(o.out / "report.html",
                    render_deploy_report({report, float_eval, chip_eval, c.config, float_rec, chip_rec}));
  result.report = std::move(report);
  return result;
}

}  // namespace spikeline::hw::dynapse2
