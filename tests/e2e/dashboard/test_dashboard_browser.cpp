// End-to-end: a real experiment (`spikeline hpo run --foreground`), then `spikeline dashboard`
// serving it, loaded by headless Chromium. Checks
// that the trials table, the charts and the trial detail render the experiment's real values, and
// saves a screenshot as a test artifact (<build>/test-artifacts/dashboard.png).
// Skips visibly when chromium is absent, except under CI=true where that is a failure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "support/cli.hpp"
#include <nlohmann/json.hpp>

#include "spikeline/hpo/store.hpp"
#include "unit/server/fixture.hpp"

namespace fs = std::filesystem;
using namespace spikeline::test;

namespace {

std::string find_chromium() {
  if (const char* env = std::getenv("SPIKELINE_CHROMIUM"); env != nullptr && *env != '\0') return env;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = dirs.find(':', start);
    const fs::path dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      if (::access((dir / name).c_str(), X_OK) == 0) return (dir / name).string();
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// `spikeline dashboard` as a child process; killed (TERM) and reaped on destruction.
class DashboardProcess {
 public:
  DashboardProcess(const std::vector<std::string>& args, const fs::path& out) : out_(out) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string cli = cli_path().string();
      std::vector<char*> argv{const_cast<char*>(cli.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      if (std::freopen(out.c_str(), "w", stdout) == nullptr) ::_exit(127);
      if (std::freopen((out.string() + ".err").c_str(), "w", stderr) == nullptr) ::_exit(127);
      ::execv(cli.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~DashboardProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  DashboardProcess(const DashboardProcess&) = delete;
  DashboardProcess& operator=(const DashboardProcess&) = delete;

  // The URL it prints ("Dashboard: http://127.0.0.1:PORT/"), waiting up to 15 s.
  std::string wait_for_url() const {
    const std::regex re(R"(Dashboard: (http://127\.0\.0\.1:[0-9]+/))");
    for (int i = 0; i < 300; ++i) {
      std::smatch m;
      const std::string text = slurp(out_);
      if (std::regex_search(text, m, re)) return m[1];
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        ADD_FAILURE() << "dashboard exited early: " << text << slurp(out_.string() + ".err");
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "dashboard printed no URL: " << slurp(out_);
    return "";
  }

 private:
  fs::path out_;
  pid_t pid_ = -1;
};

struct Browser {
  std::string exe;
  fs::path scratch;

  // Runs headless Chromium on `url` with extra flags; returns its stdout.
  std::string run(const std::string& flags, const std::string& url, const std::string& tag) const {
    const fs::path out = scratch / (tag + ".out"), err = scratch / (tag + ".err");
    const std::string cmd = "timeout 40 '" + exe + "' --headless=new --no-sandbox --disable-gpu " +
                            "--no-first-run --disable-extensions --user-data-dir='" +
                            (scratch / "profile").string() + "' " + flags + " '" + url + "' >'" +
                            out.string() + "' 2>'" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << cmd << "\n" << slurp(err);
    return slurp(out);
  }
  std::string dom(const std::string& url, const std::string& tag) const {
    return run("--virtual-time-budget=6000 --dump-dom", url, tag);
  }
};

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The page's number format (charts.js fmt): 6 significant digits, trailing zeros dropped.
std::string page_format(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

// Chromium, or a visible skip (a failure under CI=true).
#define SPIKELINE_REQUIRE_CHROMIUM(var)                                                            \
  const std::string var = find_chromium();                                                         \
  if (var.empty()) {                                                                               \
    if (in_ci()) FAIL() << "chromium not found (CI=true requires it; scripts/install-deps.sh --test)"; \
    GTEST_SKIP() << "SKIPPED: chromium not found; install it to run the dashboard browser test";   \
  }

// A store with known values (fixture.hpp): 20 trials, 16 succeeded, 2 failed, 2 running.
TEST(DashboardBrowser, PagesRenderAKnownStore) {
  SPIKELINE_REQUIRE_CHROMIUM(chromium);
  const auto root = scratch_dir("dash_browser_fixture");
  FixtureOptions o;
  o.id = "browse01";
  o.trials = 20;
  const fs::path exp = make_fixture_experiment(root, o);
  DashboardProcess proc({"dashboard", exp.string()}, root / "dashboard.out");
  const std::string url = proc.wait_for_url();
  ASSERT_FALSE(url.empty());
  const Browser browser{chromium, root};

  // Trials table, sorted by the metric (best first) through the URL: 20 rows, the best on top.
  const std::string trials = browser.dom(url + "#/e/browse01/trials?sort=value&order=desc", "trials");
  ASSERT_NE(trials.find("id=\"trials-table\""), std::string::npos) << trials.substr(0, 3000);
  EXPECT_NE(trials.find("data-total=\"20\""), std::string::npos);
  EXPECT_EQ(count(trials, "<tr data-trial="), 20u);
  int best = 0;
  for (int i = 0; i < o.trials; ++i) {
    if (fixture_status(i) == "SUCCEEDED" && fixture_value(i) > fixture_value(best)) best = i;
  }
  const auto first_row = trials.find("<tr data-trial=");
  const std::string best_row = "<tr data-trial=\"" + fixture_trial_id(best) + "\"";
  EXPECT_EQ(trials.substr(first_row, best_row.size()), best_row);
  const std::string id3 = fixture_trial_id(3);
  const auto at = trials.find("<tr data-trial=\"" + id3 + "\"");
  ASSERT_NE(at, std::string::npos);
  const std::string row = trials.substr(at, trials.find("</tr>", at) - at);
  EXPECT_NE(row.find("<span class=\"metric\">" + page_format(fixture_value(3)) + "</span>"),
            std::string::npos)
      << row;
  EXPECT_NE(row.find(">tanh<"), std::string::npos) << row;   // parameter columns
  EXPECT_NE(row.find(">0.004<"), std::string::npos) << row;
  EXPECT_NE(row.find(">" + page_format(1.0 - fixture_value(3)) + "<"), std::string::npos) << row;

  // Charts: 16 succeeded trials -> 16 points and 16 parallel-coordinate lines; 10 curves.
  const std::string charts = browser.dom(url + "#/e/browse01/charts", "charts");
  ASSERT_NE(charts.find("id=\"best-chart\""), std::string::npos) << charts.substr(0, 3000);
  EXPECT_NE(charts.find("data-points=\"16\""), std::string::npos);
  EXPECT_EQ(count(charts, "class=\"pt\""), 16u);
  EXPECT_NE(charts.find("class=\"best-line\""), std::string::npos);
  EXPECT_EQ(count(charts, "class=\"pc-line\""), 16u);
  EXPECT_EQ(count(charts, "class=\"series\""), 10u);

  // Trial detail of a failed trial: its message and stderr tail.
  const std::string detail = browser.dom(url + "#/e/browse01/trial/" + fixture_trial_id(7), "detail");
  EXPECT_NE(detail.find("<span id=\"trial-id\">" + fixture_trial_id(7) + "</span>"), std::string::npos)
      << detail.substr(0, 3000);
  EXPECT_NE(detail.find("exit code 1"), std::string::npos);
  EXPECT_NE(detail.find("Traceback: boom"), std::string::npos);
}

// Runs a real 6-trial experiment (shell trials reporting through `spikeline hpo report`) to the
// end; returns its directory.
fs::path run_experiment(const fs::path& dir) {
  const std::string S = "'" + cli_path().string() + "'";
  const nlohmann::json config = {
      {"experimentName", "browser test"},
      {"trialCommand", S + " hpo report --intermediate 0.1 && " + S +
                           " hpo report --intermediate 0.$((NNI_TRIAL_SEQ_ID + 2)) && echo \"trial "
                           "$NNI_TRIAL_SEQ_ID done\" && " + S +
                           " hpo report --final 0.$((NNI_TRIAL_SEQ_ID + 1))5"},
      {"trialCodeDirectory", "."},
      {"searchSpace",
       {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}},
        {"act", {{"_type", "choice"}, {"_value", {"relu", "tanh"}}}}}},
      {"tuner", {{"name", "Random"}, {"classArgs", {{"seed", 7}, {"optimize_mode", "maximize"}}}}},
      {"maxTrialNumber", 6},
      {"trialConcurrency", 2}};
  write_text(dir / "exp.json", config.dump());
  const auto r = run_cli("hpo run --config '" + (dir / "exp.json").string() + "' --root '" +
                             (dir / "exps").string() + "' --foreground",
                         dir);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& e : fs::directory_iterator(dir / "exps")) {
    if (fs::exists(e.path() / "experiment.db")) return e.path();
  }
  ADD_FAILURE() << "no experiment directory under " << (dir / "exps");
  return {};
}

TEST(DashboardBrowser, PagesRenderARealExperimentsValues) {
  SPIKELINE_REQUIRE_CHROMIUM(chromium);
  const auto root = scratch_dir("dash_browser");
  const fs::path exp = run_experiment(root);
  ASSERT_FALSE(exp.empty());
  // The values to find in the pages, read from the experiment's store.
  const auto store = spikeline::hpo::Store::open_read_only(exp);
  const std::string id = store.experiment().id;
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 6u);
  const spikeline::hpo::TrialRecord* best = nullptr;
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "SUCCEEDED") << t.trial_id << " " << t.message;
    if (best == nullptr || *t.final_value > *best->final_value) best = &t;
  }
  DashboardProcess proc({"dashboard", "--port", "0", exp.string()}, root / "dashboard.out");
  const std::string url = proc.wait_for_url();
  ASSERT_FALSE(url.empty());
  const Browser browser{chromium, root};
  const std::string base = url + "#/e/" + id;

  // Trials table: one row per trial with its id, status, and final metric as the page formats it.
  const std::string table = browser.dom(base + "/trials", "trials");
  ASSERT_NE(table.find("id=\"trials-table\""), std::string::npos) << table.substr(0, 3000);
  EXPECT_NE(table.find("data-total=\"6\""), std::string::npos);
  EXPECT_EQ(count(table, "<tr data-trial="), 6u);
  for (const auto& t : trials) {
    const auto at = table.find("<tr data-trial=\"" + t.trial_id + "\"");
    ASSERT_NE(at, std::string::npos) << t.trial_id;
    const std::string row = table.substr(at, table.find("</tr>", at) - at);
    EXPECT_NE(row.find("<span class=\"metric\">" + page_format(*t.final_value) + "</span>"),
              std::string::npos)
        << row;
    EXPECT_NE(row.find(">SUCCEEDED<"), std::string::npos) << row;
    EXPECT_NE(row.find(">" + t.parameters["act"].get<std::string>() + "<"), std::string::npos) << row;
  }

  // Charts: one point per succeeded trial, the best-so-far line, parallel coordinates, curves.
  const std::string charts = browser.dom(base + "/charts", "charts");
  ASSERT_NE(charts.find("id=\"best-chart\""), std::string::npos) << charts.substr(0, 3000);
  EXPECT_NE(charts.find("data-points=\"6\""), std::string::npos);
  EXPECT_EQ(count(charts, "class=\"pt\""), 6u);
  EXPECT_NE(charts.find("class=\"best-line\""), std::string::npos);
  EXPECT_EQ(count(charts, "class=\"pc-line\""), 6u);
  EXPECT_EQ(count(charts, "class=\"series\""), 6u);  // the (up to) 10 best trials
  EXPECT_NE(charts.find("trial " + best->trial_id + " (#" + std::to_string(best->sequence_id) +
                        "): " + page_format(*best->final_value)),
            std::string::npos);

  // Trial detail of the best trial: id, final metric, checkpoint path, stdout tail, curve.
  const std::string detail = browser.dom(base + "/trial/" + best->trial_id, "detail");
  EXPECT_NE(detail.find("<span id=\"trial-id\">" + best->trial_id + "</span>"), std::string::npos)
      << detail.substr(0, 3000);
  EXPECT_NE(detail.find("id=\"trial-final\">" + page_format(*best->final_value) + "<"),
            std::string::npos);
  EXPECT_NE(detail.find("trial " + std::to_string(best->sequence_id) + " done"), std::string::npos);
  EXPECT_NE(detail.find("id=\"trial-curve\""), std::string::npos);
  EXPECT_NE(detail.find(fs::canonical(best->dir).string()), std::string::npos);

  // Screenshot of the overview as a test artifact.
  const fs::path artifacts = SPIKELINE_ARTIFACT_DIR;
  fs::create_directories(artifacts);
  const fs::path png = artifacts / "dashboard.png";
  fs::remove(png);
  browser.run("--virtual-time-budget=6000 --hide-scrollbars --window-size=1400,1000 --screenshot='" +
                  png.string() + "'",
              base, "shot");
  ASSERT_TRUE(fs::exists(png)) << "no screenshot written";
  EXPECT_GT(fs::file_size(png), 10000u);
  EXPECT_EQ(slurp(png).substr(1, 3), "PNG");
  std::printf("[ artifact ] screenshot: %s\n", png.c_str());
}

// The command's usage errors (no browser needed): exit 2 with the reason.
TEST(DashboardCli, RefusesUnsafeOrBadUsage) {
  const auto root = scratch_dir("dash_cli");
  FixtureOptions o;
  o.id = "cliexp01";
  o.trials = 2;
  const fs::path exp = make_fixture_experiment(root, o);
  auto r = run_cli("dashboard --host 0.0.0.0 '" + exp.string() + "'", root);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--allow-remote"), std::string::npos) << r.err;
  r = run_cli("dashboard '" + root.string() + "'", root);  // not an experiment directory
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no experiment.db"), std::string::npos) << r.err;
  r = run_cli("dashboard --port 70000 '" + exp.string() + "'", root);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli("dashboard", root);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}
