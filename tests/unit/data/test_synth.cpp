// Synthetic IMU generator: deterministic, WISDM format, plausible, learnable but not trivially.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/data/synth.hpp"
#include "spikeline/data/windows.hpp"

namespace fs = std::filesystem;
using namespace spikeline;
using namespace spikeline::data;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("spikeline_synth_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// Mean over windows of a per-window statistic of dims [d0, d0 + 3).
double mean_window_std(const Windows& w, std::int32_t label, std::size_t d0) {
  const std::size_t T = w.x.dim(1), D = w.x.dim(2);
  double total = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w.label[i] != label) continue;
    for (std::size_t d = d0; d < d0 + 3; ++d) {
      double s = 0, s2 = 0;
      for (std::size_t t = 0; t < T; ++t) {
        const double v = w.x[(i * T + t) * D + d];
        s += v;
        s2 += v * v;
      }
      total += std::sqrt(std::max(0.0, s2 / T - (s / T) * (s / T)));
    }
    ++n;
  }
  return total / static_cast<double>(n);
}

}  // namespace

TEST(Synth, DeterministicBySeedAndIndependentOfThreads) {
  SynthOptions o;
  o.seconds = 10;
  const SynthSubject a = synthesize_subject(o, 3), b = synthesize_subject(o, 3);
  ASSERT_EQ(a.accel.size(), 8u);
  EXPECT_EQ(a.subject, 1603);
  EXPECT_EQ(format_wisdm_raw(a.accel), format_wisdm_raw(b.accel));
  EXPECT_EQ(format_wisdm_raw(a.gyro), format_wisdm_raw(b.gyro));
  o.seed = 2;
  EXPECT_NE(format_wisdm_raw(synthesize_subject(o, 3).accel), format_wisdm_raw(a.accel));

  const fs::path d1 = temp_dir("t1"), d2 = temp_dir("t2");
  o.subjects = 3;
  o.threads = 1;
  write_synthetic_wisdm(d1, o);
  o.threads = 3;
  o.gzip = true;
  write_synthetic_wisdm(d2, o);
  for (const char* sensor : {"accel", "gyro"}) {
    const std::string name = std::string("data_1602_") + sensor + "_watch.txt";
    EXPECT_EQ(read_file_text(d1 / "raw" / "watch" / sensor / name),
              read_maybe_gzip(d2 / "raw" / "watch" / sensor / (name + ".gz")));
  }
  EXPECT_TRUE(fs::exists(d1 / "synth.json"));
  EXPECT_TRUE(fs::exists(d1 / "activity_key.txt"));
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST(Synth, WritesTheWisdmFormatThatTheReaderJoins) {
  SynthOptions o;
  o.subjects = 4;
  o.seconds = 20;
  const fs::path dir = temp_dir("fmt");
  const auto ids = write_synthetic_wisdm(dir, o);
  EXPECT_EQ(ids, (std::vector<int>{1600, 1601, 1602, 1603}));
  const auto first = read_file_text(dir / "raw/watch/accel/data_1600_accel_watch.txt");
  EXPECT_EQ(first.substr(0, 7), "1600,A,");
  EXPECT_EQ(first.substr(first.find('\n') - 1, 2), ";\n");

  LoadOptions exact;
  exact.join = JoinMode::exact;
  const WisdmData data = load_wisdm(dir, exact);
  EXPECT_EQ(data.report.subjects.size(), 4u);
  ASSERT_EQ(data.recordings.size(), 4u * 8);
  for (const auto& r : data.recordings) EXPECT_EQ(r.size(), 400u);  // 20 s at 20 Hz, gyro-limited
  EXPECT_GT(data.report.unmatched_accel, 0u);  // accel logs an extra sample now and then
  EXPECT_EQ(data.report.unmatched_gyro, 0u);
  // The default join keeps those extra accel samples (1 at the start, up to 2 at the end).
  const WisdmData nearest = load_wisdm(dir, {});
  for (const auto& r : nearest.recordings) {
    EXPECT_GE(r.size(), 400u);
    EXPECT_LE(r.size(), 403u);
  }
  EXPECT_EQ(nearest.report.unmatched_accel, 0u);
  EXPECT_EQ(nearest.report.inexact_pairs, data.report.unmatched_accel);
  fs::remove_all(dir);

  o.activities = "AZ";
  EXPECT_THROW(write_synthetic_wisdm(dir, o), InputError);
}

TEST(Synth, PlausibleSignals) {
  SynthOptions o;
  o.subjects = 4;
  o.seconds = 30;
  std::vector<Recording> recs;
  for (int i = 0; i < o.subjects; ++i) {
    const SynthSubject s = synthesize_subject(o, i);
    for (std::size_t k = 0; k < s.accel.size(); ++k) recs.push_back(join_on_timestamp(s.accel[k], s.gyro[k]));
  }
  const auto classes = select_classes(std::vector<std::string>{"A", "B", "C", "D", "E", "F", "G", "Q"});
  const Windows w = cut_windows(recs, classes, {});
  // Gravity: |acc| averages about 9.81 m/s^2 at rest (sitting = class 3).
  double mag = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w.label[i] != 3) continue;
    for (std::size_t t = 0; t < 40; ++t) {
      const float* p = &w.x[(i * 40 + t) * 6];
      mag += std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
      ++n;
    }
  }
  EXPECT_NEAR(mag / static_cast<double>(n), 9.81, 0.3);
  // Motion energy: jogging > walking > sitting, for the accelerometer and the gyroscope.
  EXPECT_GT(mean_window_std(w, 1, 0), 1.5 * mean_window_std(w, 0, 0));
  EXPECT_GT(mean_window_std(w, 0, 0), 3.0 * mean_window_std(w, 3, 0));
  EXPECT_GT(mean_window_std(w, 1, 3), mean_window_std(w, 0, 3));
  EXPECT_GT(mean_window_std(w, 0, 3), 3.0 * mean_window_std(w, 3, 3));
}

// A nearest-centroid classifier on per-window mean and deviation, trained on some subjects and
// tested on others, must be far above chance (1/8) but not perfect: the classes are learnable and
// not trivial.
TEST(Synth, LearnableButNotTrivial) {
  SynthOptions o;
  o.subjects = 10;
  o.seconds = 30;
  std::vector<Recording> recs;
  for (int i = 0; i < o.subjects; ++i) {
    const SynthSubject s = synthesize_subject(o, i);
    for (std::size_t k = 0; k < s.accel.size(); ++k) recs.push_back(join_on_timestamp(s.accel[k], s.gyro[k]));
  }
  const auto classes = select_classes(std::vector<std::string>{"A", "B", "C", "D", "E", "F", "G", "Q"});
  const Windows w = cut_windows(recs, classes, {});
  constexpr std::size_t F = 12, K = 8;
  auto features = [&](std::size_t i) {
    std::array<double, F> f{};
    for (std::size_t d = 0; d < 6; ++d) {
      double s = 0, s2 = 0;
      for (std::size_t t = 0; t < 40; ++t) {
        const double v = w.x[(i * 40 + t) * 6 + d];
        s += v;
        s2 += v * v;
      }
      f[d] = s / 40;
      f[6 + d] = std::sqrt(std::max(0.0, s2 / 40 - f[d] * f[d]));
    }
    return f;
  };
  const auto is_train = [&](std::size_t i) { return w.subject[i] < 1607; };
  std::array<double, F> mu{}, sd{};
  std::size_t n_train = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    if (is_train(i)) {
      const auto f = features(i);
      for (std::size_t j = 0; j < F; ++j) {
        mu[j] += f[j];
        sd[j] += f[j] * f[j];
      }
      ++n_train;
    }
  for (std::size_t j = 0; j < F; ++j) {
    mu[j] /= n_train;
    sd[j] = std::sqrt(sd[j] / n_train - mu[j] * mu[j]);
  }
  std::array<std::array<double, F>, K> centroid{};
  std::array<std::size_t, K> count{};
  for (std::size_t i = 0; i < w.size(); ++i)
    if (is_train(i)) {
      const auto f = features(i);
      for (std::size_t j = 0; j < F; ++j) centroid[w.label[i]][j] += (f[j] - mu[j]) / sd[j];
      ++count[w.label[i]];
    }
  for (std::size_t k = 0; k < K; ++k)
    for (auto& v : centroid[k]) v /= static_cast<double>(count[k]);
  std::size_t right = 0, total = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (is_train(i)) continue;
    const auto f = features(i);
    std::size_t best = 0;
    double best_d = INFINITY;
    for (std::size_t k = 0; k < K; ++k) {
      double d = 0;
      for (std::size_t j = 0; j < F; ++j) d += std::pow((f[j] - mu[j]) / sd[j] - centroid[k][j], 2);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
    right += best == static_cast<std::size_t>(w.label[i]);
    ++total;
  }
  const double accuracy = static_cast<double>(right) / static_cast<double>(total);
  EXPECT_GT(accuracy, 0.4);
  EXPECT_LT(accuracy, 0.97);
  // And difficulty 0 makes it easier than the default.
  RecordProperty("nearest_centroid_accuracy", std::to_string(accuracy));
}
