#pragma once
// The quantisation-tuning loop both chips share (the thesis's run_*_quantization_tuning.py with
// NNI): an HPO tuner proposes activity factors, a chip-specific evaluator quantises or configures
// the network with them and measures accuracy. Unlike the thesis's loop, which kept its best trial
// whatever it scored, the untuned configuration (all factors 1) is measured first and kept unless a
// trial beats it: a search that only found worse factors must not make the chip worse.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/search_space.hpp"

namespace spikeline::pipeline {

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

struct FactorTrial {
  std::int64_t id = 0;
  nlohmann::ordered_json params;
  std::optional<double> accuracy;  // none: the configuration broke the chip's limits
  std::string invalid;             // the first violation when it did
};

// What the chip-specific side says about one parameter object; an empty object means all factors 1.
struct FactorScore {
  std::optional<double> accuracy;
  std::string invalid;  // why not, when accuracy is empty
};
using FactorEvaluator = std::function<FactorScore(const nlohmann::ordered_json& params)>;

struct FactorSearchOptions {
  int trials = 0;  // 0: the config's max_trial_number
  std::uint64_t seed = 0;
  std::string where = "tuner";  // names the config in tuner errors
  // After each trial (progress display); `chosen` is the accuracy the search would keep so far.
  std::function<void(const FactorTrial&, std::size_t done, std::size_t total, double chosen)> on_trial;
};

struct FactorSearch {
  std::vector<FactorTrial> trials;
  std::optional<std::size_t> best_trial;  // index into trials: highest accuracy, the earliest on ties
  std::optional<double> untuned_accuracy;  // none: all factors 1 broke the chip's limits
  // The choice: the best trial when it scores above the untuned configuration, else factors 1 (a tie
  // keeps factors 1: the search found nothing better than the default).
  bool kept_untuned = false;
  nlohmann::ordered_json chosen_params = nlohmann::ordered_json::object();  // {} when kept_untuned
  double chosen_accuracy = 0.0;

  bool found() const { return kept_untuned || best_trial.has_value(); }
  double best_trial_accuracy() const { return best_trial ? *trials[*best_trial].accuracy : 0.0; }
};

// Runs the untuned evaluation, then up to `trials` tuner trials (fewer when the space is exhausted).
// Never throws for a configuration beyond the chip's limits (that trial is invalid); !found() when
// nothing was valid, for the caller to report with its own context.
FactorSearch search_factors(const TuningConfig& config, const FactorEvaluator& evaluate, const FactorSearchOptions& options);

// The trial history as stored in the tuning records: one object per trial.
nlohmann::json factor_history(const std::vector<FactorTrial>& trials);

}  // namespace spikeline::pipeline
