#include "spikeline/hpo/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <utility>

#include "spikeline/core/error.hpp"

namespace spikeline::hpo {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE experiment(id TEXT PRIMARY KEY, name TEXT, config TEXT, search_space TEXT, status TEXT,
  start_time INTEGER, end_time INTEGER, exec_seconds REAL, max_trial_number INTEGER,
  max_duration_s REAL, concurrency INTEGER, optimize_mode TEXT, tuner TEXT, assessor TEXT,
  controller_pid INTEGER, port INTEGER, error TEXT);
CREATE TABLE trial(sequence_id INTEGER PRIMARY KEY, trial_id TEXT UNIQUE, parameter_id INTEGER,
  parameters TEXT, status TEXT, submit_time INTEGER, start_time INTEGER, end_time INTEGER,
  exit_code INTEGER, final_value REAL, final_metric TEXT, intermediate_count INTEGER,
  latest_value REAL, dir TEXT, message TEXT, attempt INTEGER, command TEXT, handle TEXT);
CREATE INDEX trial_status ON trial(status);
CREATE TABLE metric(trial_id TEXT, type TEXT, sequence INTEGER, value REAL, data TEXT,
  timestamp INTEGER, PRIMARY KEY(trial_id, type, sequence));
CREATE TABLE event(id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp INTEGER, trial_id TEXT,
  event TEXT, data TEXT);
CREATE TABLE tuner_call(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, parameter_id INTEGER,
  parameters TEXT, value REAL, succeeded INTEGER);
)sql";

constexpr const char* kTrialColumns =
    "sequence_id, trial_id, parameter_id, parameters, status, submit_time, start_time, end_time, "
    "exit_code, final_value, final_metric, intermediate_count, latest_value, dir, message, attempt, "
    "command, handle";

}  // namespace

struct Store::Db {
  sqlite3* handle = nullptr;
  std::string path;
  ~Db() {
    if (handle) sqlite3_close_v2(handle);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(path + ": " + what + ": " + (handle ? sqlite3_errmsg(handle) : "cannot open"));
  }
  void exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(handle, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw IoError(path + ": " + msg);
    }
  }
};

namespace {

// A prepared statement with positional binding; RAII finalize.
class Stmt {
 public:
  Stmt(const Store::Db& db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db.handle, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) db.fail("prepare");
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  Stmt& bind(std::int64_t v) { return check(sqlite3_bind_int64(stmt_, ++n_, v)); }
  Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Stmt& bind(double v) { return check(sqlite3_bind_double(stmt_, ++n_, v)); }
  Stmt& bind(const std::string& v) {
    return check(sqlite3_bind_text(stmt_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(const char* v) { return bind(std::string(v)); }
  template <class T>
  Stmt& bind(const std::optional<T>& v) {
    if (v) return bind(*v);
    return check(sqlite3_bind_null(stmt_, ++n_));
  }
  // true while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail("step");
  }
  void run() {
    while (step()) {
    }
  }
  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
  double f64(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
             : std::string();
  }
  std::optional<std::int64_t> opt_i64(int c) const { return is_null(c) ? std::nullopt : std::optional(i64(c)); }
  std::optional<double> opt_f64(int c) const { return is_null(c) ? std::nullopt : std::optional(f64(c)); }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) db_.fail("bind");
    return *this;
  }
  const Store::Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  int n_ = 0;
};

ojson parse_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return ojson::parse(text, nullptr, false);
}

TrialRecord read_trial(const Stmt& s) {
  TrialRecord t;
  t.sequence_id = s.i64(0);
  t.trial_id = s.text(1);
  t.parameter_id = s.opt_i64(2);
  t.parameters = parse_or_null(s.text(3));
  t.status = s.text(4);
  t.submit_time = s.i64(5);
  t.start_time = s.i64(6);
  t.end_time = s.i64(7);
  if (auto c = s.opt_i64(8)) t.exit_code = static_cast<int>(*c);
  t.final_value = s.opt_f64(9);
  t.final_metric = s.text(10);
  t.intermediate_count = s.i64(11);
  t.latest_value = s.opt_f64(12);
  t.dir = s.text(13);
  t.message = s.text(14);
  t.attempt = static_cast<int>(s.i64(15));
  t.command = s.text(16);
  t.handle = s.text(17);
  return t;
}

MetricRecord read_metric(const Stmt& s) {
  MetricRecord m;
  m.trial_id = s.text(0);
  m.type = s.text(1);
  m.sequence = s.i64(2);
  m.value = s.opt_f64(3);
  m.data = s.text(4);
  m.timestamp = s.i64(5);
  return m;
}

std::unique_ptr<Store::Db> open_db(const std::filesystem::path& file, int flags) {
  auto db = std::make_unique<Store::Db>();
  db->path = file.string();
  if (sqlite3_open_v2(db->path.c_str(), &db->handle, flags, nullptr) != SQLITE_OK) db->fail("open");
  // Readers and the writer never block each other in WAL mode; this covers checkpoints.
  sqlite3_busy_timeout(db->handle, 5000);
  return db;
}

std::string status_filter(const std::vector<std::string>& statuses) {
  if (statuses.empty()) return "";
  std::string sql = " WHERE status IN (";
  for (std::size_t i = 0; i < statuses.size(); ++i) sql += i ? ",?" : "?";
  return sql + ")";
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Store::Store(std::unique_ptr<Db> db, std::filesystem::path dir) : db_(std::move(db)), dir_(std::move(dir)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Store Store::open_read_only(const std::filesystem::path& experiment_dir) {
  const auto file = experiment_dir / kStoreFileName;
  if (!std::filesystem::exists(file))
    throw InputError(experiment_dir.string(), "not an experiment directory (no " + std::string(kStoreFileName) + ")");
  Store s(open_db(file, SQLITE_OPEN_READONLY), experiment_dir);
  return s;
}

Store Store::open_writer(const std::filesystem::path& experiment_dir) {
  const auto file = experiment_dir / kStoreFileName;
  if (!std::filesystem::exists(file))
    throw InputError(experiment_dir.string(), "not an experiment directory (no " + std::string(kStoreFileName) + ")");
  Store s(open_db(file, SQLITE_OPEN_READWRITE), experiment_dir);
  s.db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  return s;
}

Store Store::create(const std::filesystem::path& experiment_dir, const ExperimentRecord& e) {
  std::filesystem::create_directories(experiment_dir);
  const auto file = experiment_dir / kStoreFileName;
  if (std::filesystem::exists(file)) throw InputError(file.string(), "already exists");
  Store s(open_db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE), experiment_dir);
  // NORMAL in WAL mode: a commit survives a process crash (kill -9); only a power loss can drop
  // the last transactions, never corrupt the database.
  s.db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  s.db_->exec((std::string("BEGIN IMMEDIATE;") + kSchema + "COMMIT;").c_str());
  Transaction tx(s);
  Stmt(*s.db_, "INSERT INTO meta(key, value) VALUES('schema_version', ?), ('revision', '1')")
      .bind(std::to_string(kStoreSchemaVersion))
      .run();
  Stmt(*s.db_,
       "INSERT INTO experiment(id, name, config, search_space, status, start_time, end_time, exec_seconds, "
       "max_trial_number, max_duration_s, concurrency, optimize_mode, tuner, assessor, controller_pid, port, error) "
       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind(e.id).bind(e.name).bind(e.config.dump()).bind(e.search_space.dump()).bind(e.status)
      .bind(e.start_time).bind(e.end_time).bind(e.exec_seconds).bind(e.max_trial_number)
      .bind(e.max_duration_s).bind(e.concurrency).bind(e.optimize_mode).bind(e.tuner).bind(e.assessor)
      .bind(e.controller_pid).bind(e.port).bind(e.error)
      .run();
  tx.commit();
  return s;
}

// --- transactions ------------------------------------------------------------------------------

void Store::begin() {
  if (depth_++ == 0) {
    db_->exec("BEGIN IMMEDIATE");
    db_->exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'");
  }
}
void Store::commit() {
  if (--depth_ == 0) db_->exec("COMMIT");
}
void Store::rollback() {
  if (--depth_ == 0) db_->exec("ROLLBACK");
}

Store::Transaction::Transaction(Store& store) : store_(&store) { store_->begin(); }
Store::Transaction::~Transaction() {
  if (!done_) {
    try {
      store_->rollback();
    } catch (...) {  // a destructor must not throw; the connection rolls back on close anyway
    }
  }
}
void Store::Transaction::commit() {
  done_ = true;
  store_->commit();
}

// One statement outside an explicit transaction is its own transaction (and revision).
#define SPIKELINE_STORE_WRITE(body) \
  do {                              \
    Transaction tx_(*this);         \
    body;                           \
    tx_.commit();                   \
  } while (false)

// --- reads -------------------------------------------------------------------------------------

ExperimentRecord Store::experiment() const {
  Stmt s(*db_,
         "SELECT id, name, config, search_space, status, start_time, end_time, exec_seconds, max_trial_number, "
         "max_duration_s, concurrency, optimize_mode, tuner, assessor, controller_pid, port, error FROM experiment");
  if (!s.step()) throw InputError(db_->path, "has no experiment row");
  ExperimentRecord e;
  e.id = s.text(0);
  e.name = s.text(1);
  e.config = parse_or_null(s.text(2));
  e.search_space = parse_or_null(s.text(3));
  e.status = s.text(4);
  e.start_time = s.i64(5);
  e.end_time = s.i64(6);
  e.exec_seconds = s.f64(7);
  e.max_trial_number = s.i64(8);
  e.max_duration_s = s.f64(9);
  e.concurrency = static_cast<int>(s.i64(10));
  e.optimize_mode = s.text(11);
  e.tuner = s.text(12);
  e.assessor = s.text(13);
  e.controller_pid = s.i64(14);
  e.port = static_cast<int>(s.i64(15));
  e.error = s.text(16);
  return e;
}

std::vector<TrialRecord> Store::trials() const { return query_trials({}); }

std::vector<TrialRecord> Store::query_trials(const TrialQuery& q) const {
  static const std::map<std::string, std::string> kSort = {
      {"sequence_id", "sequence_id"},       {"trial_id", "trial_id"},       {"status", "status"},
      {"start_time", "start_time"},         {"end_time", "end_time"},       {"final_value", "final_value"},
      {"latest_value", "latest_value"},     {"intermediate_count", "intermediate_count"},
      {"duration", "(CASE WHEN end_time > 0 THEN end_time ELSE start_time END) - start_time"}};
  const auto it = kSort.find(q.sort_by);
  if (it == kSort.end()) throw InputError("sort_by", "unknown trial column '" + q.sort_by + "'");
  const std::string dir = q.descending ? " DESC" : " ASC";
  // NULLs (no final value yet) last in both directions, then a stable tie-break.
  std::string sql = std::string("SELECT ") + kTrialColumns + " FROM trial" + status_filter(q.statuses) +
                    " ORDER BY (" + it->second + ") IS NULL, " + it->second + dir + ", sequence_id" + dir +
                    " LIMIT ? OFFSET ?";
  Stmt s(*db_, sql);
  for (const auto& st : q.statuses) s.bind(st);
  s.bind(q.limit).bind(q.offset);
  std::vector<TrialRecord> out;
  while (s.step()) out.push_back(read_trial(s));
  return out;
}

std::int64_t Store::count_trials(const std::vector<std::string>& statuses) const {
  Stmt s(*db_, "SELECT COUNT(*) FROM trial" + status_filter(statuses));
  for (const auto& st : statuses) s.bind(st);
  s.step();
  return s.i64(0);
}

std::optional<TrialRecord> Store::trial(const std::string& trial_id) const {
  Stmt s(*db_, std::string("SELECT ") + kTrialColumns + " FROM trial WHERE trial_id = ?");
  s.bind(trial_id);
  if (!s.step()) return std::nullopt;
  return read_trial(s);
}

std::vector<MetricRecord> Store::metrics(const std::string& trial_id) const {
  Stmt s(*db_,
         "SELECT trial_id, type, sequence, value, data, timestamp FROM metric WHERE trial_id = ? "
         "ORDER BY type DESC, sequence");  // PERIODICAL before FINAL
  s.bind(trial_id);
  std::vector<MetricRecord> out;
  while (s.step()) out.push_back(read_metric(s));
  return out;
}

std::vector<MetricRecord> Store::all_metrics(const std::string& type) const {
  Stmt s(*db_, std::string("SELECT trial_id, type, sequence, value, data, timestamp FROM metric") +
                   (type.empty() ? "" : " WHERE type = ?") + " ORDER BY trial_id, type DESC, sequence");
  if (!type.empty()) s.bind(type);
  std::vector<MetricRecord> out;
  while (s.step()) out.push_back(read_metric(s));
  return out;
}

std::map<std::string, std::int64_t> Store::status_counts() const {
  Stmt s(*db_, "SELECT status, COUNT(*) FROM trial GROUP BY status");
  std::map<std::string, std::int64_t> out;
  while (s.step()) out[s.text(0)] = s.i64(1);
  return out;
}

std::vector<EventRecord> Store::events(std::int64_t after_id, std::int64_t limit) const {
  Stmt s(*db_, "SELECT id, timestamp, trial_id, event, data FROM event WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(after_id).bind(limit);
  std::vector<EventRecord> out;
  while (s.step()) out.push_back({s.i64(0), s.i64(1), s.text(2), s.text(3), s.text(4)});
  return out;
}

std::int64_t Store::revision() const {
  Stmt s(*db_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision'");
  return s.step() ? s.i64(0) : 0;
}

std::vector<TunerCall> Store::tuner_calls() const {
  Stmt s(*db_, "SELECT id, kind, parameter_id, parameters, value, succeeded FROM tuner_call ORDER BY id");
  std::vector<TunerCall> out;
  while (s.step()) {
    TunerCall c;
    c.id = s.i64(0);
    c.kind = s.text(1);
    c.parameter_id = s.i64(2);
    if (!s.is_null(3)) c.parameters = ojson::parse(s.text(3));
    c.value = s.f64(4);
    c.succeeded = s.i64(5) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

// --- writes ------------------------------------------------------------------------------------

void Store::set_status(const std::string& st, const std::string& error) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "UPDATE experiment SET status = ?, error = ?").bind(st).bind(error).run());
}
void Store::set_exec_seconds(double seconds) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "UPDATE experiment SET exec_seconds = ?").bind(seconds).run());
}
void Store::set_start_time(std::int64_t ms) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "UPDATE experiment SET start_time = ?").bind(ms).run());
}
void Store::set_end_time(std::int64_t ms) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "UPDATE experiment SET end_time = ?").bind(ms).run());
}
void Store::set_controller(std::int64_t pid, int port) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "UPDATE experiment SET controller_pid = ?, port = ?").bind(pid).bind(port).run());
}

namespace {
void bind_trial_values(Stmt& s, const TrialRecord& t) {
  s.bind(t.trial_id).bind(t.parameter_id).bind(t.parameters.dump()).bind(t.status).bind(t.submit_time)
      .bind(t.start_time).bind(t.end_time).bind(t.exit_code ? std::optional<std::int64_t>(*t.exit_code) : std::nullopt)
      .bind(t.final_value).bind(t.final_metric).bind(t.intermediate_count).bind(t.latest_value).bind(t.dir)
      .bind(t.message).bind(t.attempt).bind(t.command).bind(t.handle);
}
}  // namespace

void Store::insert_trial(const TrialRecord& t) {
  SPIKELINE_STORE_WRITE({
    Stmt s(*db_, std::string("INSERT INTO trial(") + kTrialColumns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(t.sequence_id);
    bind_trial_values(s, t);
    s.run();
  });
}

void Store::update_trial(const TrialRecord& t) {
  SPIKELINE_STORE_WRITE({
    Stmt s(*db_,
           "UPDATE trial SET trial_id=?, parameter_id=?, parameters=?, status=?, submit_time=?, start_time=?, "
           "end_time=?, exit_code=?, final_value=?, final_metric=?, intermediate_count=?, latest_value=?, dir=?, "
           "message=?, attempt=?, command=?, handle=? WHERE sequence_id=?");
    bind_trial_values(s, t);
    s.bind(t.sequence_id);
    s.run();
  });
}

bool Store::insert_metric(const MetricRecord& m) {
  bool inserted = false;
  SPIKELINE_STORE_WRITE({
    Stmt(*db_, "INSERT OR IGNORE INTO metric(trial_id, type, sequence, value, data, timestamp) VALUES(?,?,?,?,?,?)")
        .bind(m.trial_id).bind(m.type).bind(m.sequence).bind(m.value).bind(m.data).bind(m.timestamp)
        .run();
    inserted = sqlite3_changes(db_->handle) > 0;
  });
  return inserted;
}

void Store::delete_metrics(const std::string& trial_id) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "DELETE FROM metric WHERE trial_id = ?").bind(trial_id).run());
}

void Store::add_event(const std::string& trial_id, const std::string& event, const std::string& data) {
  SPIKELINE_STORE_WRITE(Stmt(*db_, "INSERT INTO event(timestamp, trial_id, event, data) VALUES(?,?,?,?)")
                            .bind(now_ms()).bind(trial_id).bind(event).bind(data).run());
}

void Store::add_tuner_call(const TunerCall& c) {
  SPIKELINE_STORE_WRITE({
    Stmt s(*db_, "INSERT INTO tuner_call(kind, parameter_id, parameters, value, succeeded) VALUES(?,?,?,?,?)");
    s.bind(c.kind).bind(c.parameter_id);
    s.bind(c.parameters ? std::optional<std::string>(c.parameters->dump()) : std::nullopt);
    s.bind(c.value).bind(c.succeeded ? 1 : 0);
    s.run();
  });
}

#undef SPIKELINE_STORE_WRITE

}  // namespace spikeline::hpo
