#include "spikeline/hpo/controller.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/search_space.hpp"
#include "spikeline/hpo/slurm_executor.hpp"
#include "spikeline/hpo/trial_protocol.hpp"

namespace spikeline::hpo {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
namespace ts = trial_status;

constexpr const char* kLockFile = "controller.lock";
constexpr const char* kLogFile = "controller.log";

// An exclusive flock on <dir>/controller.lock for the controller's lifetime; the kernel drops it
// when the process dies, also by kill -9, so a stale lock never blocks a resume.
class ControllerLock {
 public:
  explicit ControllerLock(const std::filesystem::path& dir) {
    const auto path = dir / kLockFile;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError(path.string() + ": cannot open");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ControllerLock(const ControllerLock&) = delete;
  ControllerLock& operator=(const ControllerLock&) = delete;
  ~ControllerLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

bool is_active_status(const std::string& s) {
  return s == status::kRunning || s == status::kNoMoreTrial || s == status::kTunerNoMoreTrial;
}

// A trial was started (not WAITING) and has not ended yet.
bool trial_in_flight(const TrialRecord& t) { return t.status != ts::kWaiting && t.end_time == 0; }

std::optional<double> default_of(const std::string& metric_text) {
  const auto j = json::parse(metric_text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return metric_default(j, "metric");
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::filesystem::path resolve_self_exe(const std::filesystem::path& given) {
  if (!given.empty()) return std::filesystem::absolute(given);
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("spikeline") : p;
}

// Written in place and not fsynced: the trial starts only after it is complete, and a controller
// crash before the start re-queues the trial (which rewrites it); an fsync or a rename per trial
// would cost milliseconds of dispatch time.
void write_parameter_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw IoError(path.string() + ": cannot write");
}

struct Active {
  Active() = default;
  explicit Active(TrialRecord r) : rec(std::move(r)) {}
  TrialRecord rec;
  std::size_t metrics_offset = 0;
  std::vector<double> history;  // default values of the intermediate results, in report order
  std::optional<Clock::time_point> interrupted_at;
  bool metrics_broken = false;
  bool seen_queued = false;              // the executor reported it waiting in a queue
  std::optional<std::int64_t> began_ms;  // when its command began (max trial duration counts from here)
};

class Controller {
 public:
  Controller(const std::filesystem::path& dir, const ControllerOptions& options)
      : dir_(std::filesystem::absolute(dir)), options_(options), store_(Store::open_writer(dir_)) {
    exp_ = store_.experiment();
    config_ = experiment_config_from_json(exp_.config, (dir_ / kStoreFileName).string() + ": config",
                                          dir_);
    self_exe_ = resolve_self_exe(options.self_exe);
    log_.open(dir_ / kLogFile, std::ios::app);
    id_rng_ = Rng(std::random_device{}() ^ static_cast<std::uint64_t>(now_ms()));
  }

  std::string run() {
    try {
      build_algorithms();
      replay_tuner();
      rebuild_assessor();
      recover_trials();
      start();
      loop();
    } catch (const std::exception& e) {
      fail(e.what());
    }
    finish_exec_time();
    return exp_.status;
  }

 private:
  // --- setup ---------------------------------------------------------------------------------

  void build_algorithms() {
    const std::string where = (dir_ / kStoreFileName).string() + ": config";
    if (options_.make_tuner) {
      tuner_ = options_.make_tuner();
    } else {
      space_ = std::make_unique<SearchSpace>(SearchSpace::parse(config_.search_space, where + ": searchSpace"));
      tuner_ = make_tuner(config_.tuner.name, json::parse(config_.tuner.class_args.dump()), *space_, config_.seed,
                          where + ": tuner");
    }
    if (options_.make_assessor) assessor_ = options_.make_assessor();
    else if (config_.assessor)
      assessor_ = make_assessor(config_.assessor->name, json::parse(config_.assessor->class_args.dump()),
                                where + ": assessor");
    if (options_.make_executor) executor_ = options_.make_executor();
    else if (config_.platform == "slurm")
      executor_ = make_slurm_executor(slurm_config_from_json(config_.training_service, where + ": trainingService"));
    else executor_ = make_local_executor();
  }

  // Brings a fresh tuner (same seed) to the state of the previous run by repeating its calls.
  void replay_tuner() {
    std::size_t mismatches = 0;
    for (const auto& call : store_.tuner_calls()) {
      if (call.kind == "generate") {
        const auto got = tuner_->generate(call.parameter_id);
        const bool same = got.has_value() == call.parameters.has_value() &&
                          (!got || dump_python_json(*got) == dump_python_json(*call.parameters));
        if (!same) ++mismatches;
        if (call.parameters) next_parameter_id_ = std::max(next_parameter_id_, call.parameter_id + 1);
        tuner_exhausted_ = !call.parameters;
      } else if (call.kind == "receive_result") {
        tuner_->receive_result(call.parameter_id, call.parameters.value_or(ojson::object()), call.value);
        tuner_exhausted_ = false;
      } else if (call.kind == "trial_end") {
        tuner_->trial_end(call.parameter_id, call.succeeded);
        tuner_exhausted_ = false;
      }
    }
    if (mismatches)
      warn("", fmt::format("the rebuilt tuner proposed different parameters for {} earlier trial(s) (tuner code or "
                           "seed changed?); the stored parameters stay, later proposals may differ from an "
                           "uninterrupted run",
                           mismatches));
  }

  // Trials of the previous run: waiting ones are queued, running ones re-attached, collected
  // from their exit_code file when they ended meanwhile, or re-queued when they vanished.
  void recover_trials() {
    for (auto& t : store_.trials()) {
      known_ids_.insert(t.trial_id);
      next_sequence_id_ = std::max(next_sequence_id_, t.sequence_id + 1);
      if (t.parameter_id) next_parameter_id_ = std::max(next_parameter_id_, *t.parameter_id + 1);
      if (t.status == ts::kWaiting) {
        waiting_.push_back(t.sequence_id);
        waiting_recs_[t.sequence_id] = t;
        continue;
      }
      if (!trial_in_flight(t)) continue;
      Active a(t);
      if (executor_->attach(t.trial_id, t.handle, t.dir)) {
        note(fmt::format("trial {} ({}) still running: re-attached", t.sequence_id, t.trial_id));
        store_.add_event(t.trial_id, "REATTACHED", t.handle);
        const auto id = t.trial_id;
        active_[id] = std::move(a);
        read_metrics(active_[id]);
        if (active_[id].rec.status != ts::kRunning) interrupt(active_[id]);  // a stop decided before the crash
        continue;
      }
      if (const auto code = read_exit_code(t.dir)) {
        active_[t.trial_id] = std::move(a);
        read_metrics(active_[t.trial_id]);
        end_trial(t.trial_id, TrialExit{t.trial_id, code, fmt::format("exit code {} (ended while the controller was down)", *code)});
        continue;
      }
      lost_trial(std::move(t));
    }
  }

  void lost_trial(TrialRecord t) {
    if (t.status == ts::kRunning && t.attempt <= config_.max_retries) {
      const int old_attempt = t.attempt;
      keep_attempt_dir(t.dir, old_attempt);
      Store::Transaction tx(store_);
      store_.delete_metrics(t.trial_id);
      t.status = ts::kWaiting;
      t.attempt = old_attempt + 1;
      t.start_time = 0;
      t.handle.clear();
      t.intermediate_count = 0;
      t.latest_value.reset();
      t.final_value.reset();
      t.final_metric.clear();
      t.message = fmt::format("attempt {} lost while the controller was down; re-queued", old_attempt);
      store_.update_trial(t);
      store_.add_event(t.trial_id, "REQUEUED", fmt::format("attempt {}", t.attempt));
      tx.commit();
      note(fmt::format("trial {} ({}) was lost with the controller: re-queued as attempt {}", t.sequence_id,
                       t.trial_id, t.attempt));
      waiting_.push_back(t.sequence_id);
      waiting_recs_[t.sequence_id] = t;
      return;
    }
    // Retries used up (or a stop was already decided): it ends here.
    Active a(t);
    const auto id = t.trial_id;
    if (t.status == ts::kRunning) a.rec.status = ts::kSysCanceled;
    active_[id] = std::move(a);
    end_trial(id, TrialExit{id, std::nullopt,
                            t.status == ts::kRunning ? "lost while the controller was down; retries used up"
                                                     : "lost while the controller was down"});
  }

  // The old attempt's files move to <trial dir>/attempt-N/.
  static void keep_attempt_dir(const std::filesystem::path& dir, int attempt) {
    if (!std::filesystem::exists(dir)) return;
    const auto keep = dir / fmt::format("attempt-{}", attempt);
    std::filesystem::create_directories(keep);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const auto name = entry.path().filename().string();
      if (name.rfind("attempt-", 0) == 0) continue;
      std::filesystem::rename(entry.path(), keep / name);
    }
  }

  void rebuild_assessor() {
    if (!assessor_) return;
    auto ended = store_.trials();
    std::erase_if(ended, [](const TrialRecord& t) { return t.end_time == 0; });
    std::stable_sort(ended.begin(), ended.end(), [](const auto& a, const auto& b) { return a.end_time < b.end_time; });
    for (const auto& t : ended) {
      std::vector<double> history;
      for (const auto& m : store_.metrics(t.trial_id))
        if (m.type == "PERIODICAL" && m.value) history.push_back(*m.value);
      assessor_->trial_end(t.trial_id, t.status == ts::kSucceeded, history);
    }
  }

  void start() {
    Store::Transaction tx(store_);
    store_.set_controller(::getpid(), options_.port);
    if (exp_.start_time == 0) {
      exp_.start_time = now_ms();
      store_.set_start_time(exp_.start_time);
    }
    store_.set_end_time(0);
    tx.commit();
    set_status(status::kRunning);
    exec_seconds_ = exp_.exec_seconds;
    last_tick_ = last_persist_ = Clock::now();
  }

  // --- main loop -----------------------------------------------------------------------------

  void loop() {
    while (true) {
      if (options_.stop && *options_.stop) {
        stop_all();
        return;
      }
      tick();
      enforce_trial_durations();
      escalate_kills();
      fill_slots();
      if (active_.empty() && (waiting_.empty() || exp_.status != status::kRunning) &&
          (exp_.status == status::kNoMoreTrial || exp_.status == status::kTunerNoMoreTrial)) {
        finish_done();
        return;
      }
      const auto exits = executor_->wait(options_.poll_interval);
      for (const auto& x : exits) end_trial(x.trial_id, x);
      for (auto& [id, a] : active_) read_metrics(a);
    }
  }

  void tick() {
    const auto now = Clock::now();
    if (is_active_status(exp_.status)) exec_seconds_ += std::chrono::duration<double>(now - last_tick_).count();
    last_tick_ = now;
    if (now - last_persist_ > std::chrono::seconds(5)) {
      store_.set_exec_seconds(exec_seconds_);
      last_persist_ = now;
    }
    if (config_.max_duration_s > 0 && exec_seconds_ >= config_.max_duration_s && is_active_status(exp_.status) &&
        exp_.status != status::kNoMoreTrial) {
      note(fmt::format("max experiment duration {}s reached: no more trials", config_.max_duration_s));
      set_status(status::kNoMoreTrial);
    }
  }

  bool out_of_time() const { return config_.max_duration_s > 0 && exec_seconds_ >= config_.max_duration_s; }

  void fill_slots() {
    // At most `concurrency` starts per round, so trials that fail to start cannot spin here.
    for (int round = 0; round < config_.concurrency && static_cast<int>(active_.size()) < config_.concurrency &&
                        !out_of_time();
         ++round) {
      if (!waiting_.empty()) {
        const auto seq = waiting_.front();
        waiting_.pop_front();
        launch(waiting_recs_.at(seq));
        waiting_recs_.erase(seq);
        continue;
      }
      if (exp_.status != status::kRunning) return;
      if (config_.max_trial_number > 0 && next_sequence_id_ >= config_.max_trial_number) {
        set_status(status::kNoMoreTrial);
        return;
      }
      if (tuner_exhausted_) {
        set_status(status::kTunerNoMoreTrial);
        return;
      }
      if (!generate()) return;
    }
  }

  // Asks the tuner for the next parameter set and queues it as a WAITING trial.
  bool generate() {
    const std::int64_t pid = next_parameter_id_;
    const auto params = tuner_->generate(pid);
    TunerCall call{0, "generate", pid, params, 0.0, false};
    if (!params) {
      store_.add_tuner_call(call);
      tuner_exhausted_ = true;
      note("the tuner has no more parameter sets");
      set_status(status::kTunerNoMoreTrial);
      return false;
    }
    TrialRecord t;
    t.sequence_id = next_sequence_id_;
    t.trial_id = new_trial_id();
    t.parameter_id = pid;
    t.parameters = *params;
    t.status = ts::kWaiting;
    t.submit_time = now_ms();
    t.dir = (dir_ / "trials" / t.trial_id).string();
    t.attempt = 1;
    ++next_parameter_id_;
    ++next_sequence_id_;
    launch(t, &call);
    return true;
  }

  std::string new_trial_id() {
    std::string id;
    do id = make_trial_id(id_rng_);
    while (known_ids_.count(id));
    known_ids_.insert(id);
    return id;
  }

  // Starts a trial: a queued one, or (with `generated`) a new one, recorded together with the
  // tuner call that proposed it in the same transaction as its start.
  void launch(TrialRecord t, const TunerCall* generated = nullptr) {
    const std::filesystem::path tdir = t.dir;
    t.command = config_.builtin ? builtin_trial_command(*config_.builtin, self_exe_, t.parameters, tdir)
                                : config_.trial_command;
    {
      Store::Transaction tx(store_);
      if (generated) {
        store_.add_tuner_call(*generated);
        store_.insert_trial(t);
        store_.add_event(t.trial_id, ts::kWaiting, parameter_record(t.parameter_id, t.parameters));
      }
      t.status = ts::kRunning;
      t.start_time = now_ms();
      store_.update_trial(t);
      store_.add_event(t.trial_id, ts::kRunning, fmt::format("attempt {}", t.attempt));
      tx.commit();
    }
    TrialLaunch l;
    l.trial_id = t.trial_id;
    l.sequence_id = t.sequence_id;
    l.command = t.command;
    l.trial_dir = tdir;
    l.code_dir = config_.code_dir;
    if (config_.max_trial_duration_s > 0) l.max_duration_s = config_.max_trial_duration_s;
    l.env = {{"NNI_PLATFORM", "local"},
             {"NNI_EXP_ID", exp_.id},
             {"NNI_TRIAL_JOB_ID", t.trial_id},
             {"NNI_TRIAL_SEQ_ID", std::to_string(t.sequence_id)},
             {"NNI_SYS_DIR", tdir.string()},
             {"NNI_OUTPUT_DIR", tdir.string()},
             {"NNI_CODE_DIR", config_.code_dir.string()}};
    const auto id = t.trial_id;
    active_[id] = Active(t);
    try {
      std::filesystem::create_directories(tdir);  // (.nni/ is made by the first report)
      write_parameter_file(tdir / kParameterFile, parameter_record(t.parameter_id, t.parameters));
      active_[id].rec.handle = executor_->submit(l);
    } catch (const Error& e) {
      end_trial(id, TrialExit{id, std::nullopt, std::string("could not start: ") + e.what()});
      return;
    }
    store_.update_trial(active_[id].rec);
  }

  // --- metrics -------------------------------------------------------------------------------

  void read_metrics(Active& a) {
    if (a.metrics_broken) return;
    const auto file = std::filesystem::path(a.rec.dir) / kMetricsFile;
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec || size <= a.metrics_offset) return;
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(a.metrics_offset));
    std::string data(size - a.metrics_offset, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    const auto parsed = parse_metric_frames(data);
    a.metrics_offset += parsed.consumed;
    for (const auto& r : parsed.reports) {
      on_metric(a, r);
      if (!active_.count(a.rec.trial_id)) return;  // (never: ends only come from exits)
    }
    if (!parsed.error.empty()) {
      a.metrics_broken = true;
      warn(a.rec.trial_id, "metrics file " + file.string() + ": " + parsed.error + "; later reports are ignored");
    }
  }

  void on_metric(Active& a, const MetricReport& r) {
    TrialRecord& t = a.rec;
    const auto value = default_of(r.value);
    if (!value) warn(t.trial_id, "metric without a numeric \"default\": " + r.value);
    MetricRecord m{t.trial_id, r.type, r.sequence, value, r.value, now_ms()};
    if (r.type == "PERIODICAL") {
      if (value) a.history.push_back(*value);
      Store::Transaction tx(store_);
      const bool fresh = store_.insert_metric(m);
      if (fresh) {
        t.intermediate_count += 1;
        t.latest_value = value;
        store_.update_trial(t);
      }
      tx.commit();
      if (fresh && value && assessor_ && t.status == ts::kRunning &&
          assessor_->assess(t.trial_id, a.history) == Verdict::Bad)
        early_stop(a, fmt::format("stopped by the assessor ({}) after {} intermediate results", assessor_->name(),
                                  a.history.size()));
      return;
    }
    if (t.final_metric.size()) return;  // one final result per trial (NNI ignores later ones)
    t.final_metric = r.value;
    t.final_value = value;
    const bool to_tuner = value && t.parameter_id && t.status == ts::kRunning;
    Store::Transaction tx(store_);
    store_.insert_metric(m);
    store_.update_trial(t);
    if (to_tuner) store_.add_tuner_call({0, "receive_result", *t.parameter_id, t.parameters, *value, true});
    tx.commit();
    if (to_tuner) {
      tuner_->receive_result(*t.parameter_id, t.parameters, *value);
      tuner_exhausted_ = false;
    }
  }

  // --- stopping trials -----------------------------------------------------------------------

  void early_stop(Active& a, const std::string& why) { cancel(a, ts::kEarlyStopped, why); }

  // The status is committed before the signal, so a crash in between still knows why it ended.
  void cancel(Active& a, const char* status, const std::string& why) {
    a.rec.status = status;
    a.rec.message = why;
    Store::Transaction tx(store_);
    store_.update_trial(a.rec);
    store_.add_event(a.rec.trial_id, status, why);
    tx.commit();
    note(fmt::format("trial {} ({}): {}", a.rec.sequence_id, a.rec.trial_id, why));
    interrupt(a);
  }

  void interrupt(Active& a) {
    executor_->interrupt(a.rec.trial_id);
    a.interrupted_at = Clock::now();
  }

  // The limit counts from the moment the command began (a batch job's queue time does not count);
  // for a trial started before a controller restart, from its recorded start.
  void enforce_trial_durations() {
    if (config_.max_trial_duration_s <= 0) return;
    const auto now = now_ms();
    for (auto& [id, a] : active_) {
      if (a.rec.status != ts::kRunning || a.rec.start_time <= 0) continue;
      if (!a.began_ms) {
        if (!executor_->started(id)) {
          a.seen_queued = true;
          continue;
        }
        a.began_ms = a.seen_queued ? now : a.rec.start_time;
      }
      if ((now - *a.began_ms) / 1000.0 > config_.max_trial_duration_s)
        early_stop(a, fmt::format("max trial duration {}s reached", config_.max_trial_duration_s));
    }
  }

  void escalate_kills() {
    const auto now = Clock::now();
    for (auto& [id, a] : active_)
      if (a.interrupted_at && now - *a.interrupted_at > std::chrono::duration<double>(options_.kill_grace_s)) {
        executor_->kill(id);
        a.interrupted_at.reset();
      }
  }

  // --- trial ends ----------------------------------------------------------------------------

  void end_trial(const std::string& id, const TrialExit& x) {
    auto it = active_.find(id);
    if (it == active_.end()) return;
    read_metrics(it->second);
    Active a = std::move(it->second);
    active_.erase(it);
    TrialRecord& t = a.rec;
    if (t.status == ts::kRunning) t.status = x.exit_code && *x.exit_code == 0 ? ts::kSucceeded : ts::kFailed;
    t.exit_code = x.exit_code;
    t.end_time = now_ms();
    if (t.message.empty() || t.status == ts::kFailed || t.status == ts::kSucceeded) t.message = x.message;
    else t.message += "; " + x.message;
    const bool succeeded = t.status == ts::kSucceeded;
    Store::Transaction tx(store_);
    store_.update_trial(t);
    store_.add_event(t.trial_id, t.status, x.message);
    if (t.parameter_id) store_.add_tuner_call({0, "trial_end", *t.parameter_id, std::nullopt, 0.0, succeeded});
    tx.commit();
    if (t.parameter_id) tuner_->trial_end(*t.parameter_id, succeeded);
    if (assessor_) assessor_->trial_end(t.trial_id, succeeded, a.history);
    tuner_exhausted_ = false;  // a result may give the tuner new ideas (NNI asks again)
    if (exp_.status == status::kTunerNoMoreTrial) set_status(status::kRunning);
    note(progress_line(t));
  }

  std::string progress_line(const TrialRecord& t) {
    std::string summary;
    for (const auto& [st, n] : store_.status_counts()) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, st);
    const std::string value = t.final_value ? fmt::format(" final {}", *t.final_value) : "";
    return fmt::format("trial {} ({}) {}{} ({}); trials: {}", t.sequence_id, t.trial_id, t.status, value, t.message,
                       summary);
  }

  // --- experiment ends -----------------------------------------------------------------------

  void finish_done() {
    cancel_waiting(ts::kSysCanceled, "the experiment ended before it started");
    store_.set_end_time(now_ms());
    set_status(status::kDone);
  }

  void cancel_waiting(const char* status, const std::string& why) {
    for (auto seq : waiting_) {
      auto t = waiting_recs_.at(seq);
      t.status = status;
      t.message = why;
      t.end_time = now_ms();
      Store::Transaction tx(store_);
      store_.update_trial(t);
      store_.add_event(t.trial_id, status, why);
      if (t.parameter_id) store_.add_tuner_call({0, "trial_end", *t.parameter_id, std::nullopt, 0.0, false});
      tx.commit();
    }
    waiting_.clear();
    waiting_recs_.clear();
  }

  // Cancels every trial and waits for them to end (SIGKILL after the grace period).
  void wind_down(const char* trial_status, const std::string& why) {
    cancel_waiting(trial_status, why);
    for (auto& [id, a] : active_)
      if (a.rec.status == ts::kRunning) cancel(a, trial_status, why);
      else if (!a.interrupted_at) interrupt(a);
    while (!active_.empty()) {
      escalate_kills();
      for (const auto& x : executor_->wait(std::chrono::milliseconds(100))) end_trial(x.trial_id, x);
    }
  }

  void stop_all() {
    set_status(status::kStopping);
    wind_down(ts::kUserCanceled, "stopped by the user");
    store_.set_end_time(now_ms());
    set_status(status::kStopped);
  }

  void fail(const std::string& what) {
    note("error: " + what);
    try {
      set_status(status::kError, what);
      wind_down(ts::kSysCanceled, "the experiment failed: " + what);
      store_.set_end_time(now_ms());
    } catch (const std::exception& e) {
      note(std::string("error while stopping trials: ") + e.what());
    }
  }

  void finish_exec_time() {
    try {
      store_.set_exec_seconds(exec_seconds_);
    } catch (const std::exception&) {
    }
  }

  // --- status and logging --------------------------------------------------------------------

  void set_status(const char* s, const std::string& error = "") {
    if (exp_.status == s && error.empty()) return;
    Store::Transaction tx(store_);
    store_.set_status(s, error);
    store_.add_event("", s, error);
    tx.commit();
    exp_.status = s;
    note(fmt::format("experiment {}: {}", exp_.id, s));
  }

  void note(const std::string& line) {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::gmtime(&now));
    log_ << stamp << "  " << line << '\n';
    log_.flush();
    if (options_.log) options_.log(line);
  }

  void warn(const std::string& trial_id, const std::string& what) {
    store_.add_event(trial_id, "WARNING", what);
    note("warning: " + (trial_id.empty() ? "" : "trial " + trial_id + ": ") + what);
  }

  std::filesystem::path dir_;
  const ControllerOptions& options_;
  Store store_;
  ExperimentRecord exp_;
  ExperimentConfig config_;
  std::filesystem::path self_exe_;
  std::ofstream log_;
  Rng id_rng_;
  std::unique_ptr<SearchSpace> space_;  // outlives the tuner built on it
  std::unique_ptr<Tuner> tuner_;
  std::unique_ptr<Assessor> assessor_;
  std::unique_ptr<Executor> executor_;
  std::map<std::string, Active> active_;
  std::deque<std::int64_t> waiting_;
  std::map<std::int64_t, TrialRecord> waiting_recs_;
  std::set<std::string> known_ids_;
  std::int64_t next_parameter_id_ = 0, next_sequence_id_ = 0;
  bool tuner_exhausted_ = false;
  double exec_seconds_ = 0.0;
  Clock::time_point last_tick_, last_persist_;
};

}  // namespace

std::string create_experiment(const ExperimentConfig& config, const std::filesystem::path& root) {
  // Everything the controller will build, checked now so a bad config fails at `hpo run`.
  const auto space = SearchSpace::parse(config.search_space, "searchSpace");
  (void)make_tuner(config.tuner.name, json::parse(config.tuner.class_args.dump()), space, config.seed, "tuner");
  if (config.assessor) (void)make_assessor(config.assessor->name, json::parse(config.assessor->class_args.dump()), "assessor");
  if (config.builtin)
    for (const auto& [param, key] : config.builtin->map)
      if (!config.search_space.contains(param))
        throw InputError("trial.map." + param, "is not a search-space parameter");
  std::filesystem::create_directories(root);
  Rng rng(std::random_device{}() ^ static_cast<std::uint64_t>(now_ms()) ^ static_cast<std::uint64_t>(::getpid()));
  std::string id;
  do id = make_experiment_id(rng);
  while (std::filesystem::exists(root / id));
  ExperimentRecord e;
  e.id = id;
  e.name = config.name;
  e.config = config.to_json();
  e.search_space = config.search_space;
  e.status = status::kInitialized;
  e.max_trial_number = config.max_trial_number;
  e.max_duration_s = config.max_duration_s;
  e.concurrency = config.concurrency;
  e.optimize_mode = config.optimize_mode();
  e.tuner = config.tuner.name;
  e.assessor = config.assessor ? config.assessor->name : "";
  Store::create(std::filesystem::absolute(root / id), e);
  return id;
}

std::string run_experiment(const std::filesystem::path& experiment_dir, const ControllerOptions& options) {
  ControllerLock lock(experiment_dir);
  if (!lock.held()) {
    const auto e = Store::open_read_only(experiment_dir).experiment();
    throw InputError(experiment_dir.string(),
                     fmt::format("experiment {} is already running (controller pid {})", e.id, e.controller_pid));
  }
  Controller c(experiment_dir, options);
  return c.run();
}

bool controller_alive(const std::filesystem::path& experiment_dir) {
  if (!std::filesystem::exists(experiment_dir / kLockFile)) return false;
  ControllerLock probe(experiment_dir);
  return !probe.held();
}

std::string stop_experiment(const std::filesystem::path& experiment_dir, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  if (controller_alive(experiment_dir)) {
    const auto e = Store::open_read_only(experiment_dir).experiment();
    if (e.controller_pid > 0) ::kill(static_cast<pid_t>(e.controller_pid), SIGTERM);
    while (Clock::now() < deadline && controller_alive(experiment_dir))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Store::open_read_only(experiment_dir).experiment().status;
  }
  // No controller: stop it offline, with a controller that only winds down.
  ControllerLock lock(experiment_dir);
  if (!lock.held()) return stop_experiment(experiment_dir, wait);  // one started meanwhile
  const auto e = Store::open_read_only(experiment_dir).experiment();
  if (e.status == status::kDone || e.status == status::kStopped || e.status == status::kError) return e.status;
  const volatile std::sig_atomic_t stop_now = 1;
  ControllerOptions o;
  o.stop = &stop_now;
  o.kill_grace_s = 5.0;
  Controller c(experiment_dir, o);
  return c.run();
}

std::filesystem::path experiment_dir(const std::filesystem::path& root, const std::string& id_or_path) {
  const std::filesystem::path direct(id_or_path);
  if (std::filesystem::exists(direct / kStoreFileName)) return std::filesystem::absolute(direct);
  if (!is_experiment_id(id_or_path)) throw InputError(id_or_path, "is not an experiment id or directory");
  const auto dir = root / id_or_path;
  if (!std::filesystem::exists(dir / kStoreFileName))
    throw InputError(id_or_path, "no such experiment under " + root.string());
  return std::filesystem::absolute(dir);
}

}  // namespace spikeline::hpo
