#pragma once
// The checkpoint directory of a training run (docs/training.md):
//
//   model_params            best model, Rockpool's model JSON (Rockpool's load() reads it)
//   model_metadata.json     {"net": Rockpool's repr, "params": {...}, "val_accuracy"}   (as the thesis)
//   training_metadata.json  {"input_params": {...}, "loss_t", "acc_t", "lr", "num_epochs",
//                            "use_scheduled_lr", "nni_mode"}                          (as the thesis)
//   config.json             the resolved config (every key)
//   log.jsonl               one JSON line per epoch
//   resume/params           the current (not best) weights, Rockpool JSON (floats round-trip exactly)
//   resume/optimiser.npz    Adam's moments per parameter
//   resume/progress.json    epoch/batch to continue at, curves, best accuracy, Adam step
//
// Every file is written atomically; resume/progress.json last, so a checkpoint interrupted while
// being written still resumes from the previous consistent state of the other files at worst.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/snn/network.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::train {

// What the thesis records about the data ("input_params").
struct DataDescription {
  std::string file;
  int n_channels = 0;
  int n_classes = 0;  // classes of the data file
  double dt = 0.05;
  double sample_duration = 2.0;
  int batch_size = 0;
  double sample_time_modifier = 1.0;
  std::vector<int> enabled_classes;        // indices into the data file's classes
  std::vector<std::string> class_names;    // the trained classes, in output order
};

// Python's json.dumps(doc, indent=4) of a document (floats as Python's repr: shortest round trip,
// exponent form outside 1e-4 <= |x| < 1e16): the layout of the thesis's metadata files.
std::string python_json_dump(const nlohmann::ordered_json& doc);

// Rockpool's repr of a network, as the thesis stores it in model_metadata.json ("net").
std::string rockpool_repr(const snn::Network& net);

void write_checkpoint(const std::filesystem::path& dir, const TrainConfig& config,
                      const DataDescription& data, const snn::Network& current,
                      const TrainResult& result);

struct ResumePoint {
  nlohmann::json config;  // the run's resolved config document
  snn::Network current;
  TrainResult result;
};
// InputError naming the file when the directory holds no resumable checkpoint.
ResumePoint read_resume_point(const std::filesystem::path& dir);

}  // namespace spikeline::train
