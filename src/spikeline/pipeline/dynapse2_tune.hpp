#pragma once
// Dynap-SE2 quantisation tuning as the thesis (run_dynapse2_quantization_tuning.py with NNI): an
// HPO tuner (Anneal unless the config names another) searches the global and per-class activity
// factors; each trial scales the mapped spec's weights, quantises them with the autoencoder, builds
// the chip configuration and measures the accuracy of the network rebuilt from it on a split. The
// thesis's dynapse2_tuning_*.json are read unchanged (pipeline::read_tuning_config).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spikeline/pipeline/factor_search.hpp"

namespace spikeline::hw::dynapse2 {

struct TuneOptions {
  std::filesystem::path checkpoint, config, data;
  std::string split = "val";
  int trials = 0;  // 0: the config's max_trial_number
  std::uint64_t seed = 0;
  int threads = 2;
  bool progress = true;
};
struct TuneReport {
  double accuracy = 0, untuned_accuracy = 0, float_accuracy = 0;
  bool kept_untuned = false;         // no trial beat factors 1 (accuracy == untuned_accuracy)
  double best_trial_accuracy = 0.0;  // the search's best trial, kept or not
  int trials = 0;
  double seconds = 0;
  std::vector<pipeline::FactorTrial> history;  // every trial, in order
};
// Loads the checkpoint and its data, tunes, writes dynapse2_tuning.json and dynapse2_qtuning_metadata
// into the checkpoint. Factors 1 are kept unless a trial beats them (pipeline/factor_search).
// InputError when neither factors 1 nor any trial gave a configuration within the chip's limits.
TuneReport tune_checkpoint(const TuneOptions& options);

}  // namespace spikeline::hw::dynapse2
