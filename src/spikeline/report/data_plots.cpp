#include "spikeline/report/data_plots.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace spikeline::report {

Canvas plot_signals(std::span<const float> x, std::size_t T, std::size_t D,
                    std::span<const std::string> dim_names, double sample_period,
                    std::string_view title) {
  // Panels: consecutive dims with the same name prefix.
  struct Panel {
    std::string name;
    std::vector<std::size_t> dims;
  };
  std::vector<Panel> panels;
  for (std::size_t d = 0; d < D; ++d) {
    const std::string name = d < dim_names.size() ? dim_names[d] : "dim_" + std::to_string(d);
    const std::string prefix = name.substr(0, name.find('_'));
    if (panels.empty() || panels.back().name != prefix) panels.push_back({prefix, {}});
    panels.back().dims.push_back(d);
  }
  const double panel_h = 170, gap = 60, top = 64;
  const int height = static_cast<int>(top + panels.size() * (panel_h + gap) + 10);
  Canvas canvas(760, std::max(height, 120));
  if (!title.empty()) canvas.text({380, 22}, title, 15, {20, 20, 20}, Anchor::middle);
  const double duration = static_cast<double>(T > 1 ? T - 1 : 1) * sample_period;
  for (std::size_t p = 0; p < panels.size(); ++p) {
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t d : panels[p].dims)
      for (std::size_t t = 0; t < T; ++t) {
        lo = std::min<double>(lo, x[t * D + d]);
        hi = std::max<double>(hi, x[t * D + d]);
      }
    if (!(hi > lo)) {
      lo -= 1;
      hi += 1;
    }
    const double pad = 0.05 * (hi - lo);
    Axes ax;
    ax.left = 70;
    ax.top = top + static_cast<double>(p) * (panel_h + gap);
    ax.width = 560;
    ax.height = panel_h;
    ax.x0 = 0;
    ax.x1 = duration;
    ax.y0 = lo - pad;
    ax.y1 = hi + pad;
    const std::string& name = panels[p].name;
    const std::string unit = name == "acc" ? " (m/s^2)" : name == "gyro" ? " (rad/s)" : "";
    ax.draw(canvas, name, p + 1 == panels.size() ? "time (s)" : "", name + unit);
    for (std::size_t k = 0; k < panels[p].dims.size(); ++k) {
      const std::size_t d = panels[p].dims[k];
      std::vector<Point> pts;
      for (std::size_t t = 0; t < T; ++t) pts.push_back(ax.map(static_cast<double>(t) * sample_period, x[t * D + d]));
      canvas.polyline(pts, palette(k), 1.6);
      const double ly = ax.top + 14 + 16 * static_cast<double>(k);
      canvas.line({ax.left + ax.width + 12, ly - 4}, {ax.left + ax.width + 30, ly - 4}, palette(k), 2.5);
      const std::string label = d < dim_names.size() ? dim_names[d] : "dim_" + std::to_string(d);
      canvas.text({ax.left + ax.width + 36, ly}, label, 11, {40, 40, 40});
    }
  }
  return canvas;
}

Canvas plot_raster(std::span<const std::uint8_t> raster, std::size_t steps, std::size_t channels,
                   std::span<const std::string> channel_names, double dt, std::string_view title) {
  const double row_h = 16, left = 110, top = 50, width = 600;
  const double height = row_h * static_cast<double>(std::max<std::size_t>(channels, 1));
  Canvas canvas(static_cast<int>(left + width + 30), static_cast<int>(top + height + 60));
  if (!title.empty()) canvas.text({left + width / 2, 22}, title, 15, {20, 20, 20}, Anchor::middle);
  Axes ax;
  ax.left = left;
  ax.top = top;
  ax.width = width;
  ax.height = height;
  ax.x0 = 0;
  ax.x1 = static_cast<double>(steps) * dt;
  ax.y0 = 0;
  ax.y1 = static_cast<double>(channels);
  std::uint8_t peak = 1;
  for (std::size_t i = 0; i < steps * channels && i < raster.size(); ++i) peak = std::max(peak, raster[i]);
  const double cell_w = width / static_cast<double>(std::max<std::size_t>(steps, 1));
  for (std::size_t c = 0; c < channels; ++c) {
    const double y = top + static_cast<double>(c) * row_h;
    if (c % 2 == 1) canvas.rect(left, y, width, row_h, {245, 245, 245});
    const std::string name = c < channel_names.size() ? channel_names[c] : "ch" + std::to_string(c);
    canvas.text({left - 6, y + row_h - 4}, name, 10, {40, 40, 40}, Anchor::end);
    for (std::size_t t = 0; t < steps; ++t) {
      const std::uint8_t n = raster[t * channels + c];
      if (!n) continue;
      const double strength = 0.35 + 0.65 * static_cast<double>(n) / peak;
      canvas.rect(left + static_cast<double>(t) * cell_w + 0.5, y + 2, std::max(1.0, cell_w - 1), row_h - 4,
                  {20, 40, 120}, strength);
    }
  }
  ax.draw(canvas, "", "time (s)", "", false);
  return canvas;
}

}  // namespace spikeline::report
