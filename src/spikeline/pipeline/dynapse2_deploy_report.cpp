#include "spikeline/pipeline/dynapse2_deploy_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "spikeline/pipeline/deploy_report_common.hpp"
#include "spikeline/report/html.hpp"
#include "spikeline/report/plot.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

using nlohmann::json;
using report::Anchor;
using report::Axes;
using report::Canvas;
using report::html_figure;
using report::html_row;
using report::palette;

// Spike events per neuron and step; a tick per step with events, its height growing with the count.
Canvas raster(const DynapSimRecord<float>& r, const std::vector<std::string>& classes, const std::string& title) {
  const int n = r.n;
  const int shown = std::min(n, 64);  // the class neurons come first
  Canvas c(760, int(80 + 16 * shown));
  Axes ax{140, 30, 600, 16.0 * shown, 0, double(std::max(1, r.steps)), -0.5, shown - 0.5};
  ax.draw(c, title, "time step", "", false);
  for (int k = 0; k < shown; ++k)
    c.text({134, ax.map(0, k).y + 3}, k < int(classes.size()) ? classes[std::size_t(k)] : fmt::format("neuron {}", k), 10,
           {}, Anchor::end);
  for (int t = 0; t < r.steps; ++t)
    for (int k = 0; k < shown; ++k)
      if (const float v = r.spikes[std::size_t(t) * n + k]; v > 0) {
        const auto p = ax.map(t + 0.5, k);
        const double h = std::min(7.0, 3.0 + 2.0 * v);
        c.line({p.x, p.y - h}, {p.x, p.y + h}, palette(3), 2);
      }
  return c;
}

// Per core: every device parameter with its (coarse, fine) setting, decoded and requested current.
std::string parameter_table(const ChipConfig& c) {
  std::string h;
  for (const CoreSetup& k : c.cores) {
    h += fmt::format("<table><caption>Core {} (chip {}, core {})</caption>\n<tr><th>parameter</th><th>device "
                     "name</th><th>coarse</th><th>fine</th><th>current (A)</th><th>requested (A)</th><th>error</th></tr>\n",
                     k.cluster, k.chip(), k.core());
    for (const DeviceSetting& p : k.params)
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4e}</td><td>{:.4e}</td><td>{}</td></tr>\n",
                       p.sim_name, p.device_name, p.cf.coarse, p.cf.fine, p.current, p.requested,
                       p.requested > 0 ? fmt::format("{:+.2f} %", 100.0 * (p.current - p.requested) / p.requested) : "-");
    h += "</table>\n";
  }
  return h;
}

std::string resources_table(const json& r) {
  const json& lim = r.at("limits");
  std::string h = "<table><caption>Resources used (Dynap-SE2 limits in brackets)</caption>\n";
  h += html_row("cores", fmt::format("{} [{} per board]", r.at("cores").get<int>(), lim.at("cores").get<int>()));
  h += html_row("neurons", std::to_string(r.at("neurons").get<int>()));
  h += html_row("input channels (virtual tags)", std::to_string(r.at("inputs").get<int>()));
  h += html_row("CAM entries (synapses)", fmt::format("{} in all; busiest neuron {} [{}]", r.at("cam_entries").get<int>(),
                                                  r.at("max_cam_per_neuron").get<int>(), lim.at("cam_per_neuron").get<int>()));
  h += html_row("SRAM entries (destinations, monitor included)",
           fmt::format("{} in all; busiest neuron {} [{}]", r.at("sram_entries").get<int>(),
                       r.at("max_sram_per_neuron").get<int>(), lim.at("sram_per_neuron").get<int>()));
  h += html_row("tags in CAMs", fmt::format("{} [{}]", r.at("tags").get<int>(), lim.at("tags").get<int>()));
  h += "</table>\n<table><caption>Per core</caption><tr><th>core</th><th>chip</th><th>neurons [" +
       std::to_string(lim.at("neurons_per_core").get<int>()) + "]</th><th>CAM entries</th></tr>\n";
  for (const json& k : r.at("per_core"))
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", k.at("cluster").get<int>(),
                     k.at("chip").get<int>(), k.at("neurons").get<int>(), k.at("cam_entries").get<int>());
  return h + "</table>\n";
}

}  // namespace

std::string render_deploy_report(const DeployReportData& d) {
  const json& r = d.report;
  const auto classes = r.at("classes").get<std::vector<std::string>>();
  const json& q = r.at("quantization");
  const json& net = r.at("network");
  std::string h = pipeline::deploy_report_start(r, "Dynap-SE2 deployment report", "Dynap-SE2 deployment");
  h += html_row("network", fmt::format("Linear({}, {}) -> DynapSim({}, recurrent) on {} core(s); Iscale {:g} A, dt {:g} s",
                                  net.at("inputs").get<int>(), net.at("neurons").get<int>(), net.at("neurons").get<int>(),
                                  net.at("clusters").get<int>(), net.at("Iscale").get<double>(), net.at("dt").get<double>()));
  h += html_row("quantisation", fmt::format("autoencoder, 4-bit masks over 4 base currents per core, seed {}; loss per core {}",
                                       q.at("autoencoder_seed").get<std::uint64_t>(), q.at("quantization_loss").dump()));
  std::string factors;
  for (const auto& [key, value] : q.at("factors").items())
    factors += fmt::format("{}{} {:.4g}", factors.empty() ? "" : ", ", key, value.get<double>());
  h += html_row("activity factors", q.at("factors").is_null() ? "none (not tuned)" : factors);
  h += html_row("simulation", "DynapSim (float32) of the network rebuilt from the configuration: decoded currents, weights "
                         "from the CAM masks; state reset before each sample");
  h += html_row("accuracy float / configured", fmt::format("{:.4f} / {:.4f} (change {:+.4f})", d.float_eval.accuracy,
                                                      d.chip_eval.accuracy, -r.at("accuracy_drop").get<double>()));
  h += "</table>\n";
  h += pipeline::deploy_notes(r);

  h += pipeline::accuracy_sections(d.float_eval, d.chip_eval,
                                   {.bars_title = "accuracy",
                                    .bar_names = {"float (trained)", "Dynap-SE2 (configured)"},
                                    .bar_name_dy = 30,  // below the x axis's tick labels
                                    .bars_caption = "float model vs the network the chip configuration realises",
                                    .chip = "Dynap-SE2",
                                    .chip_confusion_caption = "confusion matrix, configured network",
                                    .chip_table_title = "Dynap-SE2 (configured)"});

  const json& s = r.at("sample");
  const std::string title = fmt::format("sample {} (true {}, predicted {})", s.at("index").get<int>(),
                                        s.at("true_class").get<std::string>(), s.at("predicted_class").get<std::string>());
  h += "<h2>One sample</h2>\n";
  h += html_figure(raster(d.chip_sample, classes, "configured network, " + title),
              "output spikes per time step (taller ticks: several events in a step); the class is the neuron with most");
  h += html_figure(raster(d.float_sample, classes, "float model, same sample"), "output spikes of the float model");

  h += "<h2>Resources</h2>\n" + resources_table(r.at("resources"));
  h += "<h2>Device parameters per core</h2>\n<p>Currents from the bias generator's (coarse, fine) setting: "
       "table[type][coarse][fine] &times; scale factor; requested = the mapped specification's current.</p>\n";
  h += parameter_table(d.config);
  return h + "</body></html>\n";
}

}  // namespace spikeline::hw::dynapse2
