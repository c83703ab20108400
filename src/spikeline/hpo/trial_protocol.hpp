#pragma once
// NNI's trial protocol, legacy file channel (hpo.md 2.7; docs/hpo.md, "Trial protocol"): the
// identifiers, the parameter record a trial reads from $NNI_SYS_DIR/parameter.cfg and the metric
// frames it appends to $NNI_SYS_DIR/.nni/metrics. Shared by the controller, the trial client and
// any executor (the files travel with the trial directory, so a cluster back-end reuses them).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/core/rng.hpp"
#include "spikeline/hpo/search_space.hpp"

namespace spikeline::hpo {

// File names inside a trial directory.
inline constexpr const char* kParameterFile = "parameter.cfg";
inline constexpr const char* kMetricsFile = ".nni/metrics";
inline constexpr const char* kExitCodeFile = "exit_code";  // written by the trial wrapper
inline constexpr const char* kStdoutFile = "trial.stdout";
inline constexpr const char* kStderrFile = "trial.stderr";

// NNI_EXP_ID: 8 distinct characters from [a-z0-9].
std::string make_experiment_id(Rng& rng);
// NNI_TRIAL_JOB_ID: 5 characters, the first [a-zA-Z], the rest [a-zA-Z0-9].
std::string make_trial_id(Rng& rng);
bool is_experiment_id(std::string_view id);

// The parameter record, as NNI writes parameter.cfg:
// {"parameter_id": 3, "parameter_source": "algorithm", "parameters": {...}, "parameter_index": 0}
// with Python's JSON rules for numbers.
std::string parameter_record(std::optional<std::int64_t> parameter_id, const Parameters& parameters,
                             const std::string& source = "algorithm");

// One metric report: {"parameter_id", "trial_job_id", "type": "PERIODICAL"|"FINAL", "sequence",
// "value": "<metric JSON text>"} (the metric is double-encoded, as NNI does).
struct MetricReport {
  std::optional<std::int64_t> parameter_id;
  std::string trial_job_id;
  std::string type;
  std::int64_t sequence = 0;
  std::string value;  // the metric's JSON text
};
std::string metric_record(const MetricReport& report);
// "ME" + 6-digit byte length of the record + the record + "\n".
std::string metric_frame(const MetricReport& report);

// Reads the complete frames of a metrics file's contents (from the start, or from where the last
// call stopped). A trailing incomplete frame is left for the next read (`consumed` stops before
// it); a malformed frame stops the parse with `error` set (the rest of the file is not trusted).
struct MetricParse {
  std::vector<MetricReport> reports;
  std::size_t consumed = 0;
  std::string error;
};
MetricParse parse_metric_frames(std::string_view data);

}  // namespace spikeline::hpo
