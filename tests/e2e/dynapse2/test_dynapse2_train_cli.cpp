// End-to-end: `spikeline train` with model.target dynapse2 on a small synthetic spike set learns
// well above chance in seconds, writes the Dynap-SE2 checkpoint, resumes to exactly the weights of
// an uninterrupted run, names bad dynapse2 keys, and `spikeline evaluate` reports on it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

namespace spikeline {
namespace {

// dt 0.05 s per step: time_scale 0.02 makes it the simulator's 1 ms.
std::filesystem::path write_config(const std::filesystem::path& dir, int epochs, const std::string& extra = "") {
  test::write_separable_spike_set(dir / "spikes.npz", {{'A', "walking"}, {'B', "jogging"}, {'D', "sitting"}},
                                  {20, 12, {320, 96, 96}, 0.5, 11});
  const auto path = dir / "run.json";
  test::write_text(path, R"({
  "data": {"file": "spikes.npz", "classes": ["walking", "sitting"]},
  "model": {"target": "dynapse2"},
  "dynapse2": {"time_scale": 0.02, "percent_mismatch": 0.05)" + extra + R"(},
  "optim": {"lr": 0.02},
  "batch_size": 16, "epochs": )" + std::to_string(epochs) + R"(, "seed": 3, "threads": 2
}
)");
  return path;
}

TEST(Dynapse2TrainCli, TrainsEvaluatesAndResumesExactly) {
  const auto dir = test::scratch_dir("d2_train_cli");
  const auto config = write_config(dir, 6);
  const auto out = dir / "ckpt";
  const auto r = test::run_cli("train --config " + config.string() + " --out " + out.string() + " --quiet", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const char* f : {"dynapse2_model.json", "model_metadata.json", "config.json", "log.jsonl",
                        "resume/current_model.json", "resume/progress.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  const auto meta = nlohmann::json::parse(read_file_text(out / "model_metadata.json"));
  EXPECT_GT(meta.at("val_accuracy").get<double>(), 0.8);  // 2 classes: chance 0.5
  const auto resolved = nlohmann::json::parse(read_file_text(out / "config.json"));
  EXPECT_EQ(resolved.at("dynapse2").at("adam_step"), "iteration");
  EXPECT_EQ(resolved.at("optim").at("loss"), "mse");
  const auto model = nlohmann::json::parse(read_file_text(out / "dynapse2_model.json"));
  EXPECT_EQ(model.at("n_in"), 12);
  EXPECT_EQ(model.at("n"), 2);
  // The frozen mismatch is stored per neuron: the two neurons' leak currents differ.
  EXPECT_NE(model.at("sim").at("Itau_mem")[0], model.at("sim").at("Itau_mem")[1]);

  const auto ev = test::run_cli("evaluate --checkpoint " + out.string() + " --split val --format json", dir);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const auto j = nlohmann::json::parse(ev.out);
  EXPECT_NEAR(j.at("accuracy").get<double>(), meta.at("val_accuracy").get<double>(), 1e-12);
  EXPECT_EQ(j.at("classes"), nlohmann::json({"walking", "sitting"}));
  EXPECT_EQ(j.at("per_class").size(), 2u);
  const auto table = test::run_cli("evaluate --checkpoint " + out.string(), dir);
  EXPECT_NE(table.out.find("precision"), std::string::npos) << table.out;

  // 3 epochs, then --resume to 6: the same weights as the 6-epoch run.
  const auto part = dir / "part";
  ASSERT_EQ(test::run_cli("train --config " + config.string() + " --out " + part.string() + " --quiet --epochs 3", dir)
                .exit_code, 0);
  const auto rs = test::run_cli("train --resume --out " + part.string() + " --quiet --epochs 6", dir);
  ASSERT_EQ(rs.exit_code, 0) << rs.err << rs.out;
  EXPECT_EQ(read_file_text(part / "resume/current_model.json"), read_file_text(out / "resume/current_model.json"));
  EXPECT_EQ(read_file_text(part / "log.jsonl").size() > 0, true);
}

TEST(Dynapse2TrainCli, BadKeysAreNamed) {
  const auto dir = test::scratch_dir("d2_train_bad");
  const auto config = write_config(dir, 1, R"(, "adam_step": "batch")");
  const auto r = test::run_cli("train --config " + config.string() + " --out " + (dir / "o").string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dynapse2.adam_step"), std::string::npos) << r.err;
  const auto scale = write_config(dir, 1, R"(, "time_scale": 0.5)");
  const auto s = test::run_cli("train --config " + scale.string() + " --out " + (dir / "o").string(), dir);
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("time_scale"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace spikeline
