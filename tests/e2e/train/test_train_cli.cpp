// End-to-end: `spikeline train` from a config on a small synthetic spike set learns well above
// chance in seconds, writes the checkpoint directory, stops cleanly on SIGINT and resumes to the
// same weights as an uninterrupted run; `spikeline evaluate` reports on the checkpoint.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

namespace spikeline {
namespace {

// Three classes; class k makes channel group k fire more often. The config trains on two of them.
std::filesystem::path write_spike_set(const std::filesystem::path& dir) {
  const auto path = dir / "spikes.npz";
  test::write_separable_spike_set(path, {{'A', "walking"}, {'B', "jogging"}, {'D', "sitting"}},
                                  {20, 12, {384, 96, 96}, 0.4, 11});
  return path;
}

std::filesystem::path write_config(const std::filesystem::path& dir, int epochs, const std::string& extra = "") {
  write_spike_set(dir);
  const auto path = dir / "run.json";
  test::write_text(path, R"({
  "data": {"file": "spikes.npz", "classes": ["walking", "sitting"]},
  "model": {"architecture": "ff_simple", "hidden": 32,
            "neuron": {"tau_mem": 0.081, "tau_syn": 0.077, "spike_fn": "periodic_exponential"}},
  "optim": {"lr": 0.01},
  "batch_size": 32, "epochs": )" + std::to_string(epochs) + R"(, "seed": 5, "threads": 1)" + extra + "\n}\n");
  return path;
}

TEST(TrainCli, TrainsFromAConfigWellAboveChanceAndEvaluates) {
  const auto dir = test::scratch_dir("train_basic");
  const auto config = write_config(dir, 8, R"(, "prune": {"max_fan_out": 16, "every": 4})");
  const auto out = dir / "ckpt";
  const auto r = test::run_cli("train --config " + config.string() + " --out " + out.string() + " --quiet", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const char* f : {"model_params", "model_metadata.json", "training_metadata.json", "config.json", "log.jsonl",
                        "resume/params", "resume/optimiser.npz", "resume/progress.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  const auto meta = nlohmann::json::parse(read_file_text(out / "model_metadata.json"));
  EXPECT_GT(meta.at("val_accuracy").get<double>(), 0.85);  // 2 classes: chance 0.5
  const auto tm = nlohmann::json::parse(read_file_text(out / "training_metadata.json"));
  EXPECT_EQ(tm.at("loss_t").size(), 8u);
  EXPECT_EQ(tm.at("input_params").at("enabled_classes"), nlohmann::json({0, 2}));
  const auto resolved = nlohmann::json::parse(read_file_text(out / "config.json"));
  EXPECT_EQ(resolved.at("prune").at("max_fan_out"), 16);

  const auto ev = test::run_cli("evaluate --checkpoint " + out.string() + " --format json", dir);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const auto j = nlohmann::json::parse(ev.out);
  EXPECT_GT(j.at("accuracy").get<double>(), 0.85);
  EXPECT_EQ(j.at("classes"), nlohmann::json({"walking", "sitting"}));
  EXPECT_EQ(j.at("per_class").size(), 2u);
  // NeuroBench-style complexity of the evaluated model (docs/metrics.md).
  const auto& cx = j.at("complexity");
  EXPECT_EQ(cx.at("footprint_bytes").get<std::size_t>(), 4 * cx.at("parameters").get<std::size_t>());
  EXPECT_GE(cx.at("connection_sparsity").get<double>(), 0.0);
  EXPECT_LT(cx.at("connection_sparsity").get<double>(), 1.0);
  const double sparsity = cx.at("activation_sparsity").get<double>();
  EXPECT_GT(sparsity, 0.0);
  EXPECT_LT(sparsity, 1.0);
  const auto& ops = cx.at("synaptic_ops_per_sample");
  EXPECT_GT(ops.at("effective_acs").get<double>(), 0.0);
  EXPECT_LT(ops.at("effective_acs").get<double>() + ops.at("effective_macs").get<double>(),
            ops.at("dense").get<double>());
  EXPECT_TRUE(std::filesystem::exists(out / "evaluation.svg"));
  const auto table = test::run_cli("evaluate --checkpoint " + out.string() + " --split val", dir);
  EXPECT_NE(table.out.find("precision"), std::string::npos) << table.out;
}

TEST(TrainCli, FlagsOverrideKeysAndBadKeysAreNamed) {
  const auto dir = test::scratch_dir("train_flags");
  const auto config = write_config(dir, 3, R"(, "early_stop": {"windw": 3})");
  const auto bad = test::run_cli("train --config " + config.string() + " --out " + (dir / "o").string(), dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("early_stop.windw: unknown key"), std::string::npos) << bad.err;
  const auto fixed = test::run_cli("train --config " + config.string() + " --out " + (dir / "o").string() +
                                       " --set early_stop={} --epochs 1 --quiet", dir);
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(nlohmann::json::parse(read_file_text(dir / "o" / "config.json")).at("epochs"), 1);
  const auto xylo = test::run_cli("train --config " + config.string() + " --out " + (dir / "x").string() +
                                      " --set early_stop={} --set model.target=xylo --hidden 1001", dir);
  EXPECT_EQ(xylo.exit_code, 2);
  EXPECT_NE(xylo.err.find("1001 hidden neurons (Xylo has 1000)"), std::string::npos) << xylo.err;
}

TEST(TrainCli, ClassesByTaskName) {
  const auto dir = test::scratch_dir("train_task");
  const auto config = write_config(dir, 1);
  // NeHAR order A B C D ...: indices 0 and 3 are walking and sitting.
  test::write_text(dir / "tasks.json", R"({"WS": [0, 3]})");
  const auto r = test::run_cli("train --config " + config.string() + " --out " + (dir / "o").string() +
                                   " --set data.classes=[] --set data.task=WS --set data.tasks_file=" +
                                   (dir / "tasks.json").string() + " --quiet", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto tm = nlohmann::json::parse(read_file_text(dir / "o" / "training_metadata.json"));
  EXPECT_EQ(tm.at("input_params").at("enabled_classes"), nlohmann::json({0, 2}));
  EXPECT_EQ(tm.at("input_params").at("class_names"), nlohmann::json({"walking", "sitting"}));
}

TEST(TrainCli, SigintStopsCleanlyAndResumeReachesTheSameWeights) {
  const auto dir = test::scratch_dir("train_sigint");
  const auto config = write_config(dir, 300);
  const auto full = test::run_cli("train --config " + config.string() + " --out " + (dir / "full").string() + " --quiet", dir);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // Interrupt once the first epoch has been logged.
  const auto part = dir / "part";
  const std::string cmd = "cd '" + dir.string() + "' && ('" + test::cli_path().string() + "' train --config " +
                          config.string() + " --out " + part.string() + " --quiet > int.out 2> int.err & pid=$!; " +
                          "while [ ! -s " + (part / "log.jsonl").string() + " ]; do sleep 0.02; done; kill -INT $pid; " +
                          "wait $pid; echo $? > int.rc)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(test::slurp(dir / "int.rc"), "0\n") << test::slurp(dir / "int.err");
  EXPECT_NE(test::slurp(dir / "int.out").find("--resume"), std::string::npos) << test::slurp(dir / "int.out");
  const auto progress = nlohmann::json::parse(read_file_text(part / "resume" / "progress.json"));
  EXPECT_EQ(progress.at("stop"), "interrupted");
  EXPECT_LT(progress.at("next_epoch").get<int>(), 300);
  const auto resumed = test::run_cli("train --resume --out " + part.string() + " --quiet", dir);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(read_file_text(part / "resume" / "params") == read_file_text(dir / "full" / "resume" / "params"));
  EXPECT_TRUE(read_file_text(part / "model_params") == read_file_text(dir / "full" / "model_params"));
  const auto a = nlohmann::json::parse(read_file_text(part / "training_metadata.json"));
  const auto b = nlohmann::json::parse(read_file_text(dir / "full" / "training_metadata.json"));
  EXPECT_EQ(a.at("loss_t"), b.at("loss_t"));
}

}  // namespace
}  // namespace spikeline
