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

#include "spikeline/pipeline/factor_search.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/hw/xylo/evaluate.hpp"
#include "spikeline/hw/xylo/factors.hpp"

namespace spikeline::hw::xylo {

using pipeline::read_tuning_config;
using pipeline::tuning_config_from_text;
using pipeline::TuningConfig;
using Trial = pipeline::FactorTrial;

struct TuneLoopOptions {
  int trials = 0;  // 0: the config's max_trial_number
  std::uint64_t seed = 0;
  QuantizeRecipe recipe;
  SimEvalOptions sim;
  // After each trial (progress display); may be empty.
  std::function<void(const Trial&, std::size_t done, std::size_t total, double chosen)> on_trial;
};

struct TuneOutcome {
  pipeline::FactorSearch search;  // trials, best trial, and whether factors 1 were kept
  ActivityFactors factors;        // the choice: the best trial's, or all 1 when none beat the untuned
  double accuracy = 0.0;          // of the choice
  double untuned_accuracy = 0.0;  // all factors 1 (0 when beyond the chip's limits)
};

// The search itself, on a mapped float spec and integer event data with labels (the shared loop of
// pipeline/factor_search: factors 1 are kept unless a trial beats them).
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
// into the checkpoint. InputError when neither factors 1 nor any trial gave a valid configuration.
TuneReport tune_checkpoint(const TuneOptions& options);

}  // namespace spikeline::hw::xylo
