// spikeline pipeline: every stage from raw data to a chip configuration, from one config
// (docs/pipeline.md). Parses flags and calls spikeline::pipeline.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/pipeline/pipeline.hpp"

namespace spikeline::cli {

namespace {

// Ctrl-C: training and HPO stop at the next safe point; a second Ctrl-C ends the process.
volatile std::sig_atomic_t pipeline_stop = 0;
extern "C" void on_pipeline_interrupt(int) {
  pipeline_stop = 1;
  std::signal(SIGINT, SIG_DFL);
}

struct PipelineFlags {
  std::string config, out, from, only;
  std::vector<std::string> set;
  bool force = false, dry_run = false, quiet = false;
};

void print_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void run(const PipelineFlags& f) {
  const auto config = pipeline::load_config(f.config, f.set);
  pipeline::PipelineOptions o;
  o.out = f.out.empty() ? std::filesystem::path("runs") / config.doc["name"].get<std::string>() : std::filesystem::path(f.out);
  if (!f.from.empty()) o.from = pipeline::stage_from_name(f.from, "--from");
  if (!f.only.empty()) o.only = pipeline::stage_from_name(f.only, "--only");
  o.force = f.force;
  o.dry_run = f.dry_run;
  o.progress = !f.quiet;
  o.stop = &pipeline_stop;
  o.log = print_line;
  pipeline_stop = 0;
  std::signal(SIGINT, on_pipeline_interrupt);
  const auto result = pipeline::run_pipeline(config, o);
  std::signal(SIGINT, SIG_DFL);
  std::printf("\n%s", pipeline::timing_table(result).c_str());
  if (!f.dry_run) std::printf("report: %s\n", result.report.string().c_str());
}

}  // namespace

void add_pipeline_commands(CLI::App& app) {
  auto f = std::make_shared<PipelineFlags>();
  auto* cmd = app.add_subcommand(
      "pipeline",
      "Run every stage from one config (docs/pipeline.md): data -> encode -> tasks -> hpo -> train -> qat -> "
      "quantize -> deploy, into one run directory with a report.html. Stages whose inputs did not change are "
      "skipped; an interrupted run resumes where it stopped.");
  cmd->add_option("--config", f->config, "Pipeline config (YAML or JSON)")->required();
  cmd->add_option("--out", f->out, "Run directory (default: runs/<name>)");
  cmd->add_option("--from", f->from, "Re-run this stage and every stage after it");
  cmd->add_option("--only", f->only, "Run only this stage (the stages before it must be complete)");
  cmd->add_flag("--force", f->force, "Re-run every stage, cached or not");
  cmd->add_option("--set", f->set, "Override a config key: key.path=value (repeatable)");
  cmd->add_flag("--dry-run", f->dry_run, "Print which stages would run and why; run nothing");
  cmd->add_flag("--quiet", f->quiet, "No progress output from the stages");
  cmd->callback([f] { run(*f); });
}

}  // namespace spikeline::cli
