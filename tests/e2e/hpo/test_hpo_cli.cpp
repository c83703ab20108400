// End-to-end: `spikeline hpo` through the real binary. A 20-trial x 5-epoch built-in training
// experiment at concurrency 2 from one command, whose best checkpoint `spikeline evaluate`
// accepts; kill -9 of a background controller at a seeded random moment and `hpo resume`, with
// no finished trial lost or repeated; stop, list, status, export, report and params.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/hpo/store.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

#include <httplib.h>

namespace spikeline {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Two classes told apart by which channel group fires more (as in the train e2e test), small.
void write_spike_set(const std::filesystem::path& path) {
  test::write_separable_spike_set(path, {{'A', "walking"}, {'D', "sitting"}});
}

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(HpoCli, TwentyTrainingTrialsAtConcurrencyTwoThenTheBestCheckpointEvaluates) {
  const auto dir = test::scratch_dir("hpo_e2e_train");
  write_spike_set(dir / "spikes.npz");
  test::write_text(dir / "train.json", R"({
  "data": {"file": "spikes.npz"},
  "model": {"architecture": "ff_simple", "hidden": 8,
            "neuron": {"tau_mem": 0.081, "tau_syn": 0.077, "spike_fn": "periodic_exponential"}},
  "optim": {"lr": 0.01},
  "batch_size": 64, "epochs": 50, "seed": 5, "threads": 1
})");
  test::write_text(dir / "exp.yaml", R"(experimentName: e2e
trial:
  spikeline_train: train.json
  map: {architecture: model.architecture, tau_mem: model.neuron.tau_mem, n_population: model.hidden}
  set: {epochs: 5}
searchSpace:
  architecture: {_type: choice, _value: [ff_simple, ff_deep]}
  tau_mem: {_type: qloguniform, _value: [0.02, 0.2, 0.001]}
  n_population: {_type: choice, _value: [4, 8, 16]}
tuner: {name: Anneal, classArgs: {optimize_mode: maximize}}
assessor: {name: Medianstop, classArgs: {optimize_mode: maximize, start_step: 3}}
maxTrialNumber: 20
trialConcurrency: 2
seed: 3
)");
  const auto start = std::chrono::steady_clock::now();
  const auto r = test::run_cli("hpo run --config " + q(dir / "exp.yaml") + " --root " + q(dir / "exps") + " --foreground", dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::printf("20 trials x 5 epochs, concurrency 2: %.1f s\n", seconds);
  const auto id = r.out.substr(r.out.find("experiment ") + 11, 8);

  const auto store = hpo::Store::open_read_only(dir / "exps" / id);
  EXPECT_EQ(store.experiment().status, "DONE");
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 20u);
  int succeeded = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(t.status == "SUCCEEDED" || t.status == "EARLY_STOPPED") << t.status << " " << t.message;
    if (t.status != "SUCCEEDED") continue;
    ++succeeded;
    EXPECT_EQ(t.intermediate_count, 5);  // one report per epoch
    ASSERT_TRUE(t.final_value.has_value());
    double best = 0;  // the final result is the best validation accuracy of the epochs
    for (const auto& m : store.metrics(t.trial_id))
      if (m.type == "PERIODICAL") best = std::max(best, *m.value);
    EXPECT_DOUBLE_EQ(*t.final_value, best);
    EXPECT_NE(t.command.find("--set 'model.neuron.tau_mem="), std::string::npos) << t.command;
    // Architecture search: the trial's network is the architecture it was given.
    const auto arch = t.parameters["architecture"].get<std::string>();
    EXPECT_NE(t.command.find("--set 'model.architecture=\"" + arch + "\"'"), std::string::npos) << t.command;
    const auto resolved = nlohmann::json::parse(read_file_text(std::filesystem::path(t.dir) / "checkpoint" / "config.json"));
    EXPECT_EQ(resolved["model"]["architecture"], arch);
  }
  EXPECT_GE(succeeded, 5);

  const auto b = test::run_cli("hpo best " + id + " --root " + q(dir / "exps") + " --json", dir);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto best = test::parse_stdout_json(b);
  ASSERT_TRUE(best["checkpoint"].is_string()) << b.out;
  EXPECT_EQ(best["status"], "SUCCEEDED");
  for (const auto& t : trials)
    if (t.status == "SUCCEEDED") EXPECT_LE(*t.final_value, best["final_value"].get<double>());
  EXPECT_GT(best["final_value"].get<double>(), 0.6);  // well above chance (0.5) on this easy set
  const auto ev = test::run_cli("evaluate --checkpoint " + q(best["checkpoint"].get<std::string>()) +
                                    " --data " + q(dir / "spikes.npz") + " --split val --format json",
                                dir);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const auto evj = test::parse_stdout_json(ev);
  // The checkpoint is the epoch with the best validation accuracy: evaluate reproduces it.
  EXPECT_NEAR(evj["accuracy"].get<double>(), best["final_value"].get<double>(), 1e-9);
}

// Polls `hpo status --json` until `pred` holds or `timeout` passes.
json wait_status(const std::string& id, const std::filesystem::path& root, const std::filesystem::path& dir,
                 const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  json s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = test::run_cli("hpo status " + id + " --root " + q(root) + " --json", dir);
    if (r.exit_code == 0) {
      s = json::parse(r.out);
      if (pred(s)) return s;
    }
    std::this_thread::sleep_for(50ms);
  }
  return s;
}

TEST(HpoCli, KillNineOfTheControllerThenResumeLosesAndRepeatsNothing) {
  const auto dir = test::scratch_dir("hpo_e2e_kill");
  const std::string S = q(test::cli_path());
  // Each trial sleeps a little, reports its sequence id and appends it to runs.txt once done.
  test::write_text(dir / "exp.json", json{{"trialCommand", "sleep 0.$((NNI_TRIAL_SEQ_ID % 3 + 1)) && " + S +
                                                               " hpo report --final $NNI_TRIAL_SEQ_ID && echo "
                                                               "$NNI_TRIAL_SEQ_ID >> runs.txt"},
                                          {"trialCodeDirectory", "."},
                                          {"searchSpace", {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}}},
                                          {"tuner", {{"name", "Random"}, {"classArgs", {{"seed", 1}}}}},
                                          {"maxTrialNumber", 12},
                                          {"trialConcurrency", 2}}
                                         .dump());
  const auto root = dir / "exps";
  const auto r = test::run_cli("hpo run --config " + q(dir / "exp.json") + " --root " + q(root), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = r.out.substr(0, 8);
  // A seeded random moment in the run (which takes about 1.5 s).
  Rng rng(20261126);
  const auto delay = std::chrono::milliseconds(150 + rng.below(1300));
  const auto before = hpo::Store::open_read_only(root / id);
  std::int64_t pid = 0;  // the background controller records its pid when it starts
  for (int i = 0; i < 500 && pid == 0; ++i) {
    pid = before.experiment().controller_pid;
    if (pid == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(pid, 0);
  std::this_thread::sleep_for(delay);
  ::kill(static_cast<pid_t>(pid), SIGKILL);  // (on a very slow machine it may have ended already)
  std::this_thread::sleep_for(50ms);
  std::map<std::string, hpo::TrialRecord> finished;
  for (const auto& t : before.trials())
    if (t.end_time > 0) finished[t.trial_id] = t;
  std::printf("killed the controller after %lld ms with %zu trials finished\n", static_cast<long long>(delay.count()),
              finished.size());

  const auto res = test::run_cli("hpo resume " + id + " --root " + q(root) + " --foreground", dir);
  ASSERT_EQ(res.exit_code, 0) << res.out << res.err;
  const auto after = hpo::Store::open_read_only(root / id);
  EXPECT_EQ(after.experiment().status, "DONE");
  const auto trials = after.trials();
  ASSERT_EQ(trials.size(), 12u);
  std::set<std::string> values;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, "SUCCEEDED") << t.trial_id << " " << t.message;
    EXPECT_EQ(*t.final_value, static_cast<double>(t.sequence_id));
    if (finished.count(t.trial_id)) {  // finished before the kill: untouched
      EXPECT_EQ(t.end_time, finished[t.trial_id].end_time);
      EXPECT_EQ(t.attempt, 1);
    }
  }
  // Every trial command ran to the end exactly once: trials outlive the controller and are
  // re-attached (or collected from their exit_code file), never started again.
  std::ifstream runs(dir / "runs.txt");
  std::multiset<int> seqs;
  for (int s; runs >> s;) seqs.insert(s);
  EXPECT_EQ(seqs.size(), 12u);
  for (int s = 0; s < 12; ++s) EXPECT_EQ(seqs.count(s), 1u) << s;
  for (const auto& e : after.events()) EXPECT_NE(e.event, "WARNING") << e.data;  // the tuner replay matched
}

TEST(HpoCli, StopStatusListExportReportAndParams) {
  const auto dir = test::scratch_dir("hpo_e2e_misc");
  const auto root = dir / "exps";
  const std::string S = q(test::cli_path());
  test::write_text(dir / "exp.json",
                   json{{"trial_command", "case $NNI_TRIAL_SEQ_ID in 0|1) " + S + " hpo report --final \"{\\\"default\\\": "
                                          "0.$NNI_TRIAL_SEQ_ID, \\\"f1\\\": 0.5}\";; *) sleep 30;; esac"},
                        {"search_space", {{"lr", {{"_type", "choice"}, {"_value", {0.1, 0.2}}}}}},
                        {"max_trial_number", 4},
                        {"trialConcurrency", 2}}
                       .dump());
  auto r = test::run_cli("hpo run --config " + q(dir / "exp.json") + " --root " + q(root) + " --host 0.0.0.0", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--allow-remote"), std::string::npos) << r.err;
  r = test::run_cli("hpo run --config " + q(dir / "exp.json") + " --root " + q(root), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = r.out.substr(0, 8);
  // The detached controller serves the dashboard on a free port and the URL is printed.
  const auto url_at = r.out.find("Dashboard: http://127.0.0.1:");
  ASSERT_NE(url_at, std::string::npos) << r.out;
  const int port = std::stoi(r.out.substr(url_at + 28));
  EXPECT_EQ(hpo::Store::open_read_only(root / id).experiment().port, port);
  {
    httplib::Client client("127.0.0.1", port);
    const auto res = client.Get("/api/v1/experiments");
    ASSERT_TRUE(res) << "dashboard not reachable on port " << port;
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find(id), std::string::npos) << res->body;
  }
  const auto s = wait_status(id, root, dir, [](const json& j) { return j["counts"].value("RUNNING", 0) == 2 &&
                                                                      j["counts"].value("SUCCEEDED", 0) == 2; },
                             10s);
  ASSERT_EQ(s["counts"].value("RUNNING", 0), 2) << s.dump();
  EXPECT_TRUE(s["controller_running"].get<bool>());
  EXPECT_EQ(s["tuner"], "Anneal");  // the thesis format's defaults
  EXPECT_EQ(s["best"]["sequence_id"], 1);
  r = test::run_cli("hpo resume " + id + " --root " + q(root), dir);
  EXPECT_EQ(r.exit_code, 2);  // it is running
  r = test::run_cli("hpo stop " + id + " --root " + q(root), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "STOPPED\n");
  const auto st = hpo::Store::open_read_only(root / id);
  EXPECT_EQ(st.count_trials({"USER_CANCELED"}), 2);

  r = test::run_cli("hpo list --root " + q(root) + " --json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = test::parse_stdout_json(r);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["status"], "STOPPED");
  r = test::run_cli("hpo list --root " + q(root), dir);
  EXPECT_NE(r.out.find(id), std::string::npos);
  r = test::run_cli("hpo status " + id + " --root " + q(root), dir);
  EXPECT_NE(r.out.find("STOPPED"), std::string::npos) << r.out;

  r = test::run_cli("hpo export " + id + " --root " + q(root) + " --format json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto exported = test::parse_stdout_json(r);
  ASSERT_EQ(exported.size(), 2u);  // SUCCEEDED trials with a final result, NNI's format
  EXPECT_EQ(exported[1]["value"], "{\"default\": 0.1, \"f1\": 0.5}");
  EXPECT_TRUE(exported[1]["parameter"].contains("lr"));
  EXPECT_EQ(exported[1]["trialJobId"], st.trials()[1].trial_id);
  r = test::run_cli("hpo export " + id + " --root " + q(root) + " --format csv --out " + q(dir / "t.csv"), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto csv = read_file_text(dir / "t.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "sequence_id,trial_id,status,lr,final_value,final.f1,intermediate_count,latest_value,start_time,end_time,"
            "duration_s,exit_code,attempt,dir");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(csv.find(",USER_CANCELED,"), std::string::npos);

  // Outside an experiment: standalone, as NNI's SDK.
  r = test::run_cli("hpo params", dir);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "{}\n");
  r = test::run_cli("hpo report --final 0.5", dir);
  EXPECT_EQ(r.exit_code, 0);
  r = test::run_cli("hpo report --final nonsense", dir);
  EXPECT_EQ(r.exit_code, 2);
  r = test::run_cli("hpo status nosuchid --root " + q(root), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no such experiment"), std::string::npos);
}


TEST(HpoCli, ThesisStylePythonTrialRunsUnmodifiedWithTheNniShim) {
  if (std::system("python3 -c 'import json' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not available";
  const auto dir = test::scratch_dir("hpo_e2e_python");
  // The thesis trials' calls, as they are (hpo.md section 1).
  test::write_text(dir / "trial.py", R"(import nni
params = nni.get_next_parameter()
best = 0
for epoch in range(4):
    acc = params["lr"] * (epoch + 1)
    best = max(best, acc)
    nni.report_intermediate_result({"default": acc, "best_acc": best, "loss": 1.0 / (epoch + 1)})
nni.report_final_result({"default": best})
)");
  const auto python_dir = std::filesystem::path(SPIKELINE_SOURCE_DIR) / "python";
  test::write_text(dir / "exp.json",
                   json{{"trial_command", "PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=" + q(python_dir) + " python3 trial.py"},
                        {"trial_code_directory", dir.string()},
                        {"assessor_start_step", 100},
                        {"max_trial_number", 3},
                        {"search_space", {{"lr", {{"_type", "choice"}, {"_value", {0.1, 0.2, 0.3}}}}}}}
                       .dump());
  const auto r = test::run_cli("hpo run --config " + q(dir / "exp.json") + " --root " + q(dir / "exps") + " --foreground", dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto id = r.out.substr(r.out.find("experiment ") + 11, 8);
  const auto store = hpo::Store::open_read_only(dir / "exps" / id);
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "SUCCEEDED") << t.message << read_file_text(std::filesystem::path(t.dir) / "trial.stderr");
    EXPECT_EQ(t.intermediate_count, 4);
    EXPECT_EQ(*t.final_value, t.parameters["lr"].get<double>() * 4);
    const auto m = store.metrics(t.trial_id);
    ASSERT_EQ(m.size(), 5u);
    EXPECT_EQ(m[1].sequence, 1);
    EXPECT_NE(m[1].data.find("\"best_acc\""), std::string::npos);
  }
}

}  // namespace
}  // namespace spikeline
