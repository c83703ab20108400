// Stage stamps and the caching logic of run_pipeline: which stages run, skip or resume.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/pipeline/pipeline.hpp"
#include "spikeline/train/config.hpp"
#include "support/cli.hpp"

namespace spikeline::pipeline {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

TEST(PipelineStamps, Fnv1aMatchesTheReferenceValues) {
  // FNV-1a 64 test vectors (Fowler, Noll, Vo).
  EXPECT_EQ(hex64(fnv1a("")), "cbf29ce484222325");
  EXPECT_EQ(hex64(fnv1a("a")), "af63dc4c8601ec8c");
  EXPECT_EQ(hex64(fnv1a("foobar")), "85944171f73967e8");
}

TEST(PipelineStamps, StampDependsOnSectionExternalsAndUpstreamButNotKeyOrder) {
  const json a = json::parse(R"({"x": 1, "y": [1, 2]})"), b = json::parse(R"({"y": [1, 2], "x": 1})");
  const std::string s = stage_stamp("train", a, nullptr, "tok");
  EXPECT_EQ(s, stage_stamp("train", b, nullptr, "tok"));
  EXPECT_NE(s, stage_stamp("deploy", a, nullptr, "tok"));
  EXPECT_NE(s, stage_stamp("train", json::parse(R"({"x": 2, "y": [1, 2]})"), nullptr, "tok"));
  EXPECT_NE(s, stage_stamp("train", a, json{{"size", 1}}, "tok"));
  EXPECT_NE(s, stage_stamp("train", a, nullptr, "tok2"));
  EXPECT_EQ(s.size(), 16u);
}

TEST(PipelineStamps, FingerprintSeesSizeAndModificationTime) {
  const auto dir = test::scratch_dir("pipeline_fingerprint");
  EXPECT_TRUE(path_fingerprint(dir / "missing").is_null());
  write_file_atomic(dir / "raw" / "a.txt", std::string("abc"));
  const json f1 = path_fingerprint(dir / "raw");
  ASSERT_TRUE(f1.contains("a.txt"));
  EXPECT_EQ(f1["a.txt"]["size"], 3);
  EXPECT_EQ(path_fingerprint(dir / "raw"), f1);  // stable
  fs::last_write_time(dir / "raw" / "a.txt", fs::last_write_time(dir / "raw" / "a.txt") + std::chrono::seconds(5));
  EXPECT_NE(path_fingerprint(dir / "raw"), f1);
  write_file_atomic(dir / "raw" / "sub" / "b.txt", std::string("x"));
  EXPECT_TRUE(path_fingerprint(dir / "raw").contains("sub/b.txt"));
}

TEST(PipelineStamps, RecordsRoundTripAndADamagedRecordMeansRunAgain) {
  const auto dir = test::scratch_dir("pipeline_record");
  StageRecord r{"0123456789abcdef", "fedcba9876543210", 1.5, "2026-01-01T00:00:00.000Z", {{"windows", "w.npz"}}};
  write_record(dir, r);
  const auto back = read_record(dir);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stamp, r.stamp);
  EXPECT_EQ(back->token, r.token);
  EXPECT_EQ(back->seconds, 1.5);
  EXPECT_EQ(back->result, r.result);
  write_file_atomic(dir / "stage.json", std::string("{\"stamp\": 1"));
  EXPECT_FALSE(read_record(dir));
  EXPECT_FALSE(read_record(dir / "none"));
}

TEST(PipelineStamps, SectionsHoldWhatEachStageDependsOn) {
  const auto c0 = resolve_config(json::object(), "p", "/", {});
  const auto c1 = resolve_config(json::object(), "p", "/", {"quantize.trials=7"});
  for (Stage s : {Stage::data, Stage::encode, Stage::tasks, Stage::hpo, Stage::train, Stage::deploy})
    EXPECT_EQ(stamp_section(c0, s), stamp_section(c1, s)) << stage_name(s);
  EXPECT_NE(stamp_section(c0, Stage::quantize), stamp_section(c1, Stage::quantize));
  // Training keys feed the HPO trials and the extended training.
  const auto c2 = resolve_config(json::object(), "p", "/", {"train.optim.lr=0.01"});
  EXPECT_NE(stamp_section(c0, Stage::hpo), stamp_section(c2, Stage::hpo));
  EXPECT_NE(stamp_section(c0, Stage::train), stamp_section(c2, Stage::train));
  EXPECT_EQ(stamp_section(c0, Stage::data), stamp_section(c2, Stage::data));
  // threads changes speed, not results: no stage's stamp holds it.
  const auto c3 = resolve_config(json::object(), "p", "/", {"threads=1"});
  for (std::size_t i = 0; i < kStageCount; ++i)
    EXPECT_EQ(stamp_section(c0, static_cast<Stage>(i)), stamp_section(c3, static_cast<Stage>(i)));
}

// A fast in-process pipeline: synthetic data, encoding and the task search (the later stages run
// trials and training; the e2e test covers them through the CLI).
PipelineConfig small_config(const std::vector<std::string>& sets = {}) {
  const json doc = train::config_document_from_yaml(R"(
name: unit
seed: 3
threads: 1
data: {synthetic: {subjects: 5, seconds: 12, activities: ABDF}}
encode: {encoder: {type: delta}}
tasks: {enabled: true, metric: dtw, k: 2}
hpo: {enabled: false}
train: {enabled: false}
quantize: {enabled: false}
deploy: {enabled: false}
)",
                                                    "unit.yaml");
  return resolve_config(doc, "unit.yaml", "/", sets);
}

std::vector<std::string> actions(const PipelineResult& r) {
  std::vector<std::string> a;
  for (const auto& s : r.stages) a.push_back(s.action);
  return a;
}

TEST(PipelineRun, RerunSkipsChangedKeyRerunsDownstreamAndDryRunPlans) {
  const auto dir = test::scratch_dir("pipeline_run");
  PipelineOptions o;
  o.out = dir / "run";
  o.progress = false;
  const std::vector<std::string> first = {"ran", "ran", "ran", "disabled", "disabled", "disabled", "disabled", "disabled"};
  EXPECT_EQ(actions(run_pipeline(small_config(), o)), first);
  for (const char* f : {"resolved.yaml", "resolved.json", "timings.json", "report.html", "01-data/windows.npz",
                        "02-encode/spikes.npz", "03-tasks/distances.json", "03-tasks/distances.svg"})
    EXPECT_TRUE(fs::exists(o.out / f)) << f;
  const auto tasks1 = read_record(o.out / "03-tasks");
  ASSERT_TRUE(tasks1);
  EXPECT_EQ(tasks1->result["classes"].size(), 2u);

  const auto again = run_pipeline(small_config(), o);
  EXPECT_EQ(actions(again), (std::vector<std::string>{"skipped", "skipped", "skipped", "disabled", "disabled",
                                                       "disabled", "disabled", "disabled"}));
  EXPECT_EQ(again.results["tasks"], tasks1->result);

  // A key of the encode stage: data stays, encode and the task stage after it run again.
  const auto changed = run_pipeline(small_config({"encode.encoder.threshold=[0.3]"}), o);
  EXPECT_EQ(actions(changed)[0], "skipped");
  EXPECT_EQ(actions(changed)[1], "ran");
  EXPECT_EQ(actions(changed)[2], "ran");
  EXPECT_EQ(changed.stages[2].reason, "upstream stage re-ran");

  PipelineOptions dry = o;
  dry.dry_run = true;
  const auto plan = run_pipeline(small_config({"tasks.k=3"}), dry);
  EXPECT_EQ(actions(plan)[0], "planned: skip");
  EXPECT_EQ(actions(plan)[1], "planned: run");  // threshold back to the default: changed again
  EXPECT_EQ(actions(plan)[2], "planned: run");
  EXPECT_FALSE(fs::exists(o.out / "03-tasks" / "started.json"));

  PipelineOptions from = o;
  from.from = Stage::tasks;
  const auto forced = run_pipeline(small_config({"encode.encoder.threshold=[0.3]"}), from);
  EXPECT_EQ(actions(forced)[1], "skipped");
  EXPECT_EQ(actions(forced)[2], "ran");
  EXPECT_EQ(forced.stages[2].reason, "forced");
}

TEST(PipelineRun, InterruptedStageResumesOnlyWithTheSameStampAndOnlyNeedsCompleteUpstream) {
  const auto dir = test::scratch_dir("pipeline_resume");
  PipelineOptions o;
  o.out = dir / "run";
  o.progress = false;
  run_pipeline(small_config(), o);
  // Simulate a crash inside the task stage: its record gone, its started marker left.
  const auto rec = read_record(o.out / "03-tasks");
  ASSERT_TRUE(rec);
  fs::remove(o.out / "03-tasks" / "stage.json");
  write_file_atomic(o.out / "03-tasks" / "started.json", json{{"stamp", rec->stamp}}.dump());
  const auto resumed = run_pipeline(small_config(), o);
  EXPECT_EQ(actions(resumed)[2], "resumed");
  EXPECT_EQ(resumed.stages[2].reason, "interrupted run resumed");
  // With another stamp the leftovers are discarded and the stage starts clean.
  fs::remove(o.out / "03-tasks" / "stage.json");
  write_file_atomic(o.out / "03-tasks" / "started.json", json{{"stamp", "0000000000000000"}}.dump());
  write_file_atomic(o.out / "03-tasks" / "leftover.txt", std::string("x"));
  EXPECT_EQ(actions(run_pipeline(small_config(), o))[2], "ran");
  EXPECT_FALSE(fs::exists(o.out / "03-tasks" / "leftover.txt"));
  // --only a stage whose upstream is stale is refused, naming the stage.
  PipelineOptions only = o;
  only.only = Stage::tasks;
  try {
    run_pipeline(small_config({"data.stride=10"}), only);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--only tasks: stage 'data' before it is not complete"), std::string::npos);
  }
  const auto just = run_pipeline(small_config(), only);
  EXPECT_EQ(actions(just)[0], "not run");
  EXPECT_EQ(actions(just)[2], "skipped");
}

TEST(PipelineRun, ASecondPipelineInTheSameRunDirectoryIsRefused) {
  const auto dir = test::scratch_dir("pipeline_lock");
  fs::create_directories(dir / "run");
  const int fd = ::open((dir / "run" / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running pipeline holds it
  PipelineOptions o;
  o.out = dir / "run";
  o.progress = false;
  try {
    run_pipeline(small_config(), o);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another spikeline pipeline is running"), std::string::npos);
  }
  ::close(fd);
  EXPECT_EQ(actions(run_pipeline(small_config(), o))[0], "ran");
}

TEST(PipelineRun, DisabledDataAndEncodeStagesStandForTheirConfiguredFiles) {
  const auto dir = test::scratch_dir("pipeline_disabled");
  PipelineOptions o;
  o.out = dir / "first";
  o.progress = false;
  run_pipeline(small_config(), o);
  const std::string windows = (o.out / "01-data" / "windows.npz").string();
  o.out = dir / "second";
  const auto r = run_pipeline(small_config({"data.enabled=false", "data.windows=" + windows}), o);
  EXPECT_EQ(actions(r)[0], "disabled");
  EXPECT_EQ(actions(r)[1], "ran");
  EXPECT_EQ(r.results["data"]["windows"], windows);
  EXPECT_EQ(actions(run_pipeline(small_config({"data.enabled=false", "data.windows=" + windows}), o))[1], "skipped");
  // The file the disabled stage stands for is part of the next stage's stamp.
  fs::last_write_time(windows, fs::last_write_time(windows) + std::chrono::seconds(3));
  EXPECT_EQ(actions(run_pipeline(small_config({"data.enabled=false", "data.windows=" + windows}), o))[1], "ran");
}

TEST(PipelineRun, AMovedRunDirectoryReadsItsOutputsFromTheNewPlace) {
  const auto dir = test::scratch_dir("pipeline_moved");
  PipelineOptions o;
  o.out = dir / "run";
  o.progress = false;
  run_pipeline(small_config(), o);
  fs::rename(dir / "run", dir / "moved");
  o.out = dir / "moved";
  const auto again = run_pipeline(small_config(), o);
  EXPECT_EQ(actions(again)[1], "skipped");
  const std::string moved = fs::absolute(dir / "moved").lexically_normal().string();
  EXPECT_EQ(again.results["encode"]["spikes"], moved + "/02-encode/spikes.npz");
  // The task stage runs again and reads the skipped encode stage's output where it is now (the old
  // place no longer exists).
  const auto rerun = run_pipeline(small_config({"tasks.k=3"}), o);
  EXPECT_EQ(actions(rerun)[1], "skipped");
  EXPECT_EQ(actions(rerun)[2], "ran");
  EXPECT_EQ(rerun.results["tasks"]["classes"].size(), 3u);
  EXPECT_FALSE(fs::exists(dir / "run"));
  // Strings that only share a prefix with the run directory are left alone.
  StageRecord r{"0123456789abcdef", "fedcba9876543210", 1.0, "2026-01-01T00:00:00.000Z",
                {{"inside", moved + "/x"}, {"sibling", moved + "-other/x"}, {"list", {moved}}}};
  fs::create_directories(dir / "moved" / "09-extra");
  write_record(dir / "moved" / "09-extra", r);
  fs::rename(dir / "moved", dir / "again");
  const std::string again_dir = fs::absolute(dir / "again").lexically_normal().string();
  const auto back = read_record(dir / "again" / "09-extra");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->result["inside"], again_dir + "/x");
  EXPECT_EQ(back->result["sibling"], moved + "-other/x");
  EXPECT_EQ(back->result["list"][0], again_dir);
}

}  // namespace
}  // namespace spikeline::pipeline
