// End-to-end: `spikeline data synth -> data prepare -> tasks distances (kld, dtw) -> tasks search
// -> tasks plot-kde / plot-distances` driven as a user would, checking the JSON outputs, the KDE
// cache and the errors on bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/shared.hpp"

namespace spikeline {
namespace {

using nlohmann::json;


class TasksCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::scratch_dir("tasks_cli"));
    const std::string syn = (*dir_ / "syn").string();
    auto r = test::run_cli("data synth --out " + syn + " --subjects 4 --seconds 20 --seed 5 --json", *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_cli("data prepare --wisdm " + syn + " --out " + windows() + " --split stratified -q", *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static std::string windows() { return path("w.npz"); }
  static std::filesystem::path* dir_;
};
std::filesystem::path* TasksCli::dir_ = nullptr;

TEST_F(TasksCli, DistancesSearchPlots) {
  // KLD, with the cache in the scratch folder: written on the first run, read on the second.
  const std::string kld = "tasks distances --metric kld --data " + windows() + " --out " + path("kld.json") +
                          " --cache-dir " + path("cache") + " --format json -q";
  auto r = test::run_cli(kld, *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = test::parse_stdout_json(r);
  EXPECT_EQ(j["metric"], "kld");
  EXPECT_EQ(j["classes"].size(), 8u);
  EXPECT_EQ(j["matrix"].size(), 8u);
  EXPECT_EQ(j["parameters"]["bandwidth"], 0.5);
  EXPECT_EQ(j["parameters"]["grid"]["points"], 1000);
  EXPECT_FALSE(j["cache"]["hit"].get<bool>());
  r = test::run_cli(kld, *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(test::parse_stdout_json(r)["cache"]["hit"].get<bool>());
  const json file = json::parse(test::slurp(path("kld.json")));
  for (const char* key : {"classes", "matrix", "metric", "parameters"}) EXPECT_TRUE(file.contains(key)) << key;
  // Synthetic classes are narrow: with scipy semantics densities underflow to 0 at the grid's ends
  // and KL is +inf (null in JSON). A floor keeps them finite.
  EXPECT_TRUE(file["matrix"][0][1].is_null());
  r = test::run_cli("tasks distances --data " + windows() + " --out " + path("kld_floor.json") +
                        " --kl-floor 1e-12 --no-cache --format json -q",
                    *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["parameters"]["kl_floor"], 1e-12);
  EXPECT_GT(j["matrix"][0][1].get<double>(), 0.0);

  // DTW of the median windows, then the pairs variant with a window.
  r = test::run_cli("tasks distances --metric dtw --data " + windows() + " --out " + path("dtw.json") + " --format json -q",
                    *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["metric"], "dtw");
  EXPECT_EQ(j["matrix"][0][0], 0.0);
  EXPECT_GT(j["matrix"][0][1].get<double>(), 0.0);
  r = test::run_cli("tasks distances --metric dtw --dtw-mode pairs --max-samples 5 --window 4 --classes walking,jogging,sitting "
                    "--data " + windows() + " --out " + path("dtw_pairs.json") + " --format json -q",
                    *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["classes"], json({"walking", "jogging", "sitting"}));
  EXPECT_EQ(j["parameters"]["mode"], "pairs");
  EXPECT_EQ(j["parameters"]["window"], 4);

  // Search: top 3 best 2-class tasks and the worst 3-class ones, named and with activity names.
  r = test::run_cli("tasks search --distances " + path("kld_floor.json") + " -k 2 --order best --top 3 --out " + path("tasks.json") +
                        " --format json",
                    *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["format"], "spikeline.tasks");
  ASSERT_TRUE(j["tasks"].contains("2CB"));
  EXPECT_TRUE(j["tasks"].contains("2CB-3"));
  EXPECT_EQ(j["tasks"]["2CB"]["classes"].size(), 2u);
  EXPECT_TRUE(j["tasks"]["2CB"]["classes"][0].is_string());
  EXPECT_GE(j["tasks"]["2CB"]["score"].get<double>(), j["tasks"]["2CB-2"]["score"].get<double>());
  EXPECT_EQ(json::parse(test::slurp(path("tasks.json")))["tasks"], j["tasks"]);
  r = test::run_cli("tasks search --distances " + path("kld.json") + " -k 2", *dir_);  // all +inf: still ranks
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inf"), std::string::npos) << r.out;
  r = test::run_cli("tasks search --distances " + path("dtw.json") + " -k 3,4 --order worst --top 2", *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3CW-2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4CW"), std::string::npos) << r.out;

  // Plots.
  r = test::run_cli("tasks plot-kde --data " + windows() + " --classes walking,jogging,typing --out " + path("kde.svg"), *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = test::slurp(path("kde.svg"));
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("typing"), std::string::npos);
  EXPECT_NE(svg.find("gyroscope z"), std::string::npos);
  r = test::run_cli("tasks plot-distances " + path("kld.json") + " --out " + path("heat.png"), *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(std::filesystem::file_size(path("heat.png")), 100u);
  r = test::run_cli("tasks plot-distances " + path("dtw.json") + " --out " + path("heat.svg"), *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(test::slurp(path("heat.svg")).find("walking"), std::string::npos);
}

TEST_F(TasksCli, BadInputExitsTwoNamingTheProblem) {
  auto r = test::run_cli("tasks distances --metric cosine --data " + windows() + " --out x.json", *dir_);
  EXPECT_EQ(r.exit_code, 2);
  r = test::run_cli("tasks plot-kde --data " + windows() + " --classes walking,swimming --out k.svg", *dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("swimming"), std::string::npos) << r.err;
  test::write_text(*dir_ / "broken.json", R"({"metric": "kld", "classes": ["a", "b"], "matrix": [[0, 1]]})");
  r = test::run_cli("tasks search --distances " + path("broken.json") + " -k 2", *dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("broken.json: matrix"), std::string::npos) << r.err;
  r = test::run_cli("tasks search --distances " + path("kld.json") + " -k 9", *dir_);
  EXPECT_EQ(r.exit_code, 2);  // 8 classes
  r = test::run_cli("tasks distances --help", *dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--bandwidth-rule"), std::string::npos);
}

}  // namespace
}  // namespace spikeline
