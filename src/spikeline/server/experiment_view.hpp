#pragma once
// Read-only queries over one experiment store (experiment.db, schema in docs/dashboard.md): each
// function answers one dashboard/API question in JSON. Sorting, filtering and paging run in SQL so
// pages stay fast with 10,000 trials.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/server/sqlite_read.hpp"

namespace spikeline::server {

using Json = nlohmann::ordered_json;

inline constexpr std::int64_t kDefaultPageSize = 50;
inline constexpr std::int64_t kMaxPageSize = 500;
inline constexpr std::size_t kMaxSeriesTrials = 50;

// The trial statuses the store uses.
const std::vector<std::string>& trial_statuses();

struct TrialQuery {
  std::int64_t offset = 0;
  std::int64_t limit = kDefaultPageSize;
  // sequence_id, trial_id, status, submit_time, start_time, end_time, duration, exit_code,
  // final_value, latest_value, value (final, else latest), intermediate_count, attempt,
  // param.<name>[.<sub>...], metric.<key> (a key of a dict final metric).
  std::string sort = "sequence_id";
  bool descending = false;
  std::vector<std::string> statuses;  // empty: all
  std::string text;                   // substring of trial id or parameters, or a sequence id
  std::vector<std::pair<std::string, std::string>> param_equals;  // param path, value
  std::optional<double> min_value, max_value;                     // on final_value
};

class ExperimentView {
 public:
  // Opens <dir>/experiment.db read-only. Throws IoError when it cannot.
  explicit ExperimentView(std::filesystem::path dir);

  std::int64_t revision();
  // Experiment row with status, budget (elapsed/remaining), counts by status, best trial, search
  // space, config, parameter names and metric keys.
  Json overview(std::string_view fallback_id);
  Json counts();
  std::optional<Json> best_trial();
  Json trials_page(const TrialQuery& q);
  // One trial with its metrics, log tails (tail_bytes each), files and checkpoint path; nullopt
  // when unknown.
  std::optional<Json> trial_detail(std::string_view trial_id, std::uint64_t tail_bytes);
  // The trial row only; nullopt when unknown.
  std::optional<Json> trial(std::string_view trial_id);
  // Trial directory checked to be inside the experiment directory.
  std::optional<std::filesystem::path> trial_dir(std::string_view trial_id);
  // Intermediate series per trial id, each downsampled to at most max_points; `key` picks a field
  // of dict metrics (empty: the default value). Throws HttpError 404 for an unknown id.
  Json intermediate(const std::vector<std::string>& trial_ids, std::size_t max_points,
                    const std::string& key);
  // Final metric of SUCCEEDED trials by sequence id with the best-so-far line.
  Json best_series(std::size_t max_points);
  // Parameters and final metric per SUCCEEDED trial, for parallel coordinates.
  Json parallel(std::size_t max_rows);
  // All trials (optionally with intermediate metrics) as JSON, or a CSV table.
  Json export_json(bool with_intermediate);
  std::string export_csv();
  // Raw metric rows of a trial (NNI metric-data shape is built by the caller).
  Json metric_rows(std::string_view trial_id, std::string_view type);
  std::vector<Json> all_trials(const std::vector<std::string>& statuses);

  const std::filesystem::path& dir() const { return dir_; }
  std::string optimize_mode();

 private:
  std::filesystem::path dir_;
  ReadDb db_;
};

// JSON text from the store: parsed, unwrapping NNI's double encoding ("\"0.5\""); text that is not
// JSON stays a string; empty text is null.
Json parse_stored_json(const std::string& text);
// A parameter path "a.b" as an SQLite JSON path '$."a"."b"'. Throws HttpError 400 when invalid.
std::string json_path(std::string_view dotted);

}  // namespace spikeline::server
