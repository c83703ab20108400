// End to end: a checkpoint trained in seconds on synthetic spikes goes through `spikeline xylo
// deploy` (bundle: config.json, C header that compiles as C99, HTML and JSON report) and `xylo tune`
// (deterministic with a seed; deploy then uses the stored factors and reproduces the tuned accuracy).
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/hw/xylo/cycles.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

namespace spikeline {
namespace {

// Two classes; class k makes channel group k fire more often.
void write_spike_set(const std::filesystem::path& path) {
  test::write_separable_spike_set(path, {{'P', "dribbling"}, {'F', "typing"}},
                                  {16, 8, {256, 64, 64}, 0.5, 21});
}

class XyloDeployCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::scratch_dir("xylo_deploy_suite"));
    write_spike_set(*dir_ / "spikes.npz");
    test::write_text(*dir_ / "run.json", R"({
  "data": {"file": "spikes.npz"},
  "model": {"architecture": "ff_deep_res", "hidden": 12, "target": "xylo",
            "neuron": {"tau_mem": 0.2, "tau_syn": 0.15, "spike_fn": "periodic_exponential"}},
  "optim": {"lr": 0.01}, "batch_size": 32, "epochs": 6, "seed": 2, "threads": 1,
  "prune": {"max_fan_out": 8, "every": 2}
})");
    test::write_text(*dir_ / "tuning.json", R"({"trial_command": "python run_xylo_quantization_tuning.py",
      "assessor_start_step": 300, "max_trial_number": 1000, "search_space": {
      "global_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c0_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c1_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}}})");
    const auto r = test::run_cli("train --config '" + (*dir_ / "run.json").string() + "' --out '" +
                                     (*dir_ / "ckpt").string() + "' --quiet", *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
  static std::filesystem::path* dir_;
};
std::filesystem::path* XyloDeployCli::dir_ = nullptr;

TEST_F(XyloDeployCli, DeployWritesTheBundle) {
  const auto ckpt = test::scratch_dir("xylo_deploy_ckpt");
  std::filesystem::copy(*dir_ / "ckpt", ckpt, std::filesystem::copy_options::recursive);
  const auto out = ckpt / "bundle";
  const auto r = test::run_cli("xylo deploy --checkpoint " + q(ckpt) + " --out " + q(out) + " --data " +
                                   q(*dir_ / "spikes.npz") + " --split val --sample 2 --clock-mhz 10 --max-fan-out 8 --format json",
                               ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = test::parse_stdout_json(r);
  for (const char* f : {"config.json", "xylo_config.h", "report.html", "report.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  EXPECT_EQ(nlohmann::json::parse(read_file_text(out / "report.json")).at("quantized"), j.at("quantized"));
  // Float accuracy: the tiny model learns the synthetic task (chance 0.5). The quantised network on
  // the chip has one step of delay per hidden layer and bit-shift decays instead of exp(-dt/tau),
  // so it only has to stay clearly above chance here.
  EXPECT_GT(j.at("float").at("accuracy").get<double>(), 0.8);
  EXPECT_GT(j.at("quantized").at("accuracy").get<double>(), 0.65);
  EXPECT_EQ(j.at("samples"), 64);
  EXPECT_EQ(j.at("quantized").at("confusion").size(), 2u);
  EXPECT_EQ(j.at("quantization").at("factors"), nullptr);  // no tuning stored yet
  EXPECT_EQ(j.at("resources").at("hidden_neurons"), 24);  // 12 + 12 (residual body)
  EXPECT_EQ(j.at("resources").at("aliases"), 12);
  EXPECT_LE(j.at("resources").at("max_fan_out").get<int>(), 8);  // pruned before mapping
  EXPECT_EQ(j.at("pruning").at("max_fan_out"), 8);

  // config.json: the chip's config plus the clock; readable by the other xylo commands.
  const auto cfg = nlohmann::json::parse(read_file_text(out / "config.json"));
  EXPECT_EQ(cfg.at("clock_hz"), 10e6);
  EXPECT_EQ(cfg.at("chip"), "syns61201");
  EXPECT_EQ(test::run_cli("xylo validate --config " + q(out / "config.json"), ckpt).exit_code, 0);
  // The cycle figures are the model's on that config.
  const auto spec = hw::xylo::read_int_spec(out / "config.json");
  const auto worst = hw::xylo::estimate_cycles(spec);
  const auto& t = j.at("timing");
  EXPECT_DOUBLE_EQ(t.at("worst_case").at("cycles_per_step").get<double>(), worst.total);
  EXPECT_DOUBLE_EQ(t.at("worst_case").at("min_clock_hz").get<double>(), hw::xylo::min_clock_hz(worst.total, 0.05));
  const auto& p = t.at("measured").at("spike_probabilities");
  EXPECT_GT(p.at("input").get<double>(), 0.0);
  EXPECT_LT(p.at("input").get<double>(), 1.0);
  EXPECT_LT(t.at("measured").at("cycles_per_step").get<double>(), worst.total);

  // The report is self-contained: inline SVG figures, nothing fetched.
  const std::string html = read_file_text(out / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  for (const char* s : {"confusion matrix", "Vmem_out", "weights_rec", "precision", "minimum clock for real time",
                        "max fan-out"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_EQ(html.find("href=\""), std::string::npos);

  // The header compiles as C99 with every warning an error, when a C compiler is there.
  if (std::system("command -v cc >/dev/null 2>&1") == 0) {
    test::write_text(ckpt / "use.c", "#define XYLO_CONFIG_IMPLEMENTATION\n#include \"xylo_config.h\"\n"
                                     "int xylo_first_weight(void) { return xylo_weights_in[0][0] + XYLO_N_HID; }\n");
    test::write_text(ckpt / "other.c", "#include \"xylo_config.h\"\n#include \"xylo_config.h\"\n"
                                       "int xylo_threshold0(void) { return xylo_threshold[0]; }\n");
    for (const char* f : {"use.c", "other.c"}) {
      const std::string cmd = "cc -std=c99 -Wall -Wextra -Werror -pedantic -I " + q(out) + " -c " + q(ckpt / f) +
                              " -o " + q(ckpt / (std::string(f) + ".o")) + " 2>" + q(ckpt / "cc.txt");
      EXPECT_EQ(std::system(cmd.c_str()), 0) << f << ": " << read_file_text(ckpt / "cc.txt");
    }
  } else {
    GTEST_SKIP() << "SKIPPED (header compile only): no C compiler 'cc' on this machine";
  }
}

TEST_F(XyloDeployCli, TuneIsDeterministicAndDeployUsesTheStoredFactors) {
  const auto ckpt = test::scratch_dir("xylo_tune_ckpt");
  std::filesystem::copy(*dir_ / "ckpt", ckpt, std::filesystem::copy_options::recursive);
  const std::string tune = "xylo tune --checkpoint " + q(ckpt) + " --config " + q(*dir_ / "tuning.json") + " --data " +
                           q(*dir_ / "spikes.npz") + " --trials 8 --seed 3 --format json";
  auto r = test::run_cli(tune, ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto first = test::parse_stdout_json(r);
  const auto stored = nlohmann::json::parse(read_file_text(ckpt / "xylo_tuning.json"));
  EXPECT_EQ(stored.at("trials"), 8);
  EXPECT_EQ(stored.at("history").size(), 8u);
  EXPECT_EQ(stored.at("params"), first.at("params"));
  double best_trial = 0;
  for (const auto& h : stored.at("history")) best_trial = std::max(best_trial, h.at("accuracy").get<double>());
  EXPECT_EQ(stored.at("best_trial_accuracy").get<double>(), best_trial);
  // Kept: the best trial, or factors 1 when no trial beat them.
  const double untuned = stored.at("untuned_accuracy").get<double>();
  const double best = std::max(best_trial, untuned);
  EXPECT_EQ(stored.at("accuracy").get<double>(), best);
  EXPECT_EQ(stored.at("kept_untuned").get<bool>(), untuned >= best_trial);
  const auto thesis = nlohmann::json::parse(read_file_text(ckpt / "xylo_qtuning_metadata"));
  EXPECT_EQ(thesis.at("val_accuracy_after_tuning"), best);

  r = test::run_cli(tune, ckpt);  // same seed: same search, same result
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file_text(ckpt / "xylo_tuning.json")).at("history"), stored.at("history"));

  r = test::run_cli("xylo deploy --checkpoint " + q(ckpt) + " --out " + q(ckpt / "bundle") + " --data " +
                        q(*dir_ / "spikes.npz") + " --format json",
                    ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto dep = test::parse_stdout_json(r);
  EXPECT_EQ(dep.at("quantization").at("factors"), stored.at("params"));
  EXPECT_EQ(dep.at("quantized").at("accuracy").get<double>(), best);  // same split, same simulation
  const auto cfg = nlohmann::json::parse(read_file_text(ckpt / "bundle" / "config.json"));
  for (const char* key : {"weights_in", "weights_rec", "weights_out", "threshold", "threshold_out", "dash_syn"})
    EXPECT_EQ(cfg.at(key), stored.at("config").at(key)) << key;

  // --no-tuning gives the untuned quantisation, whose accuracy the tuning recorded.
  r = test::run_cli("xylo deploy --checkpoint " + q(ckpt) + " --out " + q(ckpt / "plain") + " --data " +
                        q(*dir_ / "spikes.npz") + " --no-tuning --format json",
                    ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::parse_stdout_json(r).at("quantized").at("accuracy"), stored.at("untuned_accuracy"));
}

TEST_F(XyloDeployCli, TheThesisTuningConfigRunsUnchanged) {
  SPIKELINE_REQUIRE_SHARED(config, "fixtures/thesis/configs/xylo_tuning_2cb.json");
  const auto ckpt = test::scratch_dir("xylo_tune_thesis");
  std::filesystem::copy(*dir_ / "ckpt", ckpt, std::filesystem::copy_options::recursive);
  const auto r = test::run_cli("xylo tune --checkpoint " + q(ckpt) + " --config " + q(config) + " --data " +
                                   q(*dir_ / "spikes.npz") + " --trials 2 --quiet",
                               ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 trials"), std::string::npos) << r.out;
}

TEST(XyloDeployCliErrors, NameTheFileAndKey) {
  const auto dir = test::scratch_dir("xylo_deploy_errors");
  auto r = test::run_cli("xylo deploy --checkpoint " + (dir / "none").string() + " --out " + (dir / "b").string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
  test::write_text(dir / "t.json", R"({"search_space": {"c0_activity_factor": {"_type": "uniform", "_value": [0.6, 1.4]}},
                                       "max_trials": 5})");
  r = test::run_cli("xylo tune --checkpoint " + (dir / "none").string() + " --config " + (dir / "t.json").string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("max_trials"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spikeline
