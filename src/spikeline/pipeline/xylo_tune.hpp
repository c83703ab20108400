#pragma once
// Quantisation tuning as the thesis did it (run_xylo_quantization_tuning.py with NNI; xylo.md §3.3):
// search the global and per-class activity factors with an HPO tuner (Anneal by default), each
// trial quantising with the factors and simulating the validation split bit-accurately; the
// accuracy is the metric (maximised). The thesis's NNI configs (xylo_tuning_*.json) are read
// unchanged.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/search_space.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/hw/xylo/evaluate.hpp"
#include "spikeline/hw/xylo/factors.hpp"

namespace spikeline::hw::xylo {

struct TuningConfig {
  hpo::SearchSpace space;
  int max_trials = 1000;
  std::string tuner = "Anneal";
  nlohmann::json class_args = {{"optimize_mode", "maximize"}};
};
// An NNI experiment file: search_space and max_trial_number are used; trial_command and
// assessor_start_step (the thesis's keys with no meaning in-process) are accepted and ignored; an
// optional "tuner": {"name", "classArgs"} picks another tuner. Other keys: InputError naming the file.
TuningConfig tuning_config_from_text(std::string_view json_text, const std::string& source);
TuningConfig read_tuning_config(const std::filesystem::path& path);

struct Trial {
  std::int64_t id = 0;
  nlohmann::ordered_json params;
  std::optional<double> accuracy;  // none: the configuration broke the chip's limits
  std::string invalid;             // the first violation when it did
};

struct TuneLoopOptions {
  int trials = 0;  // 0: the config's max_trial_number
  std::uint64_t seed = 0;
  QuantizeRecipe recipe;
  SimEvalOptions sim;
  // After each trial (progress display); may be empty.
  std::function<void(const Trial&, std::size_t done, std::size_t total, double best)> on_trial;
};

struct TuneOutcome {
  std::vector<Trial> trials;
  std::optional<std::size_t> best;  // index into trials: highest accuracy, the earliest on ties
  ActivityFactors best_factors;
  double best_accuracy = 0.0;
  double untuned_accuracy = 0.0;  // all factors 1
};

// The search itself, on a mapped float spec and integer event data with labels.
TuneOutcome tune_factors(const FloatSpec& spec, const EventSet& events, std::span<const int> labels,
                         const TuningConfig& config, const TuneLoopOptions& options);

struct TuneOptions {
  std::filesystem::path checkpoint, config, data;
  std::string split = "val";
  int trials = 0;
  std::uint64_t seed = 0;
  QuantizeRecipe recipe;
  int max_fan_out = kDeployMaxFanOut;  // pruning before mapping, as deploy does; 0: none
  int threads = 2;
  bool carry_state = false;
  bool progress = true;
};
struct TuneReport {
  TuningRecord record;
  TuneOutcome outcome;
  double seconds = 0.0;
};
// Loads the checkpoint and its data, tunes, writes xylo_tuning.json and xylo_qtuning_metadata
// into the checkpoint. InputError when no trial gave a valid configuration.
TuneReport tune_checkpoint(const TuneOptions& options);

}  // namespace spikeline::hw::xylo
