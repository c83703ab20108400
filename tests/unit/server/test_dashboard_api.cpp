// REST API tests: a real Dashboard on a free loopback port, queried with httplib's client, over
// experiment stores written by the real store writer (fixture.hpp). Expected values are
// recomputed from the fixture's formulas.
#include <httplib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/server/dashboard.hpp"
#include "support/cli.hpp"
#include "unit/server/fixture.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using spikeline::server::Dashboard;
using spikeline::server::DashboardOptions;
using namespace spikeline::test;

namespace {

constexpr int kTrials = 20;

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  json j;  // parsed body when JSON
};

class DashboardApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(scratch_dir("dash_api"));
    FixtureOptions o;
    o.trials = kTrials;
    dir_ = new fs::path(make_fixture_experiment(*root_, o));
    FixtureOptions m;
    m.id = "minexp02";
    m.trials = 6;
    m.optimize_mode = "minimize";
    min_dir_ = new fs::path(make_fixture_experiment(*root_, m));
    DashboardOptions opt;
    opt.experiment_dirs = {*dir_, *min_dir_};
    dash_ = new Dashboard(opt);
    dash_->start();
  }
  static void TearDownTestSuite() {
    delete dash_;
    delete dir_;
    delete min_dir_;
    delete root_;
  }

  static Reply get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client cli("127.0.0.1", dash_->port());
    auto res = cli.Get(path.c_str(), headers);
    Reply r;
    if (!res) {
      ADD_FAILURE() << "no response for " << path;
      return r;
    }
    r.status = res->status;
    r.body = res->body;
    r.content_type = res->get_header_value("Content-Type");
    if (r.content_type.rfind("application/json", 0) == 0) r.j = json::parse(r.body);
    return r;
  }
  static std::string api(const std::string& rest) { return "/api/v1/experiments/fixexp01" + rest; }

  static fs::path* root_;
  static fs::path* dir_;
  static fs::path* min_dir_;
  static Dashboard* dash_;
};
fs::path* DashboardApi::root_ = nullptr;
fs::path* DashboardApi::dir_ = nullptr;
fs::path* DashboardApi::min_dir_ = nullptr;
Dashboard* DashboardApi::dash_ = nullptr;

// 4xx with a JSON {"error": "..."} that mentions `needle`.
void expect_error(const Reply& r, int status, const std::string& needle) {
  EXPECT_EQ(r.status, status) << r.body;
  ASSERT_TRUE(r.j.is_object()) << r.body;
  ASSERT_TRUE(r.j.contains("error")) << r.body;
  EXPECT_NE(r.j["error"].get<std::string>().find(needle), std::string::npos) << r.body;
}

int best_index(int n, bool maximize) {
  int best = -1;
  for (int i = 0; i < n; ++i) {
    if (fixture_status(i) != "SUCCEEDED") continue;
    if (best < 0 || (maximize ? fixture_value(i) > fixture_value(best)
                              : fixture_value(i) < fixture_value(best))) {
      best = i;
    }
  }
  return best;
}

}  // namespace

TEST_F(DashboardApi, UrlAndPortAreReported) {
  EXPECT_GT(dash_->port(), 0);
  EXPECT_EQ(dash_->url(), "http://127.0.0.1:" + std::to_string(dash_->port()) + "/");
  EXPECT_EQ(dash_->experiment_ids(), (std::vector<std::string>{"fixexp01", "minexp02"}));
}

TEST_F(DashboardApi, ExperimentsListAndRevisions) {
  const auto r = get("/api/v1/experiments");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.j.size(), 2u);
  EXPECT_EQ(r.j[0]["id"], "fixexp01");
  EXPECT_EQ(r.j[0]["trials_submitted"], kTrials);
  EXPECT_EQ(r.j[1]["id"], "minexp02");
  const auto rev = get("/api/v1/revision");
  ASSERT_EQ(rev.status, 200);
  EXPECT_GT(rev.j["revisions"]["fixexp01"].get<int>(), 0);
  const auto one = get(api("/revision"));
  EXPECT_EQ(one.j["revision"], rev.j["revisions"]["fixexp01"]);
}

TEST_F(DashboardApi, OverviewCountsBestAndBudget) {
  const auto r = get(api(""));
  ASSERT_EQ(r.status, 200);
  const json& o = r.j;
  EXPECT_EQ(o["status"], "RUNNING");
  EXPECT_EQ(o["counts"]["SUCCEEDED"], 16);  // i % 10 not in {7, 9}
  EXPECT_EQ(o["counts"]["FAILED"], 2);
  EXPECT_EQ(o["counts"]["RUNNING"], 2);
  EXPECT_EQ(o["counts"]["WAITING"], 0);
  const int b = best_index(kTrials, true);
  EXPECT_EQ(o["best"]["trial_id"], fixture_trial_id(b));
  EXPECT_DOUBLE_EQ(o["best"]["value"].get<double>(), fixture_value(b));
  EXPECT_DOUBLE_EQ(o["budget"]["remaining_s"].get<double>(), 3600.0 - 100.0);
  EXPECT_EQ(o["budget"]["remaining_trials"], 10);
  EXPECT_EQ(o["parameter_names"], json({"lr", "hidden", "act"}));  // search-space order
  EXPECT_EQ(o["metric_keys"], json({"default", "loss"}));
  EXPECT_EQ(o["search_space"]["hidden"]["_type"], "choice");
  EXPECT_EQ(o["config"]["trialCommand"], "sh trial.sh");
  EXPECT_EQ(o["start_time"], kFixtureStart);
  EXPECT_TRUE(o["end_time"].is_null());  // stored as 0: not yet
  // Minimising experiment: best is the smallest value.
  const auto m = get("/api/v1/experiments/minexp02");
  EXPECT_EQ(m.j["best"]["trial_id"], fixture_trial_id(best_index(6, false)));
}

TEST_F(DashboardApi, TrialsPagingSortingFiltering) {
  auto r = get(api("/trials?limit=5&offset=5"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["total"], kTrials);
  ASSERT_EQ(r.j["trials"].size(), 5u);
  EXPECT_EQ(r.j["trials"][0]["trial_id"], fixture_trial_id(5));
  EXPECT_EQ(r.j["trials"][0]["parameters"]["hidden"], fixture_hidden(5));

  // By final value, descending: the best first; trials without a value last.
  r = get(api("/trials?sort=final_value&order=desc&limit=500"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["trials"][0]["trial_id"], fixture_trial_id(best_index(kTrials, true)));
  EXPECT_TRUE(r.j["trials"][kTrials - 1]["final_value"].is_null());
  for (int k = 1; k < 16; ++k) {
    EXPECT_GE(r.j["trials"][k - 1]["final_value"].get<double>(),
              r.j["trials"][k]["final_value"].get<double>());
  }
  // By a parameter, ascending, then sequence id.
  r = get(api("/trials?sort=param.lr&limit=3"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["trials"][0]["trial_id"], fixture_trial_id(0));
  EXPECT_EQ(r.j["trials"][1]["trial_id"], fixture_trial_id(10));
  EXPECT_DOUBLE_EQ(r.j["trials"][2]["parameters"]["lr"].get<double>(), fixture_lr(1));
  // By a key of the dict final metric: lowest loss = best value.
  r = get(api("/trials?sort=metric.loss&limit=1"));
  EXPECT_EQ(r.j["trials"][0]["trial_id"], fixture_trial_id(best_index(kTrials, true)));
  // Duration: only finished trials have an end; running ones count up to now (longest).
  r = get(api("/trials?sort=duration&order=desc&limit=1"));
  EXPECT_EQ(r.j["trials"][0]["status"], "RUNNING");

  // Filters.
  r = get(api("/trials?status=FAILED,RUNNING"));
  EXPECT_EQ(r.j["total"], 4);
  r = get(api("/trials?param.act=tanh&param.hidden=32"));  // odd i with i % 3 == 1
  EXPECT_EQ(r.j["total"], 4);  // odd i with i % 3 == 1: 1, 7, 13, 19
  for (const auto& t : r.j["trials"]) {
    EXPECT_EQ(t["parameters"]["act"], "tanh");
    EXPECT_EQ(t["parameters"]["hidden"], 32);
  }
  r = get(api("/trials?q=" + fixture_trial_id(13)));
  ASSERT_EQ(r.j["total"], 1);
  EXPECT_EQ(r.j["trials"][0]["sequence_id"], 13);
  r = get(api("/trials?q=12"));  // sequence id 12 (no id or parameter text contains "12")
  EXPECT_EQ(r.j["total"], 1);
  r = get(api("/trials?min_value=0.8"));
  for (const auto& t : r.j["trials"]) EXPECT_GE(t["final_value"].get<double>(), 0.8);
}

TEST_F(DashboardApi, TrialsBadParametersAre400) {
  expect_error(get(api("/trials?limit=0")), 400, "limit");
  expect_error(get(api("/trials?limit=501")), 400, "limit");
  expect_error(get(api("/trials?limit=abc")), 400, "limit");
  expect_error(get(api("/trials?offset=-1")), 400, "offset");
  expect_error(get(api("/trials?sort=bogus")), 400, "sort column");
  expect_error(get(api("/trials?order=up")), 400, "order");
  expect_error(get(api("/trials?status=DONE")), 400, "unknown status");
  expect_error(get(api("/trials?colour=red")), 400, "unknown query parameter 'colour'");
  expect_error(get(api("/trials?sort=param.a%22b")), 400, "invalid parameter name");
  expect_error(get(api("/trials?sort=param.")), 400, "parameter name");
  expect_error(get(api("/trials?min_value=x")), 400, "min_value");
  expect_error(get(api("?x=1")), 400, "unknown query parameter");
}

TEST_F(DashboardApi, UnknownThingsAre404) {
  expect_error(get("/api/v1/experiments/nope"), 404, "unknown experiment 'nope'");
  expect_error(get(api("/trials/zzzzz")), 404, "unknown trial 'zzzzz'");
  expect_error(get(api("/bogus")), 404, "no such API endpoint");
  expect_error(get("/api/v2/experiments"), 404, "no such API endpoint");
  const auto page = get("/no-such-page.html");
  EXPECT_EQ(page.status, 404);
}

TEST_F(DashboardApi, TrialDetail) {
  const std::string id = fixture_trial_id(3);
  auto r = get(api("/trials/" + id));
  ASSERT_EQ(r.status, 200);
  const json& t = r.j;
  EXPECT_EQ(t["sequence_id"], 3);
  EXPECT_EQ(t["status"], "SUCCEEDED");
  EXPECT_DOUBLE_EQ(t["final_value"].get<double>(), fixture_value(3));
  EXPECT_DOUBLE_EQ(t["final_metric"]["loss"].get<double>(), 1.0 - fixture_value(3));
  ASSERT_EQ(t["intermediate"].size(), 5u);
  EXPECT_DOUBLE_EQ(t["intermediate"][4]["value"].get<double>(), fixture_step_value(3, 4, 5));
  ASSERT_EQ(t["final"].size(), 1u);
  EXPECT_EQ(t["logs"]["trial.stdout"]["text"], "start " + id + "\nfinal " + id + "\n");
  EXPECT_EQ(t["checkpoint"], fs::canonical(*dir_ / "trials" / id / "checkpoint").string());
  std::vector<std::string> names;
  for (const auto& f : t["files"]) names.push_back(f["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"parameter.cfg", "trial.stderr", "trial.stdout"}));
  EXPECT_NEAR(t["duration_s"].get<double>(), 0.9, 1e-12);
  // A failed trial: message, stderr tail.
  r = get(api("/trials/" + fixture_trial_id(7)));
  EXPECT_EQ(r.j["message"], "exit code 1");
  EXPECT_EQ(r.j["logs"]["trial.stderr"]["text"], "Traceback: boom\n");
  EXPECT_TRUE(r.j["checkpoint"].is_null());
  expect_error(get(api("/trials/" + id + "?tail_kb=2000")), 400, "tail_kb");
}

TEST_F(DashboardApi, TrialFilesAndPathTraversal) {
  const std::string id = fixture_trial_id(3);
  const fs::path tdir = *dir_ / "trials" / id;
  auto r = get(api("/trials/" + id + "/files/trial.stdout"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "start " + id + "\nfinal " + id + "\n");
  EXPECT_EQ(get(api("/trials/" + id + "/files/parameter.cfg")).status, 200);
  // Traversal attempts: encoded "../", encoded absolute path, dot names, a symlink out.
  std::ofstream(*root_ / "secret.txt") << "TOP SECRET\n";
  fs::create_symlink(*root_ / "secret.txt", tdir / "escape");
  const std::vector<std::string> attacks = {
      "/trials/" + id + "/files/..%2F..%2Fexperiment.db",
      "/trials/" + id + "/files/%2E%2E%2F%2E%2E%2F..%2Fsecret.txt",
      "/trials/" + id + "/files/..",
      "/trials/" + id + "/files/%2Fetc%2Fpasswd",
      "/trials/" + id + "/files/.%2E",
      "/trials/" + id + "/files/escape",
      "/trials/..%2F..%2F/files/secret.txt",
      "/trials/" + id + "/files/..%5C..%5Cexperiment.db",
      "/trials/" + id + "/files/checkpoint",
  };
  for (const auto& a : attacks) {
    const auto res = get(api(a));
    EXPECT_GE(res.status, 400) << a;
    EXPECT_LT(res.status, 500) << a;
    EXPECT_EQ(res.body.find("SQLite format"), std::string::npos) << a;
    EXPECT_EQ(res.body.find("TOP SECRET"), std::string::npos) << a;
    EXPECT_EQ(res.body.find("root:"), std::string::npos) << a;
  }
  expect_error(get(api("/trials/" + id + "/files/escape")), 403, "symbolic link");
  expect_error(get(api("/trials/" + id + "/files/..")), 400, "invalid file name");
  expect_error(get(api("/trials/" + id + "/files/nothing.txt")), 404, "no file");
  // NNI's trial-file path goes through the same guards.
  r = get("/api/v1/nni/trial-file/" + id + "/stdout");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "start " + id + "\nfinal " + id + "\n");
  EXPECT_EQ(get("/api/v1/nni/trial-file/" + id + "/escape").status, 403);
  const auto nni_attack = get("/api/v1/nni/trial-file/" + id + "/..%2F..%2Fexperiment.db");
  EXPECT_GE(nni_attack.status, 400);
  EXPECT_LT(nni_attack.status, 500);
  EXPECT_EQ(nni_attack.body.find("SQLite format"), std::string::npos);
  fs::remove(tdir / "escape");
}

TEST_F(DashboardApi, IntermediateSeries) {
  const std::string a = fixture_trial_id(1), b = fixture_trial_id(7);
  auto r = get(api("/metrics?trials=" + a + "," + b));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.j["series"].size(), 2u);
  EXPECT_EQ(r.j["series"][0]["points"].size(), 5u);
  EXPECT_EQ(r.j["series"][1]["points"].size(), 2u);  // the failed trial reported twice
  EXPECT_DOUBLE_EQ(r.j["series"][0]["points"][4][1].get<double>(), fixture_step_value(1, 4, 5));
  // Downsampled to 3 points: first, middle, last.
  r = get(api("/metrics?trials=" + a + "&max_points=3"));
  const auto& pts = r.j["series"][0]["points"];
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_EQ(pts[0][0], 0);
  EXPECT_EQ(pts[1][0], 2);
  EXPECT_EQ(pts[2][0], 4);
  EXPECT_EQ(r.j["series"][0]["total"], 5);
  // A key of dict metrics.
  r = get(api("/metrics?trials=" + a + "&key=loss"));
  EXPECT_DOUBLE_EQ(r.j["series"][0]["points"][0][1].get<double>(), 1.0 - fixture_step_value(1, 0, 5));
  expect_error(get(api("/metrics")), 400, "'trials'");
  expect_error(get(api("/metrics?trials=" + a + ",,")), 400, "empty trial id");
  expect_error(get(api("/metrics?trials=" + a + ",nope1")), 404, "unknown trial 'nope1'");
  std::string many;
  for (int i = 0; i < 51; ++i) many += (i ? "," : "") + fixture_trial_id(i % kTrials);
  expect_error(get(api("/metrics?trials=" + many)), 400, "at most 50");
  expect_error(get(api("/metrics?trials=" + a + "&max_points=1")), 400, "max_points");
}

TEST_F(DashboardApi, BestSeriesAndParallelCoordinates) {
  auto r = get(api("/best-series"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["total"], 16);
  ASSERT_EQ(r.j["points"].size(), 16u);
  double best = -1;
  for (const auto& p : r.j["points"]) {
    const int i = p["sequence_id"];
    EXPECT_DOUBLE_EQ(p["value"].get<double>(), fixture_value(i));
    best = std::max(best, fixture_value(i));
    EXPECT_DOUBLE_EQ(p["best"].get<double>(), best);
  }
  const json line = r.j["best_line"];
  EXPECT_DOUBLE_EQ(line.back()[1].get<double>(), fixture_value(best_index(kTrials, true)));
  // Capped: improvements are kept first.
  r = get(api("/best-series?max_points=4"));
  EXPECT_EQ(r.j["shown"], 4);
  EXPECT_EQ(r.j["best_line"], line);
  expect_error(get(api("/best-series?max_points=0")), 400, "max_points");

  r = get(api("/parallel"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["total"], 16);
  ASSERT_EQ(r.j["rows"].size(), 16u);
  EXPECT_EQ(r.j["rows"][0]["parameters"]["act"], "relu");
  r = get(api("/parallel?max_rows=5"));
  EXPECT_EQ(r.j["total"], 16);
  EXPECT_LE(r.j["shown"].get<int>(), 5);
  bool has_best = false;
  for (const auto& row : r.j["rows"]) has_best |= row["trial_id"] == fixture_trial_id(best_index(kTrials, true));
  EXPECT_TRUE(has_best);
  expect_error(get(api("/parallel?max_rows=x")), 400, "max_rows");
}

TEST_F(DashboardApi, ExportCsvAndJson) {
  auto r = get(api("/export?format=csv"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/csv", 0), 0u);
  std::vector<std::string> lines;
  std::stringstream ss(r.body);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1u + kTrials);
  EXPECT_EQ(lines[0],
            "sequence_id,trial_id,status,start_time,end_time,duration_s,final_value,latest_value,"
            "intermediate_count,param.lr,param.hidden,param.act,metric.default,metric.loss");
  EXPECT_EQ(lines[1].rfind("0," + fixture_trial_id(0) + ",SUCCEEDED,1700000000010,1700000000910,0.9,", 0), 0u)
      << lines[1];
  r = get(api("/export?format=json&intermediate=1"));
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.j["trials"].size(), static_cast<std::size_t>(kTrials));
  EXPECT_EQ(r.j["trials"][2]["intermediate"].size(), 5u);
  EXPECT_EQ(r.j["experiment"]["id"], "fixexp01");
  r = get(api("/export"));
  EXPECT_FALSE(r.j["trials"][0].contains("intermediate"));
  expect_error(get(api("/export?format=xml")), 400, "format");
  expect_error(get(api("/export?format=json&intermediate=maybe")), 400, "intermediate");
}

TEST_F(DashboardApi, NniCompatiblePaths) {
  auto r = get("/api/v1/nni/check-status");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.j["status"], "RUNNING");
  EXPECT_EQ(r.j["errors"], json::array());
  r = get("/api/v1/nni/experiment");
  EXPECT_EQ(r.j["id"], "fixexp01");
  EXPECT_EQ(r.j["execDuration"], 100);
  EXPECT_EQ(r.j["params"]["trialCommand"], "sh trial.sh");
  r = get("/api/v1/nni/job-statistics");
  EXPECT_EQ(r.j, json::parse(R"([{"trialJobStatus":"RUNNING","trialJobNumber":2},
      {"trialJobStatus":"SUCCEEDED","trialJobNumber":16},{"trialJobStatus":"FAILED","trialJobNumber":2}])"));
  r = get("/api/v1/nni/trial-jobs?status=FAILED");
  ASSERT_EQ(r.j.size(), 2u);
  EXPECT_EQ(r.j[0]["trialJobId"], fixture_trial_id(7));
  EXPECT_EQ(r.j[0]["finalMetricData"], json::array());
  r = get("/api/v1/nni/trial-jobs/" + fixture_trial_id(3));
  EXPECT_EQ(r.j["sequenceId"], 3);
  const json hp = json::parse(r.j["hyperParameters"][0].get<std::string>());
  EXPECT_EQ(hp["parameters"]["hidden"], fixture_hidden(3));
  EXPECT_DOUBLE_EQ(json::parse(r.j["finalMetricData"][0]["data"].get<std::string>())["default"].get<double>(),
                   fixture_value(3));
  r = get("/api/v1/nni/metric-data/" + fixture_trial_id(3) + "?type=PERIODICAL");
  EXPECT_EQ(r.j.size(), 5u);
  EXPECT_EQ(r.j[0]["type"], "PERIODICAL");
  r = get("/api/v1/nni/export-data");
  EXPECT_EQ(r.j.size(), 16u);
  EXPECT_EQ(r.j[0]["trialJobId"], fixture_trial_id(0));
  r = get("/api/v1/nni/check-status?experiment=minexp02");
  EXPECT_EQ(r.status, 200);
  r = get("/api/v1/nni/version");
  EXPECT_EQ(r.j, "spikeline 0.1.0");
  expect_error(get("/api/v1/nni/check-status?experiment=nope"), 404, "unknown experiment");
  expect_error(get("/api/v1/nni/metric-data/" + fixture_trial_id(3) + "?type=X"), 400, "type");
  expect_error(get("/api/v1/nni/trial-jobs?status=BAD"), 400, "unknown status");
  expect_error(get("/api/v1/nni/trial-jobs/nope"), 404, "unknown trial");
}

TEST_F(DashboardApi, ReadOnlyAndHostChecked) {
  httplib::Client cli("127.0.0.1", dash_->port());
  auto expect_405 = [](const httplib::Result& res) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_NE(res->body.find("read-only"), std::string::npos);
  };
  expect_405(cli.Post("/api/v1/nni/trial-jobs", "{}", "application/json"));
  expect_405(cli.Put("/api/v1/nni/experiment?update_type=MAX_TRIAL_NUM", "{}", "application/json"));
  expect_405(cli.Delete("/api/v1/nni/experiment"));
  expect_405(cli.Delete(api("/trials/t0003")));
  // DNS rebinding: a foreign Host header is refused on a loopback-only server.
  const auto r = get("/api/v1/experiments", {{"Host", "evil.example:80"}});
  expect_error(r, 403, "not allowed");
  EXPECT_EQ(get("/api/v1/experiments", {{"Host", "localhost:1234"}}).status, 200);
}

TEST_F(DashboardApi, StaticAssetsAreEmbedded) {
  auto r = get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/html", 0), 0u);
  EXPECT_NE(r.body.find("app.js"), std::string::npos);
  r = get("/app.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/javascript", 0), 0u);
  EXPECT_NE(r.body.find("/api/v1/"), std::string::npos);
  EXPECT_EQ(get("/charts.js").status, 200);
  EXPECT_EQ(get("/app.css").status, 200);
}

TEST_F(DashboardApi, LiveUpdatesBumpTheRevision) {
  // A separate experiment written while the dashboard serves it.
  const auto root = scratch_dir("dash_live");
  FixtureOptions o;
  o.id = "liveexp3";
  o.trials = 2;
  const auto dir = make_fixture_experiment(root, o);
  DashboardOptions opt;
  opt.experiment_dirs = {dir};
  Dashboard d(opt);
  d.start();
  httplib::Client cli("127.0.0.1", d.port());
  const auto rev0 = json::parse(cli.Get("/api/v1/experiments/liveexp3/revision")->body)["revision"];
  fixture_add_waiting_trial(dir, 2, "new01");  // while the dashboard has the store open
  const auto rev1 = json::parse(cli.Get("/api/v1/experiments/liveexp3/revision")->body)["revision"];
  EXPECT_GT(rev1.get<long>(), rev0.get<long>());
  const auto o2 = json::parse(cli.Get("/api/v1/experiments/liveexp3")->body);
  EXPECT_EQ(o2["counts"]["WAITING"], 1);
  d.stop();
  d.stop();  // idempotent
}

TEST(DashboardOptionsCheck, RejectsUnsafeOrBadSetups) {
  const auto root = scratch_dir("dash_opts");
  FixtureOptions o;
  o.trials = 1;
  const auto dir = make_fixture_experiment(root, o);
  auto make = [&](DashboardOptions opt) { Dashboard d(std::move(opt)); };
  DashboardOptions remote;
  remote.host = "0.0.0.0";
  remote.experiment_dirs = {dir};
  EXPECT_THROW(make(remote), spikeline::InputError);
  DashboardOptions none;
  EXPECT_THROW(make(none), spikeline::InputError);
  DashboardOptions not_exp;
  not_exp.experiment_dirs = {root};
  EXPECT_THROW(make(not_exp), spikeline::InputError);
  DashboardOptions twice;
  twice.experiment_dirs = {dir, dir};
  EXPECT_THROW(make(twice), spikeline::InputError);
  // A port in use.
  DashboardOptions first;
  first.experiment_dirs = {dir};
  Dashboard a(first);
  DashboardOptions same = first;
  same.port = a.port();
  EXPECT_THROW(make(same), spikeline::IoError);
  // Remote with the explicit flag binds.
  remote.allow_remote = true;
  Dashboard r(remote);
  EXPECT_GT(r.port(), 0);
}

// 10,000 trials: the trials page query (sorted by a parameter, filtered, paged) must stay fast.
TEST(DashboardScale, TenThousandTrialsPageIsFast) {
  const auto root = scratch_dir("dash_10k");
  FixtureOptions o;
  o.id = "bigexp10";
  o.trials = 10000;
  o.steps = 3;
  o.trial_dirs = false;
  const auto dir = make_fixture_experiment(root, o);
  DashboardOptions opt;
  opt.experiment_dirs = {dir};
  Dashboard d(opt);
  d.start();
  httplib::Client cli("127.0.0.1", d.port());
  const std::vector<std::string> queries = {
      "/api/v1/experiments/bigexp10/trials?limit=50",
      "/api/v1/experiments/bigexp10/trials?sort=final_value&order=desc&limit=50&offset=4000",
      "/api/v1/experiments/bigexp10/trials?sort=param.lr&order=desc&status=SUCCEEDED&q=relu&limit=100",
      "/api/v1/experiments/bigexp10",
      "/api/v1/experiments/bigexp10/best-series",
      "/api/v1/experiments/bigexp10/parallel",
  };
  for (const auto& q : queries) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = cli.Get(q.c_str());
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    std::printf("[ timing ] %-95s %7.1f ms, %zu bytes\n", q.c_str(), ms, res->body.size());
    EXPECT_LT(ms, 1000.0) << q;  // generous: measured figures are printed above
  }
  const auto page = json::parse(cli.Get(queries[1].c_str())->body);
  EXPECT_EQ(page["total"], 10000);
  EXPECT_EQ(page["trials"].size(), 50u);
  const auto best = json::parse(cli.Get("/api/v1/experiments/bigexp10/best-series")->body);
  EXPECT_EQ(best["total"], 8000);
  EXPECT_LE(best["shown"].get<int>(), 2000);
}
