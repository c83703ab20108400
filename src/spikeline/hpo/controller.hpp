#pragma once
// The experiment controller (docs/hpo.md, "Lifecycle" and "Resume"): asks the tuner for parameter
// sets, runs trials through an executor, feeds their metrics to the tuner and the assessor, and
// records every state change in the experiment's store before acting on it, so `resume` after a
// crash (even kill -9) continues without losing or repeating a finished trial.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "spikeline/hpo/assessor.hpp"
#include "spikeline/hpo/executor.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/hpo/store.hpp"
#include "spikeline/hpo/tuner.hpp"

namespace spikeline::hpo {

struct ControllerOptions {
  // The spikeline binary that built-in trials run (default: this process's executable).
  std::filesystem::path self_exe;
  // Set (by a signal handler) to stop the experiment: trials are cancelled, status STOPPED.
  const volatile std::sig_atomic_t* stop = nullptr;
  // Progress lines (one per trial end and status change); the controller log gets them too.
  std::function<void(const std::string&)> log;
  // How often running trials' metrics files are read; exits are noticed at once regardless.
  std::chrono::milliseconds poll_interval{100};
  double kill_grace_s = 5.0;  // SIGINT, then SIGKILL after this long
  int port = 0;               // recorded in the store (the dashboard's port)
  // Replacements for the config's tuner, assessor and the local executor (tests, other back-ends).
  std::function<std::unique_ptr<Tuner>()> make_tuner;
  std::function<std::unique_ptr<Assessor>()> make_assessor;  // may return nullptr: none
  std::function<std::unique_ptr<Executor>()> make_executor;
};

// Creates <root>/<new id>/ with its store (status INITIALIZED) and returns the id. The config is
// checked completely first (search space, tuner and assessor arguments).
std::string create_experiment(const ExperimentConfig& config, const std::filesystem::path& root);

// Runs the experiment in `experiment_dir` (new, or resumed after a stop or a crash) until DONE,
// STOPPED or ERROR, and returns that status. InputError when another controller runs it.
std::string run_experiment(const std::filesystem::path& experiment_dir, const ControllerOptions& options);

// Whether a controller process is running the experiment now (it holds <dir>/controller.lock).
bool controller_alive(const std::filesystem::path& experiment_dir);

// Stops an experiment: signals its live controller (SIGTERM) and waits up to `wait` for STOPPED;
// with no live controller, interrupts any trial processes still running and marks it STOPPED.
// Returns the final status.
std::string stop_experiment(const std::filesystem::path& experiment_dir,
                            std::chrono::milliseconds wait = std::chrono::seconds(30));

// The experiment directory for an id (or a path) given on the command line.
std::filesystem::path experiment_dir(const std::filesystem::path& root, const std::string& id_or_path);

}  // namespace spikeline::hpo
