#pragma once
// The Slurm executor (issue 11, docs/slurm.md): every trial is one batch job. sbatch runs a batch
// script written into the trial directory, which runs the trial command with NNI's environment in
// the code directory and records the command's exit status in <trial dir>/exit_code; status comes
// from that file plus batched `squeue --json` polls (no accounting daemon needed: squeue forgets a
// job MinJobAge seconds after it ended, the file does not). Parameters and metrics travel through
// the trial directory (file channel), so the controller, the trial directories and the compute
// nodes must share a filesystem. Slurm commands run through posix_spawnp with argument vectors,
// never through a shell.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/executor.hpp"

namespace spikeline::hpo {

// training_service: {platform: slurm, partition, account, sbatch_options: [...], prolog: [...],
// gpus_per_trial, poll_interval, kill_grace, exit_file_wait} (keys case- and '_'-insensitive, as
// NNI's).
struct SlurmConfig {
  std::string partition;                    // empty: the cluster's default partition
  std::string account;                      // empty: the user's default account
  std::vector<std::string> sbatch_options;  // appended after ours (so they win), one per element
  // Shell commands the batch script runs before the trial command, in the trial's shell (so
  // `module load ...` and `source venv/bin/activate` take effect); one failing fails the trial.
  std::vector<std::string> prolog;
  std::optional<int> gpus_per_trial;        // >0: --gres=gpu:N; 0: CUDA_VISIBLE_DEVICES=""; unset: untouched
  std::chrono::milliseconds poll_interval{5000};  // between squeue calls
  std::chrono::milliseconds kill_grace{5000};     // scancel --signal=INT ... then scancel after this
  // How long a job that Slurm reports ended may lack its exit_code file before it counts as ended
  // without a status (a shared filesystem can show a new file late).
  std::chrono::milliseconds exit_file_wait{30000};
};

// Reads the training_service object; InputError naming `where` and the key on a bad value or an
// unknown key (a typo such as `partiton` would otherwise silently use the default partition).
SlurmConfig slurm_config_from_json(const nlohmann::json& training_service, const std::string& where);
SlurmConfig slurm_config_from_json(const nlohmann::ordered_json& training_service, const std::string& where);

// --- pure building blocks (unit-tested without a cluster) --------------------------------------

// The batch script sbatch runs for `launch` (POSIX sh).
std::string slurm_batch_script(const SlurmConfig& config, const TrialLaunch& launch);
// sbatch's argument vector for `launch` whose batch script is `script`.
std::vector<std::string> sbatch_argv(const SlurmConfig& config, const TrialLaunch& launch,
                                     const std::filesystem::path& script);
// The job id in `sbatch --parsable` output ("123" or "123;cluster"); empty when there is none.
std::string parse_sbatch_job_id(std::string_view output);

enum class JobPhase { kQueued, kRunning, kEnded };

struct SlurmJobInfo {
  std::string state;    // "RUNNING", "PENDING", "COMPLETED", ... ("+"-joined when a list)
  std::string reason;   // squeue's state_reason ("None", "Resources", "TimeLimit", ...)
  JobPhase phase = JobPhase::kRunning;
};

// Where a job state (one of squeue's state names) is in its life. Unknown names count as running:
// the exit_code file or the job's disappearance from squeue then decides.
JobPhase slurm_job_phase(std::string_view state);
// `squeue --json` output -> the jobs whose ids are in `wanted` (all when `wanted` is empty), by id.
// Slurm 22.05 ignores -j/--me with --json and lists every job, so the filter is done here.
// Accepts OpenAPI v0.0.38 (22.05: job_state a string) and later (job_state a list).
std::map<std::string, SlurmJobInfo> parse_squeue_json(std::string_view text,
                                                      const std::set<std::string>& wanted = {});

// --- running commands ------------------------------------------------------------------------

struct CommandResult {
  int exit_code = 0;         // 127 when the program was not found
  std::string out, err;
};
struct CommandSpec {
  std::vector<std::string> argv;
  std::vector<std::string> unset_env;  // removed from the inherited environment
};
// Runs argv[0] (PATH lookup) with stdin /dev/null, capturing stdout and stderr; kills it after
// `timeout`. IoError when it cannot be started for another reason than "not found", or times out.
CommandResult run_command(const CommandSpec& spec, std::chrono::milliseconds timeout);
using CommandRunner = std::function<CommandResult(const CommandSpec&)>;

// The executor. `runner` (tests) replaces run_command.
std::unique_ptr<Executor> make_slurm_executor(SlurmConfig config, CommandRunner runner = {});

// File names the Slurm executor adds to a trial directory.
inline constexpr const char* kSlurmScriptFile = "slurm_job.sh";
inline constexpr const char* kSlurmJobIdFile = "slurm_job_id";

}  // namespace spikeline::hpo
