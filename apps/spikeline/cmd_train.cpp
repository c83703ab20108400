// spikeline demo: the main job on built-in data (README command 1).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/pipeline/demo.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::cli {

void add_train_commands(CLI::App& app) {
  auto o = std::make_shared<pipeline::DemoOptions>();
  auto format = std::make_shared<std::string>("console");
  auto* demo = app.add_subcommand(
      "demo", "Run the main job on built-in synthetic data: synthesise wrist-IMU recordings, cut "
              "windows (split by subject), encode to spikes, train a spiking network, report test "
              "accuracy. Everything lands in --out.");
  demo->add_option("--out", o->out, "Output folder")->capture_default_str();
  demo->add_option("--subjects", o->subjects, "Synthetic subjects")->capture_default_str()->check(CLI::Range(5, 500));
  demo->add_option("--seed", o->seed, "Seed of every random choice")->capture_default_str();
  demo->add_option("--encoder", o->encoder, "Spike encoder (phase4, delta, sigma_delta, rate)")->capture_default_str();
  demo->add_option("--arch", o->architecture, "Network architecture")
      ->capture_default_str()->check(CLI::IsMember(snn::architecture_names()));
  demo->add_option("--hidden", o->hidden, "Hidden neurons per layer")->capture_default_str()->check(CLI::Range(1, 4096));
  demo->add_option("--epochs", o->epochs, "Training epochs")->capture_default_str()->check(CLI::Range(1, 100000));
  demo->add_option("--batch", o->batch_size, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  demo->add_option("--lr", o->lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  demo->add_option("--threads", o->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  demo->add_option("--format", *format, "console: progress and a summary; json: the report as one JSON object")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  demo->callback([o, format] {
    const bool json = *format == "json";
    o->progress = !json;
    const auto result = pipeline::run_demo(*o, [json](const std::string& line) {
      std::fprintf(json ? stderr : stdout, "%s\n", line.c_str());
      std::fflush(json ? stderr : stdout);
    });
    if (json) std::printf("%s\n", result.report.dump().c_str());
  });
}

}  // namespace spikeline::cli
