#pragma once
// Reading an experiment's results (`hpo best`, `hpo export`, `hpo status`): what the thesis's
// get_best_trial_id.py meant to do, from the store instead of trial-written files.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/store.hpp"

namespace spikeline::hpo {

// The SUCCEEDED trial with the best final default metric for `optimize_mode` ("maximize" |
// "minimize"); ties go to the earlier trial. nullopt when no trial succeeded with a final result.
std::optional<TrialRecord> best_trial(const Store& store, const std::string& optimize_mode);

// <trial dir>/checkpoint when the trial wrote one (built-in training trials do).
std::optional<std::filesystem::path> trial_checkpoint(const TrialRecord& trial);

// A trial as JSON: ids, status, parameters (as stored), metrics, times, dir, checkpoint.
nlohmann::ordered_json trial_json(const TrialRecord& trial);
// The experiment's status summary: record, trial counts, best trial, whether a controller runs.
nlohmann::ordered_json status_json(const Store& store, bool controller_running);

// NNI's export-data format: [{"parameter": {...}, "value": <final metric>, "trialJobId": "..."}]
// for SUCCEEDED trials with a final result, by sequence id.
nlohmann::ordered_json export_json(const Store& store);
// One row per trial: ids, status, one column per parameter, final default and the other keys of
// the final metric, intermediate count, latest value, times, exit code, dir.
std::string export_csv(const Store& store);

}  // namespace spikeline::hpo
