#include "spikeline/tasks/plots.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace spikeline::tasks {

namespace {

using report::Anchor;
using report::Axes;
using report::Canvas;
using report::Color;
using report::Point;

// Viridis at 9 stops, interpolated linearly: perceptually even, readable in grey.
Color viridis(double t) {
  static constexpr std::array<std::array<int, 3>, 9> kStops{{{68, 1, 84}, {71, 44, 122}, {59, 81, 139},
                                                             {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                                             {92, 200, 99}, {170, 220, 50}, {253, 231, 37}}};
  t = std::clamp(t, 0.0, 1.0) * 8.0;
  const auto i = std::min<std::size_t>(7, static_cast<std::size_t>(t));
  const double f = t - static_cast<double>(i);
  Color c;
  c.r = static_cast<std::uint8_t>(std::lround(kStops[i][0] + f * (kStops[i + 1][0] - kStops[i][0])));
  c.g = static_cast<std::uint8_t>(std::lround(kStops[i][1] + f * (kStops[i + 1][1] - kStops[i][1])));
  c.b = static_cast<std::uint8_t>(std::lround(kStops[i][2] + f * (kStops[i + 1][2] - kStops[i][2])));
  return c;
}

std::string axis_title(std::span<const std::string> dim_names, std::size_t d) {
  if (d >= dim_names.size()) return "dim " + std::to_string(d);
  const std::string& n = dim_names[d];
  if (n.rfind("acc_", 0) == 0) return "accelerometer " + n.substr(4);
  if (n.rfind("gyro_", 0) == 0) return "gyroscope " + n.substr(5);
  return n;
}

}  // namespace

Canvas plot_class_kdes(const Array<double>& kdes, const Grid& grid, std::span<const std::string> class_names,
                       std::span<const std::string> dim_names, std::string_view title) {
  const std::size_t C = kdes.dim(0), D = kdes.dim(1), G = kdes.dim(2);
  const std::size_t cols = (D + 2) / 3, rows = std::min<std::size_t>(3, D);
  const double panel_w = 420, panel_h = 170, gap_x = 80, gap_y = 62, left = 70, top = 60;
  std::size_t longest = 4;
  for (const auto& n : class_names) longest = std::max(longest, n.size());
  const int width = static_cast<int>(left + static_cast<double>(cols) * (panel_w + gap_x));
  // Legend entries as wide as the longest name (the PNG font is 6 px per character at size 12).
  const double entry_w = 40.0 + 9.0 * static_cast<double>(longest);
  const auto per_row = std::max<std::size_t>(1, static_cast<std::size_t>((width - left) / entry_w));
  const double legend_h = 24.0 * static_cast<double>((C + per_row - 1) / per_row);
  const int height = static_cast<int>(top + static_cast<double>(rows) * (panel_h + gap_y) + legend_h + 10);
  Canvas canvas(width, height);
  if (!title.empty()) canvas.text({width / 2.0, 24}, title, 15, {20, 20, 20}, Anchor::middle);
  // Columns of the filled area: one strip per output pixel, at most G.
  const auto strips = std::min<std::size_t>(G, static_cast<std::size_t>(panel_w));
  for (std::size_t d = 0; d < D; ++d) {
    double peak = 0;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < G; ++i) peak = std::max(peak, kdes[(c * D + d) * G + i]);
    Axes ax;
    ax.left = left + static_cast<double>(d / 3) * (panel_w + gap_x);
    ax.top = top + static_cast<double>(d % 3) * (panel_h + gap_y);
    ax.width = panel_w;
    ax.height = panel_h;
    ax.x0 = grid.lo;
    ax.x1 = grid.hi;
    ax.y0 = 0;
    ax.y1 = peak > 0 ? peak * 1.05 : 1.0;
    ax.draw(canvas, axis_title(dim_names, d), d % 3 == rows - 1 ? "value" : "", "density");
    for (std::size_t c = 0; c < C; ++c) {
      const double* y = kdes.ptr() + (c * D + d) * G;
      // Fill: translucent strips from the baseline (Canvas has no polygon), then the outline.
      for (std::size_t s = 0; s < strips; ++s) {
        const std::size_t i0 = s * G / strips, i1 = std::max(i0 + 1, (s + 1) * G / strips);
        double v = 0;
        for (std::size_t i = i0; i < i1; ++i) v = std::max(v, y[i]);
        const Point p0 = ax.map(grid.at(i0), v), p1 = ax.map(grid.at(std::min(i1, G - 1)), 0);
        if (p1.y - p0.y > 0.05) canvas.rect(p0.x, p0.y, std::max(p1.x - p0.x, 0.5), p1.y - p0.y, report::palette(c), 0.25);
      }
      std::vector<Point> line;
      line.reserve(G);
      for (std::size_t i = 0; i < G; ++i) line.push_back(ax.map(grid.at(i), y[i]));
      canvas.polyline(line, report::palette(c), 1.4);
    }
  }
  // Shared legend under the panels.
  const double ly = top + static_cast<double>(rows) * (panel_h + gap_y) - 8;
  for (std::size_t c = 0; c < C; ++c) {
    const double x = left + static_cast<double>(c % per_row) * entry_w, y = ly + 24.0 * static_cast<double>(c / per_row);
    canvas.rect(x, y - 10, 18, 12, report::palette(c), 0.6);
    canvas.text({x + 26, y}, c < class_names.size() ? class_names[c] : "class " + std::to_string(c), 12);
  }
  return canvas;
}

Canvas plot_distance_heatmap(const DistanceMatrix& m, std::string_view title) {
  const std::size_t n = m.size();
  std::size_t longest = 4;
  for (const auto& c : m.classes) longest = std::max(longest, c.name.size());
  const double cell = n <= 20 ? 40 : std::max(8.0, 800.0 / static_cast<double>(n));
  const double label_w = 8.0 + 7.0 * static_cast<double>(longest);
  const double left = label_w + 10, top = 50 + label_w, side = cell * static_cast<double>(n);
  const double bar_w = 18, bar_gap = 24;
  Canvas canvas(static_cast<int>(left + side + bar_gap + bar_w + 90), static_cast<int>(top + side + 20));
  canvas.text({canvas.width() / 2.0, 24}, title, 15, {20, 20, 20}, Anchor::middle);
  double lo = INFINITY, hi = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j && std::isfinite(m.at(i, j))) {
        lo = std::min(lo, m.at(i, j));
        hi = std::max(hi, m.at(i, j));
      }
  if (!(hi > lo)) {
    lo = std::isfinite(lo) ? lo - 1 : 0;
    hi = lo + 2;
  }
  const Color ink{40, 40, 40};
  for (std::size_t i = 0; i < n; ++i) {
    const double y = top + cell * static_cast<double>(i);
    canvas.text({left - 6, y + cell / 2 + 4}, m.classes[i].name, 11, ink, Anchor::end);
    canvas.text({left + cell * static_cast<double>(i) + cell / 2 + 4, top - 6}, m.classes[i].name, 11, ink,
                Anchor::start, true);
    for (std::size_t j = 0; j < n; ++j) {
      const double v = m.at(i, j), x = left + cell * static_cast<double>(j);
      const bool finite = std::isfinite(v);
      const double t = finite ? (v - lo) / (hi - lo) : 1.0;
      canvas.rect(x, y, cell, cell, i == j ? Color{235, 235, 235} : finite ? viridis(t) : Color{60, 60, 60});
      if (cell >= 30 && i != j) {
        const std::string text = finite ? (v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v)) : "inf";
        canvas.text({x + cell / 2, y + cell / 2 + 3}, text, 9, t > 0.6 && finite ? ink : Color{255, 255, 255}, Anchor::middle);
      }
    }
  }
  // Colour bar with its range.
  const double bx = left + side + bar_gap;
  for (int s = 0; s < 64; ++s) {
    const double f = s / 63.0;
    canvas.rect(bx, top + side * (1 - f) - side / 64, bar_w, side / 64 + 0.5, viridis(f));
  }
  canvas.text({bx + bar_w + 4, top + 10}, fmt::format("{:.3g}", hi), 10, ink);
  canvas.text({bx + bar_w + 4, top + side}, fmt::format("{:.3g}", lo), 10, ink);
  canvas.text({bx + bar_w / 2, top - 8}, std::string(metric_name(m.metric)), 11, ink, Anchor::middle);
  return canvas;
}

}  // namespace spikeline::tasks
