#pragma once
// `spikeline pipeline` (docs/pipeline.md): every stage from raw data to a chip configuration in one
// run directory, each stage cached by a stamp of its inputs.
//
//   RUN/resolved.yaml, resolved.json   the resolved config
//   RUN/<nn>-<stage>/                  a stage's outputs, stage.json (its record) when complete
//   RUN/timings.json, RUN/report.html  stage timings; the report linking every output
//
// A stage's stamp hashes its config section, its external inputs (sizes and modification times of
// the raw files, contents of small config files) and the token of the stage before it; the token
// changes whenever a stage runs, so a re-run of one stage re-runs everything downstream. A stage
// whose record holds the current stamp is skipped. A stage interrupted while running (started.json
// with the current stamp, no record) resumes: HPO continues its experiment, training its
// checkpoint; the other stages start over.
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/pipeline/pipeline_config.hpp"

namespace spikeline::pipeline {

// ---- stamps ---------------------------------------------------------------------------------

// 64-bit FNV-1a of `text`, continuing from `seed`.
std::uint64_t fnv1a(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ULL);
std::string hex64(std::uint64_t v);
// A file: {"size", "mtime_ns"}; a directory: its regular files (recursively, sorted by relative
// path) each so; a missing path: null. Cheap: contents are not read.
nlohmann::json path_fingerprint(const std::filesystem::path& path);
// The stamp of a stage: its name, config section, external inputs and the upstream token.
std::string stage_stamp(std::string_view stage, const nlohmann::json& section, const nlohmann::json& externals,
                        std::string_view upstream_token);

// What a completed stage leaves in <dir>/stage.json.
struct StageRecord {
  std::string stamp, token;
  double seconds = 0.0;
  std::string finished_at;  // ISO 8601 UTC
  nlohmann::json result = nlohmann::json::object();  // the stage's outputs (paths) and figures
};
// The record remembers the run directory it was written in; read from a run directory that was
// moved or copied since, the paths of its result that pointed into the old place point into the new.
std::optional<StageRecord> read_record(const std::filesystem::path& stage_dir);
void write_record(const std::filesystem::path& stage_dir, const StageRecord& record);
// The stage's folder in the run directory: "01-data", "02-encode", ...
std::string stage_dir_name(Stage s);

// The stage's config section and external inputs as hashed into its stamp.
nlohmann::json stamp_section(const PipelineConfig& config, Stage s);
nlohmann::json stamp_externals(const PipelineConfig& config, Stage s);

// ---- running --------------------------------------------------------------------------------

struct PipelineOptions {
  std::filesystem::path out = "pipeline-run";
  std::optional<Stage> from;  // re-run this stage and all after it, cached or not
  std::optional<Stage> only;  // run just this stage (its upstream must be complete)
  bool force = false;         // re-run every stage
  bool dry_run = false;       // print the plan, run nothing
  bool progress = true;
  const volatile std::sig_atomic_t* stop = nullptr;  // Ctrl-C: training and HPO stop, resumable
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct StageOutcome {
  Stage stage = Stage::data;
  std::string action;   // ran | resumed | skipped | disabled | planned: run | planned: skip | not run
  std::string reason;   // why it ran (changed inputs, forced, ...)
  double seconds = 0.0; // this invocation's time in the stage
  double recorded_seconds = 0.0;  // the stage's time when it last ran
};

struct PipelineResult {
  std::vector<StageOutcome> stages;
  std::filesystem::path run_dir, report;
  double seconds = 0.0;
  nlohmann::json results = nlohmann::json::object();  // stage name -> its record's result
};

// Runs (or with dry_run plans) the pipeline. InputError for bad config values (naming the key);
// an interrupted run throws spikeline::Error after saving what is needed to resume.
PipelineResult run_pipeline(const PipelineConfig& config, const PipelineOptions& options);

// The stage timing table as printed at the end.
std::string timing_table(const PipelineResult& result);
nlohmann::json timings_json(const PipelineResult& result);

// report.html of a run: every stage's figures inline and links to its files.
void write_report(const std::filesystem::path& run_dir, const PipelineConfig& config, const PipelineResult& result);

}  // namespace spikeline::pipeline
