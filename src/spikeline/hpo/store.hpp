#pragma once
// The experiment store: one SQLite database per experiment (experiments/<id>/experiment.db, WAL
// mode). The controller is its only writer and commits every state change before acting on it;
// readers (the CLI, the dashboard) open it read-only at any time, also while an experiment runs.
// Schema and semantics: docs/hpo.md, "Store".
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::hpo {

inline constexpr int kStoreSchemaVersion = 1;
inline constexpr const char* kStoreFileName = "experiment.db";

// Experiment statuses (NNI's names, hpo.md 2.8).
namespace status {
inline constexpr const char* kInitialized = "INITIALIZED";
inline constexpr const char* kRunning = "RUNNING";
inline constexpr const char* kNoMoreTrial = "NO_MORE_TRIAL";
inline constexpr const char* kTunerNoMoreTrial = "TUNER_NO_MORE_TRIAL";
inline constexpr const char* kDone = "DONE";
inline constexpr const char* kStopping = "STOPPING";
inline constexpr const char* kStopped = "STOPPED";
inline constexpr const char* kError = "ERROR";
}  // namespace status

// Trial statuses.
namespace trial_status {
inline constexpr const char* kWaiting = "WAITING";
inline constexpr const char* kRunning = "RUNNING";
inline constexpr const char* kSucceeded = "SUCCEEDED";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kUserCanceled = "USER_CANCELED";
inline constexpr const char* kSysCanceled = "SYS_CANCELED";
inline constexpr const char* kEarlyStopped = "EARLY_STOPPED";
}  // namespace trial_status

// Times are milliseconds since the Unix epoch; 0 = not yet.
struct ExperimentRecord {
  std::string id, name;
  nlohmann::ordered_json config;        // the resolved experiment config
  nlohmann::ordered_json search_space;
  std::string status;
  std::int64_t start_time = 0, end_time = 0;
  double exec_seconds = 0.0;            // active time (RUNNING / NO_MORE_TRIAL / TUNER_NO_MORE_TRIAL)
  std::int64_t max_trial_number = -1;   // -1: unlimited
  double max_duration_s = -1.0;         // -1: unlimited
  int concurrency = 1;
  std::string optimize_mode;            // "maximize" | "minimize"
  std::string tuner, assessor;          // names; assessor empty when none
  std::int64_t controller_pid = 0;      // of the controller that last ran it
  int port = 0;
  std::string error;                    // why status is ERROR
};

struct TrialRecord {
  std::int64_t sequence_id = 0;
  std::string trial_id;
  std::optional<std::int64_t> parameter_id;
  nlohmann::ordered_json parameters;    // the parameter set (not the whole NNI record)
  std::string status;
  std::int64_t submit_time = 0, start_time = 0, end_time = 0;
  std::optional<int> exit_code;
  std::optional<double> final_value;    // the final metric's "default"
  std::string final_metric;             // the final metric's JSON text (empty: none)
  std::int64_t intermediate_count = 0;
  std::optional<double> latest_value;   // default of the latest intermediate result
  std::string dir;                      // trial directory (absolute)
  std::string message;                  // why it failed / was stopped, when known
  int attempt = 1;                      // 2, 3, ... when re-run after a controller crash
  std::string command;                  // the shell command it runs
  std::string handle;                   // executor handle ("local:<pid>:<start ticks>", ...)
};

struct MetricRecord {
  std::string trial_id;
  std::string type;                     // "PERIODICAL" | "FINAL"
  std::int64_t sequence = 0;            // 0, 1, ... per type
  std::optional<double> value;          // the metric's "default"
  std::string data;                     // the metric's JSON text
  std::int64_t timestamp = 0;
};

struct EventRecord {
  std::int64_t id = 0, timestamp = 0;
  std::string trial_id;                 // empty for experiment events
  std::string event;                    // status names, "METRIC", "REQUEUED", "WARNING", ...
  std::string data;
};

// Paged, sorted, filtered trial listing (for tables of thousands of trials).
struct TrialQuery {
  std::vector<std::string> statuses;    // empty: all
  // sequence_id | trial_id | status | start_time | end_time | final_value | latest_value |
  // intermediate_count | duration. final_value sorts trials without one last either way.
  std::string sort_by = "sequence_id";
  bool descending = false;
  std::int64_t offset = 0, limit = -1;  // limit -1: all
};

// One row of the tuner call log: what the tuner was asked and told, in order, so a fresh tuner
// from the same seed can be brought to the same state on resume.
struct TunerCall {
  std::int64_t id = 0;
  std::string kind;                     // "generate" | "receive_result" | "trial_end"
  std::int64_t parameter_id = 0;
  std::optional<nlohmann::ordered_json> parameters;  // generate: the result (nullopt: none)
  double value = 0.0;                   // receive_result
  bool succeeded = false;               // trial_end
};

class Store {
 public:
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // --- read API (also what the dashboard uses) -------------------------------------------------
  // Opens experiment_dir/experiment.db read-only; InputError when it is not an experiment.
  static Store open_read_only(const std::filesystem::path& experiment_dir);
  ExperimentRecord experiment() const;
  std::vector<TrialRecord> trials() const;  // all, by sequence id
  std::vector<TrialRecord> query_trials(const TrialQuery& query) const;
  std::int64_t count_trials(const std::vector<std::string>& statuses = {}) const;
  std::optional<TrialRecord> trial(const std::string& trial_id) const;
  std::vector<MetricRecord> metrics(const std::string& trial_id) const;  // by type, sequence
  std::vector<MetricRecord> all_metrics(const std::string& type = "") const;
  std::map<std::string, std::int64_t> status_counts() const;  // trial status -> count
  std::vector<EventRecord> events(std::int64_t after_id = 0, std::int64_t limit = -1) const;
  // Bumped by every write transaction: poll it to learn that something changed.
  std::int64_t revision() const;
  const std::filesystem::path& dir() const { return dir_; }

  // --- write API (the controller) --------------------------------------------------------------
  // Creates experiment_dir/experiment.db with the schema and the experiment row.
  static Store create(const std::filesystem::path& experiment_dir, const ExperimentRecord& experiment);
  static Store open_writer(const std::filesystem::path& experiment_dir);

  // Groups writes into one transaction (one revision bump); commit() makes them durable.
  class Transaction {
   public:
    explicit Transaction(Store& store);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();  // rolls back unless committed
    void commit();

   private:
    Store* store_;
    bool done_ = false;
  };

  void set_status(const std::string& status, const std::string& error = "");
  void set_exec_seconds(double seconds);
  void set_start_time(std::int64_t ms);
  void set_end_time(std::int64_t ms);
  void set_controller(std::int64_t pid, int port);
  void insert_trial(const TrialRecord& trial);
  void update_trial(const TrialRecord& trial);  // every column, by sequence id
  // Inserts the metric unless (trial, type, sequence) is there already; true when inserted.
  bool insert_metric(const MetricRecord& metric);
  void delete_metrics(const std::string& trial_id);
  void add_event(const std::string& trial_id, const std::string& event, const std::string& data = "");
  void add_tuner_call(const TunerCall& call);
  std::vector<TunerCall> tuner_calls() const;

  struct Db;  // the SQLite connection (store.cpp)

 private:
  Store(std::unique_ptr<Db> db, std::filesystem::path dir);
  void begin();
  void commit();
  void rollback();
  std::unique_ptr<Db> db_;
  std::filesystem::path dir_;
  int depth_ = 0;
};

// Milliseconds since the Unix epoch now.
std::int64_t now_ms();

}  // namespace spikeline::hpo
