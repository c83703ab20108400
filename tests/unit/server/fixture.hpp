#pragma once
// Builds experiment directories for dashboard tests (store schema of docs/hpo.md), with
// deterministic trials whose values the tests can recompute: trial i has parameters
// lr = (i % 10 + 1) / 1000, hidden = {16, 32, 64}[i % 3], act = {"relu", "tanh"}[i % 2], and
//   i % 10 == 7 -> FAILED (no final metric), i % 10 == 9 -> RUNNING (intermediate only),
//   otherwise SUCCEEDED with final default value_of(i) and {"default": v, "loss": 1 - v}.
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <sqlite3.h>

#include <stdexcept>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::test {

inline constexpr std::int64_t kFixtureStart = 1'700'000'000'000;  // ms

inline std::string fixture_trial_id(int i) {
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "t0000";
  for (int k = 4, v = i; k >= 1; --k, v /= 36) id[k] = digits[v % 36];
  return id;
}

inline std::string fixture_status(int i) {
  if (i % 10 == 7) return "FAILED";
  if (i % 10 == 9) return "RUNNING";
  return "SUCCEEDED";
}

// Final default metric of trial i: distinct values in [0.5, 0.9); the best is easy to recompute.
inline double fixture_value(int i) { return 0.5 + 0.001 * ((i * 37) % 400) + 1e-7 * i; }
inline double fixture_lr(int i) { return (i % 10 + 1) / 1000.0; }
inline int fixture_hidden(int i) { return std::array<int, 3>{16, 32, 64}[static_cast<std::size_t>(i % 3)]; }

struct FixtureOptions {
  std::string id = "fixexp01";
  int trials = 20;
  int steps = 5;  // intermediate results per trial
  std::string optimize_mode = "maximize";
  bool trial_dirs = true;  // write trials/<id>/ files
};

// A value's intermediate curve: rises to the final value at the last step.
inline double fixture_step_value(int i, int s, int steps) {
  return fixture_value(i) * (s + 1) / steps;
}

// Writes the store with its own SQL (the schema contract of docs/hpo.md "Store": times in ms, 0 =
// not yet; -1 = unlimited; "" = none), so these tests do not depend on the controller.
class FixtureDb {
 public:
  explicit FixtureDb(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
  }
  ~FixtureDb() { sqlite3_close(db_); }
  FixtureDb(const FixtureDb&) = delete;
  FixtureDb& operator=(const FixtureDb&) = delete;
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(msg + " in " + sql);
    }
  }
  // Runs `sql` with `values` bound in order (nullopt -> NULL).
  using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
  void run(const std::string& sql, const std::vector<Value>& values) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      const int k = static_cast<int>(i) + 1;
      const Value& v = values[i];
      if (std::holds_alternative<std::nullptr_t>(v)) sqlite3_bind_null(st, k);
      else if (const auto* n = std::get_if<std::int64_t>(&v)) sqlite3_bind_int64(st, k, *n);
      else if (const auto* d = std::get_if<double>(&v)) sqlite3_bind_double(st, k, *d);
      else sqlite3_bind_text(st, k, std::get<std::string>(v).c_str(), -1, SQLITE_TRANSIENT);
    }
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
  }
  void bump_revision() {
    exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'");
  }

 private:
  sqlite3* db_ = nullptr;
};

inline constexpr const char* kFixtureSchema = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE experiment(id TEXT PRIMARY KEY, name TEXT, config TEXT, search_space TEXT, status TEXT,
  start_time INTEGER, end_time INTEGER, exec_seconds REAL, max_trial_number INTEGER,
  max_duration_s REAL, concurrency INTEGER, optimize_mode TEXT, tuner TEXT, assessor TEXT,
  controller_pid INTEGER, port INTEGER, error TEXT);
CREATE TABLE trial(sequence_id INTEGER PRIMARY KEY, trial_id TEXT UNIQUE, parameter_id INTEGER,
  parameters TEXT, status TEXT, submit_time INTEGER, start_time INTEGER, end_time INTEGER,
  exit_code INTEGER, final_value REAL, final_metric TEXT, intermediate_count INTEGER,
  latest_value REAL, dir TEXT, message TEXT, attempt INTEGER);
CREATE INDEX trial_status ON trial(status);
CREATE TABLE metric(trial_id TEXT, type TEXT, sequence INTEGER, value REAL, data TEXT,
  timestamp INTEGER, PRIMARY KEY(trial_id, type, sequence));
CREATE TABLE event(id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp INTEGER, trial_id TEXT,
  event TEXT, data TEXT);
INSERT INTO meta(key, value) VALUES('schema_version', '1'), ('revision', '1');
)sql";

// Adds one WAITING trial (a write as the controller makes it, bumping the revision).
inline void fixture_add_waiting_trial(const std::filesystem::path& exp_dir, std::int64_t seq,
                                      const std::string& trial_id) {
  FixtureDb db(exp_dir / "experiment.db");
  db.exec("BEGIN IMMEDIATE");
  db.bump_revision();
  db.run("INSERT INTO trial(sequence_id, trial_id, parameter_id, parameters, status, submit_time, "
         "start_time, end_time, exit_code, final_value, final_metric, intermediate_count, "
         "latest_value, dir, message, attempt) VALUES(?,?,?,?,'WAITING',?,0,0,NULL,NULL,'',0,NULL,'','',1)",
         {seq, trial_id, seq, std::string(R"({"lr": 0.5})"), kFixtureStart});
  db.exec("COMMIT");
}

inline std::filesystem::path make_fixture_experiment(const std::filesystem::path& root,
                                                     const FixtureOptions& o) {
  namespace fs = std::filesystem;
  using nlohmann::json;
  const fs::path dir = root / o.id;
  fs::create_directories(dir);
  FixtureDb db(dir / "experiment.db");
  db.exec(kFixtureSchema);
  db.exec("BEGIN IMMEDIATE");
  const std::string space_text = nlohmann::ordered_json::parse(
      R"({"lr": {"_type": "quniform", "_value": [0.001, 0.01, 0.001]},
          "hidden": {"_type": "choice", "_value": [16, 32, 64]},
          "act": {"_type": "choice", "_value": ["relu", "tanh"]}})").dump();
  const std::string name = "fixture " + o.id;
  const json config = {{"experimentName", name}, {"trialCommand", "sh trial.sh"},
                       {"maxTrialNumber", o.trials + 10}};
  db.run("INSERT INTO experiment VALUES(?,?,?,?,'RUNNING',?,0,100.0,?,3600.0,2,?,'Anneal',"
         "'Medianstop',0,0,'')",
         {o.id, name, config.dump(), space_text, kFixtureStart, std::int64_t{o.trials + 10},
          o.optimize_mode});
  for (int i = 0; i < o.trials; ++i) {
    const std::string id = fixture_trial_id(i);
    const std::string status = fixture_status(i);
    const nlohmann::ordered_json params = {{"lr", fixture_lr(i)}, {"hidden", fixture_hidden(i)},
                                           {"act", i % 2 == 0 ? "relu" : "tanh"}};
    const std::int64_t submit = kFixtureStart + 1000LL * i, start = submit + 10;
    const int steps = status == "FAILED" ? 2 : o.steps;
    for (int s = 0; s < steps; ++s) {
      const double v = fixture_step_value(i, s, o.steps);
      db.run("INSERT INTO metric VALUES(?, 'PERIODICAL', ?, ?, ?, ?)",
             {id, std::int64_t{s}, v, json{{"default", v}, {"loss", 1.0 - v}}.dump(),
              start + 100LL * (s + 1)});
    }
    std::int64_t end = 0;
    FixtureDb::Value exit_code = nullptr, final_value = nullptr;
    std::string final_metric, message;
    if (status == "SUCCEEDED") {
      const double v = fixture_value(i);
      end = start + 900;
      exit_code = std::int64_t{0};
      final_value = v;
      final_metric = json{{"default", v}, {"loss", 1.0 - v}}.dump();
      db.run("INSERT INTO metric VALUES(?, 'FINAL', 0, ?, ?, ?)", {id, v, final_metric, end});
    } else if (status == "FAILED") {
      end = start + 300;
      exit_code = std::int64_t{1};
      message = "exit code 1";
    }
    const fs::path tdir = dir / "trials" / id;
    db.run("INSERT INTO trial VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
           {std::int64_t{i}, id, std::int64_t{i}, params.dump(), status, submit, start, end,
            exit_code, final_value, final_metric, std::int64_t{steps},
            fixture_step_value(i, steps - 1, o.steps), tdir.string(), message});
    if (!o.trial_dirs) continue;
    fs::create_directories(tdir);
    std::ofstream(tdir / "trial.stdout") << "start " << id << "\n" << "final " << id << "\n";
    std::ofstream(tdir / "trial.stderr") << (status == "FAILED" ? "Traceback: boom\n" : "");
    std::ofstream(tdir / "parameter.cfg") << params.dump() << "\n";
    if (status == "SUCCEEDED") {
      fs::create_directories(tdir / "checkpoint");
      std::ofstream(tdir / "checkpoint" / "model.json") << "{}";
    }
  }
  db.bump_revision();
  db.exec("COMMIT");
  return dir;
}

}  // namespace spikeline::test
