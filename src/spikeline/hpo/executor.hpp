#pragma once
// Where trials run. The controller hands an executor a launch description and gets a handle
// (text it persists in the store); it then waits for exits, interrupts or kills trials, and after a
// controller restart re-attaches to the handles of trials that were running. Parameters and
// metrics never pass through the executor: they are files in the trial directory (parameter.cfg,
// .nni/metrics), so a cluster back-end with a shared file system (Slurm, issue 11) reuses the
// controller unchanged. The exit status likewise lands in <trial dir>/exit_code, written by a
// wrapper around the command, so it survives a controller crash.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spikeline::hpo {

struct TrialLaunch {
  std::string trial_id;
  std::int64_t sequence_id = 0;
  std::string command;                 // run by /bin/sh -c in code_dir
  std::filesystem::path trial_dir;     // exists; stdout/stderr/exit_code go here
  std::filesystem::path code_dir;      // the command's working directory
  std::vector<std::pair<std::string, std::string>> env;  // added to the controller's environment
  std::optional<double> max_duration_s;                  // a hint (e.g. Slurm --time)
};

struct TrialExit {
  std::string trial_id;
  // The command's exit status as the shell reports it: 0..255 (128 + n when signal n ended the
  // command). Empty when it is unknown (the wrapper itself was killed or vanished).
  std::optional<int> exit_code;
  std::string message;                 // how it ended, for the trial's message column
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;
  // Starts the trial; returns its handle (persisted, given back to attach after a restart).
  virtual std::string submit(const TrialLaunch& launch) = 0;
  // Blocks until at least one tracked trial has ended or `timeout` passed; returns the ended
  // trials (each exactly once) and stops tracking them.
  virtual std::vector<TrialExit> wait(std::chrono::milliseconds timeout) = 0;
  // Polite stop (SIGINT to the trial's process group; scancel --signal=INT on Slurm).
  virtual void interrupt(const std::string& trial_id) = 0;
  // Hard stop (SIGKILL to the process group).
  virtual void kill(const std::string& trial_id) = 0;
  // After a controller restart: tracks the trial again when its process still exists (true);
  // false when it is gone (the caller then reads <trial dir>/exit_code).
  virtual bool attach(const std::string& trial_id, const std::string& handle,
                      const std::filesystem::path& trial_dir) = 0;
  // Stops tracking a trial without touching it (the controller exits and leaves it running).
  virtual void detach(const std::string& trial_id) = 0;
  virtual std::size_t tracked() const = 0;
  // Whether the trial's command has begun: false while a batch job still waits in a queue. The
  // maximum trial duration counts from the moment this turns true, not from submission.
  virtual bool started(const std::string& trial_id) const {
    (void)trial_id;
    return true;
  }
};

// The exit status recorded in <trial dir>/exit_code; empty when absent or incomplete.
std::optional<int> read_exit_code(const std::filesystem::path& trial_dir);

// Runs trials as local processes: /bin/sh -c <command> under a small /bin/sh wrapper that is the
// leader of a new process group, records its pid and the command's exit status in the trial
// directory, and sends stdout/stderr to trial.stdout/trial.stderr. Exits are awaited with pidfds
// (poll), so an ended trial is noticed at once, also for re-attached processes that are not our
// children.
std::unique_ptr<Executor> make_local_executor();

}  // namespace spikeline::hpo
