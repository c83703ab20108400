#include "chip_commands.hpp"

#include <cstdio>

namespace spikeline::cli {

void add_tune_source_flags(CLI::App& tune, ChipTuneArgs& a, const ChipTuneHelp& help) {
  tune.add_option("--checkpoint", a.checkpoint, help.checkpoint)->required();
  tune.add_option("--config", a.config, help.config)->required()->check(CLI::ExistingFile);
  tune.add_option("--trials", a.trials, "Number of trials (default: the config's max_trial_number)")
      ->check(CLI::PositiveNumber);
  tune.add_option("--seed", a.seed, help.seed)->capture_default_str();
  tune.add_option("--data", a.data, "Data file (default: the checkpoint config's data.file)");
  tune.add_option("--split", a.split, "Split whose accuracy is the metric")
      ->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
}

void add_tune_run_flags(CLI::App& tune, ChipTuneArgs& a, const std::string& threads_help) {
  tune.add_option("--threads", a.threads, threads_help)->capture_default_str()->check(CLI::PositiveNumber);
  tune.add_flag("--quiet", a.quiet, "No progress bar");
  tune.add_option("--format", a.format, "console or json")->capture_default_str()->check(CLI::IsMember({"console", "json"}));
}

nlohmann::json tune_json(const TuneFigures& f) {
  return {{"accuracy", f.accuracy},         {"untuned_accuracy", f.untuned_accuracy},
          {"float_accuracy", f.float_accuracy}, {"trials", f.trials},
          {"kept_untuned", f.kept_untuned},   {"best_trial_accuracy", f.best_trial_accuracy},
          {"seconds", f.seconds}};
}

void print_tune_result(const TuneFigures& f, const std::string& split, const char* untuned, const char* kept_what) {
  std::printf("%d trials in %.1f s; %s accuracy: float %.4f, %s %.4f untuned, %.4f tuned\n", f.trials, f.seconds,
              split.c_str(), f.float_accuracy, untuned, f.untuned_accuracy, f.accuracy);
  if (f.kept_untuned)
    std::printf("no trial beat the untuned %s (best trial %.4f): factors 1 kept\n", kept_what, f.best_trial_accuracy);
}

void print_tuning_files(const std::string& checkpoint, const char* tuning_file, const char* thesis_file) {
  std::printf("wrote %s/%s and %s/%s\n", checkpoint.c_str(), tuning_file, checkpoint.c_str(), thesis_file);
}

void add_deploy_source_flags(CLI::App& deploy, ChipDeployArgs& a, const std::string& checkpoint_help) {
  deploy.add_option("--checkpoint", a.checkpoint, checkpoint_help)->required();
  deploy.add_option("--out", a.out, "Bundle directory")->required();
  deploy.add_option("--data", a.data, "Data file (default: the checkpoint config's data.file)");
  deploy.add_option("--split", a.split, "Split the report evaluates: train, val or test")
      ->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
}

void add_deploy_run_flags(CLI::App& deploy, ChipDeployArgs& a) {
  deploy.add_option("--threads", a.threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  deploy.add_option("--format", a.format, "console or json (report.json's figures on stdout)")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
}

bool print_deploy_notes_or_json(const std::vector<std::string>& notes, const nlohmann::json& report,
                                const std::string& format) {
  for (const auto& n : notes) std::fprintf(stderr, "spikeline: note: %s\n", n.c_str());
  if (format != "json") return true;
  std::printf("%s\n", report.dump().c_str());
  return false;
}

}  // namespace spikeline::cli
