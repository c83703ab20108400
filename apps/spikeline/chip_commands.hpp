#pragma once
// Flags and console output that the chip families' tune and deploy subcommands share (xylo, dynapse2):
// the same names, defaults and help, and the same summary lines, each chip adding its own.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace spikeline::cli {

struct ChipTuneArgs {
  std::string checkpoint, config, data, split = "val", format = "console";
  int trials = 0, threads = 2;
  std::uint64_t seed = 0;
  bool quiet = false;
};

// Help texts that differ between the chips.
struct ChipTuneHelp {
  std::string checkpoint, config, seed;
};

// --checkpoint, --config, --trials, --seed, --data, --split (what is tuned, on which data).
void add_tune_source_flags(CLI::App& tune, ChipTuneArgs& a, const ChipTuneHelp& help);
// --threads, --quiet, --format (how it runs and reports).
void add_tune_run_flags(CLI::App& tune, ChipTuneArgs& a, const std::string& threads_help);

// The library's tuning options take the common flags under the same names.
template <class Options>
void copy_tune_args(const ChipTuneArgs& a, Options& o) {
  o.checkpoint = a.checkpoint;
  o.config = a.config;
  o.data = a.data;
  o.split = a.split;
  o.trials = a.trials;
  o.seed = a.seed;
  o.threads = a.threads;
  o.progress = !a.quiet && a.format != "json";
}

// What either chip's tuning reports.
struct TuneFigures {
  double accuracy, untuned_accuracy, float_accuracy;
  int trials;
  bool kept_untuned;
  double best_trial_accuracy, seconds;
};

// The figures as the --format json object (keys sorted, as nlohmann::json keeps them).
nlohmann::json tune_json(const TuneFigures& f);
// "<n> trials in <s> s; <split> accuracy: float .., <untuned> .. untuned, .. tuned", and the note when
// factors 1 were kept; untuned names the chip's untuned result ("quantised"), kept_what the thing kept
// ("quantisation").
void print_tune_result(const TuneFigures& f, const std::string& split, const char* untuned, const char* kept_what);
// "wrote <checkpoint>/<tuning file> and <checkpoint>/<thesis tuning file>".
void print_tuning_files(const std::string& checkpoint, const char* tuning_file, const char* thesis_file);

struct ChipDeployArgs {
  std::string checkpoint, out, data, split = "val", format = "console";
  bool no_tuning = false;
  int threads = 2;
};

// The library's deploy options take the common flags under the same names.
template <class Options>
void copy_deploy_args(const ChipDeployArgs& a, Options& o) {
  o.checkpoint = a.checkpoint;
  o.out = a.out;
  o.data = a.data;
  o.split = a.split;
  o.use_tuning = !a.no_tuning;
  o.threads = a.threads;
}

// --checkpoint, --out, --data, --split.
void add_deploy_source_flags(CLI::App& deploy, ChipDeployArgs& a, const std::string& checkpoint_help);
// --threads, --format.
void add_deploy_run_flags(CLI::App& deploy, ChipDeployArgs& a);

// Prints the deployment's notes on stderr and, with --format json, report.json's figures on stdout.
// Returns whether the console summary is still to be printed.
bool print_deploy_notes_or_json(const std::vector<std::string>& notes, const nlohmann::json& report,
                                const std::string& format);

}  // namespace spikeline::cli
