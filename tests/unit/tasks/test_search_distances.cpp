// Task search against brute force; class medians, distance matrices, the KDE cache, JSON round
// trips, plots, and errors that name the file or field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/plots.hpp"
#include "spikeline/tasks/search.hpp"

using namespace spikeline;
using namespace spikeline::tasks;
using nlohmann::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

DistanceMatrix random_matrix(std::size_t n, Rng& rng, bool integers) {
  DistanceMatrix m;
  for (std::size_t i = 0; i < n; ++i) m.classes.push_back({static_cast<char>('A' + i), "class_" + std::to_string(i)});
  m.values.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      m.values[i * n + j] = m.values[j * n + i] = integers ? static_cast<double>(rng.below(4)) : rng.uniform() * 10;
  return m;
}

// Every subset by bitmask, scored directly, sorted by the documented rule.
std::vector<TaskCandidate> brute_force(const DistanceMatrix& m, std::size_t k, SearchOrder order, std::size_t top) {
  const std::size_t n = m.size();
  std::vector<TaskCandidate> all;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<std::size_t>(std::popcount(mask)) != k) continue;
    TaskCandidate c;
    for (std::size_t i = 0; i < n; ++i)
      if (mask & (1u << i)) c.classes.push_back(i);
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t b = a + 1; b < k; ++b) c.score += m.at(c.classes[a], c.classes[b]);
    all.push_back(c);
  }
  std::sort(all.begin(), all.end(), [order](const TaskCandidate& a, const TaskCandidate& b) {
    if (a.score != b.score) return order == SearchOrder::best ? a.score > b.score : a.score < b.score;
    return a.classes < b.classes;
  });
  if (all.size() > top) all.resize(top);
  return all;
}

// Three classes of windows [n][T][D] with means 0, 1 and 4 (D = 2, T = 5).
data::WindowDataset small_dataset() {
  data::WindowDataset ds;
  ds.classes = {{'A', "walking"}, {'B', "jogging"}, {'F', "typing"}};
  ds.info.window = 5;
  ds.info.dims = {"acc_x", "gyro_x"};
  Rng rng(1);
  const double means[3] = {0, 1, 4};
  for (int s = 0; s < 3; ++s) {
    const std::size_t n = 60;
    auto& split = ds.splits[static_cast<std::size_t>(s)];
    split.x = Array<float>({n, 5, 2});
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<std::int32_t>(i % 3);
      split.y.push_back(c);
      for (std::size_t e = 0; e < 10; ++e)
        split.x[i * 10 + e] = static_cast<float>(means[c] + rng.normal() * (1 + 0.2 * static_cast<double>(e % 2)));
    }
  }
  return ds;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("spikeline_tasks_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST(Search, MatchesBruteForceOnSmallMatrices) {
  Rng rng(3);
  for (int trial = 0; trial < 30; ++trial) {
    const std::size_t n = 3 + rng.below(6);
    const auto m = random_matrix(n, rng, trial % 2 == 0);  // integer distances: many ties
    for (std::size_t k = 2; k <= n; ++k)
      for (auto order : {SearchOrder::best, SearchOrder::worst})
        for (std::size_t top : {1u, 5u, 100u}) {
          // Same sets in the same order; scores equal up to the order of the additions.
          const auto fast = search_tasks(m, k, order, top), brute = brute_force(m, k, order, top);
          ASSERT_EQ(fast.size(), brute.size());
          for (std::size_t r = 0; r < fast.size(); ++r) {
            EXPECT_EQ(fast[r].classes, brute[r].classes) << "n " << n << " k " << k << " rank " << r;
            EXPECT_NEAR(fast[r].score, brute[r].score, 1e-12 * brute[r].score);
          }
        }
  }
}

TEST(Search, InfiniteDistancesRankMostSeparable) {
  Rng rng(4);
  auto m = random_matrix(5, rng, false);
  m.values[1 * 5 + 3] = m.values[3 * 5 + 1] = kInf;
  const auto best = search_tasks(m, 2, SearchOrder::best, 1);
  EXPECT_EQ(best[0].classes, (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(best[0].score, kInf);
  EXPECT_NE(search_tasks(m, 2, SearchOrder::worst, 1)[0].classes, best[0].classes);
}

TEST(Search, NamesAndBadK) {
  EXPECT_EQ(task_name(2, SearchOrder::best, 1), "2CB");
  EXPECT_EQ(task_name(4, SearchOrder::worst, 1), "4CW");
  EXPECT_EQ(task_name(7, SearchOrder::best, 3), "7CB-3");
  Rng rng(5);
  const auto m = random_matrix(4, rng, false);
  EXPECT_THROW(search_tasks(m, 1, SearchOrder::best, 5), InputError);
  EXPECT_THROW(search_tasks(m, 5, SearchOrder::best, 5), InputError);
  EXPECT_THROW(search_order_from_name("middle"), InputError);
}

TEST(Search, TasksJsonRoundTrip) {
  Rng rng(6);
  const auto m = random_matrix(6, rng, false);
  auto tasks = name_tasks(search_tasks(m, 3, SearchOrder::worst, 4), 3, SearchOrder::worst);
  const json j = tasks_to_json(m, tasks);
  EXPECT_EQ(j["format"], "spikeline.tasks");
  EXPECT_EQ(j["tasks"]["3CW"]["classes"].size(), 3u);
  EXPECT_EQ(j["tasks"]["3CW"]["letters"].get<std::string>().size(), 3u);
  const auto back = tasks_from_json(json::parse(j.dump()), "tasks.json");
  ASSERT_EQ(back.size(), tasks.size());
  for (const auto& t : tasks) {
    const auto it = std::find_if(back.begin(), back.end(), [&](const Task& b) { return b.name == t.name; });
    ASSERT_NE(it, back.end());
    EXPECT_EQ(it->candidate.classes, t.candidate.classes);
    EXPECT_NEAR(it->candidate.score, t.candidate.score, 1e-12 * t.candidate.score);
    EXPECT_EQ(it->rank, t.rank);
  }
  json bad = j;
  bad["tasks"]["3CW"].erase("indices");
  try {
    tasks_from_json(bad, "tasks.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tasks.json: tasks.3CW"), std::string::npos) << e.what();
  }
}

TEST(Distances, ClassMediansFollowNumpy) {
  data::LabelledSplit<float> split;
  split.x = Array<float>({5, 1, 2}, std::vector<float>{1, 10, 5, 20, 3, 30, 100, 0, 7, 7});
  split.y = {0, 0, 0, 1, 1};
  const auto med = class_medians(split, 2);
  EXPECT_EQ(med.shape, (Shape{2, 1, 2}));
  EXPECT_EQ(med[0], 3.0f);    // median of 1, 5, 3
  EXPECT_EQ(med[1], 20.0f);   // median of 10, 20, 30
  EXPECT_EQ(med[2], 53.5f);   // mean of the two middles of 100, 7
  EXPECT_EQ(med[3], 3.5f);    // of 0, 7
  split.y = {0, 0, 0, 0, 0};
  EXPECT_THROW(class_medians(split, 2), InputError);  // class 1 has no windows
}

TEST(Distances, DtwMedianAndPairsOnSmallData) {
  const auto ds = small_dataset();
  DistanceOptions o;
  o.metric = Metric::dtw;
  const auto m = class_distances(ds, o);
  ASSERT_EQ(m.size(), 3u);
  const auto med = class_medians(ds.splits[0], 3);
  EXPECT_DOUBLE_EQ(m.at(0, 2), dtw_distance({med.ptr(), 10}, 5, {med.ptr() + 20, 10}, 5, 2));
  EXPECT_EQ(m.at(1, 1), 0.0);
  EXPECT_LT(m.at(0, 1), m.at(0, 2));  // means 0 and 1 are closer than 0 and 4
  o.dtw_mode = DtwMode::pairs;
  o.max_samples = 7;
  o.threads = 2;
  const auto pairs = class_distances(ds, o);
  EXPECT_EQ(pairs.parameters["max_samples"], 7);
  EXPECT_LT(pairs.at(0, 1), pairs.at(0, 2));
  EXPECT_EQ(pairs.at(0, 2), pairs.at(2, 0));
}

TEST(Distances, KldMatrixCacheAndSubset) {
  const auto ds = small_dataset();
  const auto dir = temp_dir("cache");
  DistanceOptions o;
  o.metric = Metric::kld;
  o.cache_dir = dir;
  o.threads = 2;
  DistanceReport r1, r2;
  const auto m1 = class_distances(ds, o, {}, &r1);
  EXPECT_FALSE(r1.cache_hit);
  EXPECT_TRUE(std::filesystem::exists(r1.cache_file));
  const auto m2 = class_distances(ds, o, {}, &r2);
  EXPECT_TRUE(r2.cache_hit);
  EXPECT_EQ(m1.values, m2.values);
  EXPECT_GT(m1.at(0, 2), m1.at(0, 1));
  // The key covers the parameters: another bandwidth is another file.
  o.kde.bandwidth = 0.7;
  DistanceReport r3;
  class_distances(ds, o, {}, &r3);
  EXPECT_FALSE(r3.cache_hit);
  EXPECT_NE(r3.cache_file, r1.cache_file);
  // A damaged cache file is recomputed.
  o.kde.bandwidth = 0.5;
  write_file_atomic(r1.cache_file, std::string("garbage"));
  DistanceReport r4;
  EXPECT_EQ(class_distances(ds, o, {}, &r4).values, m1.values);
  EXPECT_FALSE(r4.cache_hit);
  // A subset in a given order.
  const std::vector<std::string> names{"typing", "A"};
  const auto which = resolve_classes(ds.classes, names, "--classes");
  EXPECT_EQ(which, (std::vector<std::size_t>{2, 0}));
  o.cache_dir.clear();
  const auto sub = class_distances(ds, o, which);
  EXPECT_EQ(sub.classes[0].name, "typing");
  EXPECT_DOUBLE_EQ(sub.at(0, 1), m1.at(2, 0));
  const std::vector<std::string> unknown{"swimming"};
  EXPECT_THROW(resolve_classes(ds.classes, unknown, "--classes"), InputError);
}

TEST(Distances, JsonRoundTripWithInfinity) {
  const auto ds = small_dataset();
  auto m = class_distances(ds, {});
  m.values[0 * 3 + 1] = m.values[1 * 3 + 0] = kInf;
  const auto dir = temp_dir("json");
  write_distances(dir / "d.json", m);
  const auto back = read_distances(dir / "d.json");
  EXPECT_EQ(back.metric, m.metric);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.classes[2].name, "typing");
  EXPECT_EQ(back.classes[2].letter, 'F');
  EXPECT_EQ(back.at(0, 1), kInf);
  for (std::size_t i = 0; i < 9; ++i)
    if (std::isfinite(m.values[i])) EXPECT_DOUBLE_EQ(back.values[i], m.values[i]);
  EXPECT_EQ(back.parameters["bandwidth"], 0.5);
}

TEST(Distances, BadJsonNamesTheFileAndField) {
  const auto dir = temp_dir("bad");
  const json good = distances_to_json(class_distances(small_dataset(), {}));
  auto expect_error = [&](const json& j, const std::string& fragment) {
    write_file_atomic(dir / "d.json", j.dump());
    try {
      read_distances(dir / "d.json");
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("d.json"), std::string::npos) << e.what();
    }
  };
  json j = good;
  j.erase("matrix");
  expect_error(j, "matrix");
  j = good;
  j["matrix"][1].erase(0);
  expect_error(j, "matrix[1]");
  j = good;
  j["matrix"][0][1] = 99.0;
  expect_error(j, "not symmetric");
  j = good;
  j["matrix"][2][0] = "far";
  expect_error(j, "matrix[2][0]");
  j = good;
  j["metric"] = "cosine";
  expect_error(j, "metric");
  write_file_atomic(dir / "d.json", std::string("{not json"));
  EXPECT_THROW(read_distances(dir / "d.json"), InputError);
}

TEST(Plots, KdeGridAndHeatmapRender) {
  const auto ds = small_dataset();
  const Grid grid{-5, 8, 200};
  const std::vector<std::size_t> which{0, 2};
  const auto kdes = class_kdes(ds.splits[0], ds.classes, which, grid, {}, 1);
  EXPECT_EQ(kdes.shape, (Shape{2, 2, 200}));
  const std::vector<std::string> names{"walking", "typing"};
  const auto svg = plot_class_kdes(kdes, grid, names, ds.info.dims, "KDE").svg();
  EXPECT_NE(svg.find("walking"), std::string::npos);
  EXPECT_NE(svg.find("accelerometer x"), std::string::npos);
  EXPECT_NE(svg.find("gyroscope x"), std::string::npos);
  auto m = class_distances(ds, {});
  m.values[1] = m.values[3] = kInf;
  const auto heat = plot_distance_heatmap(m, "distances");
  EXPECT_NE(heat.svg().find("jogging"), std::string::npos);
  EXPECT_NE(heat.svg().find("inf"), std::string::npos);
  const auto dir = temp_dir("plots");
  heat.save(dir / "h.png");
  EXPECT_GT(std::filesystem::file_size(dir / "h.png"), 100u);
}
