#include "spikeline/hpo/results.hpp"

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "spikeline/hpo/search_space.hpp"

namespace spikeline::hpo {

namespace {

using ojson = nlohmann::ordered_json;

ojson parse_metric(const std::string& text) {
  if (text.empty()) return nullptr;
  auto j = ojson::parse(text, nullptr, false);
  return j.is_discarded() ? ojson(text) : j;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_value(const ojson& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return dump_python_json(v);
}

std::string opt_num(const std::optional<double>& v) { return v ? dump_python_json(ojson(*v)) : ""; }

}  // namespace

std::optional<TrialRecord> best_trial(const Store& store, const std::string& optimize_mode) {
  TrialQuery q;
  q.statuses = {trial_status::kSucceeded};
  q.sort_by = "final_value";
  q.descending = optimize_mode != "minimize";
  q.limit = -1;
  // Sorted by value, ties by sequence in the same direction: pick the earliest of the best value.
  const auto rows = store.query_trials(q);
  std::optional<TrialRecord> best;
  for (const auto& t : rows) {
    if (!t.final_value) continue;
    if (!best) best = t;
    else if (*t.final_value == *best->final_value && t.sequence_id < best->sequence_id) best = t;
    else if (*t.final_value != *best->final_value) break;
  }
  return best;
}

std::optional<std::filesystem::path> trial_checkpoint(const TrialRecord& trial) {
  const auto p = std::filesystem::path(trial.dir) / "checkpoint";
  if (std::filesystem::exists(p / "model_params")) return p;
  return std::nullopt;
}

ojson trial_json(const TrialRecord& t) {
  ojson j;
  j["trial_id"] = t.trial_id;
  j["sequence_id"] = t.sequence_id;
  j["parameter_id"] = t.parameter_id ? ojson(*t.parameter_id) : ojson(nullptr);
  j["status"] = t.status;
  j["parameters"] = t.parameters;
  j["final_value"] = t.final_value ? ojson(*t.final_value) : ojson(nullptr);
  j["final_metric"] = parse_metric(t.final_metric);
  j["intermediate_count"] = t.intermediate_count;
  j["latest_value"] = t.latest_value ? ojson(*t.latest_value) : ojson(nullptr);
  j["submit_time"] = t.submit_time;
  j["start_time"] = t.start_time;
  j["end_time"] = t.end_time;
  j["exit_code"] = t.exit_code ? ojson(*t.exit_code) : ojson(nullptr);
  j["attempt"] = t.attempt;
  j["message"] = t.message;
  j["dir"] = t.dir;
  const auto ckpt = trial_checkpoint(t);
  j["checkpoint"] = ckpt ? ojson(ckpt->string()) : ojson(nullptr);
  return j;
}

ojson status_json(const Store& store, bool controller_running) {
  const auto e = store.experiment();
  ojson j;
  j["id"] = e.id;
  j["name"] = e.name;
  j["status"] = e.status;
  j["controller_running"] = controller_running;
  j["start_time"] = e.start_time;
  j["end_time"] = e.end_time;
  j["exec_seconds"] = e.exec_seconds;
  j["max_trial_number"] = e.max_trial_number;
  j["max_duration_s"] = e.max_duration_s;
  j["concurrency"] = e.concurrency;
  j["tuner"] = e.tuner;
  j["assessor"] = e.assessor;
  j["optimize_mode"] = e.optimize_mode;
  j["error"] = e.error;
  j["trials"] = store.count_trials();
  ojson counts = ojson::object();
  for (const auto& [s, n] : store.status_counts()) counts[s] = n;
  j["counts"] = counts;
  const auto best = best_trial(store, e.optimize_mode);
  j["best"] = best ? trial_json(*best) : ojson(nullptr);
  j["dir"] = store.dir().string();
  return j;
}

ojson export_json(const Store& store) {
  ojson out = ojson::array();
  for (const auto& t : store.trials()) {
    if (t.status != trial_status::kSucceeded || t.final_metric.empty()) continue;
    ojson row;
    row["parameter"] = t.parameters;
    row["value"] = t.final_metric;  // NNI gives the metric's JSON text
    row["trialJobId"] = t.trial_id;
    out.push_back(row);
  }
  return out;
}

std::string export_csv(const Store& store) {
  const auto trials = store.trials();
  std::vector<std::string> params, extra;
  std::set<std::string> seen_p, seen_e;
  const auto experiment = store.experiment();
  for (const auto& [k, v] : experiment.search_space.items())
    if (seen_p.insert(k).second) params.push_back(k);
  for (const auto& t : trials) {
    if (t.parameters.is_object())
      for (const auto& [k, v] : t.parameters.items())
        if (seen_p.insert(k).second) params.push_back(k);
    const auto m = parse_metric(t.final_metric);
    if (m.is_object())
      for (const auto& [k, v] : m.items())
        if (k != "default" && seen_e.insert(k).second) extra.push_back(k);
  }
  std::ostringstream out;
  out << "sequence_id,trial_id,status";
  for (const auto& p : params) out << "," << csv_field(p);
  out << ",final_value";
  for (const auto& x : extra) out << "," << csv_field("final." + x);
  out << ",intermediate_count,latest_value,start_time,end_time,duration_s,exit_code,attempt,dir\n";
  for (const auto& t : trials) {
    out << t.sequence_id << "," << t.trial_id << "," << t.status;
    for (const auto& p : params)
      out << "," << csv_field(t.parameters.is_object() && t.parameters.contains(p) ? csv_value(t.parameters[p]) : "");
    out << "," << opt_num(t.final_value);
    const auto m = parse_metric(t.final_metric);
    for (const auto& x : extra) out << "," << csv_field(m.is_object() && m.contains(x) ? csv_value(m[x]) : "");
    const double dur = t.start_time && t.end_time ? (t.end_time - t.start_time) / 1000.0 : 0.0;
    out << "," << t.intermediate_count << "," << opt_num(t.latest_value) << "," << t.start_time << "," << t.end_time
        << "," << (t.start_time && t.end_time ? fmt::format("{:.3f}", dur) : "") << ","
        << (t.exit_code ? std::to_string(*t.exit_code) : "") << "," << t.attempt << "," << csv_field(t.dir) << "\n";
  }
  return out.str();
}

}  // namespace spikeline::hpo
