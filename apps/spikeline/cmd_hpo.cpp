// spikeline hpo: NNI-compatible hyperparameter-optimisation experiments (docs/hpo.md).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/client.hpp"
#include "spikeline/hpo/controller.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/hpo/results.hpp"
#include "spikeline/hpo/search_space.hpp"
#include "spikeline/server/dashboard.hpp"

namespace spikeline::cli {

namespace {

using ojson = nlohmann::ordered_json;

// The one piece of state a signal handler may touch: SIGINT/SIGTERM ask the controller to stop
// the experiment (cancel trials, status STOPPED).
volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_stop_signal(int) { stop_requested = 1; }

void print_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

struct RunFlags {
  std::string config, root, id;
  std::optional<int> port;
  std::string host = "127.0.0.1";
  bool allow_remote = false;
  bool no_dashboard = false;
  bool foreground = false;
};

// How the experiment's dashboard is served while the controller runs (docs/dashboard.md).
struct DashboardFlags {
  bool enabled = true;
  int port = 0;  // 0: a free port
  std::string host;
  bool allow_remote = false;
};
DashboardFlags dashboard_flags(const RunFlags& f) {
  if (f.no_dashboard && f.port) throw InputError("--port", "cannot be combined with --no-dashboard");
  if (f.port && (*f.port < 0 || *f.port > 65535)) throw InputError("--port", "must be 0..65535");
  if (!f.allow_remote && !server::is_loopback_host(f.host))
    throw InputError("--host", f.host + " is not a loopback address: add --allow-remote to serve it to the network");
  return {!f.no_dashboard, f.port.value_or(0), f.host, f.allow_remote};
}

std::filesystem::path root_of(const std::string& root) { return root.empty() ? "experiments" : root; }

// Runs the controller in this process until the experiment ends, serving its dashboard (read-only,
// on a background thread) meanwhile; the exit status tells how it ended.
int run_foreground(const std::filesystem::path& dir, const DashboardFlags& d) {
  hpo::ControllerOptions o;
  o.stop = &stop_requested;
  o.log = print_line;
  std::unique_ptr<server::Dashboard> dashboard;
  if (d.enabled) {
    dashboard = std::make_unique<server::Dashboard>(server::DashboardOptions{d.host, d.port, d.allow_remote, {dir}});
    dashboard->start();
    if (!server::is_loopback_host(d.host))
      std::fprintf(stderr, "spikeline: warning: serving the dashboard on %s: anyone who can reach it can read "
                           "this experiment\n", d.host.c_str());
    print_line("Dashboard: " + dashboard->url());
    o.port = dashboard->port();
  }
  stop_requested = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const std::string status = hpo::run_experiment(dir, o);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const auto s = hpo::status_json(hpo::Store::open_read_only(dir), false);
  print_line(fmt::format("experiment {} {}: {} trials; best: {}", s["id"].get<std::string>(), status,
                         s["trials"].get<std::int64_t>(),
                         s["best"].is_null() ? std::string("none")
                                             : fmt::format("trial {} ({}) value {}", s["best"]["sequence_id"].dump(),
                                                           s["best"]["trial_id"].get<std::string>(),
                                                           s["best"]["final_value"].dump())));
  return status == hpo::status::kDone ? 0 : 1;
}

// Detaches (double fork, new session) and runs the controller in the background; its output goes
// to <dir>/controller.out. Returns in the parent once the controller process exists.
void run_detached(const std::filesystem::path& dir, const DashboardFlags& d) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) throw IoError("fork failed");
  if (child == 0) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open((dir / "controller.out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    int code = 1;
    try {
      code = run_foreground(dir, d);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "spikeline: error: %s\n", e.what());
    }
    std::fflush(stdout);
    ::_exit(code);
  }
  int st = 0;
  ::waitpid(child, &st, 0);
}

// The detached controller records its dashboard's port in the store once it serves; wait for it
// (a few seconds at most) so the URL can be printed here.
void print_detached_dashboard(const std::filesystem::path& dir, const DashboardFlags& d) {
  if (!d.enabled) return;
  for (int i = 0; i < 250; ++i) {
    const auto e = hpo::Store::open_read_only(dir).experiment();
    if (e.port > 0) {
      print_line(fmt::format("Dashboard: http://{}:{}/", d.host, e.port));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "spikeline: warning: the dashboard did not start; see %s\n",
               (dir / "controller.out").c_str());
}

std::string format_time(std::int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = ms / 1000;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

void cmd_run(const RunFlags& f) {
  const DashboardFlags d = dashboard_flags(f);
  std::vector<std::string> warnings;
  const auto config = hpo::load_experiment_config(f.config, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "spikeline: warning: %s\n", w.c_str());
  const auto root = !f.root.empty() || config.working_dir.empty() ? root_of(f.root) : config.working_dir;
  const std::string id = hpo::create_experiment(config, root);
  const auto dir = std::filesystem::absolute(root / id);
  if (f.foreground) {
    print_line(fmt::format("experiment {} in {}", id, dir.string()));
    const int code = run_foreground(dir, d);
    if (code != 0) std::exit(code);
    return;
  }
  run_detached(dir, d);
  print_line(id);
  print_detached_dashboard(dir, d);
}

void cmd_resume(const RunFlags& f) {
  const DashboardFlags d = dashboard_flags(f);
  const auto dir = hpo::experiment_dir(root_of(f.root), f.id);
  // A controller killed a moment ago may still be exiting (SIGKILL is asynchronous): give it 1 s.
  for (int i = 0; i < 50 && hpo::controller_alive(dir); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (hpo::controller_alive(dir)) throw InputError(f.id, "is running already (see `spikeline hpo status`)");
  if (f.foreground) {
    const int code = run_foreground(dir, d);
    if (code != 0) std::exit(code);
    return;
  }
  run_detached(dir, d);
  print_line(hpo::Store::open_read_only(dir).experiment().id);
  print_detached_dashboard(dir, d);
}

void print_status(const ojson& s) {
  std::printf("experiment  %s%s\n", s["id"].get<std::string>().c_str(),
              s["name"].get<std::string>().empty() ? "" : (" (" + s["name"].get<std::string>() + ")").c_str());
  std::printf("status      %s%s\n", s["status"].get<std::string>().c_str(),
              s["controller_running"].get<bool>() ? " (controller running)" : "");
  if (!s["error"].get<std::string>().empty()) std::printf("error       %s\n", s["error"].get<std::string>().c_str());
  std::printf("tuner       %s (%s)%s\n", s["tuner"].get<std::string>().c_str(), s["optimize_mode"].get<std::string>().c_str(),
              s["assessor"].get<std::string>().empty() ? "" : (", assessor " + s["assessor"].get<std::string>()).c_str());
  const auto max = s["max_trial_number"].get<std::int64_t>();
  std::printf("trials      %lld%s:", static_cast<long long>(s["trials"].get<std::int64_t>()),
              max > 0 ? fmt::format(" of {}", max).c_str() : "");
  for (const auto& [k, v] : s["counts"].items()) std::printf(" %lld %s", static_cast<long long>(v.get<std::int64_t>()), k.c_str());
  std::printf("\nactive time %.0f s; started %s UTC\n", s["exec_seconds"].get<double>(),
              format_time(s["start_time"].get<std::int64_t>()).c_str());
  if (!s["best"].is_null())
    std::printf("best        trial %lld (%s): %s  %s\n", static_cast<long long>(s["best"]["sequence_id"].get<std::int64_t>()),
                s["best"]["trial_id"].get<std::string>().c_str(), s["best"]["final_value"].dump().c_str(),
                hpo::dump_python_json(s["best"]["parameters"]).c_str());
  std::printf("directory   %s\n", s["dir"].get<std::string>().c_str());
}

void cmd_list(const std::string& root_flag, bool as_json) {
  const auto root = root_of(root_flag);
  std::vector<std::filesystem::path> dirs;
  if (std::filesystem::exists(root))
    for (const auto& e : std::filesystem::directory_iterator(root))
      if (std::filesystem::exists(e.path() / hpo::kStoreFileName)) dirs.push_back(e.path());
  ojson rows = ojson::array();
  for (const auto& d : dirs) {
    try {
      const auto s = hpo::status_json(hpo::Store::open_read_only(d), hpo::controller_alive(d));
      rows.push_back(s);
    } catch (const Error& e) {
      std::fprintf(stderr, "spikeline: warning: %s\n", e.what());
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const ojson& a, const ojson& b) { return a["start_time"].get<std::int64_t>() < b["start_time"].get<std::int64_t>(); });
  if (as_json) {
    print_line(rows.dump());
    return;
  }
  std::printf("%-10s %-20s %-20s %7s %-12s %s\n", "id", "status", "started (UTC)", "trials", "best", "name");
  for (const auto& s : rows)
    std::printf("%-10s %-20s %-20s %7lld %-12s %s\n", s["id"].get<std::string>().c_str(),
                (s["status"].get<std::string>() + (s["controller_running"].get<bool>() ? "*" : "")).c_str(),
                format_time(s["start_time"].get<std::int64_t>()).c_str(),
                static_cast<long long>(s["trials"].get<std::int64_t>()),
                s["best"].is_null() ? "-" : s["best"]["final_value"].dump().c_str(), s["name"].get<std::string>().c_str());
}

ojson read_metric_argument(const std::string& text) {
  const auto j = ojson::parse(text, nullptr, false);
  if (j.is_discarded()) throw InputError(text, "is not a number or a JSON object with a numeric \"default\"");
  return j;
}

void add_dashboard_options(CLI::App* cmd, RunFlags& f) {
  cmd->add_option("--port", f.port, "Dashboard port (default: a free port; the URL is printed)");
  cmd->add_option("--host", f.host, "Dashboard address (default 127.0.0.1; others need --allow-remote)");
  cmd->add_flag("--allow-remote", f.allow_remote, "Allow --host to be a non-loopback address (prints a warning)");
  cmd->add_flag("--no-dashboard", f.no_dashboard, "Do not serve the dashboard");
}

}  // namespace

void add_hpo_commands(CLI::App& app) {
  auto* hpo = app.add_subcommand("hpo", "Hyperparameter optimisation experiments, NNI-compatible (docs/hpo.md)");
  hpo->require_subcommand(1);

  auto rf = std::make_shared<RunFlags>();
  auto* run = hpo->add_subcommand("run", "Start an experiment from a config (thesis JSON, NNI JSON/YAML); prints its id");
  run->add_option("--config", rf->config, "Experiment config file (.json, .yaml, .yml)")->required();
  run->add_option("--root", rf->root, "Experiments folder (default: the config's experimentWorkingDirectory, else ./experiments)");
  add_dashboard_options(run, *rf);
  run->add_flag("--foreground", rf->foreground, "Run in this process until the experiment ends (exit 0 when DONE)");
  run->callback([rf] { cmd_run(*rf); });

  auto sf = std::make_shared<RunFlags>();
  auto* resume = hpo->add_subcommand("resume", "Continue a stopped or crashed experiment");
  resume->add_option("id", sf->id, "Experiment id (or directory)")->required();
  resume->add_option("--root", sf->root, "Experiments folder")->capture_default_str();
  add_dashboard_options(resume, *sf);
  resume->add_flag("--foreground", sf->foreground, "Run in this process until the experiment ends");
  resume->callback([sf] { cmd_resume(*sf); });

  struct IdFlags {
    std::string id, root, format = "json", out;
    bool json = false;
  };
  auto st = std::make_shared<IdFlags>();
  auto* stop = hpo->add_subcommand("stop", "Stop an experiment: cancel its trials, status STOPPED");
  stop->add_option("id", st->id, "Experiment id (or directory)")->required();
  stop->add_option("--root", st->root, "Experiments folder");
  stop->callback([st] {
    const auto dir = hpo::experiment_dir(root_of(st->root), st->id);
    print_line(hpo::stop_experiment(dir));
  });

  auto li = std::make_shared<IdFlags>();
  auto* list = hpo->add_subcommand("list", "List the experiments under --root (* = controller running)");
  list->add_option("--root", li->root, "Experiments folder");
  list->add_flag("--json", li->json, "JSON output");
  list->callback([li] { cmd_list(li->root, li->json); });

  auto ss = std::make_shared<IdFlags>();
  auto* status = hpo->add_subcommand("status", "An experiment's status, trial counts and best trial");
  status->add_option("id", ss->id, "Experiment id (or directory)")->required();
  status->add_option("--root", ss->root, "Experiments folder");
  status->add_flag("--json", ss->json, "JSON output");
  status->callback([ss] {
    const auto dir = hpo::experiment_dir(root_of(ss->root), ss->id);
    const auto s = hpo::status_json(hpo::Store::open_read_only(dir), hpo::controller_alive(dir));
    if (ss->json) print_line(s.dump());
    else print_status(s);
  });

  auto bf = std::make_shared<IdFlags>();
  auto* best = hpo->add_subcommand("best", "The best SUCCEEDED trial: id, parameters, metric, directory, checkpoint");
  best->add_option("id", bf->id, "Experiment id (or directory)")->required();
  best->add_option("--root", bf->root, "Experiments folder");
  best->add_flag("--json", bf->json, "JSON output");
  best->callback([bf] {
    const auto dir = hpo::experiment_dir(root_of(bf->root), bf->id);
    const auto store = hpo::Store::open_read_only(dir);
    const auto t = hpo::best_trial(store, store.experiment().optimize_mode);
    if (!t) throw Error("experiment " + bf->id + " has no SUCCEEDED trial with a final result yet");
    const auto j = hpo::trial_json(*t);
    if (bf->json) {
      print_line(j.dump());
      return;
    }
    std::printf("trial       %lld (%s)\nvalue       %s\nparameters  %s\nmetric      %s\ndirectory   %s\ncheckpoint  %s\n",
                static_cast<long long>(t->sequence_id), t->trial_id.c_str(), j["final_value"].dump().c_str(),
                hpo::dump_python_json(t->parameters).c_str(), t->final_metric.c_str(), t->dir.c_str(),
                j["checkpoint"].is_null() ? "-" : j["checkpoint"].get<std::string>().c_str());
  });

  auto ef = std::make_shared<IdFlags>();
  auto* exp = hpo->add_subcommand("export", "Export trials: json (NNI export-data format) or csv (one row per trial)");
  exp->add_option("id", ef->id, "Experiment id (or directory)")->required();
  exp->add_option("--root", ef->root, "Experiments folder");
  exp->add_option("--format", ef->format, "json or csv")->capture_default_str()->check(CLI::IsMember({"json", "csv"}));
  exp->add_option("--out", ef->out, "Output file (default: stdout)");
  exp->callback([ef] {
    const auto store = hpo::Store::open_read_only(hpo::experiment_dir(root_of(ef->root), ef->id));
    const std::string text = ef->format == "csv" ? hpo::export_csv(store) : hpo::dump_python_json(hpo::export_json(store)) + "\n";
    if (ef->out.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    else write_file_atomic(ef->out, text);
  });

  struct ReportFlags {
    std::optional<std::string> intermediate, final_value;
  };
  auto rp = std::make_shared<ReportFlags>();
  auto* report = hpo->add_subcommand(
      "report", "Inside a trial: report a metric (a number or a JSON object with a numeric \"default\")");
  auto* im = report->add_option("--intermediate", rp->intermediate, "Intermediate result");
  auto* fi = report->add_option("--final", rp->final_value, "Final result");
  im->excludes(fi);
  report->callback([rp] {
    const auto client = hpo::TrialClient::from_environment();
    if (rp->intermediate) client.report_intermediate_result(read_metric_argument(*rp->intermediate));
    else if (rp->final_value) client.report_final_result(read_metric_argument(*rp->final_value));
    else throw InputError("hpo report", "give --intermediate VALUE or --final VALUE");
  });

  auto* params = hpo->add_subcommand("params", "Inside a trial: print its parameters as JSON ({} outside an experiment)");
  params->callback([] { print_line(hpo::dump_python_json(hpo::TrialClient::from_environment().get_next_parameter())); });
}

}  // namespace spikeline::cli
