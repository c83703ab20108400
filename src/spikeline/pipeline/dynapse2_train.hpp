#pragma once
// `spikeline train` with `model.target: dynapse2` and `spikeline evaluate` of such a checkpoint:
// the thesis's Dynap-SE2 recipe (Linear(in, C, no bias) -> DynapSim(C, recurrent), MSE against a
// one-hot target at every step, Adam; shared docs dynapse2.md §3-4; docs/dynapse2_training.md).
//
// Checkpoint directory: config.json (resolved), log.jsonl (one line per epoch), dynapse2_model.json
// (best model, hw/dynapse2/model.hpp), model_metadata.json ({"val_accuracy", ...}), resume/ files.
#include <filesystem>
#include <string>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/hw/dynapse2/model.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::hw::dynapse2 {

inline constexpr const char* kModelFile = "dynapse2_model.json";

struct Dynapse2RunResult {
  std::vector<train::EpochReport> epochs;
  double best_val_acc = -1.0;
  int best_epoch = -1;
  DynapseNet best;
  std::vector<std::string> classes;
  double seconds = 0.0;
  train::StopReason stop = train::StopReason::finished;
};
// Honours options.out / resume / progress / stop / log / on_epoch like train::run_training.
Dynapse2RunResult run_dynapse2_training(const train::TrainConfig& config, const train::RunOptions& options);

struct Dynapse2Checkpoint {
  std::filesystem::path dir;
  train::TrainConfig config;
  DynapseNet net;
};
bool is_dynapse2_checkpoint(const std::filesystem::path& dir);
// InputError naming the file when `dir` is not a Dynap-SE2 training checkpoint.
Dynapse2Checkpoint load_dynapse2_checkpoint(const std::filesystem::path& dir);

// Predicted class per sample of x [n][T][C] (spike counts per time step of the data; the model's
// sim.dt is the step): argmax over neurons of summed spikes, ties -> lowest index. Parallel over
// samples; state reset before every sample (as the thesis).
std::vector<int> predict(const DynapseNet& net, const FloatArray& x, int threads);

}  // namespace spikeline::hw::dynapse2
