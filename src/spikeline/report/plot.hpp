#pragma once
// A tiny 2-D drawing: lines, polylines, rectangles and text in pixel coordinates (origin top left),
// rendered to SVG (vector, exact) or PNG (rasterised here, text in a built-in 5x7 pixel font that
// draws lower case as upper case). Plus Axes, which maps data to pixels and draws frame and ticks.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::report {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  std::string hex() const;  // "#rrggbb"
};
// A qualitative palette (matplotlib's tab10) for series i.
Color palette(std::size_t i);

struct Point {
  double x = 0, y = 0;
};

enum class Anchor { start, middle, end };

class Canvas {
 public:
  Canvas(int width, int height, Color background = {255, 255, 255});
  int width() const { return width_; }
  int height() const { return height_; }

  void line(Point a, Point b, Color color, double stroke = 1.0);
  void polyline(std::span<const Point> points, Color color, double stroke = 1.0);
  void rect(double x, double y, double w, double h, Color fill, double opacity = 1.0);
  // `size` is the font height in pixels; `vertical` writes bottom to top (for y-axis labels).
  void text(Point at, std::string_view s, double size, Color color = {}, Anchor anchor = Anchor::start,
            bool vertical = false);

  std::string svg() const;
  std::vector<std::uint8_t> png() const;
  // By extension: .svg or .png (InputError otherwise); written atomically.
  void save(const std::filesystem::path& path) const;

 private:
  struct Item {
    enum Kind { kLine, kPolyline, kRect, kText } kind;
    std::vector<Point> points;  // line: 2, polyline: n, rect: {x,y},{w,h}, text: 1
    Color color;
    double stroke = 1.0, opacity = 1.0, size = 10.0;
    std::string text;
    Anchor anchor = Anchor::start;
    bool vertical = false;
  };
  int width_, height_;
  Color background_;
  std::vector<Item> items_;
};

// "Nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// A plot area: data range [x0, x1] x [y0, y1] drawn in the pixel box (left, top, width, height).
struct Axes {
  double left = 60, top = 30, width = 500, height = 200;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  Point map(double x, double y) const;
  // Frame, ticks with labels, title above, axis labels.
  void draw(Canvas& canvas, std::string_view title, std::string_view x_label,
            std::string_view y_label, bool y_ticks = true) const;
};

}  // namespace spikeline::report
