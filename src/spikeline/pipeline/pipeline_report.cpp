// report.html of a pipeline run: one self-contained page (figures inline as SVG) with a section per
// stage and links to every file the stage wrote, relative to the run directory.
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "spikeline/core/fs.hpp"
#include "spikeline/pipeline/pipeline.hpp"
#include "spikeline/report/html.hpp"

namespace spikeline::pipeline {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using report::html_escape;

std::string rel(const fs::path& run_dir, const std::string& path) {
  return fs::path(path).lexically_relative(run_dir).generic_string();
}

std::string link(const fs::path& run_dir, const json& result, const char* key, std::string_view label = {}) {
  if (!result.contains(key) || !result[key].is_string()) return {};
  const std::string r = rel(run_dir, result[key].get<std::string>());
  return fmt::format("<a href=\"{}\">{}</a> ", html_escape(r), html_escape(label.empty() ? r : label));
}

// An SVG file inline (without its XML prologue); nothing when missing.
std::string inline_svg(const json& result, const char* key) {
  if (!result.contains(key) || !result[key].is_string()) return {};
  const fs::path p = result[key].get<std::string>();
  if (!fs::exists(p)) return {};
  std::string svg = read_file_text(p);
  const auto start = svg.find("<svg");
  return start == std::string::npos ? std::string() : "<div class=\"fig\">" + svg.substr(start) + "</div>";
}

std::string num(const json& v, int digits = 4) {
  return v.is_number() ? fmt::format("{:.{}f}", v.get<double>(), digits) : html_escape(v.dump());
}

// A CSV cell for reading: a number with a long repr (0.9487568223165554, 0.05100000000000004) to 4
// significant digits; anything else as written.
std::string readable_cell(const std::string& field) {
  if (field.size() <= 6 || field.find('.') == std::string::npos) return field;  // integers (times in ms) as written
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  if (end != field.c_str() + field.size() || !std::isfinite(v)) return field;
  return fmt::format("{:.4g}", v);
}

// A JSON object as a two-column table; nested objects flattened to dotted keys, numbers to 4
// significant digits.
void flatten_rows(const json& j, const std::string& prefix, std::string& html) {
  for (const auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      flatten_rows(value, name, html);
      continue;
    }
    const std::string text = value.is_number_float() ? fmt::format("{:.4g}", value.get<double>()) : value.dump();
    html += "<tr><th>" + html_escape(name) + "</th><td>" + html_escape(text) + "</td></tr>";
  }
}
std::string key_value_table(const json& j) {
  std::string html = "<table>";
  flatten_rows(j, "", html);
  return html + "</table>";
}

// A JSON array as "n: a, b, c" (wraps on narrow pages, unlike its dump).
std::string list_text(const json& array) {
  std::string text = std::to_string(array.size()) + ":";
  for (std::size_t i = 0; i < array.size(); ++i) text += (i ? ", " : " ") + array[i].dump();
  return html_escape(text);
}

// The rows of a CSV file (quoted fields with "" escapes) as an HTML table.
std::string csv_table(const fs::path& path, std::size_t max_rows) {
  if (!fs::exists(path)) return {};
  const std::string text = read_file_text(path);
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  std::string html = "<table>";
  for (std::size_t r = 0; r < rows.size() && r <= max_rows; ++r) {
    html += "<tr>";
    for (const auto& f : rows[r])
      html += r == 0 ? "<th>" + html_escape(f) + "</th>" : "<td>" + html_escape(readable_cell(f)) + "</td>";
    html += "</tr>";
  }
  html += "</table>";
  if (rows.size() > max_rows + 1) html += fmt::format("<p>({} more rows in the CSV)</p>", rows.size() - 1 - max_rows);
  return html;
}

// Windows per class and split (the data stage's summary.json), and the held-out subjects.
std::string class_table(const json& summary) {
  if (!summary.contains("splits") || !summary.contains("classes")) return {};
  std::string h = "<table><tr><th>class</th><th>train</th><th>val</th><th>test</th></tr>";
  for (const auto& c : summary["classes"]) {
    const std::string name = c.get<std::string>();
    h += "<tr><td>" + html_escape(name) + "</td>";
    for (const char* split : {"train", "val", "test"})
      h += "<td>" + summary["splits"][split]["per_class"].value(name, json(0)).dump() + "</td>";
    h += "</tr>";
  }
  h += "</table>";
  if (summary.contains("split_subjects") && summary["split_subjects"].size() == 3)
    h += fmt::format("<p>subjects in train {}</p><p>in val {}</p><p>in test {}</p>", list_text(summary["split_subjects"][0]),
                     list_text(summary["split_subjects"][1]), list_text(summary["split_subjects"][2]));
  return h;
}

std::string section_body(Stage s, const json& r, const fs::path& run) {
  std::string h;
  switch (s) {
    case Stage::data: {
      h += "<p>" + link(run, r, "windows") + link(run, r, "summary") + "</p>";
      if (r.contains("classes")) h += "<p>classes: " + html_escape(r["classes"].dump()) + "</p>";
      if (r.contains("windows_per_split"))
        h += fmt::format("<p>windows train / val / test: {} / {} / {}</p>", r["windows_per_split"][0].dump(),
                         r["windows_per_split"][1].dump(), r["windows_per_split"][2].dump());
      if (r.contains("summary") && fs::exists(r["summary"].get<std::string>()))
        h += class_table(json::parse(read_file_text(r["summary"].get<std::string>())));
      break;
    }
    case Stage::encode:
      h += "<p>" + link(run, r, "spikes") + "</p>";
      if (r.contains("encoder"))
        h += fmt::format("<p>encoder {}: {} channels x {} steps, dt {} s, {} spikes per channel and step</p>",
                         html_escape(r["encoder"].dump()), r["channels"].dump(), r["steps"].dump(), r["dt"].dump(),
                         num(r["spikes_per_cell"]));
      break;
    case Stage::tasks:
      h += fmt::format("<p>chosen task <b>{}</b>: {} (score {})</p>", html_escape(r.value("task", "")),
                       html_escape(r.value("classes", json::array()).dump()), num(r.value("score", json(0.0))));
      h += "<p>" + link(run, r, "distances") + link(run, r, "tasks") + "</p>" + inline_svg(r, "heatmap");
      break;
    case Stage::hpo:
      h += fmt::format("<p>best: trial #{} with validation accuracy <b>{}</b>, parameters <code>{}</code> ({} trials)</p>",
                       r.value("best_trial", json(0)).dump(), num(r.value("best_value", json(0.0))),
                       html_escape(r.value("best_parameters", json::object()).dump()), r.value("trials", json(0)).dump());
      h += "<p>" + link(run, r, "best") + link(run, r, "trials_csv") + link(run, r, "experiment", "experiment folder") +
           "</p>";
      if (r.contains("trials_csv")) h += csv_table(r["trials_csv"].get<std::string>(), 50);
      break;
    case Stage::train: {
      h += fmt::format("<p>best validation accuracy <b>{}</b> at epoch {} of {}; training {:.1f} s</p>",
                       num(r.value("best_val_accuracy", json(0.0))), r.value("best_epoch", json(0)).dump(),
                       r.value("epochs_run", json(0)).dump(), r.value("train_seconds", 0.0));
      if (r.contains("warnings"))
        for (const auto& w : r["warnings"]) h += "<p><b>warning:</b> " + html_escape(w.get<std::string>()) + "</p>";
      h += "<p>" + link(run, r, "checkpoint") + link(run, r, "config") + link(run, r, "model") + "</p>";
      h += inline_svg(r, "learning_curve");
      if (r.contains("evaluation"))
        for (const auto& [split, e] : r["evaluation"].items()) {
          h += fmt::format("<h3>evaluation on {} ({} samples): accuracy {}</h3>", html_escape(split), e["samples"].dump(),
                           num(e["accuracy"]));
          h += "<p>" + link(run, e, "json") + link(run, e, "svg") + "</p>";
          if (e.contains("complexity")) h += "<p>complexity (docs/metrics.md)</p>" + key_value_table(e["complexity"]);
          if (split == "test") h += inline_svg(e, "svg");
        }
      break;
    }
    case Stage::qat:
      h += "<p>" + link(run, r, "checkpoint") + "</p>";
      break;
    case Stage::quantize:
      h += fmt::format("<p>on the {} split: float {}, quantised {}, tuned <b>{}</b> ({} trials{})</p>",
                       html_escape(r.value("split", "")), num(r.value("float_accuracy", json(0.0))),
                       num(r.value("untuned_accuracy", json(0.0))), num(r.value("tuned_accuracy", json(0.0))),
                       r.value("trials", json(0)).dump(),
                       r.value("kept_untuned", false)
                           ? "; no trial beat factors 1 (best " + num(r.value("best_trial_accuracy", json(0.0))) +
                                 "), so they were kept"
                           : "");
      h += "<p>" + link(run, r, "checkpoint") + link(run, r, "tuning") + link(run, r, "tuning_config") + "</p>" +
           inline_svg(r, "figure");
      break;
    case Stage::deploy:
      h += fmt::format("<p>{} bundle, on the {} split: float {}, chip <b>{}</b></p>", html_escape(r.value("chip", "")),
                       html_escape(r.value("split", "")), num(r.value("float_accuracy", json(0.0))),
                       num(r.value("chip_accuracy", json(0.0))));
      h += "<p>" + link(run, r, "bundle") + link(run, r, "report", "deployment report") + "</p>";
      if (r.contains("resources")) h += "<p>resources</p>" + key_value_table(r["resources"]);
      break;
  }
  return h;
}

}  // namespace

void write_report(const fs::path& run_dir, const PipelineConfig& config, const PipelineResult& result) {
  std::string html = fmt::format(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>spikeline pipeline: {0}</title><style>"
      "body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}"
      "table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}"
      "code{{font-size:12px;word-break:break-all}}.fig svg{{max-width:100%;height:auto}}"
      "h2{{border-bottom:1px solid #ccc}}</style></head><body><h1>spikeline pipeline: {0}</h1>"
      "<p>chip <b>{1}</b>; config <a href=\"resolved.yaml\">resolved.yaml</a> "
      "(<a href=\"resolved.json\">json</a>); <a href=\"timings.json\">timings.json</a></p>",
      html_escape(config.doc["name"].get<std::string>()), chip_name(config.chip));
  html += "<h2>stage timings</h2><table><tr><th>stage</th><th>this run</th><th>seconds</th><th>last run (s)</th>"
          "<th>why</th></tr>";
  for (const auto& s : result.stages)
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td></tr>", stage_name(s.stage),
                        html_escape(s.action), s.seconds, s.recorded_seconds, html_escape(s.reason));
  html += "</table>";
  for (const auto& s : result.stages) {
    const std::string name(stage_name(s.stage));
    html += fmt::format("<h2 id=\"{0}\">{1} {0}</h2>", name, static_cast<int>(s.stage) + 1);
    if (s.action == "disabled" && !result.results.contains(name)) {
      html += "<p>disabled in the config</p>";
      continue;
    }
    if (!result.results.contains(name)) {
      html += "<p>not run</p>";
      continue;
    }
    html += fmt::format("<p><a href=\"{0}/\">{0}/</a></p>", stage_dir_name(s.stage));
    html += section_body(s.stage, result.results[name], run_dir);
  }
  html += "</body></html>\n";
  write_file_atomic(run_dir / "report.html", html);
}

}  // namespace spikeline::pipeline
