#pragma once
// `spikeline xylo deploy` and the checkpoint side of `xylo tune` (docs/xylo.md): a training
// checkpoint mapped, quantised (with the stored tuning when there is one), checked, simulated on a
// data split and written as a deployment bundle:
//
//   config.json     the integer specification (Rockpool's keys) + "chip" and "clock_hz"
//   xylo_config.h   the same arrays for a microcontroller host (C99)
//   report.html     self-contained report (inline SVG)
//   report.json     the report's figures
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/xylo/cycles.hpp"
#include "spikeline/hw/xylo/factors.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/prune.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::hw::xylo {

// The thesis enforces the fan-out limit once more before mapping (lib/xylo_net_adaptation.py with
// 62): the best model of a run may come from epochs after the last pruning, when weights grew back.
inline constexpr int kDeployMaxFanOut = 62;
// A copy of `net` pruned to `max_fan_out` (0: unchanged), with what was dropped.
snn::Network prune_for_deploy(const snn::Network& net, int max_fan_out, train::PruneStats* stats = nullptr);

// A checkpoint of `spikeline train`: its resolved config and best model.
struct CheckpointModel {
  std::filesystem::path dir;
  train::TrainConfig config;
  snn::Network net;
};
// InputError naming the file when `dir` is not a training checkpoint.
CheckpointModel load_checkpoint_model(const std::filesystem::path& dir);
using train::pick_split;

// The result of `xylo tune`, stored in the checkpoint as xylo_tuning.json (ours, with the quantised
// config) and xylo_qtuning_metadata (the thesis's file: {"params", "val_accuracy_after_tuning"}).
struct TuningRecord {
  ActivityFactors factors;
  QuantizeRecipe recipe;
  std::string split = "val";
  double accuracy = 0.0;          // quantised + tuned, on `split`
  double untuned_accuracy = 0.0;  // quantised with all factors 1
  double float_accuracy = 0.0;    // the checkpoint's model (after the deployment pruning)
  int max_fan_out = kDeployMaxFanOut;
  bool kept_untuned = false;       // no trial beat factors 1, so they were kept
  double best_trial_accuracy = 0.0;  // the search's best trial, kept or not
  int trials = 0;
  std::uint64_t seed = 0;
  std::string tuner;
  IntSpec config;  // the tuned quantised configuration
};
inline constexpr const char* kTuningFile = "xylo_tuning.json";
inline constexpr const char* kThesisTuningFile = "xylo_qtuning_metadata";
// std::nullopt when the checkpoint has no xylo_tuning.json; InputError naming the file when it is malformed.
std::optional<TuningRecord> read_tuning(const std::filesystem::path& dir, int n_out);
// Writes both files atomically; `history` (one object per trial) goes into xylo_tuning.json.
void write_tuning(const std::filesystem::path& dir, const TuningRecord& record, const nlohmann::json& history);

// What the chip would hold.
struct Resources {
  int inputs = 0, hidden = 0, outputs = 0;
  std::size_t synapses_in = 0, synapses_rec = 0, synapses_out = 0;  // non-zero weights
  int max_fan_out = 0;  // non-zero recurrent weights of the busiest hidden neuron
  int aliases = 0;
  std::size_t synapses() const { return synapses_in + synapses_rec + synapses_out; }
};
Resources count_resources(const IntSpec& spec);

struct DeployOptions {
  std::filesystem::path checkpoint, out, data;  // data: empty = the checkpoint config's data.file
  std::string split = "val";
  std::optional<QuantizeMethod> method;  // default: the tuning's method, else global
  int max_fan_out = kDeployMaxFanOut;     // pruning before mapping; 0: none
  bool rockpool_bugs = false;
  DashZeroFix dash_fix = DashZeroFix::PerNeuron;
  bool use_tuning = true;
  int threads = 2;
  bool carry_state = false;
  std::size_t sample = 0;  // the split's sample shown as raster and traces
  double clock_hz = kDefaultClockHz;
  double margin = 0.2;     // real-time clock margin (Rockpool's default)
};

struct DeployResult {
  nlohmann::json report;            // what report.json holds
  std::vector<std::string> notes;   // warnings for the console (stale tuning, ...)
};
// InputError when the quantised configuration breaks the chip's limits (every violation listed).
DeployResult deploy(const DeployOptions& options);

}  // namespace spikeline::hw::xylo
