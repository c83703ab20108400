// The Slurm executor (slurm_executor.hpp, docs/slurm.md).
#include "spikeline/hpo/slurm_executor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/hpo/trial_protocol.hpp"

extern char** environ;

namespace spikeline::hpo {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kCommandTimeout{60'000};
// squeue may fail while slurmctld restarts; exit_code files keep working meanwhile.
constexpr milliseconds kSqueueOutage{600'000};
constexpr milliseconds kAttachSnapshotAge{2'000};
constexpr const char* kPlatformHint = "(training_service.platform = slurm)";

// NNI config keys ignore case and underscores.
std::string canonical(const std::string& key) {
  std::string out;
  for (char c : key)
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string string_value(const json& v, const std::string& where) {
  if (!v.is_string()) throw InputError(where, "must be a string");
  return v.get<std::string>();
}

// Seconds as a number (0.5) or a string "<number><unit>", unit s, m, h or d ("5s", "2m").
double seconds_value(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  const std::string text = v.is_string() ? v.get<std::string>() : "";
  const std::map<char, double> units = {{'s', 1.0}, {'m', 60.0}, {'h', 3600.0}, {'d', 86400.0}};
  if (text.size() >= 2 && units.count(text.back())) {
    std::size_t used = 0;
    try {
      const double n = std::stod(text.substr(0, text.size() - 1), &used);
      if (used == text.size() - 1) return n * units.at(text.back());
    } catch (const std::exception&) {
    }
  }
  throw InputError(where, "must be a number of seconds or a duration such as \"5s\", \"2m\"");
}

milliseconds duration_value(const json& v, const std::string& where, bool allow_zero) {
  const double s = seconds_value(v, where);
  if (!std::isfinite(s) || s < 0 || (!allow_zero && s == 0))
    throw InputError(where, allow_zero ? "must be >= 0 seconds" : "must be > 0 seconds");
  return milliseconds(static_cast<std::int64_t>(std::ceil(s * 1000.0)));
}

bool is_env_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Slurm expands %j, %x, ... in --output/--error names; "%%" is a literal '%'.
std::string escape_percent(const std::string& path) {
  std::string out;
  for (char c : path) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

std::string env_value(const TrialLaunch& launch, const std::string& name) {
  for (const auto& [k, v] : launch.env)
    if (k == name) return v;
  return "";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string exit_message(int code) {
  if (code > 128 && code < 128 + 65)
    return fmt::format("exit code {} (signal {}: {})", code, code - 128, strsignal(code - 128));
  return fmt::format("exit code {}", code);
}

}  // namespace

SlurmConfig slurm_config_from_json(const json& ts, const std::string& where) {
  if (!ts.is_object()) throw InputError(where, "must be an object {platform: slurm, partition: ..., ...}");
  SlurmConfig c;
  for (const auto& [key, v] : ts.items()) {
    const std::string k = canonical(key), at = where + ": " + key;
    if (k == "platform") {
      if (!v.is_string() || v.get<std::string>() != "slurm") throw InputError(at, "must be 'slurm'");
    } else if (k == "partition") {
      c.partition = string_value(v, at);
    } else if (k == "account") {
      c.account = string_value(v, at);
    } else if (k == "sbatchoptions") {
      if (!v.is_array()) throw InputError(at, "must be a list of sbatch options, e.g. [\"--qos=short\", \"--mem=8G\"]");
      for (const auto& o : v) {
        const std::string opt = string_value(o, at);
        if (opt.size() < 2 || opt[0] != '-')
          throw InputError(at, fmt::format("'{}' is not an option (one '--name=value' per element)", opt));
        c.sbatch_options.push_back(opt);
      }
    } else if (k == "prolog") {
      if (v.is_string()) {
        c.prolog.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (const auto& line : v) c.prolog.push_back(string_value(line, at));
      } else {
        throw InputError(at, "must be a shell command or a list of them, e.g. [\"module load cuda/12.2\"]");
      }
    } else if (k == "gpuspertrial") {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1024)
        throw InputError(at, "must be an integer >= 0");
      c.gpus_per_trial = v.get<int>();
    } else if (k == "pollinterval") {
      c.poll_interval = duration_value(v, at, false);
    } else if (k == "killgrace") {
      c.kill_grace = duration_value(v, at, true);
    } else if (k == "exitfilewait") {
      c.exit_file_wait = duration_value(v, at, true);
    } else {
      throw InputError(at, "unknown key (known: platform, partition, account, sbatch_options, prolog, "
                           "gpus_per_trial, poll_interval, kill_grace, exit_file_wait)");
    }
  }
  return c;
}

SlurmConfig slurm_config_from_json(const nlohmann::ordered_json& ts, const std::string& where) {
  return slurm_config_from_json(json::parse(ts.dump()), where);
}

std::string slurm_batch_script(const SlurmConfig& config, const TrialLaunch& launch) {
  const auto dir = std::filesystem::absolute(launch.trial_dir);
  const auto code_dir = std::filesystem::absolute(launch.code_dir.empty() ? "." : launch.code_dir);
  std::string s = "#!/bin/bash\n";  // bash: what `module` and venv activation expect in a prolog
  s += fmt::format("# Spikeline trial {} (sequence {}), written by the Slurm executor: runs the trial\n",
                   launch.trial_id, launch.sequence_id);
  s += "# command in its code directory and records its exit status in exit_code, which outlives\n"
       "# the job (squeue forgets ended jobs).\n";
  s += "dir=" + shell_quote(dir.string()) + "\n";
  s += "finish() { echo \"$1\" >\"$dir/exit_code.tmp\" && mv -f \"$dir/exit_code.tmp\" \"$dir/exit_code\"; exit \"$1\"; }\n";
  for (const auto& [name, value] : launch.env) {
    if (!is_env_name(name))
      throw InputError("trial " + launch.trial_id, fmt::format("'{}' is not an environment variable name", name));
    s += "export " + name + "=" + shell_quote(value) + "\n";
  }
  s += "export SPIKELINE_TRIAL_DIR=\"$dir\"\n";
  if (config.gpus_per_trial && *config.gpus_per_trial > 0) {
    // Slurm sets CUDA_VISIBLE_DEVICES itself for GRES backed by real devices (cgroup-aware; the
    // controller's own value is not exported); otherwise use the indices Slurm allocated, if any.
    s += "gpus=${SLURM_STEP_GPUS:-${SLURM_JOB_GPUS:-}}\n"
         "if [ -z \"${CUDA_VISIBLE_DEVICES:-}\" ] && [ -n \"$gpus\" ]; then export CUDA_VISIBLE_DEVICES=\"$gpus\"; fi\n";
  } else if (config.gpus_per_trial) {
    s += "export CUDA_VISIBLE_DEVICES=\n";  // NNI: trialGpuNumber 0 hides every GPU
  }
  // Slurm falls back to /tmp when --chdir fails; a trial must not run in the wrong directory.
  s += "cd " + shell_quote(code_dir.string()) +
       " || { echo \"spikeline: cannot enter the code directory on $(hostname): is it on a filesystem "
       "shared with the compute nodes?\" >&2; finish 1; }\n";
  // INT/TERM/HUP (scancel --signal=INT --full, scancel, --time) reach every process of the job;
  // the trap defers them here until the command has ended, so exit_code is still written.
  s += "trap : INT TERM HUP\n";
  for (const auto& command : config.prolog)
    s += "{ " + command + "\n} || { echo " + shell_quote("spikeline: prolog command failed: " + command) +
         " >&2; finish 1; }\n";
  s += "/bin/sh -c " + shell_quote(launch.command) + " </dev/null\n";
  s += "finish $?\n";
  return s;
}

std::vector<std::string> sbatch_argv(const SlurmConfig& config, const TrialLaunch& launch,
                                     const std::filesystem::path& script) {
  const auto dir = std::filesystem::absolute(launch.trial_dir);
  const auto code_dir = std::filesystem::absolute(launch.code_dir.empty() ? "." : launch.code_dir);
  std::string exp = env_value(launch, "NNI_EXP_ID");
  if (exp.empty()) exp = "spikeline";
  std::vector<std::string> a = {
      "sbatch",
      "--parsable",
      fmt::format("--job-name={}_{}", exp, launch.sequence_id),
      "--chdir=" + code_dir.string(),
      "--output=" + escape_percent((dir / kStdoutFile).string()),
      "--error=" + escape_percent((dir / kStderrFile).string()),
      "--export=ALL",
      // A requeued job would run the trial again into the same directory (metrics twice).
      "--no-requeue",
  };
  if (launch.max_duration_s && *launch.max_duration_s > 0) {
    const auto minutes = static_cast<std::int64_t>(std::ceil(*launch.max_duration_s / 60.0));
    a.push_back(fmt::format("--time={}", std::max<std::int64_t>(minutes, 1)));
  }
  if (!config.partition.empty()) a.push_back("--partition=" + config.partition);
  if (!config.account.empty()) a.push_back("--account=" + config.account);
  if (config.gpus_per_trial && *config.gpus_per_trial > 0)
    a.push_back(fmt::format("--gres=gpu:{}", *config.gpus_per_trial));
  a.insert(a.end(), config.sbatch_options.begin(), config.sbatch_options.end());
  a.push_back(std::filesystem::absolute(script).string());
  return a;
}

std::string parse_sbatch_job_id(std::string_view output) {
  std::string line(output.substr(0, output.find('\n')));
  line = trim(line.substr(0, line.find(';')));
  if (line.empty() || !std::all_of(line.begin(), line.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return "";
  return line;
}

JobPhase slurm_job_phase(std::string_view state) {
  static constexpr std::array<std::string_view, 7> queued = {
      "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "POWER_UP_NODE"};
  static constexpr std::array<std::string_view, 14> ended = {
      "COMPLETED", "COMPLETE",  "CANCELLED", "FAILED",      "TIMEOUT",      "NODE_FAIL", "PREEMPTED",
      "BOOT_FAIL", "DEADLINE",  "OUT_OF_MEMORY", "COMPLETING", "SPECIAL_EXIT", "REVOKED", "LAUNCH_FAILED"};
  if (std::find(queued.begin(), queued.end(), state) != queued.end()) return JobPhase::kQueued;
  if (std::find(ended.begin(), ended.end(), state) != ended.end()) return JobPhase::kEnded;
  return JobPhase::kRunning;
}

namespace {

// One job's state names: a string (OpenAPI v0.0.38) or a list of them (later versions, e.g.
// ["PENDING", "REQUEUED"]). A queued name wins over an ended one (a requeued job waits again).
SlurmJobInfo job_info(const json& job) {
  SlurmJobInfo info;
  std::vector<std::string> names;
  if (const auto it = job.find("job_state"); it != job.end()) {
    if (it->is_string()) names.push_back(it->get<std::string>());
    if (it->is_array())
      for (const auto& n : *it)
        if (n.is_string()) names.push_back(n.get<std::string>());
  }
  info.state = join(names, "+");
  if (const auto it = job.find("state_reason"); it != job.end() && it->is_string()) info.reason = it->get<std::string>();
  bool any_queued = false, any_ended = false;
  for (const auto& n : names) {
    any_queued |= slurm_job_phase(n) == JobPhase::kQueued;
    any_ended |= slurm_job_phase(n) == JobPhase::kEnded;
  }
  info.phase = any_queued ? JobPhase::kQueued : any_ended ? JobPhase::kEnded : JobPhase::kRunning;
  return info;
}

std::string job_id_text(const json& job) {
  const auto it = job.find("job_id");
  if (it == job.end()) return "";
  if (it->is_number_unsigned() || it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_string()) return it->get<std::string>();
  return "";
}

}  // namespace

std::map<std::string, SlurmJobInfo> parse_squeue_json(std::string_view text, const std::set<std::string>& wanted) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("jobs") || !doc["jobs"].is_array())
    throw IoError("squeue --json printed no job list (is this Slurm 21.08 or newer?)");
  std::map<std::string, SlurmJobInfo> jobs;
  for (const auto& job : doc["jobs"]) {
    const std::string id = job_id_text(job);
    if (id.empty() || (!wanted.empty() && !wanted.count(id))) continue;
    jobs[id] = job_info(job);
  }
  return jobs;
}

// --- run_command -------------------------------------------------------------------------------

namespace {

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::vector<std::string> child_environment(const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (std::find(unset.begin(), unset.end(), name) == unset.end()) env.push_back(entry);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads both pipes to EOF (or until `deadline`); false on timeout.
bool drain(int out_fd, int err_fd, std::string& out, std::string& err, Clock::time_point deadline) {
  std::array<pollfd, 2> fds = {pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&out, &err};
  char buf[65536];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw IoError(fmt::format("poll: {}", std::strerror(errno)));
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) fds[i].fd = -1;
    }
  }
  return true;
}

int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

}  // namespace

CommandResult run_command(const CommandSpec& spec, milliseconds timeout) {
  SPIKELINE_ASSERT(!spec.argv.empty());
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw IoError(fmt::format("pipe: {}", std::strerror(errno)));
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw IoError(fmt::format("pipe: {}", std::strerror(errno)));
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  SpawnSetup sp;
  posix_spawn_file_actions_addopen(&sp.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&sp.actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&sp.actions, err_w.get(), 2);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&sp.attr, &none);
  posix_spawnattr_setsigdefault(&sp.attr, &defaults);
  posix_spawnattr_setflags(&sp.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = spec.argv, env = child_environment(spec.unset_env);
  auto argv = pointers(args), envp = pointers(env);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0].c_str(), &sp.actions, &sp.attr, argv.data(), envp.data());
  if (rc == ENOENT) return {127, "", args[0] + ": command not found"};
  if (rc != 0) throw IoError(fmt::format("cannot run {}: {}", args[0], std::strerror(rc)));
  out_w.reset();
  err_w.reset();

  CommandResult result;
  const auto deadline = Clock::now() + timeout;
  if (!drain(out_r.get(), err_r.get(), result.out, result.err, deadline)) {
    ::kill(pid, SIGKILL);
    wait_status(pid);
    throw IoError(fmt::format("{} did not finish within {} s", join(spec.argv, " "),
                              std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
  }
  result.exit_code = wait_status(pid);
  return result;
}

// --- the executor ------------------------------------------------------------------------------

namespace {

struct Job {
  std::string trial_id, job_id;
  std::filesystem::path dir;
  SlurmJobInfo info;                              // last seen in squeue
  bool in_queue = true;                           // false once squeue stopped listing it
  std::optional<Clock::time_point> ended_at;      // first seen ended (or gone) without exit_code
  std::optional<Clock::time_point> interrupted_at;
  bool cancelled = false;                         // plain scancel sent
};

std::optional<std::string> job_id_from_handle(const std::string& handle) {
  constexpr std::string_view prefix = "slurm:";
  if (handle.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string id = parse_sbatch_job_id(handle.substr(prefix.size()));
  if (id.empty()) return std::nullopt;
  return id;
}

class SlurmExecutor final : public Executor {
 public:
  SlurmExecutor(SlurmConfig config, CommandRunner runner)
      : config_(std::move(config)), runner_(std::move(runner)) {
    if (!runner_) runner_ = [](const CommandSpec& spec) { return run_command(spec, kCommandTimeout); };
  }

  std::string name() const override { return "slurm"; }

  bool started(const std::string& trial_id) const override {
    const auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.trial_id == trial_id; });
    return it == jobs_.end() || it->info.phase != JobPhase::kQueued || !it->in_queue;
  }

  std::string submit(const TrialLaunch& launch) override {
    const auto dir = std::filesystem::absolute(launch.trial_dir);
    // A re-run must not be mistaken for its predecessor.
    for (const char* stale : {kExitCodeFile, "exit_code.tmp", kSlurmJobIdFile})
      std::filesystem::remove(dir / stale);
    const auto script = dir / kSlurmScriptFile;
    write_file_atomic(script, slurm_batch_script(config_, launch));
    CommandSpec spec{sbatch_argv(config_, launch, script), {}};
    if (config_.gpus_per_trial && *config_.gpus_per_trial > 0) spec.unset_env.push_back("CUDA_VISIBLE_DEVICES");
    const CommandResult r = run(spec);
    if (r.exit_code != 0)
      throw IoError(fmt::format("trial {}: sbatch failed (exit code {}): {} {}", launch.trial_id, r.exit_code,
                                trim(r.err), kPlatformHint));
    const std::string id = parse_sbatch_job_id(r.out);
    if (id.empty())
      throw IoError(fmt::format("trial {}: sbatch printed no job id: '{}'", launch.trial_id, trim(r.out)));
    // Lets a restarted controller find the job even when the handle was never committed.
    write_file_atomic(dir / kSlurmJobIdFile, id + "\n");
    // Queued until squeue says otherwise (the max trial duration starts when it runs).
    jobs_.push_back(Job{launch.trial_id, id, dir, {"PENDING", "", JobPhase::kQueued}, true, {}, {}, false});
    return "slurm:" + id;
  }

  std::vector<TrialExit> wait(milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    const auto tick = std::min(config_.poll_interval, milliseconds(1000));
    for (;;) {
      auto exits = collect();
      if (!exits.empty()) return exits;
      escalate();
      const auto now = Clock::now();
      if (!jobs_.empty() && now >= next_squeue_) {
        refresh();
        next_squeue_ = Clock::now() + config_.poll_interval;
        continue;
      }
      if (now >= deadline) return {};
      auto until = deadline;
      if (!jobs_.empty()) until = std::min({until, next_squeue_, now + tick});
      std::this_thread::sleep_until(until);
    }
  }

  void interrupt(const std::string& trial_id) override {
    Job* job = find(trial_id);
    if (!job || job->interrupted_at) return;
    job->interrupted_at = Clock::now();
    // Fails for a job that has not started (nothing to signal): cancel it outright.
    if (run({{"scancel", "--signal=INT", "--full", job->job_id}, {}}).exit_code != 0) cancel(*job);
  }

  void kill(const std::string& trial_id) override {
    if (Job* job = find(trial_id)) cancel(*job);
  }

  bool attach(const std::string& trial_id, const std::string& handle,
              const std::filesystem::path& trial_dir) override {
    const auto dir = std::filesystem::absolute(trial_dir);
    auto id = job_id_from_handle(handle);
    if (!id && std::filesystem::exists(dir / kSlurmJobIdFile))
      id = job_id_from_handle("slurm:" + read_file_text(dir / kSlurmJobIdFile));
    if (!id || read_exit_code(dir)) return false;
    Job job{trial_id, *id, dir, {}, true, {}, {}, false};
    if (const auto* snapshot = queue_snapshot()) {
      const auto it = snapshot->find(*id);
      if (it == snapshot->end() || it->second.phase == JobPhase::kEnded) return false;
      job.info = it->second;
    }  // else squeue is unavailable right now: track it, wait() decides once squeue answers
    jobs_.push_back(std::move(job));
    return true;
  }

  void detach(const std::string& trial_id) override {
    std::erase_if(jobs_, [&](const Job& j) { return j.trial_id == trial_id; });
  }

  std::size_t tracked() const override { return jobs_.size(); }

 private:
  CommandResult run(const CommandSpec& spec) {
    CommandResult r = runner_(spec);
    if (r.exit_code == 127 && r.out.empty())
      throw IoError(fmt::format("{} not found: is Slurm installed? {}", spec.argv[0], kPlatformHint));
    return r;
  }

  Job* find(const std::string& trial_id) {
    for (auto& j : jobs_)
      if (j.trial_id == trial_id) return &j;
    return nullptr;
  }

  void cancel(Job& job) {
    if (job.cancelled) return;
    job.cancelled = true;
    run({{"scancel", job.job_id}, {}});  // fails only when the job has ended already
  }

  // The trials whose exit_code file appeared, or that Slurm reports ended for longer than
  // exit_file_wait without one.
  std::vector<TrialExit> collect() {
    std::vector<TrialExit> exits;
    const auto now = Clock::now();
    std::erase_if(jobs_, [&](const Job& job) {
      if (const auto code = read_exit_code(job.dir)) {
        exits.push_back({job.trial_id, code, fmt::format("{} (Slurm job {})", exit_message(*code), job.job_id)});
        return true;
      }
      if (job.ended_at && now - *job.ended_at >= config_.exit_file_wait) {
        exits.push_back({job.trial_id, std::nullopt, lost_message(job)});
        return true;
      }
      return false;
    });
    return exits;
  }

  static std::string lost_message(const Job& job) {
    const std::string how = job.in_queue
        ? fmt::format("ended as {} (reason {})", job.info.state, job.info.reason)
        : "left the queue";
    return fmt::format("Slurm job {} {} without writing {}/{}; see trial.stderr there (is the "
                       "trial directory on a filesystem shared with the compute nodes?)",
                       job.job_id, how, job.dir.string(), kExitCodeFile);
  }

  void escalate() {
    const auto now = Clock::now();
    for (auto& job : jobs_)
      if (job.interrupted_at && !job.cancelled && now - *job.interrupted_at >= config_.kill_grace) cancel(job);
  }

  // One `squeue --json` for every tracked job.
  void refresh() {
    std::vector<std::string> ids;
    std::set<std::string> wanted;
    for (const auto& j : jobs_) {
      ids.push_back(j.job_id);
      wanted.insert(j.job_id);
    }
    const auto jobs = query({"squeue", "--json", "--jobs=" + join(ids, ",")}, wanted);
    if (!jobs) return;
    const auto now = Clock::now();
    for (auto& job : jobs_) {
      const auto it = jobs->find(job.job_id);
      job.in_queue = it != jobs->end();
      if (job.in_queue) job.info = it->second;
      const bool ended = !job.in_queue || job.info.phase == JobPhase::kEnded;
      if (!ended) job.ended_at.reset();
      else if (!job.ended_at) job.ended_at = now;
    }
  }

  // Runs squeue; nullopt while it fails (slurmctld restarting), IoError once that lasts too long.
  std::optional<std::map<std::string, SlurmJobInfo>> query(std::vector<std::string> argv,
                                                           const std::set<std::string>& wanted) {
    const CommandResult r = run({std::move(argv), {}});
    // Newer squeue versions reject a list of only unknown (long forgotten) job ids.
    if (r.exit_code != 0 && r.err.find("Invalid job id") != std::string::npos) return std::map<std::string, SlurmJobInfo>{};
    std::string error;
    if (r.exit_code == 0) {
      try {
        auto jobs = parse_squeue_json(r.out, wanted);
        squeue_failing_since_.reset();
        return jobs;
      } catch (const IoError& e) {
        error = e.what();
      }
    } else {
      error = fmt::format("squeue failed (exit code {}): {}", r.exit_code, trim(r.err));
    }
    const auto now = Clock::now();
    if (!squeue_failing_since_) squeue_failing_since_ = now;
    if (now - *squeue_failing_since_ >= kSqueueOutage)
      throw IoError(fmt::format("{} for {} minutes {}", error,
                                std::chrono::duration_cast<std::chrono::minutes>(kSqueueOutage).count(),
                                kPlatformHint));
    return std::nullopt;
  }

  // The user's whole queue, shared by the attach() calls of one controller restart.
  const std::map<std::string, SlurmJobInfo>* queue_snapshot() {
    const auto now = Clock::now();
    if (!snapshot_ || now - snapshot_time_ > kAttachSnapshotAge) {
      snapshot_ = query({"squeue", "--json", "--me"}, {});
      snapshot_time_ = now;
    }
    return snapshot_ ? &*snapshot_ : nullptr;
  }

  SlurmConfig config_;
  CommandRunner runner_;
  std::vector<Job> jobs_;
  Clock::time_point next_squeue_{};
  std::optional<Clock::time_point> squeue_failing_since_;
  std::optional<std::map<std::string, SlurmJobInfo>> snapshot_;
  Clock::time_point snapshot_time_{};
};

}  // namespace

std::unique_ptr<Executor> make_slurm_executor(SlurmConfig config, CommandRunner runner) {
  return std::make_unique<SlurmExecutor>(std::move(config), std::move(runner));
}

}  // namespace spikeline::hpo
