// The trial protocol's records and file channel (ids, parameter.cfg, "ME" metric frames, the C++
// client) and the experiment store (round trips, queries, revisions, read-only access).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/client.hpp"
#include "spikeline/hpo/store.hpp"
#include "spikeline/hpo/trial_protocol.hpp"
#include "support/cli.hpp"

namespace spikeline::hpo {
namespace {

using ojson = nlohmann::ordered_json;

TEST(HpoProtocol, IdsHaveNnisShapes) {
  Rng rng(3);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto e = make_experiment_id(rng);
    ASSERT_EQ(e.size(), 8u);
    EXPECT_EQ(std::set<char>(e.begin(), e.end()).size(), 8u) << e;  // distinct characters
    for (char c : e) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << e;
    const auto t = make_trial_id(rng);
    ASSERT_EQ(t.size(), 5u);
    EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(t[0]))) << t;
    for (char c : t) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << t;
    seen.insert(e);
  }
  EXPECT_GT(seen.size(), 195u);
}

TEST(HpoProtocol, ParameterRecordIsNnisTextWithPythonFloats) {
  const ojson params = ojson::parse(R"({"tau_mem": 0.6900000000000001, "n": 64, "arch": "ff"})");
  EXPECT_EQ(parameter_record(3, params),
            R"({"parameter_id": 3, "parameter_source": "algorithm", "parameters": {"tau_mem": 0.6900000000000001, )"
            R"("n": 64, "arch": "ff"}, "parameter_index": 0})");
  EXPECT_EQ(parameter_record(std::nullopt, ojson::object(), "customized"),
            R"({"parameter_id": null, "parameter_source": "customized", "parameters": {}, "parameter_index": 0})");
}

TEST(HpoProtocol, MetricFramesRoundTripAndPartialFramesWait) {
  MetricReport a{4, "abcDE", "PERIODICAL", 0, R"({"default": 0.5, "loss": 1.25})"};
  MetricReport b{4, "abcDE", "FINAL", 0, "0.75"};
  const std::string fa = metric_frame(a), fb = metric_frame(b);
  const std::string rec = R"({"parameter_id": 4, "trial_job_id": "abcDE", "type": "PERIODICAL", "sequence": 0, )"
                          R"("value": "{\"default\": 0.5, \"loss\": 1.25}"})";
  EXPECT_EQ(fa, "ME" + std::string(6 - std::to_string(rec.size()).size(), '0') + std::to_string(rec.size()) + rec + "\n");
  const std::string all = fa + fb;
  const auto p = parse_metric_frames(all);
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.reports.size(), 2u);
  EXPECT_EQ(p.consumed, all.size());
  EXPECT_EQ(p.reports[0].value, a.value);
  EXPECT_EQ(p.reports[1].type, "FINAL");
  EXPECT_EQ(*p.reports[1].parameter_id, 4);
  // Every cut inside the second frame leaves it for later, never a half record; the newline
  // after a complete frame may come later.
  EXPECT_EQ(parse_metric_frames(std::string_view(all).substr(0, all.size() - 1)).reports.size(), 2u);
  for (std::size_t cut = fa.size(); cut < all.size() - 1; ++cut) {
    const auto q = parse_metric_frames(std::string_view(all).substr(0, cut));
    EXPECT_EQ(q.error, "") << cut;
    ASSERT_EQ(q.reports.size(), 1u) << cut;
  }
  // Malformed: wrong magic, bad length, not JSON, wrong type; the good frame before still counts.
  for (const std::string bad : {"XX000002{}\n", "ME00a002{}\n", "ME000003{x}\n", "ME000002{}\n",
                                R"(ME000044{"type": "OTHER", "sequence": 0, "value": 1})"}) {
    const auto q = parse_metric_frames(fa + bad);
    EXPECT_NE(q.error, "") << bad;
    EXPECT_EQ(q.reports.size(), 1u) << bad;
    EXPECT_EQ(q.consumed, fa.size()) << bad;
  }
}

// Sets the NNI variables for one test and removes them after.
struct NniEnv {
  explicit NniEnv(const std::filesystem::path& dir) {
    setenv("NNI_PLATFORM", "local", 1);
    setenv("NNI_EXP_ID", "abcdefgh", 1);
    setenv("NNI_TRIAL_JOB_ID", "Xy12z", 1);
    setenv("NNI_TRIAL_SEQ_ID", "7", 1);
    setenv("NNI_SYS_DIR", dir.c_str(), 1);
  }
  ~NniEnv() {
    for (const char* v : {"NNI_PLATFORM", "NNI_EXP_ID", "NNI_TRIAL_JOB_ID", "NNI_TRIAL_SEQ_ID", "NNI_SYS_DIR"}) unsetenv(v);
  }
};

TEST(HpoClient, StandaloneGivesEmptyParametersAndReportsNothing) {
  unsetenv("NNI_PLATFORM");
  EXPECT_EQ(get_next_parameter(), ojson::object());
  EXPECT_EQ(get_experiment_id(), "STANDALONE");
  EXPECT_EQ(get_trial_id(), "STANDALONE");
  EXPECT_EQ(get_sequence_id(), 0);
  report_final_result(0.5);  // only logged
}

TEST(HpoClient, FileChannelParametersAndNumberedReports) {
  const auto dir = test::scratch_dir("hpo_client");
  NniEnv env(dir);
  write_file_atomic(dir / "parameter.cfg", parameter_record(12, ojson::parse(R"({"x": 0.25})")));
  EXPECT_EQ(get_next_parameter(), ojson::parse(R"({"x": 0.25})"));
  EXPECT_EQ(get_experiment_id(), "abcdefgh");
  EXPECT_EQ(get_trial_id(), "Xy12z");
  EXPECT_EQ(get_sequence_id(), 7);
  report_intermediate_result(0.1);
  report_intermediate_result({{"default", 0.2}, {"loss", 3}});
  report_final_result({{"default", 0.3}});
  EXPECT_THROW(report_final_result("text"), InputError);
  EXPECT_THROW(report_intermediate_result({{"loss", 1}}), InputError);
  const auto p = parse_metric_frames(read_file_text(dir / ".nni/metrics"));
  ASSERT_EQ(p.reports.size(), 3u);
  EXPECT_EQ(p.reports[0].sequence, 0);
  EXPECT_EQ(p.reports[1].sequence, 1);
  EXPECT_EQ(p.reports[1].value, R"({"default": 0.2, "loss": 3})");
  EXPECT_EQ(p.reports[2].type, "FINAL");
  EXPECT_EQ(p.reports[2].sequence, 0);
  for (const auto& r : p.reports) {
    EXPECT_EQ(*r.parameter_id, 12);
    EXPECT_EQ(r.trial_job_id, "Xy12z");
  }
}

TEST(HpoClient, MissingParameterFileIsAClearError) {
  const auto dir = test::scratch_dir("hpo_client_missing");
  NniEnv env(dir);
  try {
    TrialClient::from_environment().get_next_parameter(std::chrono::milliseconds(60));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("parameter.cfg: no parameters"), std::string::npos) << e.what();
  }
}

ExperimentRecord sample_experiment() {
  ExperimentRecord e;
  e.id = "abcd1234";
  e.name = "demo";
  e.config = ojson::parse(R"({"trialCommand": "true", "b": 1, "a": 2})");
  e.search_space = ojson::parse(R"({"z": {"_type": "choice", "_value": [1]}, "a": {"_type": "choice", "_value": [2]}})");
  e.status = status::kInitialized;
  e.start_time = 1000;
  e.max_trial_number = 20;
  e.max_duration_s = 3600;
  e.concurrency = 2;
  e.optimize_mode = "maximize";
  e.tuner = "Anneal";
  e.assessor = "Medianstop";
  return e;
}

TrialRecord sample_trial(std::int64_t seq, const char* status, std::optional<double> final_value) {
  TrialRecord t;
  t.sequence_id = seq;
  t.trial_id = "T" + std::to_string(1000 + seq);
  t.parameter_id = seq;
  t.parameters = ojson::parse(R"({"z": 1, "a": 0.6900000000000001})");
  t.status = status;
  t.submit_time = 10 + seq;
  t.start_time = 20 + seq;
  t.end_time = final_value ? 100 + seq : 0;
  t.final_value = final_value;
  t.final_metric = final_value ? std::to_string(*final_value) : "";
  t.dir = "/tmp/t" + std::to_string(seq);
  t.command = "echo 'hi'";
  t.handle = "local:1:2";
  return t;
}

TEST(HpoStore, RoundTripsAndQueries) {
  const auto dir = test::scratch_dir("hpo_store") / "abcd1234";
  auto w = Store::create(dir, sample_experiment());
  EXPECT_THROW(Store::create(dir, sample_experiment()), InputError);
  const auto r0 = w.revision();
  w.insert_trial(sample_trial(0, trial_status::kSucceeded, 0.5));
  w.insert_trial(sample_trial(1, trial_status::kFailed, std::nullopt));
  w.insert_trial(sample_trial(2, trial_status::kSucceeded, 0.75));
  {
    Store::Transaction tx(w);
    auto t = sample_trial(3, trial_status::kRunning, std::nullopt);
    t.exit_code = 0;
    t.latest_value = -1.5;
    t.intermediate_count = 2;
    w.insert_trial(t);
    EXPECT_TRUE(w.insert_metric({t.trial_id, "PERIODICAL", 0, 0.5, R"({"default": 0.5})", 7}));
    EXPECT_TRUE(w.insert_metric({t.trial_id, "PERIODICAL", 1, -1.5, "-1.5", 8}));
    EXPECT_FALSE(w.insert_metric({t.trial_id, "PERIODICAL", 1, 9.0, "9", 9}));  // already there
    EXPECT_TRUE(w.insert_metric({t.trial_id, "FINAL", 0, std::nullopt, R"({"x": 1})", 9}));
    tx.commit();
  }
  {
    Store::Transaction tx(w);
    w.insert_trial(sample_trial(9, trial_status::kRunning, std::nullopt));
    // no commit: rolled back
  }
  w.set_status(status::kRunning);
  w.add_event("T1003", "RUNNING", "attempt 1");
  w.add_tuner_call({0, "generate", 0, ojson::parse(R"({"z": 1})"), 0.0, false});
  w.add_tuner_call({0, "generate", 1, std::nullopt, 0.0, false});
  w.add_tuner_call({0, "receive_result", 0, ojson::parse(R"({"z": 1})"), 0.5, true});
  EXPECT_EQ(w.revision(), r0 + 9);  // one per write transaction (3 + 1 + 1 + 1 + 3)

  const auto r = Store::open_read_only(dir);
  EXPECT_EQ(r.revision(), w.revision());
  const auto e = r.experiment();
  const auto s = sample_experiment();
  EXPECT_EQ(e.id, s.id);
  EXPECT_EQ(e.config.dump(), s.config.dump());  // key order kept
  EXPECT_EQ(e.search_space.dump(), s.search_space.dump());
  EXPECT_EQ(e.status, status::kRunning);
  EXPECT_EQ(e.max_trial_number, 20);
  EXPECT_EQ(e.max_duration_s, 3600);
  EXPECT_EQ(e.assessor, "Medianstop");

  const auto trials = r.trials();
  ASSERT_EQ(trials.size(), 4u);
  const auto& t3 = trials[3];
  EXPECT_EQ(t3.trial_id, "T1003");
  EXPECT_EQ(t3.parameters.dump(), R"({"z":1,"a":0.6900000000000001})");
  EXPECT_EQ(*t3.exit_code, 0);
  EXPECT_EQ(*t3.latest_value, -1.5);
  EXPECT_EQ(t3.command, "echo 'hi'");
  EXPECT_FALSE(trials[1].final_value.has_value());
  EXPECT_FALSE(trials[1].exit_code.has_value());
  EXPECT_FALSE(r.trial("T1009").has_value());
  EXPECT_EQ(r.trial("T1002")->final_value, 0.75);

  const auto m = r.metrics("T1003");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].type, "PERIODICAL");
  EXPECT_EQ(*m[1].value, -1.5);
  EXPECT_EQ(m[2].type, "FINAL");
  EXPECT_FALSE(m[2].value.has_value());
  EXPECT_EQ(r.all_metrics("FINAL").size(), 1u);

  const auto counts = r.status_counts();
  EXPECT_EQ(counts.at("SUCCEEDED"), 2);
  EXPECT_EQ(counts.at("FAILED"), 1);
  EXPECT_EQ(r.count_trials({"SUCCEEDED", "RUNNING"}), 3);

  TrialQuery q;
  q.sort_by = "final_value";
  q.descending = true;
  auto by_value = r.query_trials(q);
  ASSERT_EQ(by_value.size(), 4u);
  EXPECT_EQ(by_value[0].sequence_id, 2);
  EXPECT_EQ(by_value[1].sequence_id, 0);  // then the ones without a value, last
  q.descending = false;
  EXPECT_EQ(r.query_trials(q)[0].sequence_id, 0);
  q.statuses = {"SUCCEEDED"};
  q.offset = 1;
  q.limit = 1;
  by_value = r.query_trials(q);
  ASSERT_EQ(by_value.size(), 1u);
  EXPECT_EQ(by_value[0].sequence_id, 2);
  q.sort_by = "nonsense";
  EXPECT_THROW(r.query_trials(q), InputError);

  const auto ev = r.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "RUNNING");
  EXPECT_TRUE(r.events(ev[0].id).empty());
  const auto calls = w.tuner_calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_FALSE(calls[1].parameters.has_value());
  EXPECT_EQ(calls[2].value, 0.5);

  // Updates are visible to an open reader.
  auto t0 = *r.trial("T1000");
  t0.status = trial_status::kEarlyStopped;
  t0.message = "why";
  w.update_trial(t0);
  EXPECT_EQ(r.trial("T1000")->status, "EARLY_STOPPED");
  EXPECT_EQ(r.trial("T1000")->message, "why");
  w.delete_metrics("T1003");
  EXPECT_TRUE(r.metrics("T1003").empty());
  EXPECT_THROW(Store::open_read_only(dir.parent_path()), InputError);
}

}  // namespace
}  // namespace spikeline::hpo
