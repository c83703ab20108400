#pragma once
// Experiment configs (docs/hpo.md, "Config reference"): the thesis's JSON files unchanged
// (trial_command, search_space, max_trial_number, assessor_start_step, with the thesis launcher's
// defaults), NNI's experiment config keys (case- and underscore-insensitive, JSON or YAML), and
// Spikeline's own keys (seed, max_retries, a built-in `spikeline train` trial).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/search_space.hpp"

namespace spikeline::hpo {

struct AlgorithmConfig {
  std::string name;
  nlohmann::ordered_json class_args = nlohmann::ordered_json::object();
};

// A trial that runs `spikeline train` on a training config, with search-space parameters written
// onto its keys.
struct BuiltinTrial {
  std::filesystem::path train_config;                        // absolute
  std::vector<std::pair<std::string, std::string>> map;      // parameter -> dotted config key
  nlohmann::ordered_json set = nlohmann::ordered_json::object();  // fixed key overrides
};

struct ExperimentConfig {
  std::string name;
  std::string trial_command;             // empty when `builtin` is set
  std::optional<BuiltinTrial> builtin;
  std::filesystem::path code_dir;        // absolute; the trials' working directory
  nlohmann::ordered_json search_space = nlohmann::ordered_json::object();
  int concurrency = 1;
  std::int64_t max_trial_number = -1;    // -1: unlimited
  double max_duration_s = -1.0;          // active time; -1: unlimited
  double max_trial_duration_s = -1.0;    // -1: unlimited
  AlgorithmConfig tuner;
  std::optional<AlgorithmConfig> assessor;
  std::filesystem::path working_dir;     // experimentWorkingDirectory (empty: the CLI's --root)
  std::uint64_t seed = 0;
  int max_retries = 1;                   // re-runs of a trial interrupted by a controller crash
  std::string platform = "local";
  nlohmann::ordered_json training_service;  // platform slurm: the whole object (docs/slurm.md)

  std::string optimize_mode() const;     // the tuner's optimize_mode ("maximize" by default)
  // Every setting in NNI's camelCase spelling (+ Spikeline keys): what the store keeps and resume
  // reads back (experiment_config_from_json(to_json()) gives the same config).
  nlohmann::ordered_json to_json() const;
};

// `doc`: the parsed file; `source` names it in errors and warnings; relative paths resolve against
// `base_dir` (the file's folder), except a thesis config's code directory, which is the current
// directory as in the thesis launcher. Unknown keys are appended to `warnings` (NNI warns too).
ExperimentConfig experiment_config_from_json(const nlohmann::ordered_json& doc, const std::string& source,
                                             const std::filesystem::path& base_dir,
                                             std::vector<std::string>* warnings = nullptr);
// Reads a .json, .yaml or .yml file.
ExperimentConfig load_experiment_config(const std::filesystem::path& path,
                                        std::vector<std::string>* warnings = nullptr);

// NNI durations: a number of seconds, or a string "<number><unit>" with unit s, m, h or d
// ("72h", "1.5d"); rounded up to whole seconds. InputError naming `where` otherwise.
double parse_duration(const nlohmann::ordered_json& value, const std::string& where);

// The shell command of a built-in trial: this `exe` running `train` with the trial's parameters
// written onto the mapped keys, its checkpoint in <trial dir>/checkpoint.
std::string builtin_trial_command(const BuiltinTrial& trial, const std::filesystem::path& exe,
                                  const Parameters& parameters, const std::filesystem::path& trial_dir);

// POSIX shell single-quoting.
std::string shell_quote(const std::string& s);

}  // namespace spikeline::hpo
