#include "spikeline/server/api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "spikeline/core/error.hpp"
#include "spikeline/server/experiment_view.hpp"
#include "spikeline/server/http_error.hpp"
#include "spikeline/server/sqlite_read.hpp"
#include "spikeline/server/trial_files.hpp"

namespace spikeline::server {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVersion = "spikeline 0.1.0";

// Invalid UTF-8 (e.g. in a log tail) is replaced rather than failing the response.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

ApiResponse json_response(const Json& j, int status = 200) { return {status, "application/json", dump(j), {}}; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Query parameters of one request: typed access with 400 errors, and a check that no unknown
// parameter was sent (a typo should not silently change the answer).
class Params {
 public:
  Params(const QueryParams& p, std::set<std::string> allowed, bool allow_param_filters = false)
      : p_(p) {
    for (const auto& [k, v] : p_) {
      if (allowed.count(k) != 0) continue;
      if (allow_param_filters && k.rfind("param.", 0) == 0) continue;
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw HttpError(400, "unknown query parameter '" + k + "'" +
                               (names.empty() ? "" : " (accepted: " + names + ")"));
    }
  }
  std::string str(const std::string& name, const std::string& fallback = "") const {
    const auto it = p_.find(name);
    return it == p_.end() ? fallback : it->second;
  }
  bool has(const std::string& name) const { return p_.count(name) != 0; }
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) const {
    const auto it = p_.find(name);
    if (it == p_.end()) return fallback;
    std::int64_t v = 0;
    const auto& s = it->second;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < lo || v > hi) {
      throw HttpError(400, "query parameter '" + name + "' must be an integer in [" +
                               std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + s +
                               "'");
    }
    return v;
  }
  std::optional<double> number(const std::string& name) const {
    const auto it = p_.find(name);
    if (it == p_.end()) return std::nullopt;
    double v = 0;
    const auto& s = it->second;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
      throw HttpError(400, "query parameter '" + name + "' must be a number, got '" + s + "'");
    }
    return v;
  }
  bool flag(const std::string& name) const {
    const std::string v = str(name, "0");
    if (v == "1" || v == "true") return true;
    if (v == "0" || v == "false") return false;
    throw HttpError(400, "query parameter '" + name + "' must be 0/1/true/false, got '" + v + "'");
  }
  std::vector<std::pair<std::string, std::string>> with_prefix(const std::string& prefix) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : p_) {
      if (k.rfind(prefix, 0) == 0) out.emplace_back(k.substr(prefix.size()), v);
    }
    return out;
  }

 private:
  const QueryParams& p_;
};

std::vector<std::string> parse_statuses(const std::string& csv) {
  std::vector<std::string> out;
  if (csv.empty()) return out;
  for (const auto s : split(csv, ',')) {
    const auto& all = trial_statuses();
    if (std::find(all.begin(), all.end(), s) == all.end()) {
      std::string names;
      for (const auto& a : all) names += (names.empty() ? "" : ", ") + a;
      throw HttpError(400, "unknown status '" + std::string(s) + "' (one of " + names + ")");
    }
    out.emplace_back(s);
  }
  return out;
}

TrialQuery trial_query(const Params& p) {
  TrialQuery q;
  q.offset = p.integer("offset", 0, 0, std::numeric_limits<std::int32_t>::max());
  q.limit = p.integer("limit", kDefaultPageSize, 1, kMaxPageSize);
  q.sort = p.str("sort", "sequence_id");
  const std::string order = p.str("order", "asc");
  if (order != "asc" && order != "desc") {
    throw HttpError(400, "query parameter 'order' must be asc or desc, got '" + order + "'");
  }
  q.descending = order == "desc";
  q.statuses = parse_statuses(p.str("status"));
  q.text = p.str("q");
  q.param_equals = p.with_prefix("param.");
  q.min_value = p.number("min_value");
  q.max_value = p.number("max_value");
  return q;
}

// NNI's trial-job object (hpo.md §2.9) built from our trial object.
Json nni_trial(const Json& t) {
  Json hp = {{"parameter_id", t["parameter_id"]},
             {"parameter_source", "algorithm"},
             {"parameters", t["parameters"]},
             {"parameter_index", 0}};
  Json j = {{"trialJobId", t["trial_id"]},
            {"sequenceId", t["sequence_id"]},
            {"status", t["status"]},
            {"startTime", t["start_time"]},
            {"endTime", t["end_time"]},
            {"hyperParameters", Json::array({dump(hp)})},
            {"logPath", nullptr},
            {"message", t["message"]}};
  if (t["status"] == "SUCCEEDED" && !t["final_metric"].is_null()) {
    j["finalMetricData"] = Json::array({{{"timestamp", t["end_time"]},
                                         {"trialJobId", t["trial_id"]},
                                         {"parameterId", t["parameter_id"]},
                                         {"type", "FINAL"},
                                         {"sequence", 0},
                                         {"data", dump(t["final_metric"])}}});
  } else {
    j["finalMetricData"] = Json::array();
  }
  return j;
}

class Router {
 public:
  Router(const std::vector<ExperimentSource>& exps, const QueryParams& params)
      : exps_(exps), raw_(params) {}

  ApiResponse route(const std::vector<std::string_view>& seg) {
    // seg[0] == "api", seg[1] == "v1"
    if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") throw not_found();
    const auto rest = std::vector<std::string_view>(seg.begin() + 2, seg.end());
    if (rest[0] == "nni") return nni(std::vector<std::string_view>(rest.begin() + 1, rest.end()));
    if (rest.size() == 1 && rest[0] == "experiments") return experiments();
    if (rest.size() == 1 && rest[0] == "revision") return revisions();
    if (rest[0] != "experiments" || rest.size() < 2) throw not_found();
    const ExperimentSource& e = find(rest[1]);
    ExperimentView v(e.dir);
    if (rest.size() == 2) {
      only({});
      return json_response(v.overview(e.id));
    }
    const std::string_view what = rest[2];
    if (rest.size() == 3 && what == "revision") {
      only({});
      return json_response({{"experiment", e.id}, {"revision", v.revision()}});
    }
    if (rest.size() == 3 && what == "trials") {
      const Params p(raw_, {"offset", "limit", "sort", "order", "status", "q", "min_value", "max_value"},
                     true);
      return json_response(v.trials_page(trial_query(p)));
    }
    if (rest.size() == 4 && what == "trials") {
      const Params p(raw_, {"tail_kb"});
      const auto kb = p.integer("tail_kb", 16, 0, 1024);
      auto t = v.trial_detail(rest[3], static_cast<std::uint64_t>(kb) * 1024);
      if (!t) throw unknown_trial(rest[3]);
      return json_response(*t);
    }
    if (rest.size() == 6 && what == "trials" && rest[4] == "files") {
      const Params p(raw_, {"tail_kb"});
      return trial_file_response(v, rest[3], rest[5], p);
    }
    if (rest.size() == 3 && what == "metrics") return metrics(v);
    if (rest.size() == 3 && what == "best-series") {
      const Params p(raw_, {"max_points"});
      return json_response(v.best_series(static_cast<std::size_t>(p.integer("max_points", 2000, 2, 20000))));
    }
    if (rest.size() == 3 && what == "parallel") {
      const Params p(raw_, {"max_rows"});
      return json_response(v.parallel(static_cast<std::size_t>(p.integer("max_rows", 1000, 5, 10000))));
    }
    if (rest.size() == 3 && what == "export") return export_data(v, e);
    throw not_found();
  }

 private:
  // Rejects unknown query parameters for endpoints that take none (or only `allowed`).
  void only(std::set<std::string> allowed) const { const Params p(raw_, std::move(allowed)); }

  static HttpError not_found() { return HttpError(404, "no such API endpoint"); }
  static HttpError unknown_trial(std::string_view id) {
    return HttpError(404, "unknown trial '" + std::string(id) + "'");
  }

  const ExperimentSource& find(std::string_view id) const {
    for (const auto& e : exps_) {
      if (e.id == id) return e;
    }
    throw HttpError(404, "unknown experiment '" + std::string(id) + "'");
  }

  ApiResponse experiments() {
    only({});
    Json out = Json::array();
    for (const auto& e : exps_) {
      ExperimentView v(e.dir);
      Json o = v.overview(e.id);
      out.push_back({{"id", o["id"]},
                     {"name", o["name"]},
                     {"dir", o["dir"]},
                     {"status", o["status"]},
                     {"start_time", o["start_time"]},
                     {"end_time", o["end_time"]},
                     {"counts", o["counts"]},
                     {"trials_submitted", o["trials_submitted"]},
                     {"best", o["best"]},
                     {"revision", o["revision"]}});
    }
    return json_response(out);
  }

  ApiResponse revisions() {
    only({});
    Json out = Json::object();
    for (const auto& e : exps_) out[e.id] = ExperimentView(e.dir).revision();
    return json_response({{"revisions", out}});
  }

  ApiResponse metrics(ExperimentView& v) {
    const Params p(raw_, {"trials", "max_points", "key"});
    const std::string ids = p.str("trials");
    if (ids.empty()) throw HttpError(400, "query parameter 'trials' (comma-separated ids) is required");
    std::vector<std::string> list;
    for (const auto s : split(ids, ',')) {
      if (s.empty()) throw HttpError(400, "empty trial id in 'trials'");
      list.emplace_back(s);
    }
    if (list.size() > kMaxSeriesTrials) {
      throw HttpError(400, "at most " + std::to_string(kMaxSeriesTrials) + " trials per request, got " +
                               std::to_string(list.size()));
    }
    const auto max_points = p.integer("max_points", 500, 2, 100000);
    return json_response(v.intermediate(list, static_cast<std::size_t>(max_points), p.str("key")));
  }

  ApiResponse export_data(ExperimentView& v, const ExperimentSource& e) {
    const Params p(raw_, {"format", "intermediate"});
    const std::string format = p.str("format", "json");
    if (format == "csv") {
      if (p.has("intermediate")) throw HttpError(400, "'intermediate' applies to format=json only");
      return {200, "text/csv; charset=utf-8", v.export_csv(), e.id + "-trials.csv"};
    }
    if (format != "json") throw HttpError(400, "query parameter 'format' must be csv or json, got '" + format + "'");
    const bool inter = p.flag("intermediate");
    Json out = {{"experiment", v.overview(e.id)}, {"trials", v.export_json(inter)}};
    return {200, "application/json", dump(out), e.id + "-trials.json"};
  }

  ApiResponse trial_file_response(ExperimentView& v, std::string_view trial_id,
                                  std::string_view name, const Params& p) {
    if (!v.trial(trial_id)) throw unknown_trial(trial_id);
    if (!is_safe_file_name(name)) {
      throw HttpError(400, "invalid file name '" + std::string(name) +
                               "': only a plain name of [A-Za-z0-9._-] inside the trial directory");
    }
    const auto dir = v.trial_dir(trial_id);
    if (!dir) throw HttpError(404, "trial '" + std::string(trial_id) + "' has no directory inside the experiment");
    const fs::path file = trial_file(*dir, name);
    const auto kb = p.integer("tail_kb", 1024, 1, 64 * 1024);
    const FileTail tail = read_tail(file, static_cast<std::uint64_t>(kb) * 1024);
    return {200, "text/plain; charset=utf-8", tail.text, {}};
  }

  // NNI REST paths (hpo.md §3.2) over the experiment named by ?experiment= (default: the first).
  ApiResponse nni(const std::vector<std::string_view>& seg) {
    if (seg.empty()) throw not_found();
    const std::string exp_id = [&] {
      const auto it = raw_.find("experiment");
      return it == raw_.end() ? exps_.front().id : it->second;
    }();
    const ExperimentSource& e = find(exp_id);
    ExperimentView v(e.dir);
    const std::string_view what = seg[0];
    if (seg.size() == 1 && what == "version") {
      only({"experiment"});
      return json_response(kVersion);
    }
    if (seg.size() == 1 && what == "check-status") {
      only({"experiment"});
      const Json o = v.overview(e.id);
      Json errors = Json::array();
      if (!o["error"].is_null()) errors.push_back(o["error"]);
      return json_response({{"status", o["status"]}, {"errors", errors}});
    }
    if (seg.size() == 1 && what == "experiment") {
      only({"experiment"});
      const Json o = v.overview(e.id);
      const auto& b = o["budget"];
      return json_response({{"id", o["id"]},
                            {"revision", o["revision"]},
                            {"execDuration", b["exec_seconds"].is_null() ? Json(0) : Json(std::llround(b["exec_seconds"].get<double>()))},
                            {"logDir", o["dir"]},
                            {"nextSequenceId", o["trials_submitted"]},
                            {"params", o["config"]},
                            {"startTime", o["start_time"]},
                            {"endTime", o["end_time"]}});
    }
    if (seg.size() == 1 && what == "job-statistics") {
      only({"experiment"});
      Json out = Json::array();
      const Json counts = v.counts();
      for (const auto& [status, n] : counts.items()) {
        if (n.get<std::int64_t>() > 0) out.push_back({{"trialJobStatus", status}, {"trialJobNumber", n}});
      }
      return json_response(out);
    }
    if (seg.size() == 1 && what == "trial-jobs") {
      const Params p(raw_, {"experiment", "status"});
      Json out = Json::array();
      for (const auto& t : v.all_trials(parse_statuses(p.str("status")))) out.push_back(nni_trial(t));
      return json_response(out);
    }
    if (seg.size() == 2 && what == "trial-jobs") {
      only({"experiment"});
      const auto t = v.trial(seg[1]);
      if (!t) throw unknown_trial(seg[1]);
      return json_response(nni_trial(*t));
    }
    if (seg.size() == 2 && what == "metric-data") {
      const Params p(raw_, {"experiment", "type"});
      const std::string type = p.str("type");
      if (!type.empty() && type != "PERIODICAL" && type != "FINAL") {
        throw HttpError(400, "query parameter 'type' must be PERIODICAL or FINAL, got '" + type + "'");
      }
      const auto t = v.trial(seg[1]);
      if (!t) throw unknown_trial(seg[1]);
      Json out = Json::array();
      for (const auto& m : v.metric_rows(seg[1], type)) {
        out.push_back({{"timestamp", m["timestamp"]},
                       {"trialJobId", m["trial_id"]},
                       {"parameterId", (*t)["parameter_id"]},
                       {"type", m["type"]},
                       {"sequence", m["sequence"]},
                       {"data", m["data"]}});
      }
      return json_response(out);
    }
    if (seg.size() == 1 && what == "export-data") {
      only({"experiment"});
      Json out = Json::array();
      for (const auto& t : v.all_trials({"SUCCEEDED"})) {
        if (t["final_metric"].is_null()) continue;
        out.push_back({{"parameter", t["parameters"]},
                       {"value", dump(t["final_metric"])},
                       {"trialJobId", t["trial_id"]}});
      }
      return json_response(out);
    }
    if (seg.size() == 3 && what == "trial-file") {
      const Params p(raw_, {"experiment"});
      // NNI's names for the two streams.
      std::string name(seg[2]);
      if (name == "stdout") name = "trial.stdout";
      if (name == "stderr") name = "trial.stderr";
      return trial_file_response(v, seg[1], name, p);
    }
    throw not_found();
  }

  const std::vector<ExperimentSource>& exps_;
  const QueryParams& raw_;
};

}  // namespace

std::vector<ExperimentSource> resolve_experiments(const std::vector<fs::path>& dirs) {
  if (dirs.empty()) throw InputError("dashboard", "no experiment directory given");
  std::vector<ExperimentSource> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw InputError(dir.string(), "not a directory");
    if (!fs::is_regular_file(dir / "experiment.db", ec)) {
      throw InputError(dir.string(), "no experiment.db: not an experiment directory");
    }
    ExperimentSource src{fs::absolute(dir).lexically_normal().filename().string(),
                         fs::absolute(dir).lexically_normal()};
    if (src.id.empty()) src.id = src.dir.parent_path().filename().string();
    try {
      ReadDb db(dir / "experiment.db");
      if (db.has_table("experiment")) {
        auto st = db.prepare("SELECT id FROM experiment LIMIT 1");
        if (st.step() && !st.text(0).empty()) src.id = st.text(0);
      }
    } catch (const IoError& e) {
      throw InputError(dir.string(), e.what());
    }
    for (const auto& other : out) {
      if (other.id == src.id) {
        throw InputError(dir.string(), "experiment '" + src.id + "' is already given as " +
                                           other.dir.string());
      }
    }
    out.push_back(std::move(src));
  }
  return out;
}

Api::Api(std::vector<ExperimentSource> experiments) : experiments_(std::move(experiments)) {
  SPIKELINE_ASSERT(!experiments_.empty());
}

ApiResponse Api::get(std::string_view path, const QueryParams& params) const {
  try {
    auto seg = split(path.substr(path.empty() || path[0] != '/' ? 0 : 1), '/');
    if (!seg.empty() && seg.back().empty()) seg.pop_back();  // trailing slash
    return Router(experiments_, params).route(seg);
  } catch (const HttpError& e) {
    return json_response({{"error", e.what()}}, e.status());
  } catch (const std::exception& e) {
    return json_response({{"error", std::string("internal error: ") + e.what()}}, 500);
  }
}

}  // namespace spikeline::server
