// The small plot writer: SVG text, PNG bytes, ticks.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "spikeline/core/error.hpp"
#include "spikeline/report/data_plots.hpp"
#include "spikeline/report/plot.hpp"

using namespace spikeline;
using namespace spikeline::report;

namespace {

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Decompressed scanlines of a PNG made of IHDR, one IDAT and IEND.
std::vector<std::uint8_t> png_pixels(const std::vector<std::uint8_t>& png, int& w, int& h) {
  w = static_cast<int>(be32(png, 16));
  h = static_cast<int>(be32(png, 20));
  const std::size_t idat = 8 + 25;  // signature, IHDR chunk (4 + 4 + 13 + 4)
  EXPECT_EQ(std::string(png.begin() + idat + 4, png.begin() + idat + 8), "IDAT");
  const std::uint32_t len = be32(png, idat);
  std::vector<std::uint8_t> raw(static_cast<std::size_t>(h) * (1 + 3 * w));
  uLongf size = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &size, png.data() + idat + 8, len), Z_OK);
  EXPECT_EQ(size, raw.size());
  return raw;
}

}  // namespace

TEST(Plot, SvgHasTheShapesAndEscapesText) {
  Canvas c(200, 100);
  c.line({0, 0}, {10, 10}, {255, 0, 0}, 2);
  const std::vector<Point> pts{{1, 2}, {3.5, 4}, {5, 6}};
  c.polyline(pts, palette(1));
  c.rect(10, 20, 30, 40, {0, 0, 255}, 0.5);
  c.text({5, 5}, "a<b & c", 12, {}, Anchor::middle, true);
  const std::string svg = c.svg();
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"100\""), std::string::npos);
  EXPECT_NE(svg.find("<line x1=\"0\" y1=\"0\" x2=\"10\" y2=\"10\" stroke=\"#ff0000\" stroke-width=\"2\"/>"), std::string::npos);
  EXPECT_NE(svg.find("points=\"1,2 3.5,4 5,6\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#0000ff\" fill-opacity=\"0.5\""), std::string::npos);
  EXPECT_NE(svg.find(">a&lt;b &amp; c</text>"), std::string::npos);
  EXPECT_NE(svg.find("rotate(-90 5 5)"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(Plot, PngIsValidAndRasterises) {
  Canvas c(40, 30, {255, 255, 255});
  c.rect(10, 5, 10, 10, {0, 128, 0});
  c.line({0, 25.5}, {40, 25.5}, {255, 0, 0}, 1);
  c.text({2, 10}, "Hi", 8, {0, 0, 0});
  const auto png = c.png();
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(std::vector<std::uint8_t>(png.begin(), png.begin() + 8),
            (std::vector<std::uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}));
  EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
  EXPECT_EQ(std::string(png.end() - 8, png.end() - 4), "IEND");
  int w = 0, h = 0;
  const auto raw = png_pixels(png, w, h);
  EXPECT_EQ(w, 40);
  EXPECT_EQ(h, 30);
  auto pixel = [&](int x, int y) {
    const std::uint8_t* p = &raw[static_cast<std::size_t>(y) * (1 + 3 * w) + 1 + 3 * x];
    return std::array<int, 3>{p[0], p[1], p[2]};
  };
  EXPECT_EQ(pixel(15, 10), (std::array<int, 3>{0, 128, 0}));     // inside the rectangle
  EXPECT_EQ(pixel(35, 2), (std::array<int, 3>{255, 255, 255}));  // background
  EXPECT_EQ(pixel(20, 25), (std::array<int, 3>{255, 0, 0}));     // on the line
  // The 'H' glyph's left stem at (2, 10 - 7 .. 10).
  EXPECT_EQ(pixel(2, 5), (std::array<int, 3>{0, 0, 0}));
}

TEST(Plot, SaveByExtension) {
  const auto dir = std::filesystem::temp_directory_path() / ("spikeline_plot_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Canvas c(10, 10);
  c.save(dir / "a.svg");
  c.save(dir / "a.png");
  EXPECT_TRUE(std::filesystem::exists(dir / "a.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "a.png"));
  EXPECT_THROW(c.save(dir / "a.gif"), InputError);
  std::filesystem::remove_all(dir);
}

TEST(Plot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(-1.2, 1.3, 4), (std::vector<double>{-1, 0, 1}));  // step 0.625 -> 1
  EXPECT_EQ(nice_ticks(-1.2, 1.3, 5), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(nice_ticks(0, 1.95, 6).back(), 1.5);
}

TEST(Plot, DataPlots) {
  std::vector<float> x(40 * 6);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7);
  const std::vector<std::string> dims{"acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"};
  const std::string svg = plot_signals(x, 40, 6, dims, 0.05, "walking").svg();
  EXPECT_EQ(std::count(svg.begin(), svg.end(), 'p') >= 6, true);
  std::size_t polylines = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 6u);
  EXPECT_NE(svg.find(">gyro</text>"), std::string::npos);

  std::vector<std::uint8_t> raster(40 * 12, 0);
  raster[5 * 12 + 3] = 2;
  raster[6 * 12 + 3] = 1;
  const std::string r = plot_raster(raster, 40, 12, {}, 0.05, "spikes").svg();
  EXPECT_NE(r.find(">ch3</text>"), std::string::npos);
  EXPECT_NE(r.find("fill=\"#142878\""), std::string::npos);
}
