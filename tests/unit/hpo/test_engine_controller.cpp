// The local executor and the controller's lifecycle with real shell trials: every trial status
// (succeeded, failed, crashed by a signal, early-stopped by a scripted assessor, max trial
// duration), stop, TUNER_NO_MORE_TRIAL, the experiment duration, and resume after a (simulated)
// controller crash: trials that ended meanwhile are collected, lost ones re-queued.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/controller.hpp"
#include "spikeline/hpo/executor.hpp"
#include "spikeline/hpo/trial_protocol.hpp"
#include "support/cli.hpp"

namespace spikeline::hpo {
namespace {

using ojson = nlohmann::ordered_json;
using namespace std::chrono_literals;

// What the fake algorithms were told, in order.
struct CallLog {
  std::vector<std::string> tuner, assessor;
};

// Proposes {"x": parameter_id} for ids below `limit`, then has no more.
class FakeTuner final : public Tuner {
 public:
  FakeTuner(CallLog* log, std::int64_t limit, std::function<void(std::int64_t)> on_generate = {})
      : log_(log), limit_(limit), on_generate_(std::move(on_generate)) {}
  std::optional<Parameters> generate(std::int64_t id) override {
    log_->tuner.push_back("generate " + std::to_string(id));
    if (on_generate_) on_generate_(id);
    if (id >= limit_) return std::nullopt;
    return Parameters{{"x", id}};
  }
  void receive_result(std::int64_t id, const Parameters& p, double value) override {
    log_->tuner.push_back("result " + std::to_string(id) + " " + p.dump() + " " + std::to_string(value));
  }
  void trial_end(std::int64_t id, bool ok) override {
    log_->tuner.push_back("end " + std::to_string(id) + (ok ? " ok" : " failed"));
  }
  std::string name() const override { return "Fake"; }

 private:
  CallLog* log_;
  std::int64_t limit_;
  std::function<void(std::int64_t)> on_generate_;
};

// Stops a trial as soon as it reports a negative value.
class FakeAssessor final : public Assessor {
 public:
  explicit FakeAssessor(CallLog* log) : log_(log) {}
  Verdict assess(const std::string& id, std::span<const double> h) override {
    log_->assessor.push_back("assess " + id + " " + std::to_string(h.size()));
    return h.back() < 0 ? Verdict::Bad : Verdict::Good;
  }
  void trial_end(const std::string& id, bool ok, std::span<const double> h) override {
    log_->assessor.push_back("end " + id + (ok ? " ok " : " failed ") + std::to_string(h.size()));
  }
  std::string name() const override { return "Fake"; }

 private:
  CallLog* log_;
};

ExperimentConfig shell_config(const std::string& command, const std::filesystem::path& code_dir, std::int64_t max_trials,
                              int concurrency) {
  ExperimentConfig c;
  c.trial_command = command;
  c.code_dir = code_dir;
  c.search_space = ojson::parse(R"({"x": {"_type": "randint", "_value": [0, 1000]}})");
  c.tuner = {"Random", ojson::object()};
  c.max_trial_number = max_trials;
  c.concurrency = concurrency;
  return c;
}

ControllerOptions fake_options(CallLog* log, std::int64_t limit = 1000) {
  ControllerOptions o;
  o.make_tuner = [log, limit] { return std::make_unique<FakeTuner>(log, limit); };
  o.make_assessor = [log] { return std::make_unique<FakeAssessor>(log); };
  o.poll_interval = 20ms;
  o.kill_grace_s = 2.0;
  return o;
}

std::string cli() { return shell_quote(test::cli_path().string()); }

std::map<std::string, std::string> read_env_file(const std::filesystem::path& p) {
  std::map<std::string, std::string> env;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (const auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

TEST(HpoExecutor, ExitStatusFilesAndReattach) {
  const auto dir = test::scratch_dir("hpo_exec");
  auto a = make_local_executor();
  TrialLaunch l;
  l.trial_id = "Aaaaa";
  l.command = "echo out; echo err >&2; exit 5";
  l.trial_dir = dir / "a";
  l.code_dir = dir;
  std::filesystem::create_directories(l.trial_dir);
  a->submit(l);
  std::vector<TrialExit> exits;
  for (int i = 0; i < 100 && exits.empty(); ++i) exits = a->wait(100ms);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].trial_id, "Aaaaa");
  EXPECT_EQ(*exits[0].exit_code, 5);
  EXPECT_EQ(read_file_text(l.trial_dir / "trial.stdout"), "out\n");
  EXPECT_EQ(read_file_text(l.trial_dir / "trial.stderr"), "err\n");
  EXPECT_EQ(*read_exit_code(l.trial_dir), 5);
  EXPECT_EQ(a->tracked(), 0u);

  // Another executor (a restarted controller) re-attaches by handle and sees the exit.
  l.trial_id = "Bbbbb";
  l.command = "sleep 0.3";
  l.trial_dir = dir / "b";
  std::filesystem::create_directories(l.trial_dir);
  const auto handle = a->submit(l);
  auto b = make_local_executor();
  ASSERT_TRUE(b->attach("Bbbbb", handle, l.trial_dir));
  EXPECT_FALSE(b->attach("Ccccc", "local:999999:1", dir / "c"));
  exits.clear();
  for (int i = 0; i < 100 && exits.empty(); ++i) exits = b->wait(100ms);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(*exits[0].exit_code, 0);
  a->wait(1s);  // the parent reaps its child

  // Interrupt reaches the whole process group; the wrapper still records the status.
  l.trial_id = "Ddddd";
  l.command = "sleep 30";
  l.trial_dir = dir / "d";
  std::filesystem::create_directories(l.trial_dir);
  a->submit(l);
  std::this_thread::sleep_for(100ms);
  a->interrupt("Ddddd");
  exits.clear();
  for (int i = 0; i < 50 && exits.empty(); ++i) exits = a->wait(100ms);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(*exits[0].exit_code, 130);
  EXPECT_NE(exits[0].message.find("signal 2"), std::string::npos) << exits[0].message;
}

TEST(HpoController, EveryTrialStatusFromShellTrials) {
  const auto root = test::scratch_dir("hpo_statuses");
  const auto code = root / "code";
  std::filesystem::create_directories(code);
  const std::string S = cli();
  const std::string cmd =
      "env | grep '^NNI_' > \"$NNI_OUTPUT_DIR/env.txt\"; pwd > \"$NNI_OUTPUT_DIR/pwd.txt\"; "
      "case $NNI_TRIAL_SEQ_ID in "
      "0) " + S + " hpo report --intermediate 0.5 && " + S + " hpo report --final '{\"default\": 0.7, \"acc\": 1}' ;; "
      "1) exit 3 ;; "
      "2) kill -SEGV $$ ;; "
      "3) " + S + " hpo report --intermediate -1; sleep 30 ;; "
      "4) sleep 30 ;; esac";
  auto config = shell_config(cmd, code, 5, 2);
  config.max_trial_duration_s = 1;
  const auto id = create_experiment(config, root / "exps");
  const auto dir = root / "exps" / id;
  CallLog log;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_experiment(dir, fake_options(&log)), status::kDone);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);

  const auto store = Store::open_read_only(dir);
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 5u);
  EXPECT_EQ(trials[0].status, trial_status::kSucceeded);
  EXPECT_EQ(*trials[0].final_value, 0.7);
  EXPECT_EQ(trials[0].final_metric, R"({"default": 0.7, "acc": 1})");
  EXPECT_EQ(trials[0].intermediate_count, 1);
  EXPECT_EQ(trials[1].status, trial_status::kFailed);
  EXPECT_EQ(*trials[1].exit_code, 3);
  EXPECT_EQ(trials[2].status, trial_status::kFailed);
  EXPECT_EQ(*trials[2].exit_code, 139);
  EXPECT_NE(trials[2].message.find("signal 11"), std::string::npos) << trials[2].message;
  EXPECT_EQ(trials[3].status, trial_status::kEarlyStopped);
  EXPECT_NE(trials[3].message.find("assessor"), std::string::npos) << trials[3].message;
  EXPECT_EQ(trials[4].status, trial_status::kEarlyStopped);
  EXPECT_NE(trials[4].message.find("max trial duration"), std::string::npos) << trials[4].message;
  for (const auto& t : trials) {
    EXPECT_GT(t.end_time, 0);
    EXPECT_EQ(t.attempt, 1);
    EXPECT_EQ(*t.parameter_id, t.sequence_id);
    EXPECT_EQ(read_file_text(std::filesystem::path(t.dir) / "parameter.cfg"),
              parameter_record(t.sequence_id, ojson{{"x", t.sequence_id}}));
    const auto env = read_env_file(std::filesystem::path(t.dir) / "env.txt");
    EXPECT_EQ(env.at("NNI_PLATFORM"), "local");
    EXPECT_EQ(env.at("NNI_EXP_ID"), id);
    EXPECT_EQ(env.at("NNI_TRIAL_JOB_ID"), t.trial_id);
    EXPECT_EQ(env.at("NNI_TRIAL_SEQ_ID"), std::to_string(t.sequence_id));
    EXPECT_EQ(env.at("NNI_SYS_DIR"), t.dir);
    EXPECT_EQ(env.at("NNI_OUTPUT_DIR"), t.dir);
    EXPECT_EQ(env.at("NNI_CODE_DIR"), code.string());
    EXPECT_EQ(read_file_text(std::filesystem::path(t.dir) / "pwd.txt"), code.string() + "\n");
    EXPECT_EQ(std::filesystem::path(t.dir).parent_path(), dir / "trials");
  }
  const auto m = store.metrics(trials[0].trial_id);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].type, "PERIODICAL");
  EXPECT_EQ(*m[0].value, 0.5);
  EXPECT_EQ(m[1].type, "FINAL");
  EXPECT_EQ(store.experiment().status, status::kDone);
  EXPECT_GT(store.experiment().end_time, 0);

  // The tuner heard the final result the moment it came and every end; only #0 succeeded.
  std::vector<std::string> results, ends;
  for (const auto& c : log.tuner) {
    if (c.rfind("result", 0) == 0) results.push_back(c);
    if (c.rfind("end", 0) == 0) ends.push_back(c);
  }
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], "result 0 {\"x\":0} 0.700000");
  EXPECT_EQ(ends.size(), 5u);
  EXPECT_EQ(std::count(ends.begin(), ends.end(), "end 0 ok"), 1);
  EXPECT_EQ(std::count(log.tuner.begin(), log.tuner.end(), "generate 4"), 1);
  EXPECT_EQ(std::count(log.tuner.begin(), log.tuner.end(), "generate 5"), 0);  // maxTrialNumber: no more asks
  EXPECT_EQ(std::count(log.assessor.begin(), log.assessor.end(), "end " + trials[0].trial_id + " ok 1"), 1);
  EXPECT_EQ(std::count(log.assessor.begin(), log.assessor.end(), "assess " + trials[3].trial_id + " 1"), 1);
  // The tuner call log has them all, in order, for resume.
  auto writer = Store::open_writer(dir);
  const auto calls = writer.tuner_calls();
  EXPECT_EQ(std::count_if(calls.begin(), calls.end(), [](const auto& c) { return c.kind == "generate"; }), 5);
  EXPECT_EQ(std::count_if(calls.begin(), calls.end(), [](const auto& c) { return c.kind == "trial_end"; }), 5);
}

TEST(HpoController, RealMedianstopStopsATrialBelowTheMedian) {
  // Medianstop (start_step 1): #0 succeeds with intermediate [1.0]; #1 reports 0.0 < median 1.0 of
  // the succeeded trials' running averages at step 1 and is stopped; #2 reports 2.0 and runs on.
  const auto root = test::scratch_dir("hpo_medianstop");
  const std::string S = cli();
  const std::string cmd = "case $NNI_TRIAL_SEQ_ID in "
                          "0) " + S + " hpo report --intermediate 1.0 && " + S + " hpo report --final 1.0 ;; "
                          "1) " + S + " hpo report --intermediate 0.0; sleep 30 ;; "
                          "2) " + S + " hpo report --intermediate 2.0; sleep 0.3; " + S + " hpo report --final 2.0 ;; esac";
  auto config = shell_config(cmd, root, 3, 1);
  config.assessor = AlgorithmConfig{"Medianstop", ojson{{"optimize_mode", "maximize"}, {"start_step", 1}}};
  const auto id = create_experiment(config, root);
  CallLog log;
  auto o = fake_options(&log);
  o.make_assessor = nullptr;  // the config's Medianstop
  EXPECT_EQ(run_experiment(root / id, o), status::kDone);
  const auto trials = Store::open_read_only(root / id).trials();
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].status, trial_status::kSucceeded);
  EXPECT_EQ(trials[1].status, trial_status::kEarlyStopped);
  EXPECT_NE(trials[1].message.find("Medianstop"), std::string::npos) << trials[1].message;
  EXPECT_EQ(trials[2].status, trial_status::kSucceeded);
}

TEST(HpoController, StopCancelsRunningTrials) {
  const auto root = test::scratch_dir("hpo_stop");
  const auto id = create_experiment(shell_config("sleep 30", root, 10, 2), root);
  CallLog log;
  volatile std::sig_atomic_t stop = 0;
  auto o = fake_options(&log);
  o.stop = &stop;
  // Both slots fill (ids 0, 1) and nothing ends: the stop comes (as from a signal handler) meanwhile.
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(300ms);
    stop = 1;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_experiment(root / id, o), status::kStopped);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  const auto store = Store::open_read_only(root / id);
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, trial_status::kUserCanceled);
    EXPECT_EQ(*t.exit_code, 130);
  }
  EXPECT_EQ(store.experiment().status, status::kStopped);
}

TEST(HpoController, TunerWithNoMoreTrialsFinishesDone) {
  const auto root = test::scratch_dir("hpo_tuner_done");
  const auto id = create_experiment(shell_config("true", root, 10, 3), root);
  CallLog log;
  EXPECT_EQ(run_experiment(root / id, fake_options(&log, 2)), status::kDone);
  const auto store = Store::open_read_only(root / id);
  EXPECT_EQ(store.count_trials({trial_status::kSucceeded}), 2);
  bool saw = false;
  for (const auto& e : store.events()) saw = saw || e.event == status::kTunerNoMoreTrial;
  EXPECT_TRUE(saw);
}

TEST(HpoController, MaxExperimentDurationCountsActiveTime) {
  const auto root = test::scratch_dir("hpo_duration");
  auto config = shell_config("sleep 0.3", root, -1, 1);
  config.max_duration_s = 1;
  const auto id = create_experiment(config, root);
  CallLog log;
  EXPECT_EQ(run_experiment(root / id, fake_options(&log)), status::kDone);
  const auto store = Store::open_read_only(root / id);
  const auto e = store.experiment();
  EXPECT_GE(e.exec_seconds, 1.0);
  EXPECT_LT(e.exec_seconds, 2.0);
  EXPECT_GE(store.count_trials({trial_status::kSucceeded}), 2);  // running trials were not killed
  EXPECT_LE(store.count_trials(), 5);
}

// A store as a crashed controller leaves it: #0 ended meanwhile (exit_code + metrics on disk),
// #1 vanished without a status (lost), #2 waiting.
void simulate_crash(const std::filesystem::path& dir, int attempt_of_lost) {
  auto w = Store::open_writer(dir);
  for (std::int64_t seq = 0; seq < 3; ++seq) {
    TrialRecord t;
    t.sequence_id = seq;
    t.trial_id = "Tr00" + std::to_string(seq);
    t.parameter_id = seq;
    t.parameters = ojson{{"x", seq}};
    t.status = seq == 2 ? trial_status::kWaiting : trial_status::kRunning;
    t.submit_time = now_ms();
    t.start_time = seq == 2 ? 0 : now_ms();
    t.dir = (dir / "trials" / t.trial_id).string();
    t.attempt = seq == 1 ? attempt_of_lost : 1;
    t.handle = "local:999999:1";  // no such process
    w.insert_trial(t);
    w.add_tuner_call({0, "generate", seq, t.parameters, 0, false});
    std::filesystem::create_directories(std::filesystem::path(t.dir) / ".nni");
  }
  const auto d0 = dir / "trials" / "Tr000";
  write_file_atomic(d0 / "exit_code", "0\n");
  write_file_atomic(d0 / ".nni/metrics", metric_frame({0, "Tr000", "PERIODICAL", 0, "0.25"}) +
                                             metric_frame({0, "Tr000", "FINAL", 0, "0.5"}));
  write_file_atomic(dir / "trials" / "Tr001" / "trial.stdout", "first attempt\n");
}

TEST(HpoController, ResumeCollectsEndedTrialsAndRequeuesLostOnes) {
  const auto root = test::scratch_dir("hpo_resume");
  const std::string cmd = cli() + " hpo report --final $NNI_TRIAL_SEQ_ID && echo $NNI_TRIAL_SEQ_ID >> runs.txt";
  const auto id = create_experiment(shell_config(cmd, root, 4, 2), root);
  simulate_crash(root / id, 1);
  CallLog log;
  EXPECT_EQ(run_experiment(root / id, fake_options(&log)), status::kDone);
  const auto store = Store::open_read_only(root / id);
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0].status, trial_status::kSucceeded);  // collected, not re-run
  EXPECT_EQ(*trials[0].final_value, 0.5);
  EXPECT_EQ(trials[0].intermediate_count, 1);
  EXPECT_EQ(trials[0].attempt, 1);
  EXPECT_EQ(trials[1].status, trial_status::kSucceeded);  // re-run as attempt 2
  EXPECT_EQ(trials[1].attempt, 2);
  EXPECT_EQ(*trials[1].final_value, 1.0);
  EXPECT_EQ(read_file_text(std::filesystem::path(trials[1].dir) / "attempt-1" / "trial.stdout"), "first attempt\n");
  EXPECT_EQ(trials[2].status, trial_status::kSucceeded);  // the waiting one ran
  EXPECT_EQ(trials[3].status, trial_status::kSucceeded);  // and one new trial, up to maxTrialNumber
  auto runs = read_file_text(root / "runs.txt");
  std::sort(runs.begin(), runs.end());
  EXPECT_EQ(runs, "\n\n\n123");  // #0 never ran again
  // The fresh tuner was replayed (generate 0..2) before new asks, with no mismatch warning.
  ASSERT_GE(log.tuner.size(), 3u);
  EXPECT_EQ(log.tuner[0], "generate 0");
  EXPECT_EQ(log.tuner[2], "generate 2");
  for (const auto& e : store.events()) EXPECT_NE(e.event, "WARNING") << e.data;
  bool requeued = false;
  for (const auto& e : store.events()) requeued = requeued || (e.event == "REQUEUED" && e.trial_id == "Tr001");
  EXPECT_TRUE(requeued);
}

TEST(HpoController, LostTrialBeyondRetriesIsSysCanceled) {
  const auto root = test::scratch_dir("hpo_retries");
  const auto id = create_experiment(shell_config("true", root, 3, 1), root);
  simulate_crash(root / id, 2);  // max_retries 1: attempt 2 was the last one
  CallLog log;
  EXPECT_EQ(run_experiment(root / id, fake_options(&log)), status::kDone);
  const auto t = *Store::open_read_only(root / id).trial("Tr001");
  EXPECT_EQ(t.status, trial_status::kSysCanceled);
  EXPECT_NE(t.message.find("retries used up"), std::string::npos) << t.message;
}

TEST(HpoController, ReplayMismatchIsAWarning) {
  const auto root = test::scratch_dir("hpo_mismatch");
  const auto id = create_experiment(shell_config("true", root, 1, 1), root);
  {
    auto w = Store::open_writer(root / id);
    w.add_tuner_call({0, "generate", 0, ojson{{"x", 99}}, 0, false});  // the fake would give 0
  }
  CallLog log;
  EXPECT_EQ(run_experiment(root / id, fake_options(&log)), status::kDone);
  int warnings = 0;
  for (const auto& e : Store::open_read_only(root / id).events()) warnings += e.event == "WARNING";
  EXPECT_EQ(warnings, 1);
}

TEST(HpoController, SecondControllerIsRefused) {
  const auto root = test::scratch_dir("hpo_lock");
  const auto id = create_experiment(shell_config("sleep 1", root, 1, 1), root);
  CallLog log;
  std::thread first([&] { run_experiment(root / id, fake_options(&log)); });
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(controller_alive(root / id));
  CallLog log2;
  EXPECT_THROW(run_experiment(root / id, fake_options(&log2)), InputError);
  first.join();
  EXPECT_FALSE(controller_alive(root / id));
}

}  // namespace
}  // namespace spikeline::hpo
