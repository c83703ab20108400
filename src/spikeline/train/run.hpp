#pragma once
// A training run from a config, and evaluation of a checkpoint: the library behind
// `spikeline train` and `spikeline evaluate` (docs/training.md).
#include <csignal>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/report/plot.hpp"
#include "spikeline/snn/metrics.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/train/checkpoint.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::train {

// The config's data: the chosen classes (labels re-indexed to their position in `classes`, as the
// thesis's enabled_classes), each split as float rasters.
struct TrainingData {
  std::vector<std::string> classes;
  LabelledSet train, val, test;
  DataDescription description;
};
TrainingData load_training_data(const TrainConfig& config, int threads = 2);
// The same class selection applied to another data file (for evaluate --data); an empty `file` is
// the config's own data.file.
TrainingData load_data_like(const TrainConfig& config, const std::filesystem::path& file, int threads = 2);

// The split named "train", "val" or "test"; InputError on --split when the name is another or the
// split holds no samples (nothing to evaluate, tune or deploy on).
const LabelledSet& pick_split(const TrainingData& data, const std::string& split);

snn::Network build_network(const TrainConfig& config, int n_in, int n_out, double data_dt);
// Xylo's size limits (inputs <= 16, hidden neurons <= 1000, outputs <= 8): InputError naming what
// is over, before any training.
void check_xylo_limits(const snn::Network& net);

struct RunOptions {
  std::filesystem::path out;
  bool resume = false;  // continue the checkpoint in `out` (its config, overridden by `config`)
  bool progress = true;
  const volatile std::sig_atomic_t* stop = nullptr;
  std::function<void(const std::string&)> log = [](const std::string&) {};
  // Called after each epoch (e.g. to report it to an HPO experiment); may be empty.
  std::function<void(const EpochReport&)> on_epoch;
};

struct RunResult {
  TrainResult train;
  std::vector<std::string> classes;
  double seconds = 0.0;
  std::vector<std::string> warnings;  // e.g. the loss stuck at the prior (train/diagnostics.hpp); also logged
};
RunResult run_training(const TrainConfig& config, const RunOptions& options);

struct Evaluation {
  std::vector<std::string> classes;
  std::size_t samples = 0;
  double accuracy = 0.0;
  std::vector<std::vector<std::size_t>> confusion;  // [true][predicted]
  std::vector<double> precision, recall, f1;
  snn::ComplexityMetrics complexity;  // NeuroBench-style footprint, sparsity, synaptic operations
  nlohmann::json to_json() const;
  std::string table() const;  // console table
};
// Accuracy, confusion matrix and per-class precision/recall/F1 of predictions against labels.
Evaluation classify(std::span<const int> predicted, std::span<const int> labels, std::vector<std::string> classes);
Evaluation evaluate(const snn::Network& net, const LabelledSet& set, std::vector<std::string> classes,
                    int threads = 2);

// SVG report: confusion matrix, training curves (from a checkpoint's log.jsonl lines) and the
// output spike raster of sample `sample` of `set`.
// Loss and accuracy (train, validation) per epoch, two stacked panels of `width` pixels starting at
// (left, top); 320 pixels high in all.
void draw_training_curves(report::Canvas& canvas, std::span<const EpochReport> curves, double left,
                          double top, double width);

void write_evaluation_report(const std::filesystem::path& svg, const Evaluation& eval,
                             const std::vector<EpochReport>& curves, const snn::Network& net,
                             const LabelledSet& set, std::size_t sample);

}  // namespace spikeline::train
