// End-to-end: `spikeline net run`, `net grad`, `net info` and `bench train` driven as a user
// would, on the Rockpool golden networks (written to disk in Rockpool's own model format).
// Same tolerances as the library-level golden test (tests/unit/snn/test_engine_golden.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "spikeline/io/npy.hpp"
#include "spikeline/io/rockpool_json.hpp"
#include "support/cli.hpp"
#include "support/golden_lif.hpp"
#include "support/shared.hpp"

namespace spikeline {
namespace {

void expect_close(const std::vector<float>& got, const FloatArray& want, double rtol, double atol,
                  const std::string& what) {
  test::expect_close(got, want, rtol, atol, what);
}

class NetCli : public ::testing::TestWithParam<const char*> {};

TEST_P(NetCli, RunWithRecordsAndGradMatchRockpool) {
  SPIKELINE_REQUIRE_SHARED(path, std::string("golden/") + GetParam());
  const test::LifGolden g = test::load_lif_golden(path);
  const auto dir = test::scratch_dir(std::string("net_") + GetParam());
  io::write_rockpool_json(dir / "model.json", g.net);
  io::write_npy(dir / "x.npy", io::NpyArray::from(g.input));
  std::vector<std::int64_t> labels(g.labels.begin(), g.labels.end());
  io::write_npy(dir / "y.npy", io::NpyArray::from<std::int64_t>({labels.size()}, labels));

  auto r = test::run_cli("net run --model " + (dir / "model.json").string() + " --input " +
                             (dir / "x.npy").string() + " --out " + (dir / "out.npz").string() +
                             " --record --threads 2",
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::Npz out = io::read_npz(dir / "out.npz");
  EXPECT_EQ(out.at("output").shape, g.outputs.shape);
  expect_close(out.at("output").to_float(), g.outputs, 0, 0, "output");
  int lif_records = 0;
  for (const auto& [name, want] : g.records) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || name.find("_output") != std::string::npos) continue;
    const std::string field = name.substr(dot + 1);
    if (field == "irec") continue;
    ASSERT_TRUE(out.contains(name)) << name;
    const double tol = field == "spikes" ? 0.0 : 1e-5;
    expect_close(out.at(name).to_float(), want, tol, tol > 0 ? 1e-6 : 0.0, name);
    ++lif_records;
  }
  EXPECT_GT(lif_records, 0);

  r = test::run_cli("net grad --model " + (dir / "model.json").string() + " --input " +
                        (dir / "x.npy").string() + " --labels " + (dir / "y.npy").string() +
                        " --out " + (dir / "g.npz").string(),
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::Npz grads = io::read_npz(dir / "g.npz");
  EXPECT_NEAR(grads.at("loss").to_double().at(0), g.loss, 1e-6 * g.loss);
  for (const auto& [name, want] : g.grads) {
    ASSERT_TRUE(grads.contains(name)) << name;
    EXPECT_EQ(grads.at(name).shape, want.shape) << name;
    expect_close(grads.at(name).to_float(), want, 1e-4, 1e-5 * test::max_abs(want), "grad " + name);
  }
}

INSTANTIATE_TEST_SUITE_P(Rockpool, NetCli,
                         ::testing::Values("lif_rec_simple_seed0.json",
                                           "lif_ff_deep_deep_res_seed1.json",
                                           "lif_rec_simple_periodicexp_seed2.json"));

TEST(NetCli, ThesisCheckpointRunsAndInfoDescribesIt) {
  SPIKELINE_REQUIRE_SHARED(model, "fixtures/thesis/checkpoints/xylo_2cb_ff_deep_deep_res/model_params");
  const auto dir = test::scratch_dir("checkpoint");
  auto r = test::run_cli("net info --format json " + model.string(), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info.at("n_in"), 12);
  EXPECT_EQ(info.at("n_out"), 2);
  EXPECT_EQ(info.at("trainable").size(), 4u);
  FloatArray x(Shape{3, 40, 12});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i * 7919) % 11 == 0 ? 1.0f : 0.0f;
  io::write_npy(dir / "x.npy", io::NpyArray::from(x));
  r = test::run_cli("net run --model " + model.string() + " --input " + (dir / "x.npy").string() +
                        " --out " + (dir / "o.npz").string(),
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(io::read_npz(dir / "o.npz").at("output").shape, (Shape{3, 40, 2}));
}

TEST(NetCli, BadInputsGiveOneClearErrorAndExitCode2) {
  const auto dir = test::scratch_dir("bad_inputs");
  snn::NeuronParams np;
  Rng rng(0);
  io::write_rockpool_json(dir / "m.json", snn::make_architecture("ff_simple", 3, 4, 2, np, rng));
  io::write_npy(dir / "wrong_channels.npy", io::NpyArray::from(FloatArray(Shape{2, 5, 4})));
  io::write_npy(dir / "x.npy", io::NpyArray::from(FloatArray(Shape{2, 5, 3})));
  std::vector<std::int64_t> bad_labels{0, 7};
  io::write_npy(dir / "bad_labels.npy", io::NpyArray::from<std::int64_t>({2}, bad_labels));
  test::write_text(dir / "truncated.npy", "\x93NUMPY\x01\x00");
  test::write_text(dir / "broken.json", "{\"0_LinearTorch\": {\"weight\": \"[[1.0, 2.0]\"}");

  const std::string m = (dir / "m.json").string();
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases{
      {"net run --model " + m + " --input " + (dir / "wrong_channels.npy").string() + " --out " +
           (dir / "o.npz").string(),
       "expected 3 channels"},
      {"net run --model " + m + " --input " + (dir / "truncated.npy").string() + " --out " +
           (dir / "o.npz").string(),
       "truncated.npy"},
      {"net run --model " + (dir / "broken.json").string() + " --input " + (dir / "x.npy").string() +
           " --out " + (dir / "o.npz").string(),
       "broken.json"},
      {"net grad --model " + m + " --input " + (dir / "x.npy").string() + " --labels " +
           (dir / "bad_labels.npy").string() + " --out " + (dir / "g.npz").string(),
       "label 7"},
      {"nosuch --flag", "unknown command 'nosuch'"},
  };
  for (const auto& c : cases) {
    const auto r = test::run_cli(c.args, dir);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << "stderr: " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "o.npz"));  // nothing half-written
  }
  const auto r = test::run_cli("net run --model " + m, dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
}

TEST(BenchCli, PrintsOneJsonRecordPerMode) {
  const auto dir = test::scratch_dir("bench");
  const auto r = test::run_cli("bench train --batch 16 --hidden 32 --iters 1 --budget-s 1 --json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> modes;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    modes.push_back(j.at("mode"));
    EXPECT_EQ(j.at("batch"), 16);
    EXPECT_GT(j.at("samples_per_s").get<double>(), 0.0);
    EXPECT_GT(j.at("peak_rss_mb").get<double>(), 0.0);
  }
  EXPECT_EQ(modes, (std::vector<std::string>{"infer", "train"}));
}

}  // namespace
}  // namespace spikeline
