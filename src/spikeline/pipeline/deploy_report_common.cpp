#include "spikeline/pipeline/deploy_report_common.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/report/html.hpp"

namespace spikeline::pipeline {

namespace {

using report::Anchor;
using report::Axes;
using report::Canvas;
using report::html_escape;
using report::html_figure;
using report::palette;

// Float model and chip side by side. The canvas grows with label_dy, so that the names fit below the bars.
Canvas accuracy_bars(std::string_view title, std::array<const char*, 2> names, std::array<double, 2> accuracy,
                     double label_dy) {
  Canvas c(360, static_cast<int>(206 + label_dy));
  Axes ax{60, 30, 280, 150, 0, 2, 0, 1};
  ax.draw(c, title, "", "accuracy");
  for (std::size_t i = 0; i < 2; ++i) {
    const auto top = ax.map(double(i) + 0.2, accuracy[i]), bottom = ax.map(double(i) + 0.8, 0);
    c.rect(top.x, top.y, bottom.x - top.x, bottom.y - top.y, palette(i));
    c.text({(top.x + bottom.x) / 2, top.y - 4}, fmt::format("{:.4f}", accuracy[i]), 10, {}, Anchor::middle);
    c.text({(top.x + bottom.x) / 2, bottom.y + label_dy}, names[i], 10, {}, Anchor::middle);
  }
  return c;
}

// Rows true, columns predicted; cells shaded by their share of the row.
Canvas confusion_figure(const train::Evaluation& ev, const std::string& title) {
  const std::size_t C = ev.classes.size();
  const double cell = std::min(60.0, 300.0 / double(std::max<std::size_t>(C, 1)));
  const double x0 = 130, y0 = 50;
  Canvas c(std::max(340, int(x0 + double(C) * cell + 20)), int(y0 + double(C) * cell + 40));
  c.text({10, 20}, fmt::format("{}: accuracy {:.4f}", title, ev.accuracy), 13);
  c.text({x0, y0 - 8}, "rows true, columns predicted", 10);
  for (std::size_t r = 0; r < C; ++r) {
    const double total =
        double(std::max<std::size_t>(1, std::accumulate(ev.confusion[r].begin(), ev.confusion[r].end(), std::size_t{0})));
    c.text({x0 - 6, y0 + (double(r) + 0.6) * cell}, ev.classes[r], 10, {}, Anchor::end);
    for (std::size_t k = 0; k < C; ++k) {
      c.rect(x0 + double(k) * cell, y0 + double(r) * cell, cell - 1, cell - 1, palette(0),
             0.1 + 0.9 * double(ev.confusion[r][k]) / total);
      c.text({x0 + (double(k) + 0.5) * cell, y0 + (double(r) + 0.6) * cell}, std::to_string(ev.confusion[r][k]), 10, {},
             Anchor::middle);
    }
  }
  return c;
}

// Per-class precision, recall, F1 and support, then the accuracy.
std::string eval_table(const train::Evaluation& ev, const std::string& title) {
  std::string h = "<table><caption>" + html_escape(title) +
                  "</caption><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n";
  for (std::size_t k = 0; k < ev.classes.size(); ++k)
    h += fmt::format("<tr><td>{}</td><td>{:.4f}</td><td>{:.4f}</td><td>{:.4f}</td><td>{}</td></tr>\n",
                     html_escape(ev.classes[k]), ev.precision[k], ev.recall[k], ev.f1[k],
                     std::accumulate(ev.confusion[k].begin(), ev.confusion[k].end(), std::size_t{0}));
  return h + fmt::format("<tr><td><b>accuracy</b></td><td colspan=\"4\">{:.4f} ({} samples)</td></tr></table>\n",
                         ev.accuracy, ev.samples);
}

}  // namespace

std::string deploy_report_start(const nlohmann::json& report, std::string_view title, std::string_view heading) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) + "</title>\n"
      "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;margin:12px 0}"
      "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}caption{font-weight:bold;text-align:left;padding:4px 0}"
      "figure{display:inline-block;margin:8px;vertical-align:top}figcaption{font-size:12px;color:#444}</style></head><body>\n";
  h += "<h1>" + html_escape(heading) + "</h1>\n<table>\n";
  return h + report::html_row("checkpoint", report.at("checkpoint").get<std::string>()) +
         report::html_row("data", report.at("data").get<std::string>() + ", split " + report.at("split").get<std::string>() +
                                      ", " + std::to_string(report.at("samples").get<std::size_t>()) + " samples");
}

std::string deploy_notes(const nlohmann::json& report) {
  std::string h;
  for (const auto& n : report.at("notes")) h += "<p>Note: " + html_escape(n.get<std::string>()) + "</p>\n";
  return h;
}

std::string accuracy_sections(const train::Evaluation& float_eval, const train::Evaluation& chip_eval,
                              const AccuracyLabels& l) {
  std::string h = "<h2>Accuracy</h2>\n";
  h += html_figure(accuracy_bars(l.bars_title, l.bar_names, {float_eval.accuracy, chip_eval.accuracy}, l.bar_name_dy),
                   l.bars_caption);
  h += html_figure(confusion_figure(float_eval, "float"), "confusion matrix, float model");
  h += html_figure(confusion_figure(chip_eval, l.chip), l.chip_confusion_caption);
  return h + "<h2>Classification report</h2>\n" + eval_table(float_eval, "float model") +
         eval_table(chip_eval, l.chip_table_title);
}

}  // namespace spikeline::pipeline
