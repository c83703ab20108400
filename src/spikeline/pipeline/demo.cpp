#include "spikeline/pipeline/demo.hpp"

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/data/synth.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/encode/encoders.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/report/plot.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/run.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::pipeline {

namespace {

void plot_curves(const std::vector<train::EpochReport>& epochs, const std::filesystem::path& path) {
  report::Canvas canvas(640, 400);
  train::draw_training_curves(canvas, epochs, 70, 35, 540);
  canvas.save(path);
  canvas.save(std::filesystem::path(path).replace_extension(".png"));
}

}  // namespace

DemoResult run_demo(const DemoOptions& o, const std::function<void(const std::string&)>& log) {
  if (o.subjects < 5) throw InputError("--subjects", "needs at least 5 subjects to split by subject");
  std::filesystem::create_directories(o.out);
  DemoResult result;

  // 1. Data: synthetic recordings in the raw WISDM format, cut into windows split by subject.
  data::SynthOptions synth;
  synth.subjects = o.subjects;
  synth.seed = o.seed;
  synth.threads = o.threads;
  const auto raw_dir = o.out / "wisdm";
  write_synthetic_wisdm(raw_dir, synth);
  log(fmt::format("data     {} synthetic subjects x {} activities -> {}", o.subjects,
                  synth.activities.size(), raw_dir.string()));
  data::PrepareOptions prep;
  prep.wisdm_dir = raw_dir;
  prep.split.seed = o.seed;
  prep.threads = o.threads;
  const data::WindowDataset windows = data::prepare_wisdm(prep);
  data::write_windows(o.out / "windows.npz", windows);
  for (const auto& c : windows.classes) result.classes.push_back(c.name);
  result.train = windows.splits[data::kTrain].size();
  result.val = windows.splits[data::kVal].size();
  result.test = windows.splits[data::kTest].size();
  log(fmt::format("windows  {} classes, train/val/test = {}/{}/{} windows (split by subject) -> {}",
                  result.classes.size(), result.train, result.val, result.test,
                  (o.out / "windows.npz").string()));

  // 2. Spike encoding.
  const auto encoder = encode::encoder_from_json({{"type", o.encoder}});
  const data::SpikeSet spikes = encode::encode_dataset(windows, encoder, {}, o.threads, false);
  data::write_spikes(o.out / "spikes.npz", spikes);
  log(fmt::format("encode   {} -> {} channels x {} steps -> {}", o.encoder, spikes.channels(),
                  spikes.steps(), (o.out / "spikes.npz").string()));

  // 3. Model generation through the config path of `spikeline train`: the thesis architecture
  // trained with surrogate-gradient BPTT, checkpointed in out/checkpoint.
  train::TrainConfig config;
  config.data.file = std::filesystem::absolute(o.out / "spikes.npz");
  config.model.architecture = o.architecture;
  config.model.hidden = o.hidden;
  config.model.neuron.tau_mem = o.tau_mem;
  config.model.neuron.tau_syn = o.tau_syn;
  config.optim.lr = o.lr;
  config.batch_size = o.batch_size;
  config.epochs = o.epochs;
  config.seed = o.seed;
  config.threads = o.threads;
  write_file_atomic(o.out / "train_config.json", train::config_to_json(config).dump(2) + "\n");
  train::RunOptions ro;
  ro.out = o.out / "checkpoint";
  ro.progress = o.progress;
  ro.log = log;
  const train::RunResult run = train::run_training(config, ro);
  const train::TrainResult& trained = run.train;
  result.train_seconds = run.seconds;
  result.best_val_accuracy = trained.best_val_acc;
  result.best_epoch = trained.best_epoch + 1;

  // 4. The best model on the held-out subjects, as `spikeline evaluate` does it.
  const train::TrainingData data = train::load_training_data(config, o.threads);
  const snn::Network& best = trained.best;
  const train::Evaluation evaluation = train::evaluate(best, data.test, data.classes, o.threads);
  result.test_accuracy = evaluation.accuracy;
  train::write_evaluation_report(o.out / "evaluation.svg", evaluation, trained.epochs, best, data.test, 0);
  write_file_atomic(o.out / "evaluation.json", evaluation.to_json().dump(2) + "\n");
  io::save_network(o.out / "model.json", best, io::NetworkFormat::Rockpool);
  std::string curve_log;
  for (const auto& e : trained.epochs)
    curve_log += nlohmann::json{{"epoch", e.epoch + 1}, {"loss", e.loss}, {"train_acc", e.train_acc},
                                {"val_acc", e.val_acc}, {"samples_per_s", e.samples_per_s}}
                     .dump() + "\n";
  write_file_atomic(o.out / "training_log.jsonl", curve_log);
  plot_curves(trained.epochs, o.out / "learning_curve.svg");

  nlohmann::json curves = nlohmann::json::array();
  for (const auto& e : trained.epochs)
    curves.push_back({{"epoch", e.epoch + 1}, {"loss", e.loss}, {"train_acc", e.train_acc}, {"val_acc", e.val_acc}});
  result.report = {{"classes", result.classes},
                   {"windows", {{"train", result.train}, {"val", result.val}, {"test", result.test}}},
                   {"split", "subject"},
                   {"encoder", o.encoder},
                   {"architecture", o.architecture},
                   {"hidden", o.hidden},
                   {"epochs", o.epochs},
                   {"best_epoch", result.best_epoch},
                   {"best_val_accuracy", result.best_val_accuracy},
                   {"test_accuracy", result.test_accuracy},
                   {"chance_accuracy", 1.0 / static_cast<double>(result.classes.size())},
                   {"train_seconds", result.train_seconds},
                   {"seed", o.seed},
                   {"checkpoint", (o.out / "checkpoint").string()},
                   {"curves", curves}};
  write_file_atomic(o.out / "report.json", result.report.dump(2) + "\n");
  log(fmt::format("result   test accuracy {:.3f} on held-out subjects (best val {:.3f} at epoch {}; "
                  "chance {:.3f}) -> {}",
                  result.test_accuracy, result.best_val_accuracy, result.best_epoch,
                  1.0 / static_cast<double>(result.classes.size()), (o.out / "report.json").string()));
  return result;
}

}  // namespace spikeline::pipeline
