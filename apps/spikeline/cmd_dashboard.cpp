// spikeline dashboard: serve experiments (finished or running) read-only in the browser
// (docs/dashboard.md).
#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "spikeline/server/dashboard.hpp"

namespace spikeline::cli {

namespace {

struct DashboardArgs {
  std::vector<std::string> dirs;
  std::string host = "127.0.0.1";
  int port = 0;
  bool allow_remote = false;
};

void dashboard_cmd(const DashboardArgs& a) {
  server::DashboardOptions opt;
  opt.host = a.host;
  opt.port = a.port;
  opt.allow_remote = a.allow_remote;
  opt.experiment_dirs.assign(a.dirs.begin(), a.dirs.end());
  // Block the stop signals before the server threads exist (they inherit the mask), then wait
  // for one here: Ctrl-C or a TERM stops the server cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  server::Dashboard dash(opt);
  dash.start();
  if (!server::is_loopback_host(a.host)) {
    std::fprintf(stderr,
                 "spikeline: warning: serving on %s: anyone who can reach this address can read "
                 "these experiments (configs, parameters, logs)\n",
                 a.host.c_str());
  }
  std::string ids;
  for (const auto& id : dash.experiment_ids()) ids += (ids.empty() ? "" : ", ") + id;
  std::printf("Dashboard: %s\nServing %zu experiment(s): %s (read-only; Ctrl-C stops)\n",
              dash.url().c_str(), dash.experiment_ids().size(), ids.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  dash.stop();
}

}  // namespace

void add_dashboard_commands(CLI::App& app) {
  auto a = std::make_shared<DashboardArgs>();
  auto* cmd = app.add_subcommand("dashboard", "Serve experiments read-only in the browser");
  cmd->add_option("experiment_dirs", a->dirs, "Experiment directories (each holds experiment.db)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--port", a->port, "TCP port; 0 or absent: a free port is chosen")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", a->host, "Address to bind (default 127.0.0.1)");
  cmd->add_flag("--allow-remote", a->allow_remote,
                "Allow binding a non-loopback address (anyone reaching it can read the experiments)");
  cmd->callback([a] { dashboard_cmd(*a); });
}

}  // namespace spikeline::cli
