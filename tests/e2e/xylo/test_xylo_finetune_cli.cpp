// End to end: `spikeline xylo finetune` on a checkpoint trained in seconds on synthetic spikes
// writes a new checkpoint (+ qat.json) that `xylo deploy`, `xylo tune` and `evaluate` accept, and
// deploy reproduces the fine-tuned simulated accuracy exactly; with a stored tuning, its factors
// are used and carried over.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

namespace spikeline {
namespace {

class XyloFinetuneCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::scratch_dir("xylo_finetune_suite"));
    test::write_separable_spike_set(*dir_ / "spikes.npz", {{'P', "dribbling"}, {'F', "typing"}},
                                    {16, 8, {256, 64, 64}, 0.5, 21});
    test::write_text(*dir_ / "run.json", R"({
  "data": {"file": "spikes.npz"},
  "model": {"architecture": "ff_deep_res", "hidden": 12, "target": "xylo",
            "neuron": {"tau_mem": 0.2, "tau_syn": 0.15, "spike_fn": "periodic_exponential"}},
  "optim": {"lr": 0.01}, "batch_size": 32, "epochs": 6, "seed": 2, "threads": 1,
  "prune": {"max_fan_out": 8, "every": 2}
})");
    test::write_text(*dir_ / "tuning.json", R"({"max_trial_number": 6, "search_space": {
      "global_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c0_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c1_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}}})");
    const auto r = test::run_cli("train --config " + q(*dir_ / "run.json") + " --out " + q(*dir_ / "ckpt") + " --quiet",
                                 *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
  static nlohmann::json read_json(const std::filesystem::path& p) { return nlohmann::json::parse(read_file_text(p)); }
  static std::filesystem::path* dir_;
};
std::filesystem::path* XyloFinetuneCli::dir_ = nullptr;

TEST_F(XyloFinetuneCli, FinetuneThenDeploy) {
  const auto out = test::scratch_dir("xylo_finetune_out") / "qat";
  const auto r = test::run_cli("xylo finetune --checkpoint " + q(*dir_ / "ckpt") + " --out " + q(out) +
                                   " --epochs 4 --lr 0.003 --max-fan-out 8 --threads 1 --seed 1 --quiet",
                               *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("before fine-tuning"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after  fine-tuning"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("global quantisation"), std::string::npos) << r.out;
  for (const char* f : {"model_params", "config.json", "model_metadata.json", "training_metadata.json", "log.jsonl",
                        "qat.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  EXPECT_FALSE(std::filesystem::exists(out / "xylo_tuning.json"));  // no tuning to carry over
  const auto qat = read_json(out / "qat.json");
  EXPECT_EQ(qat.at("method"), "global");
  EXPECT_EQ(qat.at("history").size(), 4u);
  const double after = qat.at("quantized_val_after").get<double>();
  EXPECT_GE(after, qat.at("quantized_val_before").get<double>());  // the starting point competes

  const auto d = test::run_cli("xylo deploy --checkpoint " + q(out) + " --out " + q(out / "bundle") +
                                   " --max-fan-out 8 --threads 1 --format json",
                               *dir_);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto rep = test::parse_stdout_json(d);
  EXPECT_EQ(rep.at("quantized").at("accuracy").get<double>(), after);
  EXPECT_EQ(rep.at("float").at("accuracy").get<double>(), qat.at("float_val_after").get<double>());
  EXPECT_EQ(rep.at("pruning").at("synapses_dropped"), 0);  // the sparsity was kept
  EXPECT_LE(rep.at("resources").at("max_fan_out").get<int>(), 8);
  EXPECT_EQ(test::run_cli("evaluate --checkpoint " + q(out) + " --split val", *dir_).exit_code, 0);
}

TEST_F(XyloFinetuneCli, UsesAndCarriesTheStoredTuning) {
  const auto work = test::scratch_dir("xylo_finetune_tuned");
  std::filesystem::copy(*dir_ / "ckpt", work / "ckpt", std::filesystem::copy_options::recursive);
  ASSERT_EQ(test::run_cli("xylo tune --checkpoint " + q(work / "ckpt") + " --config " + q(*dir_ / "tuning.json") +
                              " --max-fan-out 8 --threads 1 --quiet",
                          *dir_).exit_code, 0);
  const auto tuning = read_json(work / "ckpt" / "xylo_tuning.json");
  const auto r = test::run_cli("xylo finetune --checkpoint " + q(work / "ckpt") + " --out " + q(work / "qat") +
                                   " --epochs 2 --lr 0.003 --max-fan-out 8 --threads 1 --quiet",
                               *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tuned factors"), std::string::npos) << r.out;
  const auto qat = read_json(work / "qat" / "qat.json");
  EXPECT_EQ(qat.at("factors"), tuning.at("params"));
  // Before fine-tuning, the quantised accuracy is the tuning's own.
  EXPECT_EQ(qat.at("quantized_val_before"), tuning.at("accuracy"));
  const auto carried = read_json(work / "qat" / "xylo_tuning.json");
  EXPECT_EQ(carried.at("params"), tuning.at("params"));
  EXPECT_EQ(carried.at("accuracy"), qat.at("quantized_val_after"));
  const auto d = test::run_cli("xylo deploy --checkpoint " + q(work / "qat") + " --out " + q(work / "bundle") +
                                   " --max-fan-out 8 --threads 1 --format json",
                               *dir_);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto rep = test::parse_stdout_json(d);
  EXPECT_EQ(rep.at("quantized").at("accuracy"), qat.at("quantized_val_after"));
  EXPECT_EQ(rep.at("quantization").at("factors"), tuning.at("params"));
  EXPECT_TRUE(rep.at("notes").empty()) << rep.at("notes");  // the stored configuration is this model's
}

TEST_F(XyloFinetuneCli, Errors) {
  auto r = test::run_cli("xylo finetune --checkpoint " + q(*dir_ / "ckpt") + " --out " + q(*dir_ / "ckpt") + " --quiet",
                         *dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = test::run_cli("xylo finetune --checkpoint " + q(*dir_ / "nope") + " --out " + q(*dir_ / "x") + " --quiet", *dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spikeline
