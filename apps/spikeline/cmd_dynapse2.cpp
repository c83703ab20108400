// spikeline dynapse2 codec | sim | map | quantize | config | tune | deploy: the Dynap-SE2 path (docs/dynapse2.md).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chip_commands.hpp"
#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hw/dynapse2/bias.hpp"
#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"
#include "spikeline/hw/dynapse2/factors.hpp"
#include "spikeline/hw/dynapse2/from_config.hpp"
#include "spikeline/hw/dynapse2/mapper.hpp"
#include "spikeline/pipeline/dynapse2_deploy.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"
#include "spikeline/pipeline/dynapse2_tune.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::cli {

namespace {

namespace d2 = spikeline::hw::dynapse2;

struct CodecArgs {
  std::string param;
  double current = NAN;
  int coarse = -1;
  int fine = -1;
  std::string format = "console";
  bool list = false;
};

void codec_cmd(const CodecArgs& a) {
  if (a.list) {
    for (const d2::BiasParam& p : d2::bias_params())
      std::printf("%-20s %-12s %c  scale %g\n", std::string(p.device_name).c_str(),
                  p.sim_name.empty() ? "-" : std::string(p.sim_name).c_str(), p.type == d2::Transistor::N ? 'N' : 'P',
                  p.scale_factor);
    return;
  }
  if (a.param.empty()) throw InputError("--param", "required (device name like SOIF_LEAK_N or current like Itau_mem)");
  const d2::BiasParam* p = d2::find_bias_param(a.param);
  if (!p) throw InputError("--param", "unknown parameter '" + a.param + "' (see 'spikeline dynapse2 codec --list')");
  const bool from_current = !std::isnan(a.current);
  const bool from_setting = a.coarse >= 0 || a.fine >= 0;
  if (from_current == from_setting) throw InputError("dynapse2 codec", "give either --current or --coarse and --fine");
  if (from_setting && (a.coarse < 0 || a.fine < 0)) throw InputError("dynapse2 codec", "give both --coarse and --fine");
  const d2::CoarseFine cf = from_current ? d2::encode_current(*p, a.current) : d2::CoarseFine{a.coarse, a.fine};
  const double decoded = d2::decode_current(*p, cf);
  const std::string dev(p->device_name), sim(p->sim_name);
  if (a.format == "json") {
    nlohmann::json j{{"param", dev},       {"sim_name", sim},   {"transistor_type", p->type == d2::Transistor::N ? "N" : "P"},
                     {"scale_factor", p->scale_factor}, {"coarse", cf.coarse}, {"fine", cf.fine},
                     {"decoded_A", decoded}};
    if (from_current) j["requested_A"] = a.current;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  if (from_current)
    std::printf("%s%s: %.6e A -> coarse %d, fine %d -> %.6e A (%+.2f%%)\n", dev.c_str(),
                sim.empty() ? "" : (" (" + sim + ")").c_str(), a.current, cf.coarse, cf.fine, decoded,
                a.current > 0.0 ? 100.0 * (decoded - a.current) / a.current : 0.0);
  else
    std::printf("%s%s: coarse %d, fine %d -> %.6e A\n", dev.c_str(), sim.empty() ? "" : (" (" + sim + ")").c_str(),
                cf.coarse, cf.fine, decoded);
}

struct SimArgs {
  std::string params, config, input, out;
  std::string precision = "float32";
};

template <class T>
void run_sim(const d2::DynapSimParams& p, const std::vector<double>& w_in, int n_in, const std::vector<double>& x,
             const Shape& shape, bool two_d, const std::string& out) {
  const std::size_t batch = shape[0], steps = shape[1], ch = shape[2];
  const std::vector<T> w(w_in.begin(), w_in.end());
  std::vector<T> spikes, imem, isyn, iahp, vmem;
  for (std::size_t b = 0; b < batch; ++b) {
    // State is reset per sample, as the thesis's training and evaluation do.
    std::vector<T> u(x.begin() + static_cast<std::ptrdiff_t>(b * steps * ch),
                     x.begin() + static_cast<std::ptrdiff_t>((b + 1) * steps * ch));
    if (n_in > 0) u = d2::weighted_input<T>(u, w, static_cast<int>(steps), n_in, p.n);
    const auto r = d2::dynapsim_forward<T>(p, u, static_cast<int>(steps));
    spikes.insert(spikes.end(), r.spikes.begin(), r.spikes.end());
    imem.insert(imem.end(), r.imem.begin(), r.imem.end());
    isyn.insert(isyn.end(), r.isyn.begin(), r.isyn.end());
    iahp.insert(iahp.end(), r.iahp.begin(), r.iahp.end());
    vmem.insert(vmem.end(), r.vmem.begin(), r.vmem.end());
  }
  const Shape dims = two_d ? Shape{steps, std::size_t(p.n)} : Shape{batch, steps, std::size_t(p.n)};
  io::Npz npz;
  npz.add("spikes", io::NpyArray::from<T>(dims, spikes));
  npz.add("imem", io::NpyArray::from<T>(dims, imem));
  npz.add("isyn", io::NpyArray::from<T>(dims, isyn));
  npz.add("iahp", io::NpyArray::from<T>(dims, iahp));
  npz.add("vmem", io::NpyArray::from<T>(dims, vmem));
  io::write_npz(out, npz);
  std::printf("wrote %s: %zu sample(s) x %zu steps, %d neurons\n", out.c_str(), batch, steps, p.n);
}

// The network a chip configuration realises (decoded currents, weights from the CAM masks).
void sim_config_cmd(const SimArgs& a) {
  const d2::ChipConfig config = d2::read_chip_config(a.config);
  const d2::DynapseNet net = d2::net_from_config(config);
  for (const auto& problem : d2::validate_chip_config(config))
    std::fprintf(stderr, "spikeline: warning: %s: %s\n", a.config.c_str(), problem.c_str());
  const io::NpyArray arr = io::read_npy(a.input);
  Shape shape = arr.shape;
  const bool two_d = shape.size() == 2;
  if (two_d) shape.insert(shape.begin(), 1);
  if (shape.size() != 3 || shape[2] != std::size_t(net.n_in))
    throw InputError(a.input, "expected counts per input channel [T, " + std::to_string(net.n_in) + "] or [B, T, " +
                                  std::to_string(net.n_in) + "], got " + shape_to_string(arr.shape));
  const std::vector<double> x = arr.to_double();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) throw InputError(a.input, "element " + std::to_string(i) + " is not finite");
  if (a.precision == "float64")
    run_sim<double>(net.sim, net.w_in, net.n_in, x, shape, two_d, a.out);
  else
    run_sim<float>(net.sim, net.w_in, net.n_in, x, shape, two_d, a.out);
}

void sim_cmd(const SimArgs& a) {
  if (a.params.empty() == a.config.empty()) throw InputError("dynapse2 sim", "give either --params or --config");
  if (!a.config.empty()) return sim_config_cmd(a);
  std::ifstream in(a.params);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(a.params, std::string("invalid JSON: ") + e.what());
  }
  // Optional input weights: the input is then raw per-channel counts, multiplied by w_in.
  std::vector<double> w_in;
  int n_in = 0;
  if (j.is_object() && j.contains("w_in")) {
    const auto& w = j.at("w_in");
    if (!w.is_array() || w.empty()) throw InputError(a.params, "field 'w_in': expected [n_in][n] numbers");
    n_in = static_cast<int>(w.size());
    for (const auto& row : w) {
      if (!row.is_array() || row.size() != j.value("n", 0))
        throw InputError(a.params, "field 'w_in': every row needs n values");
      for (const auto& v : row) {
        if (!v.is_number()) throw InputError(a.params, "field 'w_in': expected numbers");
        w_in.push_back(v.get<double>());
      }
    }
    j.erase("w_in");
  }
  const d2::DynapSimParams p = d2::dynapsim_params_from_json(j, a.params);
  const io::NpyArray arr = io::read_npy(a.input);
  Shape shape = arr.shape;
  const bool two_d = shape.size() == 2;
  if (two_d) shape.insert(shape.begin(), 1);
  const std::size_t want = n_in > 0 ? std::size_t(n_in) : std::size_t(p.n);
  if (shape.size() != 3 || shape[2] != want)
    throw InputError(a.input, "expected [T, " + std::to_string(want) + "] or [B, T, " + std::to_string(want) +
                                  "], got " + shape_to_string(arr.shape));
  const std::vector<double> x = arr.to_double();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) throw InputError(a.input, "element " + std::to_string(i) + " is not finite");
  if (a.precision == "float64")
    run_sim<double>(p, w_in, n_in, x, shape, two_d, a.out);
  else
    run_sim<float>(p, w_in, n_in, x, shape, two_d, a.out);
}

// ---- map | quantize | config ----

struct MapArgs {
  std::string model, checkpoint, out;
  int clusters = 0;
};

void map_cmd(const MapArgs& a) {
  if (a.model.empty() == a.checkpoint.empty()) throw InputError("dynapse2 map", "give either --model or --checkpoint");
  const d2::DynapseNet net =
      a.model.empty() ? d2::load_dynapse2_checkpoint(a.checkpoint).net : d2::read_dynapse_net(a.model);
  const d2::Spec spec = d2::map_network(net, a.clusters);
  write_file_atomic(a.out, d2::to_json(spec).dump(1) + "\n");
  std::printf("wrote %s: %d inputs, %d neurons on %d core(s), Iscale %g A\n", a.out.c_str(), spec.n_in, spec.n_neuron,
              spec.n_cluster, spec.Iscale);
}

nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("not valid JSON: ") + e.what());
  }
}

struct QuantizeArgs {
  std::string spec, factors, out;
  std::uint64_t seed = 0;
};

void quantize_cmd(const QuantizeArgs& a) {
  d2::Spec spec = d2::spec_from_json(read_json_file(a.spec), a.spec);
  if (!a.factors.empty()) {
    // NNI's parameter object, or a file holding one under "params" (dynapse2_tuning.json, dynapse2_qtuning_metadata).
    const nlohmann::json f = read_json_file(a.factors);
    const bool wrapped = f.is_object() && f.contains("params");
    spec = d2::apply_activity_factors(spec, d2::factors_from_params(wrapped ? f.at("params") : f, spec.n_neuron,
                                                                     a.factors + (wrapped ? ": params" : "")));
  }
  d2::AutoencoderOptions ae;
  ae.seed = a.seed;
  const d2::QuantizedSpec q = d2::quantize_spec(spec, ae);
  write_file_atomic(a.out, d2::to_json(q).dump(1) + "\n");
  std::string loss;
  for (double l : q.quantization_loss) loss += (loss.empty() ? "" : ", ") + std::to_string(l);
  std::printf("wrote %s: %d core(s), autoencoder loss per core [%s]%s\n", a.out.c_str(), spec.n_cluster, loss.c_str(),
              a.factors.empty() ? "" : ", activity factors applied");
}

struct ConfigArgs {
  std::string qspec, out;
};

void config_cmd(const ConfigArgs& a) {
  const d2::QuantizedSpec q = d2::quantized_spec_from_json(read_json_file(a.qspec), a.qspec);
  const d2::ChipConfig c = d2::chip_config_from_spec(q);
  d2::write_chip_config(a.out, c);
  const d2::ChipResources r = d2::count_chip_resources(c);
  std::printf("wrote %s: %d core(s), %d neurons, %d CAM entries (busiest neuron %d of %d), %d SRAM entries\n",
              a.out.c_str(), r.cores, r.neurons, r.cam_entries, r.max_cam, d2::kCamPerNeuron, r.sram_entries);
  const auto problems = d2::validate_chip_config(c);
  for (const auto& p : problems) std::printf("%s: %s\n", a.out.c_str(), p.c_str());
  if (!problems.empty())
    throw InputError(a.out, std::to_string(problems.size()) + " violation(s) of the Dynap-SE2 limits");
}

// ---- tune | deploy ----

void tune_cmd(const ChipTuneArgs& a) {
  d2::TuneOptions o;
  copy_tune_args(a, o);
  const d2::TuneReport r = d2::tune_checkpoint(o);
  const TuneFigures f{.accuracy = r.accuracy, .untuned_accuracy = r.untuned_accuracy, .float_accuracy = r.float_accuracy,
                      .trials = r.trials, .kept_untuned = r.kept_untuned,
                      .best_trial_accuracy = r.best_trial_accuracy, .seconds = r.seconds};
  if (a.format == "json") {
    std::printf("%s\n", tune_json(f).dump().c_str());
    return;
  }
  print_tune_result(f, a.split, "configured", "configuration");
  print_tuning_files(a.checkpoint, d2::kTuningFile, d2::kThesisTuningFile);
}

struct DeployArgs : ChipDeployArgs {
  std::uint64_t seed = 0;
};

void deploy_cmd(const DeployArgs& a) {
  d2::DeployOptions o;
  copy_deploy_args(a, o);
  o.seed = a.seed;
  const auto result = d2::deploy(o);
  const auto& r = result.report;
  if (!print_deploy_notes_or_json(result.notes, r, a.format)) return;
  const auto& res = r.at("resources");
  std::printf("accuracy on %s (%zu samples): float %.4f, Dynap-SE2 configured %.4f%s\n", a.split.c_str(),
              r.at("samples").get<std::size_t>(), r.at("float").at("accuracy").get<double>(),
              r.at("configured").at("accuracy").get<double>(),
              r.at("quantization").at("factors").is_null() ? "" : " (tuned factors)");
  std::printf("resources: %d core(s), %d neurons, %d CAM entries (busiest neuron %d of %d), %d SRAM entries\n",
              res.at("cores").get<int>(), res.at("neurons").get<int>(), res.at("cam_entries").get<int>(),
              res.at("max_cam_per_neuron").get<int>(), d2::kCamPerNeuron, res.at("sram_entries").get<int>());
  std::printf("wrote %s/{config.json, spec.json, report.html, report.json}\n", a.out.c_str());
}
}  // namespace

void add_dynapse2_commands(CLI::App& app) {
  auto* dy = app.add_subcommand("dynapse2", "Deploy to Dynap-SE2: bias codec, map, quantise, configure, simulate, tune, deploy");
  dy->require_subcommand(1);

  auto c_args = std::make_shared<CodecArgs>();
  auto* codec = dy->add_subcommand("codec", "Convert a current <-> bias-generator (coarse, fine) setting");
  codec->add_option("--param", c_args->param, "Device parameter (SOIF_LEAK_N) or simulator current (Itau_mem)");
  codec->add_option("--current", c_args->current, "Current in A to encode to the nearest (coarse, fine)");
  codec->add_option("--coarse", c_args->coarse, "Coarse level 0..5 to decode (with --fine)");
  codec->add_option("--fine", c_args->fine, "Fine level 0..255 to decode (with --coarse)");
  codec->add_option("--format", c_args->format, "console or json")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  codec->add_flag("--list", c_args->list, "List the device parameters, their currents and scale factors");
  codec->callback([c_args] { codec_cmd(*c_args); });

  auto s_args = std::make_shared<SimArgs>();
  auto* sim = dy->add_subcommand("sim", "Simulate DynapSim (Rockpool 2.7 forward dynamics), state reset per sample");
  sim->add_option("--params", s_args->params, "Parameters JSON (docs/dynapse2.md): n, per-neuron currents, w_rec, "
                  "optional w_in, Iscale, dt")->check(CLI::ExistingFile);
  sim->add_option("--config", s_args->config, "Chip configuration JSON (dynapse2 config / deploy): simulate the network "
                  "it realises (decoded currents, weights from the CAM masks)")->check(CLI::ExistingFile);
  sim->add_option("--input", s_args->input, "Input .npy [T, C] or [B, T, C]: weighted input per neuron (C = n), or "
                  "counts per channel when the params have w_in or with --config (C = n_in)")
      ->required()->check(CLI::ExistingFile);
  sim->add_option("--out", s_args->out, "Output .npz: 'spikes', 'imem', 'isyn', 'iahp', 'vmem', shaped [.., T, n]")
      ->required();
  sim->add_option("--precision", s_args->precision, "float32 (as Rockpool) or float64")
      ->capture_default_str()->check(CLI::IsMember({"float32", "float64"}));
  sim->callback([s_args] { sim_cmd(*s_args); });

  auto m = std::make_shared<MapArgs>();
  auto* map = dy->add_subcommand("map", "Map a Dynap-SE2 network to a float specification (Rockpool 2.7 mapper)");
  map->add_option("--model", m->model, "Network JSON (dynapse2_model.json)")->check(CLI::ExistingFile);
  map->add_option("--checkpoint", m->checkpoint, "Checkpoint directory of spikeline train (model.target dynapse2)");
  map->add_option("--clusters", m->clusters, "Number of cores (default: n / 256 + 1, Rockpool's rule)")
      ->check(CLI::Range(0, 1024));
  map->add_option("--out", m->out, "Output specification JSON")->required();
  map->callback([m] { map_cmd(*m); });

  auto q = std::make_shared<QuantizeArgs>();
  auto* quant = dy->add_subcommand("quantize", "Quantise a specification's weights with the autoencoder (4-bit masks "
                                               "over 4 base weight currents per core)");
  quant->add_option("--spec", q->spec, "Specification JSON from 'dynapse2 map'")->required()->check(CLI::ExistingFile);
  quant->add_option("--factors", q->factors, "Activity factors: NNI parameter object, or a file with it under "
                    "\"params\" (dynapse2_tuning.json, dynapse2_qtuning_metadata)")->check(CLI::ExistingFile);
  quant->add_option("--seed", q->seed, "Autoencoder initialisation seed")->capture_default_str();
  quant->add_option("--out", q->out, "Output quantised specification JSON")->required();
  quant->callback([q] { quantize_cmd(*q); });

  auto c = std::make_shared<ConfigArgs>();
  auto* cfg = dy->add_subcommand("config", "Build the chip configuration (bias settings per core, CAM/SRAM per neuron, "
                                           "input channel map) from a quantised specification; check the chip's limits");
  cfg->add_option("--qspec", c->qspec, "Quantised specification JSON from 'dynapse2 quantize'")
      ->required()->check(CLI::ExistingFile);
  cfg->add_option("--out", c->out, "Output configuration JSON (written even when it breaks a limit; exit 2 then)")
      ->required();
  cfg->callback([c] { config_cmd(*c); });
  auto t = std::make_shared<ChipTuneArgs>();
  auto* tune = dy->add_subcommand(
      "tune", "Search the thesis's activity factors (global, per class) with the HPO engine's tuner; each trial "
              "quantises, configures and simulates the split. Stores the best in the checkpoint "
              "(dynapse2_tuning.json, dynapse2_qtuning_metadata), which dynapse2 deploy then uses.");
  add_tune_source_flags(*tune, *t,
                        {"Checkpoint directory of spikeline train (model.target dynapse2)",
                         "NNI experiment JSON (the thesis's dynapse2_tuning_*.json run unchanged)",
                         "Tuner and autoencoder seed"});
  add_tune_run_flags(*tune, *t, "Worker threads");
  tune->callback([t] { tune_cmd(*t); });

  auto d = std::make_shared<DeployArgs>();
  auto* dep = dy->add_subcommand(
      "deploy", "Map, quantise (with the checkpoint's stored tuning, if any), configure, check and simulate a "
                "checkpoint; write a bundle: config.json, spec.json, report.html, report.json");
  add_deploy_source_flags(*dep, *d, "Checkpoint directory of spikeline train (model.target dynapse2)");
  dep->add_flag("--no-tuning", d->no_tuning, "Ignore the checkpoint's stored tuning (dynapse2_tuning.json)");
  dep->add_option("--seed", d->seed, "Autoencoder seed when there is no stored tuning")->capture_default_str();
  add_deploy_run_flags(*dep, *d);
  dep->callback([d] { deploy_cmd(*d); });

}

}  // namespace spikeline::cli
