// The local process executor (executor.hpp): one process group per trial, exits noticed through
// pidfds, exit status also written to the trial directory by a shell wrapper.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/executor.hpp"
#include "spikeline/hpo/trial_protocol.hpp"

extern char** environ;

namespace spikeline::hpo {

namespace {

// The wrapper: runs the command in a child shell and writes the command's status. Its trap defers INT/TERM/HUP until the command has ended (POSIX:
// traps wait for the foreground command), so an interrupt of the whole group still leaves an
// exit_code; the command itself gets default signal handling (traps are reset on exec).
constexpr const char* kWrapper =
    "trap : INT TERM HUP; "
    "/bin/sh -c \"$SPIKELINE_TRIAL_COMMAND\"; c=$?; "
    "echo $c >\"$SPIKELINE_TRIAL_DIR/exit_code\"; exit $c";

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Field 22 of /proc/<pid>/stat (start time in clock ticks): with the pid, identifies a process
// across pid reuse. Empty when the process does not exist.
std::string start_ticks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return "";
  const auto close = line.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  return field;
}

// True when process `pid` has SPIKELINE_TRIAL_DIR=<dir> in its environment (our wrapper of it).
bool is_wrapper_of(pid_t pid, const std::filesystem::path& dir) {
  std::ifstream in(fmt::format("/proc/{}/environ", pid), std::ios::binary);
  const std::string want = "SPIKELINE_TRIAL_DIR=" + dir.string();
  std::string entry;
  while (std::getline(in, entry, '\0'))
    if (entry == want) return true;
  return false;
}

// The process group leader whose environment names `dir` as its trial directory; -1 if none.
pid_t find_wrapper_of(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::atoi(name.c_str());
    if (::getpgid(pid) == pid && is_wrapper_of(pid, dir)) return pid;
  }
  return -1;
}

struct Tracked {
  std::string trial_id;
  pid_t pid = -1;
  int pidfd = -1;
  bool child = false;  // ours to reap with waitpid (false after a re-attach)
  std::filesystem::path dir;
};

class SpawnAttr {
 public:
  SpawnAttr() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  ~SpawnAttr() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

class LocalExecutor final : public Executor {
 public:
  ~LocalExecutor() override {
    for (auto& t : procs_)
      if (t.pidfd >= 0) ::close(t.pidfd);
  }
  std::string name() const override { return "local"; }

  std::string submit(const TrialLaunch& launch) override {
    const std::string dir = std::filesystem::absolute(launch.trial_dir).string();
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (const auto& [k, v] : launch.env) env_store.push_back(k + "=" + v);
    env_store.push_back("SPIKELINE_TRIAL_DIR=" + dir);
    env_store.push_back("SPIKELINE_TRIAL_COMMAND=" + launch.command);
    std::vector<char*> envp;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);

    SpawnAttr sa;
    posix_spawnattr_setpgroup(&sa.attr_, 0);  // a new process group led by the wrapper
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&sa.attr_, &none);
    posix_spawnattr_setsigdefault(&sa.attr_, &defaults);
    posix_spawnattr_setflags(&sa.attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&sa.actions_, 0, "/dev/null", O_RDONLY, 0);
    const std::string out = dir + "/" + kStdoutFile, err = dir + "/" + kStderrFile;
    posix_spawn_file_actions_addopen(&sa.actions_, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&sa.actions_, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const std::string code_dir = launch.code_dir.empty() ? std::string(".") : launch.code_dir.string();
    posix_spawn_file_actions_addchdir_np(&sa.actions_, code_dir.c_str());

    std::string sh = "/bin/sh", dash_c = "-c", script = kWrapper;
    char* argv[] = {sh.data(), dash_c.data(), script.data(), nullptr};
    pid_t pid = -1;
    if (const int rc = posix_spawn(&pid, "/bin/sh", &sa.actions_, &sa.attr_, argv, envp.data()); rc != 0)
      throw IoError(fmt::format("trial {}: cannot start /bin/sh in {}: {}", launch.trial_id, code_dir,
                                std::strerror(rc)));
    Tracked t{launch.trial_id, pid, pidfd_open(pid), true, dir};
    procs_.push_back(std::move(t));
    return fmt::format("local:{}:{}", pid, start_ticks(pid));
  }

  std::vector<TrialExit> wait(std::chrono::milliseconds timeout) override {
    std::vector<pollfd> fds;
    bool polling = false;  // a process without pidfd (kernel < 5.3): check it every 5 ms
    for (const auto& t : procs_) {
      fds.push_back({t.pidfd, POLLIN, 0});
      polling = polling || t.pidfd < 0;
    }
    int ms = static_cast<int>(timeout.count());
    if (polling) ms = std::min(ms, 5);
    const int rc = ::poll(fds.data(), fds.size(), ms);
    std::vector<TrialExit> exits;
    if (rc < 0 || (rc == 0 && !polling)) return exits;  // a signal (the controller looks at its flags), or time
    std::vector<Tracked> still;
    for (std::size_t i = 0; i < procs_.size(); ++i) {
      auto& t = procs_[i];
      const bool ended = t.pidfd >= 0 ? (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 : gone(t);
      if (ended) exits.push_back(reap(t));
      else still.push_back(std::move(t));
    }
    procs_ = std::move(still);
    return exits;
  }

  void interrupt(const std::string& trial_id) override { signal_group(trial_id, SIGINT); }
  void kill(const std::string& trial_id) override { signal_group(trial_id, SIGKILL); }

  bool attach(const std::string& trial_id, const std::string& handle,
              const std::filesystem::path& trial_dir) override {
    const std::string dir = std::filesystem::absolute(trial_dir).string();
    pid_t pid = -1;
    int a = 0;
    char ticks[64] = {0};
    if (std::sscanf(handle.c_str(), "local:%d:%63s", &a, ticks) == 2 && start_ticks(a) == ticks) {
      pid = a;
    } else if (handle.empty()) {
      // Started but the handle was never committed (a crash between spawn and commit): find the
      // wrapper by the trial directory in its environment.
      pid = find_wrapper_of(dir);
    }
    if (pid <= 0) return false;
    const int fd = pidfd_open(pid);
    if (fd < 0) return false;  // gone meanwhile
    procs_.push_back({trial_id, pid, fd, false, dir});
    return true;
  }

  void detach(const std::string& trial_id) override {
    for (auto it = procs_.begin(); it != procs_.end(); ++it)
      if (it->trial_id == trial_id) {
        if (it->pidfd >= 0) ::close(it->pidfd);
        procs_.erase(it);
        return;
      }
  }

  std::size_t tracked() const override { return procs_.size(); }

 private:
  TrialExit reap(Tracked& t) {
    TrialExit x;
    x.trial_id = t.trial_id;
    int st = 0;
    bool have_status = false;
    if (t.child) {
      while (::waitpid(t.pid, &st, 0) < 0 && errno == EINTR) {
      }
      have_status = true;
    }
    if (t.pidfd >= 0) ::close(t.pidfd);
    // Whatever the command left behind in its process group goes with it.
    ::kill(-t.pid, SIGKILL);
    x.exit_code = read_exit_code(t.dir);
    if (!x.exit_code && have_status && WIFEXITED(st)) x.exit_code = WEXITSTATUS(st);
    if (x.exit_code) {
      const int c = *x.exit_code;
      x.message = c > 128 && c < 128 + 65 ? fmt::format("exit code {} (signal {}: {})", c, c - 128, strsignal(c - 128))
                                          : fmt::format("exit code {}", c);
    } else if (have_status && WIFSIGNALED(st)) {
      x.message = fmt::format("killed by signal {} ({})", WTERMSIG(st), strsignal(WTERMSIG(st)));
    } else {
      x.message = "ended without an exit status";
    }
    return x;
  }

  static bool gone(const Tracked& t) {
    if (!t.child) return ::kill(t.pid, 0) != 0 && errno == ESRCH;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(t.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == t.pid;
  }

  void signal_group(const std::string& trial_id, int sig) {
    for (const auto& t : procs_)
      if (t.trial_id == trial_id) ::kill(-t.pid, sig);
  }

  std::vector<Tracked> procs_;
};

}  // namespace

std::optional<int> read_exit_code(const std::filesystem::path& trial_dir) {
  std::ifstream in(trial_dir / kExitCodeFile);
  std::string text;
  if (!std::getline(in, text) || in.eof()) return std::nullopt;  // no newline yet: incomplete
  try {
    std::size_t used = 0;
    const int c = std::stoi(text, &used);
    if (used != text.size()) return std::nullopt;
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::unique_ptr<Executor> make_local_executor() { return std::make_unique<LocalExecutor>(); }

}  // namespace spikeline::hpo
