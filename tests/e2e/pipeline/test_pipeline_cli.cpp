// spikeline pipeline through the real CLI: a tiny synthetic run through every Xylo stage, a re-run
// that skips everything, a changed key that re-runs only its stage and those after it, the run
// directory's files, a run from an existing checkpoint, and config errors (exit 2 naming the key).
#include <filesystem>

#include <gtest/gtest.h>

#include "support/cli.hpp"

namespace spikeline::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A few seconds: 5 synthetic subjects x 4 activities x 12 s, 2 HPO trials of 1 epoch, 2 training
// epochs of a 16-neuron network, 4 tuning trials.
const char* kTinyConfig = R"(
name: tiny
seed: 2
threads: 2
data: {synthetic: {subjects: 5, seconds: 12, activities: ABDF}}
encode: {encoder: {type: delta}}
tasks: {enabled: true, metric: dtw, k: 3}
hpo:
  trials: 2
  epochs: 1
  concurrency: 2
  search_space:
    n_population: {_type: choice, _value: [8, 16]}
    tau_mem: {_type: qloguniform, _value: [0.04, 0.2, 0.001]}
train:
  model: {architecture: ff_simple, hidden: 16}
  batch_size: 64
  epochs: 2
  threads: 2
quantize: {trials: 4}
)";

std::map<std::string, std::string> actions(const fs::path& run) {
  const json t = json::parse(slurp(run / "timings.json"));
  std::map<std::string, std::string> a;
  for (const auto& s : t["stages"]) a[s["stage"].get<std::string>()] = s["action"].get<std::string>();
  return a;
}

TEST(PipelineCli, RunsEveryStageThenSkipsThenRerunsOnlyDownstreamOfAChange) {
  const auto dir = scratch_dir("e2e_pipeline");
  write_text(dir / "tiny.yaml", kTinyConfig);
  const fs::path run = dir / "run";
  const std::string base = "pipeline --config '" + (dir / "tiny.yaml").string() + "' --out '" + run.string() + "' --quiet";

  const auto first = run_cli(base, dir);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("report: " + (run / "report.html").string()), std::string::npos) << first.out;
  const std::map<std::string, std::string> ran = {{"data", "ran"},  {"encode", "ran"}, {"tasks", "ran"},
                                                   {"hpo", "ran"},   {"train", "ran"},  {"qat", "disabled"},
                                                   {"quantize", "ran"}, {"deploy", "ran"}};
  EXPECT_EQ(actions(run), ran);
  for (const char* f : {"resolved.yaml", "resolved.json", "timings.json", "report.html", "01-data/windows.npz",
                        "02-encode/spikes.npz", "03-tasks/tasks.json", "04-hpo/best.json", "04-hpo/trials.csv",
                        "05-train/checkpoint/config.json", "05-train/learning_curve.svg",
                        "05-train/evaluation_test.json", "07-quantize/checkpoint/xylo_tuning.json",
                        "07-quantize/tuning.svg", "08-deploy/xylo/config.json", "08-deploy/xylo/xylo_config.h",
                        "08-deploy/xylo/report.html"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  // The report links the deployment report and the HPO table, and holds the training curve inline.
  const std::string report = slurp(run / "report.html");
  EXPECT_NE(report.find("href=\"08-deploy/xylo/report.html\""), std::string::npos);
  EXPECT_NE(report.find("href=\"04-hpo/trials.csv\""), std::string::npos);
  EXPECT_NE(report.find("<svg"), std::string::npos);
  // The chosen task's classes are what training used.
  const json tasks = json::parse(slurp(run / "03-tasks" / "stage.json"))["result"];
  const json cfg = json::parse(slurp(run / "05-train" / "train_config.json"));
  EXPECT_EQ(cfg["data"]["classes"], tasks["classes"]);
  EXPECT_EQ(tasks["classes"].size(), 3u);
  // The HPO's best parameters landed on their mapped keys.
  const json best = json::parse(slurp(run / "04-hpo" / "stage.json"))["result"]["best_parameters"];
  EXPECT_EQ(cfg["model"]["hidden"], best["n_population"]);

  const auto again = run_cli(base, dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const auto& [stage, action] : actions(run))
    EXPECT_EQ(action, stage == "qat" ? "disabled" : "skipped") << stage;

  // A quantisation key: everything before it is kept.
  const auto changed = run_cli(base + " --set quantize.trials=3", dir);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  const auto a = actions(run);
  for (const char* s : {"data", "encode", "tasks", "hpo", "train"}) EXPECT_EQ(a.at(s), "skipped") << s;
  EXPECT_EQ(a.at("quantize"), "ran");
  EXPECT_EQ(a.at("deploy"), "ran");

  // An existing checkpoint instead of the train stage (train.enabled false, train.checkpoint): in a
  // new run directory, the same data, checkpoint and seed give exactly the same tuning and bundle.
  const fs::path given = dir / "given";
  const auto g = run_cli("pipeline --config '" + (dir / "tiny.yaml").string() + "' --out '" + given.string() +
                             "' --quiet --set quantize.trials=3 --set hpo.enabled=false --set train.enabled=false" +
                             " --set train.checkpoint='" + (run / "05-train" / "checkpoint").string() + "'",
                         dir);
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  const auto ga = actions(given);
  EXPECT_EQ(ga.at("train"), "disabled");
  EXPECT_EQ(ga.at("quantize"), "ran");
  EXPECT_EQ(ga.at("deploy"), "ran");
  const json tuned = json::parse(slurp(run / "07-quantize" / "checkpoint" / "xylo_tuning.json"));
  const json tuned_given = json::parse(slurp(given / "07-quantize" / "checkpoint" / "xylo_tuning.json"));
  EXPECT_EQ(tuned_given["history"], tuned["history"]);
  EXPECT_EQ(tuned_given["accuracy"], tuned["accuracy"]);
  EXPECT_EQ(json::parse(slurp(given / "08-deploy" / "xylo" / "report.json"))["quantized"]["accuracy"],
            json::parse(slurp(run / "08-deploy" / "xylo" / "report.json"))["quantized"]["accuracy"]);

  // --dry-run plans without touching anything.
  const auto dry = run_cli(base + " --set quantize.trials=3 --set deploy.split=val --dry-run", dir);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("deploy    would run (inputs changed)"), std::string::npos) << dry.out;
  EXPECT_EQ(actions(run).at("deploy"), "ran");

  // Switching the QAT stage on fine-tunes the trained checkpoint; tuning and deployment follow it.
  const auto qat = run_cli(base + " --set quantize.trials=3 --set qat.enabled=true --set qat.epochs=1", dir);
  ASSERT_EQ(qat.exit_code, 0) << qat.out << qat.err;
  const auto q = actions(run);
  for (const char* s : {"data", "encode", "tasks", "hpo", "train"}) EXPECT_EQ(q.at(s), "skipped") << s;
  for (const char* s : {"qat", "quantize", "deploy"}) EXPECT_EQ(q.at(s), "ran") << s;
  EXPECT_TRUE(fs::exists(run / "06-qat" / "checkpoint" / "qat.json"));
}

// The Dynap-SE2 chip: its own model trained, tuned and deployed as a Dynap-SE2 bundle.
TEST(PipelineCli, Dynapse2ChipTrainsTunesAndDeploysItsOwnModel) {
  const auto dir = scratch_dir("e2e_pipeline_dynapse2");
  write_text(dir / "dyn.yaml", R"(
name: dyn
chip: dynapse2
seed: 2
data: {synthetic: {subjects: 5, seconds: 12, activities: ABDF}, classes: [walking, jogging, sitting]}
encode: {encoder: {type: delta}}
hpo:
  trials: 2
  epochs: 1
  concurrency: 2
  search_space: {tau_mem: {_type: qloguniform, _value: [0.02, 0.2, 0.001]}}
  map: {tau_mem: dynapse2.tau_mem}
train: {dynapse2: {dt: 0.001, time_scale: 0.02}, batch_size: 32, epochs: 2}
quantize: {trials: 3}
)");
  const fs::path run = dir / "run";
  const auto r = run_cli("pipeline --config '" + (dir / "dyn.yaml").string() + "' --out '" + run.string() + "' --quiet", dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"05-train/checkpoint/dynapse2_model.json", "07-quantize/checkpoint/dynapse2_tuning.json",
                        "07-quantize/tuning.svg",
                        "08-deploy/dynapse2/config.json", "08-deploy/dynapse2/report.html", "report.html"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  const json cfg = json::parse(slurp(run / "05-train" / "train_config.json"));
  EXPECT_EQ(cfg["model"]["target"], "dynapse2");
  const json best = json::parse(slurp(run / "04-hpo" / "stage.json"))["result"]["best_parameters"];
  EXPECT_EQ(cfg["dynapse2"]["tau_mem"], best["tau_mem"]);
}

TEST(PipelineCli, ConfigErrorsExitTwoNamingTheKey) {
  const auto dir = scratch_dir("e2e_pipeline_errors");
  write_text(dir / "bad.yaml", "hpo: {trials: many}\n");
  const auto r = run_cli("pipeline --config '" + (dir / "bad.yaml").string() + "' --out '" + (dir / "run").string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml: hpo.trials: must be an integer"), std::string::npos) << r.err;
  write_text(dir / "wisdm.yaml", "data: {source: wisdm, wisdm: /no/such/dir}\n");
  const auto w = run_cli("pipeline --config '" + (dir / "wisdm.yaml").string() + "' --out '" + (dir / "run").string() + "'", dir);
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find("data.wisdm"), std::string::npos) << w.err;
  write_text(dir / "given.yaml", "train: {checkpoint: /some/checkpoint}\n");
  const auto both = run_cli("pipeline --config '" + (dir / "given.yaml").string() + "' --dry-run", dir);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("given.yaml: train.checkpoint: is what a disabled train stage stands for"), std::string::npos)
      << both.err;
  write_text(dir / "missing.yaml", "train: {enabled: false, checkpoint: /no/such/checkpoint}\n");
  const auto missing = run_cli("pipeline --config '" + (dir / "missing.yaml").string() + "' --dry-run", dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.yaml: train.checkpoint: /no/such/checkpoint is not a checkpoint directory"),
            std::string::npos)
      << missing.err;
  write_text(dir / "none.yaml", "train: {enabled: false}\n");
  const auto none = run_cli("pipeline --config '" + (dir / "none.yaml").string() + "' --dry-run", dir);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("none.yaml: train.checkpoint: is required"), std::string::npos) << none.err;
  write_text(dir / "ok.yaml", "{}\n");
  const auto s = run_cli("pipeline --config '" + (dir / "ok.yaml").string() + "' --from tune --dry-run", dir);
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("--from: unknown stage 'tune'"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace spikeline::test
