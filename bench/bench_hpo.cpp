// HPO dispatch overhead per trial (docs/hpo.md, "Performance"): an experiment of trials that do
// nothing (`true`) at concurrency 1 through the controller (tuner, store commits, trial directory,
// parameter file, wrapper process, exit collection), minus spawning and reaping `/bin/sh -c true`
// directly, both measured in the same iteration. Report: the median over repetitions of
// overhead_ms (per trial); wrapper_ms is the part of it that the exit-status wrapper process costs.
#include <benchmark/benchmark.h>

#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <vector>
#include <filesystem>

#include "spikeline/hpo/controller.hpp"

extern char** environ;

namespace {

using namespace spikeline::hpo;
using Clock = std::chrono::steady_clock;

constexpr int kTrials = 50;

// `script` run by /bin/sh -c, kTrials times, each in a fresh folder (its cwd) like a trial's;
// ms per run.
double direct_spawns_ms(const std::string& script, const std::filesystem::path& root) {
  std::vector<std::filesystem::path> dirs;
  for (int i = 0; i < kTrials; ++i) dirs.push_back(root / ("direct" + std::to_string(i)));
  const auto t0 = Clock::now();
  for (int i = 0; i < kTrials; ++i) {
    std::filesystem::create_directory(dirs[i]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dirs[i].c_str());
    std::string sh = "/bin/sh", c = "-c", cmd = script;
    char* argv[] = {sh.data(), c.data(), cmd.data(), nullptr};
    pid_t pid = -1;
    if (posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, environ) != 0) std::abort();
    posix_spawn_file_actions_destroy(&fa);
    int st = 0;
    waitpid(pid, &st, 0);
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / kTrials;
  for (const auto& d : dirs) std::filesystem::remove_all(d);
  return ms;
}

double controller_ms(const std::filesystem::path& root) {
  ExperimentConfig c;
  c.trial_command = "true";
  c.code_dir = root;
  c.search_space = nlohmann::ordered_json::parse(R"({"x": {"_type": "uniform", "_value": [0, 1]}})");
  c.tuner = {"Random", nlohmann::ordered_json::object()};
  c.max_trial_number = kTrials;
  const auto id = create_experiment(c, root);
  ControllerOptions o;
  const auto t0 = Clock::now();
  if (run_experiment(root / id, o) != status::kDone) std::abort();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / kTrials;
  std::filesystem::remove_all(root / id);
  return ms;
}

void BM_HpoDispatchOverhead(benchmark::State& state) {
  const auto root = std::filesystem::temp_directory_path() / ("spikeline_bench_hpo_" + std::to_string(getpid()));
  std::filesystem::create_directories(root);
  // The local executor's wrapper around the same command (records pid and exit status in the
  // trial directory so a controller crash loses nothing): part of the overhead, shown apart.
  const std::string wrapper = "trap : INT TERM HUP; /bin/sh -c true; c=$?; echo $c >exit_code; exit $c";
  double direct = 0, wrapped = 0, through = 0;
  int n = 0;
  for (auto _ : state) {
    direct += direct_spawns_ms("true", root);
    wrapped += direct_spawns_ms(wrapper, root);
    through += controller_ms(root);
    ++n;
  }
  state.counters["direct_ms"] = direct / n;
  state.counters["wrapper_ms"] = (wrapped - direct) / n;
  state.counters["controller_ms"] = through / n;
  state.counters["overhead_ms"] = (through - direct) / n;
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_HpoDispatchOverhead)->Iterations(1)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
