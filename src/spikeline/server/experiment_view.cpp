#include "spikeline/server/experiment_view.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "spikeline/server/http_error.hpp"
#include "spikeline/server/trial_files.hpp"

namespace spikeline::server {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTrialColumns =
    "sequence_id, trial_id, parameter_id, parameters, status, submit_time, start_time, end_time, "
    "exit_code, final_value, final_metric, intermediate_count, latest_value, dir, message, attempt";
// Parameters as valid JSON or NULL: json_extract() raises an error on malformed text.
constexpr const char* kParams = "(CASE WHEN json_valid(parameters) THEN parameters END)";
constexpr const char* kFinal = "(CASE WHEN json_valid(final_metric) THEN final_metric END)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt(const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

// The store writes 0 for "not yet" times and -1 for "unlimited" budgets: both become null.
std::optional<std::int64_t> positive(std::optional<std::int64_t> v) {
  return v && *v > 0 ? v : std::nullopt;
}
std::optional<double> non_negative(std::optional<double> v) {
  return v && *v >= 0 ? v : std::nullopt;
}
Json text_or_null(const Statement& st, int col) {
  std::string s = st.text(col);
  return s.empty() ? Json(nullptr) : Json(std::move(s));
}

// Parameters as stored; a full parameter record {parameter_id, parameters: {...}} is unwrapped.
Json parse_parameters(const std::string& text) {
  Json p = parse_stored_json(text);
  if (p.is_object() && p.contains("parameters") && p["parameters"].is_object() &&
      p.contains("parameter_id")) {
    return p["parameters"];
  }
  return p;
}

// Row of kTrialColumns -> API trial object.
Json trial_json(const Statement& st) {
  Json t;
  t["sequence_id"] = st.int64(0);
  t["trial_id"] = st.text(1);
  t["parameter_id"] = opt(st.opt_int64(2));
  t["status"] = st.text(4);
  t["parameters"] = parse_parameters(st.text(3));
  const auto start = positive(st.opt_int64(6)), end = positive(st.opt_int64(7));
  t["submit_time"] = opt(positive(st.opt_int64(5)));
  t["start_time"] = opt(start);
  t["end_time"] = opt(end);
  t["duration_s"] = start ? Json(static_cast<double>((end ? *end : now_ms()) - *start) / 1000.0)
                          : Json(nullptr);
  t["exit_code"] = opt(st.opt_int64(8));
  t["final_value"] = opt(st.opt_real(9));
  t["final_metric"] = parse_stored_json(st.text(10));
  t["intermediate_count"] = st.is_null(11) ? Json(0) : Json(st.int64(11));
  t["latest_value"] = opt(st.opt_real(12));
  t["message"] = text_or_null(st, 14);
  t["attempt"] = opt(st.opt_int64(15));
  return t;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Evenly spaced indices of n items, at most k, always keeping the first and the last.
std::vector<std::size_t> even_sample(std::size_t n, std::size_t k) {
  std::vector<std::size_t> idx;
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    return idx;
  }
  if (k < 2) k = 2;
  for (std::size_t j = 0; j < k; ++j) idx.push_back(j * (n - 1) / (k - 1));
  return idx;
}

// SQL expression and its bound values for a sort column name.
struct SortExpr {
  std::string sql;
  std::vector<SqlValue> binds;
};

SortExpr sort_expr(const std::string& column) {
  static const std::set<std::string> plain = {"sequence_id", "trial_id",     "status",
                                              "exit_code",   "final_value",  "latest_value",
                                              "attempt",     "parameter_id", "intermediate_count"};
  static const std::set<std::string> times = {"submit_time", "start_time", "end_time"};
  if (plain.count(column) != 0) return {column, {}};
  if (times.count(column) != 0) return {"NULLIF(" + column + ", 0)", {}};  // 0: not yet
  if (column == "value") return {"COALESCE(final_value, latest_value)", {}};
  if (column == "duration") {
    return {"(CASE WHEN start_time > 0 THEN COALESCE(NULLIF(end_time, 0), ?) - start_time END)",
            {now_ms()}};
  }
  if (column.rfind("param.", 0) == 0) {
    return {std::string("json_extract(") + kParams + ", ?)", {json_path(column.substr(6))}};
  }
  if (column.rfind("metric.", 0) == 0) {
    return {std::string("json_extract(") + kFinal + ", ?)", {json_path(column.substr(7))}};
  }
  throw HttpError(400, "unknown sort column '" + column +
                           "': use sequence_id, trial_id, status, start_time, end_time, duration, "
                           "final_value, latest_value, value, intermediate_count, param.<name> or "
                           "metric.<key>");
}

// WHERE clause and binds for a trial query.
SortExpr where_clause(const TrialQuery& q) {
  SortExpr w{"1", {}};
  if (!q.statuses.empty()) {
    w.sql += " AND status IN (";
    for (std::size_t i = 0; i < q.statuses.size(); ++i) {
      w.sql += i == 0 ? "?" : ",?";
      w.binds.emplace_back(q.statuses[i]);
    }
    w.sql += ")";
  }
  if (!q.text.empty()) {
    std::string like = "%";
    for (char c : q.text) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    like += "%";
    w.sql += " AND (trial_id LIKE ? ESCAPE '\\' OR parameters LIKE ? ESCAPE '\\' OR "
             "CAST(sequence_id AS TEXT) = ?)";
    w.binds.emplace_back(like);
    w.binds.emplace_back(like);
    w.binds.emplace_back(q.text);
  }
  for (const auto& [path, value] : q.param_equals) {
    w.sql += std::string(" AND json_extract(") + kParams + ", ?) = ?";
    w.binds.emplace_back(json_path(path));
    if (const auto d = parse_double(value)) {
      w.binds.emplace_back(*d);
    } else {
      w.binds.emplace_back(value);
    }
  }
  if (q.min_value) {
    w.sql += " AND final_value >= ?";
    w.binds.emplace_back(*q.min_value);
  }
  if (q.max_value) {
    w.sql += " AND final_value <= ?";
    w.binds.emplace_back(*q.max_value);
  }
  return w;
}

void bind_all(Statement& st, const std::vector<SqlValue>& values, int first = 1) {
  for (std::size_t i = 0; i < values.size(); ++i) st.bind(first + static_cast<int>(i), values[i]);
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_value(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_cell(v.get<std::string>());
  return csv_cell(v.dump());
}

// Value of a metric record: the default value, or field `key` of a dict metric.
std::optional<double> metric_value(const Statement& st, int value_col, int data_col,
                                   const std::string& key) {
  if (key.empty()) return st.opt_real(value_col);
  const Json data = parse_stored_json(st.text(data_col));
  if (data.is_object() && data.contains(key) && data[key].is_number()) return data[key].get<double>();
  return std::nullopt;
}

}  // namespace

Json parse_stored_json(const std::string& text) {
  if (text.empty()) return nullptr;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return text;
  if (j.is_string()) {
    Json inner = Json::parse(j.get<std::string>(), nullptr, false);
    if (!inner.is_discarded()) return inner;
  }
  return j;
}

std::string json_path(std::string_view dotted) {
  if (dotted.empty()) throw HttpError(400, "empty parameter name");
  std::string path = "$";
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const auto dot = dotted.find('.', start);
    const auto seg = dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start);
    if (seg.empty() || seg.find_first_of("\"\\") != std::string_view::npos) {
      throw HttpError(400, "invalid parameter name '" + std::string(dotted) +
                               "': dot-separated names without quotes or backslashes");
    }
    path += ".\"" + std::string(seg) + "\"";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

const std::vector<std::string>& trial_statuses() {
  static const std::vector<std::string> all = {"WAITING",       "RUNNING",        "SUCCEEDED",
                                               "FAILED",        "USER_CANCELED",  "SYS_CANCELED",
                                               "EARLY_STOPPED"};
  return all;
}

ExperimentView::ExperimentView(fs::path dir) : dir_(std::move(dir)), db_(dir_ / "experiment.db") {}

std::int64_t ExperimentView::revision() {
  auto st = db_.prepare("SELECT value FROM meta WHERE key='revision'");
  if (!st.step()) return 0;
  return st.int64(0);
}

std::string ExperimentView::optimize_mode() {
  auto st = db_.prepare("SELECT optimize_mode FROM experiment LIMIT 1");
  const std::string mode = st.step() ? st.text(0) : "";
  return mode == "minimize" ? "minimize" : "maximize";
}

Json ExperimentView::counts() {
  Json c = Json::object();
  for (const auto& s : trial_statuses()) c[s] = 0;
  auto st = db_.prepare("SELECT status, COUNT(*) FROM trial GROUP BY status");
  while (st.step()) c[st.text(0)] = st.int64(1);
  return c;
}

std::optional<Json> ExperimentView::best_trial() {
  const std::string order = optimize_mode() == "minimize" ? "ASC" : "DESC";
  auto st = db_.prepare(std::string("SELECT ") + kTrialColumns +
                        " FROM trial WHERE status='SUCCEEDED' AND final_value IS NOT NULL "
                        "ORDER BY final_value " + order + ", sequence_id LIMIT 1");
  if (!st.step()) return std::nullopt;
  return trial_json(st);
}

Json ExperimentView::overview(std::string_view fallback_id) {
  ReadSnapshot snap(db_);
  Json o;
  auto st = db_.prepare(
      "SELECT id, name, config, search_space, status, start_time, end_time, exec_seconds, "
      "max_trial_number, max_duration_s, concurrency, optimize_mode, tuner, assessor, "
      "controller_pid, port, error FROM experiment LIMIT 1");
  const bool has_row = st.step();
  o["id"] = has_row ? st.text(0) : std::string(fallback_id);
  o["name"] = has_row ? st.text(1) : "";
  o["dir"] = dir_.string();
  o["status"] = has_row ? st.text(4) : "UNKNOWN";
  o["error"] = has_row ? text_or_null(st, 16) : Json(nullptr);
  o["start_time"] = has_row ? opt(positive(st.opt_int64(5))) : Json(nullptr);
  o["end_time"] = has_row ? opt(positive(st.opt_int64(6))) : Json(nullptr);
  std::optional<double> exec, max_dur;
  std::optional<std::int64_t> max_trials;
  if (has_row) {
    exec = st.opt_real(7);
    max_trials = st.opt_int64(8);
    if (max_trials && *max_trials < 0) max_trials.reset();
    max_dur = non_negative(st.opt_real(9));
  }
  o["concurrency"] = has_row ? opt(st.opt_int64(10)) : Json(nullptr);
  o["optimize_mode"] = has_row && st.text(11) == "minimize" ? "minimize" : "maximize";
  o["tuner"] = has_row ? st.text(12) : "";
  o["assessor"] = has_row ? st.text(13) : "";
  o["controller_pid"] = has_row ? opt(positive(st.opt_int64(14))) : Json(nullptr);
  o["port"] = has_row ? opt(positive(st.opt_int64(15))) : Json(nullptr);
  const Json space = has_row ? parse_stored_json(st.text(3)) : Json(nullptr);
  const Json config = has_row ? parse_stored_json(st.text(2)) : Json(nullptr);

  const Json c = counts();
  std::int64_t submitted = 0;
  for (const auto& [k, v] : c.items()) submitted += v.get<std::int64_t>();
  o["counts"] = c;
  o["trials_submitted"] = submitted;
  Json budget;
  budget["exec_seconds"] = opt(exec);
  budget["max_duration_s"] = opt(max_dur);
  budget["remaining_s"] = nullptr;
  if (exec && max_dur) budget["remaining_s"] = std::max(0.0, max_dur.value() - exec.value());
  budget["max_trial_number"] = opt(max_trials);
  budget["remaining_trials"] = nullptr;
  if (max_trials) {
    budget["remaining_trials"] = std::max<std::int64_t>(0, max_trials.value() - submitted);
  }
  o["budget"] = budget;
  const auto best = best_trial();
  o["best"] = best ? Json{{"trial_id", (*best)["trial_id"]},
                          {"sequence_id", (*best)["sequence_id"]},
                          {"value", (*best)["final_value"]},
                          {"parameters", (*best)["parameters"]}}
                   : Json(nullptr);

  // Parameter names: the search space's keys in order; else those of the first trial.
  Json names = Json::array();
  if (space.is_object()) {
    for (const auto& [k, v] : space.items()) names.push_back(k);
  } else {
    auto first = db_.prepare("SELECT parameters FROM trial ORDER BY sequence_id LIMIT 1");
    if (first.step()) {
      const Json p = parse_parameters(first.text(0));
      if (p.is_object()) {
        for (const auto& [k, v] : p.items()) names.push_back(k);
      }
    }
  }
  o["parameter_names"] = names;
  Json keys = Json::array();
  auto mk = db_.prepare(std::string("SELECT DISTINCT j.key FROM trial, json_each(COALESCE(") +
                        kFinal + ", '{}')) AS j WHERE j.key IS NOT NULL ORDER BY j.key LIMIT 64");
  while (mk.step()) keys.push_back(mk.text(0));
  o["metric_keys"] = keys;
  o["search_space"] = space;
  o["config"] = config;
  o["revision"] = revision();
  return o;
}

Json ExperimentView::trials_page(const TrialQuery& q) {
  ReadSnapshot snap(db_);
  const SortExpr where = where_clause(q);
  auto count = db_.prepare("SELECT COUNT(*) FROM trial WHERE " + where.sql);
  bind_all(count, where.binds);
  count.step();
  const std::int64_t total = count.int64(0);

  const SortExpr key = sort_expr(q.sort);
  const std::string dir = q.descending ? " DESC" : " ASC";
  // NULLs (e.g. trials without a metric yet) last in both directions.
  const std::string sql = std::string("SELECT ") + kTrialColumns + " FROM trial WHERE " +
                          where.sql + " ORDER BY (" + key.sql + ") IS NULL, " + key.sql + dir +
                          ", sequence_id" + dir + " LIMIT ? OFFSET ?";
  auto st = db_.prepare(sql);
  std::vector<SqlValue> binds = where.binds;
  binds.insert(binds.end(), key.binds.begin(), key.binds.end());
  binds.insert(binds.end(), key.binds.begin(), key.binds.end());
  binds.emplace_back(q.limit);
  binds.emplace_back(q.offset);
  bind_all(st, binds);
  Json rows = Json::array();
  while (st.step()) rows.push_back(trial_json(st));
  Json out;
  out["total"] = total;
  out["offset"] = q.offset;
  out["limit"] = q.limit;
  out["sort"] = q.sort;
  out["order"] = q.descending ? "desc" : "asc";
  out["revision"] = revision();
  out["trials"] = std::move(rows);
  return out;
}

std::optional<Json> ExperimentView::trial(std::string_view trial_id) {
  auto st = db_.prepare(std::string("SELECT ") + kTrialColumns + " FROM trial WHERE trial_id=?");
  st.bind(1, std::string(trial_id));
  if (!st.step()) return std::nullopt;
  return trial_json(st);
}

std::optional<fs::path> ExperimentView::trial_dir(std::string_view trial_id) {
  auto st = db_.prepare("SELECT dir FROM trial WHERE trial_id=?");
  st.bind(1, std::string(trial_id));
  if (!st.step()) return std::nullopt;
  return trial_directory(dir_, st.text(0), trial_id);
}

std::optional<Json> ExperimentView::trial_detail(std::string_view trial_id,
                                                 std::uint64_t tail_bytes) {
  ReadSnapshot snap(db_);
  auto t = trial(trial_id);
  if (!t) return std::nullopt;
  Json& d = *t;
  Json inter = Json::array();
  Json finals = Json::array();
  auto st = db_.prepare(
      "SELECT type, sequence, value, data, timestamp FROM metric WHERE trial_id=? "
      "ORDER BY type, sequence");
  st.bind(1, std::string(trial_id));
  while (st.step()) {
    Json m{{"sequence", st.int64(1)},
           {"value", opt(st.opt_real(2))},
           {"data", parse_stored_json(st.text(3))},
           {"timestamp", opt(st.opt_int64(4))}};
    (st.text(0) == "FINAL" ? finals : inter).push_back(std::move(m));
  }
  d["intermediate"] = std::move(inter);
  d["final"] = std::move(finals);
  const auto tdir = trial_dir(trial_id);
  d["dir"] = tdir ? Json(tdir->string()) : Json(nullptr);
  Json files = Json::array();
  Json logs = Json::object();
  Json checkpoint = nullptr;
  if (tdir) {
    for (const auto& f : list_trial_files(*tdir)) files.push_back({{"name", f.name}, {"size", f.size}});
    for (const char* name : {"trial.stdout", "trial.stderr"}) {
      std::error_code ec;
      const fs::path p = *tdir / name;
      if (fs::is_symlink(p, ec)) continue;  // never follow links out of the trial directory
      const FileTail tail = read_tail(p, tail_bytes);
      logs[name] = {{"text", tail.text}, {"size", tail.size}, {"truncated", tail.truncated}};
    }
    std::error_code ec;
    const fs::path ck = *tdir / "checkpoint";
    if (fs::exists(ck, ec)) checkpoint = ck.string();
  }
  d["files"] = std::move(files);
  d["logs"] = std::move(logs);
  d["checkpoint"] = checkpoint;
  return t;
}

Json ExperimentView::intermediate(const std::vector<std::string>& trial_ids,
                                  std::size_t max_points, const std::string& key) {
  ReadSnapshot snap(db_);
  Json out;
  out["key"] = key.empty() ? Json("default") : Json(key);
  Json series = Json::array();
  for (const auto& id : trial_ids) {
    const auto t = trial(id);
    if (!t) throw HttpError(404, "unknown trial '" + id + "'");
    auto st = db_.prepare(
        "SELECT sequence, value, data FROM metric WHERE trial_id=? AND type='PERIODICAL' "
        "ORDER BY sequence");
    st.bind(1, id);
    std::vector<std::pair<std::int64_t, double>> pts;
    while (st.step()) {
      if (const auto v = metric_value(st, 1, 2, key)) pts.emplace_back(st.int64(0), *v);
    }
    Json points = Json::array();
    for (const auto i : even_sample(pts.size(), max_points)) {
      points.push_back(Json::array({pts[i].first, pts[i].second}));
    }
    series.push_back({{"trial_id", id},
                      {"sequence_id", (*t)["sequence_id"]},
                      {"status", (*t)["status"]},
                      {"total", pts.size()},
                      {"points", std::move(points)}});
  }
  out["series"] = std::move(series);
  return out;
}

Json ExperimentView::best_series(std::size_t max_points) {
  ReadSnapshot snap(db_);
  const bool minimize = optimize_mode() == "minimize";
  auto st = db_.prepare(
      "SELECT sequence_id, trial_id, final_value FROM trial WHERE status='SUCCEEDED' AND "
      "final_value IS NOT NULL ORDER BY sequence_id");
  struct Pt {
    std::int64_t seq;
    std::string id;
    double value, best;
    bool improved;
  };
  std::vector<Pt> pts;
  while (st.step()) {
    const double v = st.real(2);
    const bool improved =
        pts.empty() || (minimize ? v < pts.back().best : v > pts.back().best);
    pts.push_back({st.int64(0), st.text(1), v, improved ? v : pts.back().best, improved});
  }
  // The best-so-far line changes only at improvements: keep those (exact line), then fill the
  // scatter with evenly spaced other points up to max_points.
  Json line = Json::array();
  std::vector<bool> keep(pts.size(), false);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].improved) {
      line.push_back(Json::array({pts[i].seq, pts[i].best}));
      if (kept < max_points) {
        keep[i] = true;
        ++kept;
      }
    }
  }
  if (!pts.empty()) line.push_back(Json::array({pts.back().seq, pts.back().best}));
  for (const auto i : even_sample(pts.size(), max_points > kept ? max_points - kept : 0)) {
    if (max_points > kept) keep[i] = true;
  }
  Json points = Json::array();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (!keep[i]) continue;
    points.push_back({{"sequence_id", pts[i].seq},
                      {"trial_id", pts[i].id},
                      {"value", pts[i].value},
                      {"best", pts[i].best}});
  }
  return {{"optimize_mode", minimize ? "minimize" : "maximize"},
          {"total", pts.size()},
          {"shown", points.size()},
          {"points", std::move(points)},
          {"best_line", std::move(line)}};
}

Json ExperimentView::parallel(std::size_t max_rows) {
  ReadSnapshot snap(db_);
  const bool minimize = optimize_mode() == "minimize";
  auto st = db_.prepare(
      "SELECT sequence_id, trial_id, parameters, final_value FROM trial WHERE "
      "status='SUCCEEDED' AND final_value IS NOT NULL ORDER BY sequence_id");
  struct Row {
    std::int64_t seq;
    std::string id;
    std::string params;
    double value;
  };
  std::vector<Row> rows;
  while (st.step()) rows.push_back({st.int64(0), st.text(1), st.text(2), st.real(3)});
  // Sampling: the best fifth of the budget by metric, then evenly spaced others.
  std::vector<bool> keep(rows.size(), rows.size() <= max_rows);
  if (rows.size() > max_rows) {
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return minimize ? rows[a].value < rows[b].value : rows[a].value > rows[b].value;
    });
    const std::size_t n_best = max_rows / 5;
    for (std::size_t i = 0; i < n_best; ++i) keep[order[i]] = true;
    for (const auto i : even_sample(rows.size(), max_rows - n_best)) keep[i] = true;
  }
  Json out_rows = Json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!keep[i]) continue;
    out_rows.push_back({{"trial_id", rows[i].id},
                        {"sequence_id", rows[i].seq},
                        {"parameters", parse_parameters(rows[i].params)},
                        {"value", rows[i].value}});
  }
  return {{"optimize_mode", minimize ? "minimize" : "maximize"},
          {"total", rows.size()},
          {"shown", out_rows.size()},
          {"rows", std::move(out_rows)}};
}

std::vector<Json> ExperimentView::all_trials(const std::vector<std::string>& statuses) {
  TrialQuery q;
  q.statuses = statuses;
  const SortExpr where = where_clause(q);
  auto st = db_.prepare(std::string("SELECT ") + kTrialColumns + " FROM trial WHERE " +
                        where.sql + " ORDER BY sequence_id");
  bind_all(st, where.binds);
  std::vector<Json> out;
  while (st.step()) out.push_back(trial_json(st));
  return out;
}

Json ExperimentView::metric_rows(std::string_view trial_id, std::string_view type) {
  std::string sql =
      "SELECT trial_id, type, sequence, value, data, timestamp FROM metric WHERE trial_id=?";
  if (!type.empty()) sql += " AND type=?";
  sql += " ORDER BY type, sequence";
  auto st = db_.prepare(sql);
  st.bind(1, std::string(trial_id));
  if (!type.empty()) st.bind(2, std::string(type));
  Json out = Json::array();
  while (st.step()) {
    out.push_back({{"trial_id", st.text(0)},
                   {"type", st.text(1)},
                   {"sequence", st.int64(2)},
                   {"value", opt(st.opt_real(3))},
                   {"data", st.text(4)},
                   {"timestamp", opt(st.opt_int64(5))}});
  }
  return out;
}

Json ExperimentView::export_json(bool with_intermediate) {
  ReadSnapshot snap(db_);
  Json trials = Json::array();
  std::map<std::string, Json> inter;
  if (with_intermediate) {
    auto st = db_.prepare(
        "SELECT trial_id, sequence, value, data FROM metric WHERE type='PERIODICAL' "
        "ORDER BY trial_id, sequence");
    while (st.step()) {
      auto& arr = inter[st.text(0)];
      arr.push_back({{"sequence", st.int64(1)},
                     {"value", opt(st.opt_real(2))},
                     {"data", parse_stored_json(st.text(3))}});
    }
  }
  for (auto& t : all_trials({})) {
    if (with_intermediate) {
      const auto it = inter.find(t["trial_id"].get<std::string>());
      t["intermediate"] = it == inter.end() ? Json::array() : std::move(it->second);
    }
    trials.push_back(std::move(t));
  }
  return trials;
}

std::string ExperimentView::export_csv() {
  ReadSnapshot snap(db_);
  const auto trials = all_trials({});
  // Columns: fixed ones, then every parameter and every final-metric key seen, in first-seen order.
  std::vector<std::string> params, keys;
  auto add_keys = [](std::vector<std::string>& dst, const Json& obj) {
    if (!obj.is_object()) return;
    for (const auto& [k, v] : obj.items()) {
      if (std::find(dst.begin(), dst.end(), k) == dst.end()) dst.push_back(k);
    }
  };
  for (const auto& t : trials) {
    add_keys(params, t["parameters"]);
    add_keys(keys, t["final_metric"]);
  }
  std::ostringstream out;
  out << "sequence_id,trial_id,status,start_time,end_time,duration_s,final_value,latest_value,"
         "intermediate_count";
  for (const auto& p : params) out << "," << csv_cell("param." + p);
  for (const auto& k : keys) out << "," << csv_cell("metric." + k);
  out << "\n";
  for (const auto& t : trials) {
    out << t["sequence_id"] << "," << csv_value(t["trial_id"]) << "," << csv_value(t["status"])
        << "," << csv_value(t["start_time"]) << "," << csv_value(t["end_time"]) << ","
        << csv_value(t["duration_s"]) << "," << csv_value(t["final_value"]) << ","
        << csv_value(t["latest_value"]) << "," << t["intermediate_count"];
    for (const auto& p : params) {
      const Json& ps = t["parameters"];
      out << "," << (ps.is_object() && ps.contains(p) ? csv_value(ps[p]) : "");
    }
    for (const auto& k : keys) {
      const Json& fm = t["final_metric"];
      out << "," << (fm.is_object() && fm.contains(k) ? csv_value(fm[k]) : "");
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace spikeline::server
