#include "spikeline/report/plot.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::report {

namespace {

// 5x7 pixel glyphs, one byte per row (bit 4 = leftmost column).
struct Glyph {
  char c;
  std::array<std::uint8_t, 7> rows;
};
constexpr Glyph kFont[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},
    {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
    {';', {0, 0x0C, 0x0C, 0, 0x0C, 0x04, 0x08}},
    {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
    {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},
    {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'[', {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E}},
    {']', {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}},
    {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
    {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'^', {0x04, 0x0A, 0x11, 0, 0, 0, 0}},
    {'*', {0, 0x04, 0x15, 0x0E, 0x15, 0x04, 0}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04}},
    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04}},
    {'\'', {0x0C, 0x04, 0x08, 0, 0, 0, 0}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
};

const std::array<std::uint8_t, 7>& glyph(char c) {
  static constexpr std::array<std::uint8_t, 7> unknown{0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F};
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const auto& g : kFont)
    if (g.c == c) return g.rows;
  return unknown;
}

std::string escape_xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 32 || c == '\t') out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// RGB raster with alpha blending.
struct Raster {
  int w, h;
  std::vector<std::uint8_t> rgb;
  Raster(int w_, int h_, Color bg) : w(w_), h(h_), rgb(static_cast<std::size_t>(w_) * h_ * 3) {
    for (std::size_t i = 0; i < rgb.size(); i += 3) {
      rgb[i] = bg.r;
      rgb[i + 1] = bg.g;
      rgb[i + 2] = bg.b;
    }
  }
  void blend(int x, int y, Color c, double a) {
    if (x < 0 || y < 0 || x >= w || y >= h || a <= 0) return;
    a = std::min(1.0, a);
    std::uint8_t* p = &rgb[(static_cast<std::size_t>(y) * w + x) * 3];
    p[0] = static_cast<std::uint8_t>(std::lround(p[0] * (1 - a) + c.r * a));
    p[1] = static_cast<std::uint8_t>(std::lround(p[1] * (1 - a) + c.g * a));
    p[2] = static_cast<std::uint8_t>(std::lround(p[2] * (1 - a) + c.b * a));
  }
  void fill(double x, double y, double rw, double rh, Color c, double a) {
    const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
    const int x1 = static_cast<int>(std::ceil(x + rw)), y1 = static_cast<int>(std::ceil(y + rh));
    for (int yy = std::max(0, y0); yy < std::min(h, y1); ++yy)
      for (int xx = std::max(0, x0); xx < std::min(w, x1); ++xx) {
        // Coverage of the pixel by the rectangle, for soft edges.
        const double cx = std::max(0.0, std::min<double>(xx + 1, x + rw) - std::max<double>(xx, x));
        const double cy = std::max(0.0, std::min<double>(yy + 1, y + rh) - std::max<double>(yy, y));
        blend(xx, yy, c, a * cx * cy);
      }
  }
  // A segment of width `stroke`: pixels by their distance to the segment (anti-aliased edge).
  void segment(Point a, Point b, Color c, double stroke) {
    const double r = std::max(0.5, stroke / 2);
    const int x0 = static_cast<int>(std::floor(std::min(a.x, b.x) - r - 1));
    const int x1 = static_cast<int>(std::ceil(std::max(a.x, b.x) + r + 1));
    const int y0 = static_cast<int>(std::floor(std::min(a.y, b.y) - r - 1));
    const int y1 = static_cast<int>(std::ceil(std::max(a.y, b.y) + r + 1));
    const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    for (int yy = std::max(0, y0); yy <= std::min(h - 1, y1); ++yy)
      for (int xx = std::max(0, x0); xx <= std::min(w - 1, x1); ++xx) {
        const double px = xx + 0.5, py = yy + 0.5;
        double t = len2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0.0;
        t = std::clamp(t, 0.0, 1.0);
        const double ex = a.x + t * dx - px, ey = a.y + t * dy - py;
        const double d = std::sqrt(ex * ex + ey * ey);
        const double cover = std::clamp(r + 0.5 - d, 0.0, 1.0);
        if (cover > 0) {
          // Do not darken a pixel twice where consecutive segments of a polyline meet.
          std::uint8_t* p = &rgb[(static_cast<std::size_t>(yy) * w + xx) * 3];
          if (p[0] == c.r && p[1] == c.g && p[2] == c.b) continue;
          blend(xx, yy, c, cover);
        }
      }
  }
  void glyphs(Point at, std::string_view s, double size, Color c, Anchor anchor, bool vertical) {
    const int scale = std::max(1, static_cast<int>(std::lround(size / 8.0)));
    const double advance = 6.0 * scale, total = advance * static_cast<double>(s.size());
    const double shift = anchor == Anchor::start ? 0.0 : anchor == Anchor::middle ? total / 2 : total;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto& rows = glyph(s[i]);
      const double off = static_cast<double>(i) * advance - shift;
      for (int ry = 0; ry < 7; ++ry)
        for (int rx = 0; rx < 5; ++rx) {
          if (!(rows[ry] & (0x10 >> rx))) continue;
          // Glyph pixel (rx, ry) with the baseline at `at`.
          const double gx = off + rx * scale, gy = (ry - 7) * scale;
          if (vertical) fill(at.x + gy, at.y - gx - scale, scale, scale, c, 1.0);
          else fill(at.x + gx, at.y + gy, scale, scale, c, 1.0);
        }
    }
  }
};

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_chunk(std::vector<std::uint8_t>& out, const char* type, const std::vector<std::uint8_t>& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  const uLong crc = crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start));
  put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

std::string Color::hex() const {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

Color palette(std::size_t i) {
  static constexpr Color colors[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                     {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                     {188, 189, 34},  {23, 190, 207}};
  return colors[i % 10];
}

Canvas::Canvas(int width, int height, Color background)
    : width_(width), height_(height), background_(background) {
  if (width < 1 || height < 1 || width > 20000 || height > 20000)
    throw InputError("plot size", "width and height must be in 1..20000 pixels");
}

void Canvas::line(Point a, Point b, Color color, double stroke) {
  items_.push_back({Item::kLine, {a, b}, color, stroke, 1.0, 0.0, {}, Anchor::start, false});
}

void Canvas::polyline(std::span<const Point> points, Color color, double stroke) {
  items_.push_back({Item::kPolyline, {points.begin(), points.end()}, color, stroke, 1.0, 0.0, {}, Anchor::start, false});
}

void Canvas::rect(double x, double y, double w, double h, Color fill, double opacity) {
  items_.push_back({Item::kRect, {{x, y}, {w, h}}, fill, 0.0, opacity, 0.0, {}, Anchor::start, false});
}

void Canvas::text(Point at, std::string_view s, double size, Color color, Anchor anchor, bool vertical) {
  items_.push_back({Item::kText, {at}, color, 0.0, 1.0, size, std::string(s), anchor, vertical});
}

std::string Canvas::svg() const {
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width_) +
                    "\" height=\"" + std::to_string(height_) + "\" viewBox=\"0 0 " +
                    std::to_string(width_) + " " + std::to_string(height_) +
                    "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"" + background_.hex() + "\"/>\n";
  for (const auto& it : items_) {
    switch (it.kind) {
      case Item::kLine:
        out += "<line x1=\"" + num(it.points[0].x) + "\" y1=\"" + num(it.points[0].y) + "\" x2=\"" +
               num(it.points[1].x) + "\" y2=\"" + num(it.points[1].y) + "\" stroke=\"" + it.color.hex() +
               "\" stroke-width=\"" + num(it.stroke) + "\"/>\n";
        break;
      case Item::kPolyline: {
        out += "<polyline fill=\"none\" stroke=\"" + it.color.hex() + "\" stroke-width=\"" + num(it.stroke) +
               "\" stroke-linejoin=\"round\" points=\"";
        for (std::size_t i = 0; i < it.points.size(); ++i) {
          if (i) out += ' ';
          out += num(it.points[i].x);
          out += ',';
          out += num(it.points[i].y);
        }
        out += "\"/>\n";
        break;
      }
      case Item::kRect:
        out += "<rect x=\"" + num(it.points[0].x) + "\" y=\"" + num(it.points[0].y) + "\" width=\"" +
               num(it.points[1].x) + "\" height=\"" + num(it.points[1].y) + "\" fill=\"" + it.color.hex() + "\"";
        if (it.opacity < 1.0) out += " fill-opacity=\"" + num(it.opacity) + "\"";
        out += "/>\n";
        break;
      case Item::kText: {
        const char* anchor = it.anchor == Anchor::start ? "start" : it.anchor == Anchor::middle ? "middle" : "end";
        out += "<text x=\"" + num(it.points[0].x) + "\" y=\"" + num(it.points[0].y) + "\" font-size=\"" +
               num(it.size) + "\" fill=\"" + it.color.hex() + "\" text-anchor=\"" + anchor + "\"";
        if (it.vertical)
          out += " transform=\"rotate(-90 " + num(it.points[0].x) + " " + num(it.points[0].y) + ")\"";
        out += '>';
        out += escape_xml(it.text);
        out += "</text>\n";
        break;
      }
    }
  }
  out += "</svg>\n";
  return out;
}

std::vector<std::uint8_t> Canvas::png() const {
  Raster r(width_, height_, background_);
  for (const auto& it : items_) {
    switch (it.kind) {
      case Item::kLine: r.segment(it.points[0], it.points[1], it.color, it.stroke); break;
      case Item::kPolyline:
        for (std::size_t i = 1; i < it.points.size(); ++i) r.segment(it.points[i - 1], it.points[i], it.color, it.stroke);
        break;
      case Item::kRect: r.fill(it.points[0].x, it.points[0].y, it.points[1].x, it.points[1].y, it.color, it.opacity); break;
      case Item::kText: r.glyphs(it.points[0], it.text, it.size, it.color, it.anchor, it.vertical); break;
    }
  }
  // PNG: signature, IHDR (8-bit RGB), IDAT (zlib of rows each prefixed by filter type 0), IEND.
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(width_));
  put_u32(ihdr, static_cast<std::uint32_t>(height_));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  put_chunk(out, "IHDR", ihdr);
  std::vector<std::uint8_t> raw;
  raw.reserve(static_cast<std::size_t>(height_) * (1 + 3 * static_cast<std::size_t>(width_)));
  for (int y = 0; y < height_; ++y) {
    raw.push_back(0);
    const auto* row = &r.rgb[static_cast<std::size_t>(y) * width_ * 3];
    raw.insert(raw.end(), row, row + 3 * static_cast<std::size_t>(width_));
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> idat(size);
  if (compress2(idat.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw Error("png: zlib compression failed");
  idat.resize(size);
  put_chunk(out, "IDAT", idat);
  put_chunk(out, "IEND", {});
  return out;
}

void Canvas::save(const std::filesystem::path& path) const {
  const std::string ext = path.extension().string();
  if (ext == ".svg") {
    write_file_atomic(path, std::string_view(svg()));
  } else if (ext == ".png") {
    write_file_atomic(path, png());
  } else {
    throw InputError(path.string(), "unknown image type '" + ext + "' (use .svg or .png)");
  }
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  target = std::max(1, target);
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  // The 1-2-5 step whose tick count is closest to the target (ties: the larger step).
  double step = mag;
  long best = -1;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    const double s = m * mag;
    const long count = static_cast<long>(std::floor(hi / s + 1e-9) - std::ceil(lo / s - 1e-9)) + 1;
    const long miss = std::abs(count - target);
    if (best < 0 || miss <= best) {
      best = miss;
      step = s;
    }
  }
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step)
    ticks.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  return ticks;
}

Point Axes::map(double x, double y) const {
  const double fx = x1 != x0 ? (x - x0) / (x1 - x0) : 0.5;
  const double fy = y1 != y0 ? (y - y0) / (y1 - y0) : 0.5;
  return {left + fx * width, top + (1.0 - fy) * height};
}

void Axes::draw(Canvas& c, std::string_view title, std::string_view x_label, std::string_view y_label,
                bool y_ticks) const {
  const Color ink{40, 40, 40}, grid{225, 225, 225};
  if (y_ticks)
    for (double v : nice_ticks(y0, y1, 4)) {
      const Point p = map(x0, v);
      c.line({left, p.y}, {left + width, p.y}, grid, 1.0);
      c.line({left - 4, p.y}, {left, p.y}, ink, 1.0);
      c.text({left - 6, p.y + 4}, num(v), 10, ink, Anchor::end);
    }
  for (double v : nice_ticks(x0, x1, 6)) {
    const Point p = map(v, y0);
    c.line({p.x, top + height}, {p.x, top + height + 4}, ink, 1.0);
    c.text({p.x, top + height + 16}, num(v), 10, ink, Anchor::middle);
  }
  c.line({left, top}, {left + width, top}, ink, 1.0);
  c.line({left, top + height}, {left + width, top + height}, ink, 1.0);
  c.line({left, top}, {left, top + height}, ink, 1.0);
  c.line({left + width, top}, {left + width, top + height}, ink, 1.0);
  if (!title.empty()) c.text({left + width / 2, top - 8}, title, 13, ink, Anchor::middle);
  if (!x_label.empty()) c.text({left + width / 2, top + height + 32}, x_label, 11, ink, Anchor::middle);
  if (!y_label.empty()) c.text({left - 42, top + height / 2}, y_label, 11, ink, Anchor::middle, true);
}

}  // namespace spikeline::report
