#include "spikeline/pipeline/xylo_deploy_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "spikeline/pipeline/deploy_report_common.hpp"
#include "spikeline/report/html.hpp"
#include "spikeline/report/plot.hpp"

namespace spikeline::hw::xylo {

namespace {

using nlohmann::json;
using report::Anchor;
using report::Axes;
using report::Canvas;
using report::html_figure;
using report::html_row;
using report::Color;
using report::palette;

// Diverging colour for v in [-1, 1]: blue - white - red.
Color diverging(double v) {
  v = std::clamp(v, -1.0, 1.0);
  const auto mix = [](double a, double b, double t) { return static_cast<std::uint8_t>(std::lround(a + (b - a) * t)); };
  if (v >= 0) return {mix(255, 178, v), mix(255, 24, v), mix(255, 43, v)};
  return {mix(255, 33, -v), mix(255, 102, -v), mix(255, 172, -v)};
}

Canvas output_raster(const SimRecord& r, int n_out, const std::vector<std::string>& classes, const std::string& title) {
  Canvas c(760, static_cast<int>(80 + 24 * n_out));
  Axes ax{140, 30, 600, 24.0 * n_out, 0, static_cast<double>(r.steps), -0.5, n_out - 0.5};
  ax.draw(c, title, "time step", "", false);
  for (int k = 0; k < n_out; ++k)
    c.text({134, ax.map(0, k).y + 3}, classes.at(std::size_t(k)), 10, {}, Anchor::end);
  for (int t = 0; t < r.steps; ++t)
    for (int k = 0; k < n_out; ++k)
      if (r.output[std::size_t(t) * n_out + k]) {
        const auto p = ax.map(t + 0.5, k);
        c.line({p.x, p.y - 8}, {p.x, p.y + 8}, palette(3), 2);
      }
  return c;
}

Canvas vmem_traces(const SimRecord& r, const IntSpec& s, const std::vector<std::string>& classes) {
  const int n_out = s.n_out;
  double lo = 0, hi = 1;
  for (auto v : r.vmem_out) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  for (auto v : s.threshold_out) hi = std::max<double>(hi, static_cast<double>(v));
  Canvas c(900, 300);
  Axes ax{80, 30, 520, 220, 0, std::max(1.0, r.steps - 1.0), lo, hi * 1.05};
  ax.draw(c, "readout membrane potential Vmem_out (after each step; dashed: threshold)", "time step", "Vmem_out");
  for (int k = 0; k < n_out; ++k) {
    std::vector<report::Point> pts;
    for (int t = 0; t < r.steps; ++t) pts.push_back(ax.map(t, r.vmem_out[std::size_t(t) * n_out + k]));
    c.polyline(pts, palette(std::size_t(k)), 1.5);
    const double th = static_cast<double>(s.threshold_out[std::size_t(k)]);
    for (double x = 0; x < r.steps - 1; x += 1.0)  // dashed threshold
      c.line(ax.map(x, th), ax.map(std::min(x + 0.5, r.steps - 1.0), th), palette(std::size_t(k)), 1);
    c.text({620, 50.0 + 16 * k}, classes.at(std::size_t(k)) + " (threshold " + std::to_string(s.threshold_out[std::size_t(k)]) + ")",
           10, palette(std::size_t(k)));
  }
  return c;
}

// A weight matrix [rows][cols] as a heatmap of at most `max_cells` per side: each cell shows the
// block's weight of largest magnitude, coloured by value / 127.
Canvas heatmap(const std::vector<std::int64_t>& w, int rows, int cols, int syn, const std::string& title,
               const std::string& row_label, const std::string& col_label) {
  const int max_cells = 96;
  const int br = (rows + max_cells - 1) / max_cells, bc = (cols + max_cells - 1) / max_cells;
  const int cr = (rows + br - 1) / br, cc = (cols + bc - 1) / bc;
  const double cell = std::clamp(384.0 / std::max(cr, cc), 2.0, 24.0);
  Canvas c(std::max(360, static_cast<int>(90 + cc * cell + 20)), static_cast<int>(60 + cr * cell + 30));
  c.text({10, 18}, title, 12);
  c.text({90, 40}, fmt::format("{} (columns, {} per cell) x {} (rows, {} per cell)", col_label, bc, row_label, br), 9);
  for (int i = 0; i < cr; ++i)
    for (int j = 0; j < cc; ++j) {
      std::int64_t best = 0;
      for (int r = i * br; r < std::min(rows, (i + 1) * br); ++r)
        for (int k = j * bc; k < std::min(cols, (j + 1) * bc); ++k)
          for (int s = 0; s < syn; ++s) {
            const auto v = w[(std::size_t(r) * cols + k) * syn + s];
            if (std::abs(v) > std::abs(best)) best = v;
          }
      c.rect(90 + j * cell, 50 + i * cell, cell, cell, diverging(static_cast<double>(best) / 127.0));
    }
  c.text({86, 50 + 8}, "0", 9, {}, Anchor::end);
  c.text({86, 50 + cr * cell}, std::to_string(rows - 1), 9, {}, Anchor::end);
  c.text({90, 50 + cr * cell + 14}, "-127 blue, 0 white, +127 red", 9);
  return c;
}

std::string resources_table(const json& r, const json& t) {
  const auto& syn = r.at("synapses");
  const auto& lim = r.at("limits");
  std::string h = "<table><caption>Resources used (Xylo Audio 2 limits in brackets)</caption>\n";
  h += html_row("input channels", fmt::format("{} [{}]", r.at("inputs").get<int>(), lim.at("inputs").get<int>()));
  h += html_row("hidden neurons", fmt::format("{} [{}]", r.at("hidden_neurons").get<int>(), lim.at("hidden_neurons").get<int>()));
  h += html_row("readout neurons", fmt::format("{} [{}]", r.at("outputs").get<int>(), lim.at("outputs").get<int>()));
  h += html_row("synapses (non-zero weights)",
           fmt::format("{} (input {}, recurrent {}, readout {})", syn.at("total").get<std::size_t>(),
                       syn.at("input").get<std::size_t>(), syn.at("recurrent").get<std::size_t>(),
                       syn.at("output").get<std::size_t>()));
  h += html_row("max fan-out", fmt::format("{} [{}] (mean {:.1f})", r.at("max_fan_out").get<int>(),
                                      lim.at("fan_out").get<int>(), r.at("mean_fan_out").get<double>()));
  h += html_row("aliases", std::to_string(r.at("aliases").get<int>()));
  h += "</table>\n<table><caption>Cycle model (Rockpool's, xylo.md &sect;7), margin " +
       fmt::format("{:.0f} %", 100 * t.at("margin").get<double>()) + "</caption>\n";
  h += "<tr><th></th><th>worst case (every channel and neuron active every step)</th><th>measured activity on this split</th></tr>\n";
  const auto& w = t.at("worst_case");
  const auto& m = t.at("measured");
  auto both = [&](const std::string& name, const std::string& key, const char* f) {
    h += "<tr><td>" + name + "</td><td>" + fmt::format(fmt::runtime(f), w.at(key).get<double>()) + "</td><td>" +
         fmt::format(fmt::runtime(f), m.at(key).get<double>()) + "</td></tr>\n";
  };
  const auto& p = m.at("spike_probabilities");
  h += fmt::format("<tr><td>spiking probability in / hidden / out</td><td>1 / 1 / 1</td><td>{:.3f} / {:.3f} / {:.3f}</td></tr>\n",
                   p.at("input").get<double>(), p.at("hidden").get<double>(), p.at("output").get<double>());
  for (const auto& [label, key] : std::vector<std::pair<std::string, std::string>>{
           {"input events", "input"}, {"hidden Isyn", "hidden_isyn"}, {"readout Isyn", "output_isyn"},
           {"hidden spiking", "hidden_spiking"}, {"readout spiking", "output_spiking"}})
    both(label + " (cycles)", key, "{:.0f}");
  both("<b>cycles per time step</b>", "cycles_per_step", "{:.0f}");
  h += fmt::format("<tr><td><b>minimum clock for real time</b> (dt {} s)</td><td>{:.3f} MHz</td><td>{:.3f} MHz</td></tr>\n",
                   t.at("dt").get<double>(), w.at("min_clock_hz").get<double>() / 1e6,
                   m.at("min_clock_hz").get<double>() / 1e6);
  h += fmt::format("<tr><td>real time at the {:.1f} MHz clock</td><td>{}</td><td>{}</td></tr>\n",
                   t.at("clock_hz").get<double>() / 1e6, w.at("real_time_at_clock").get<bool>() ? "yes" : "no",
                   m.at("real_time_at_clock").get<bool>() ? "yes" : "no");
  return h + "</table>\n";
}

}  // namespace

std::string render_deploy_report(const DeployReportData& d) {
  const json& r = d.report;
  const auto classes = r.at("classes").get<std::vector<std::string>>();
  const auto& q = r.at("quantization");
  std::string h = pipeline::deploy_report_start(r, "Xylo deployment report", "Xylo Audio 2 (syns61201) deployment");
  h += html_row("quantisation", q.at("method").get<std::string>() + (q.at("rockpool_bugs").get<bool>() ? " (Rockpool 2.7 bugs)" : "") +
                               ", dash fix " + q.at("dash_fix").get<std::string>());
  const auto& pr = r.at("pruning");
  h += html_row("fan-out pruning before mapping",
           pr.at("max_fan_out").get<int>() > 0
               ? fmt::format("at most {} outgoing weights per neuron: {} weights of {} neurons dropped (float accuracy "
                             "{:.4f} before, {:.4f} after)",
                             pr.at("max_fan_out").get<int>(), pr.at("synapses_dropped").get<std::size_t>(),
                             pr.at("neurons_pruned").get<std::size_t>(), pr.at("checkpoint_float_accuracy").get<double>(),
                             d.float_eval.accuracy)
               : std::string("none"));
  h += html_row("activity factors", q.at("factors").is_null() ? "none (not tuned)" : q.at("factors").dump());
  h += html_row("simulation", "bit-accurate; state " + r.at("simulation").at("state").get<std::string>());
  h += html_row("accuracy float / quantised", fmt::format("{:.4f} / {:.4f} (change {:+.4f})", d.float_eval.accuracy,
                                                     d.quant_eval.accuracy, -r.at("accuracy_drop").get<double>()));
  h += "</table>\n";
  h += pipeline::deploy_notes(r);

  h += pipeline::accuracy_sections(d.float_eval, d.quant_eval,
                                   {.bars_title = "validation accuracy",
                                    .bar_names = {"float", "Xylo (quantised)"},
                                    .bar_name_dy = 14,
                                    .bars_caption = "float model vs bit-accurate Xylo simulation",
                                    .chip = "Xylo",
                                    .chip_confusion_caption = "confusion matrix, quantised on the simulated chip",
                                    .chip_table_title = "Xylo (quantised)"});

  const auto& s = r.at("sample");
  const std::string sample_title = fmt::format("sample {} (true {}, predicted {})", s.at("index").get<std::size_t>(),
                                               s.at("true_class").get<std::string>(),
                                               s.at("predicted_class").get<std::string>());
  h += "<h2>One sample on the chip</h2>\n";
  h += html_figure(output_raster(d.sample, d.config.n_out, classes, "readout events, " + sample_title),
              "readout events per time step (the class is the neuron with most events)");
  h += html_figure(vmem_traces(d.sample, d.config, classes), "Vmem_out traces, " + sample_title);

  h += "<h2>Weights (quantised, int8)</h2>\n";
  h += html_figure(heatmap(d.config.weights_in, d.config.n_in, d.config.n_hid, d.config.n_syn, "weights_in", "input", "hidden"),
              "input weights");
  h += html_figure(heatmap(d.config.weights_rec, d.config.n_hid, d.config.n_hid, d.config.n_syn, "weights_rec", "source hidden",
                      "target hidden"),
              "recurrent weights (hidden to hidden, including the layer-to-layer weights)");
  h += html_figure(heatmap(d.config.weights_out, d.config.n_hid, d.config.n_out, 1, "weights_out", "hidden", "readout"),
              "readout weights");

  h += "<h2>Resources and timing</h2>\n" + resources_table(r.at("resources"), r.at("timing"));
  h += "</body></html>\n";
  return h;
}

}  // namespace spikeline::hw::xylo
