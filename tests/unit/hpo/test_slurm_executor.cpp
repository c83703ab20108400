// The Slurm executor without a cluster: config, sbatch arguments, the batch script (run here with
// bash as Slurm would), squeue --json parsing on a recording from Slurm 22.05.8, and the
// executor's state machine against a scripted sbatch/squeue/scancel. The real cluster run is
// tests/slurm/run.sh.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <thread>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/hpo/slurm_executor.hpp"
#include "spikeline/hpo/trial_protocol.hpp"
#include "support/cli.hpp"

namespace spikeline::hpo {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using test::scratch_dir;
using test::slurp;
using test::write_text;

std::string sample_squeue() {
  return slurp(std::filesystem::path(SPIKELINE_SOURCE_DIR) / "tests/unit/hpo/data/squeue-22.05.8.json");
}

TrialLaunch make_launch(const std::filesystem::path& root) {
  TrialLaunch l;
  l.trial_id = "yHnaI";
  l.sequence_id = 3;
  l.command = "echo hi";
  l.trial_dir = root / "trials" / "yHnaI";
  l.code_dir = root / "code";
  l.env = {{"NNI_EXP_ID", "du6ejcys"}, {"NNI_TRIAL_JOB_ID", "yHnaI"}, {"NNI_TRIAL_SEQ_ID", "3"}};
  std::filesystem::create_directories(l.trial_dir);
  std::filesystem::create_directories(l.code_dir);
  return l;
}

// --- config ------------------------------------------------------------------------------------

TEST(SlurmConfig, ReadsEveryKeyIgnoringCaseAndUnderscores) {
  const auto c = slurm_config_from_json(
      json::parse(R"({"platform": "slurm", "partition": "gpu", "Account": "snn-lab",
                      "sbatchOptions": ["--qos=short", "--mem=8G"], "gpus_per_trial": 2,
                      "poll_interval": "2s", "kill_grace": 0.5, "exitFileWait": "0.5m"})"),
      "exp.yaml: training_service");
  EXPECT_EQ(c.partition, "gpu");
  EXPECT_EQ(c.account, "snn-lab");
  EXPECT_EQ(c.sbatch_options, (std::vector<std::string>{"--qos=short", "--mem=8G"}));
  EXPECT_EQ(c.gpus_per_trial, 2);
  EXPECT_EQ(c.poll_interval, milliseconds(2000));
  EXPECT_EQ(c.kill_grace, milliseconds(500));
  EXPECT_EQ(c.exit_file_wait, milliseconds(30000));
}

TEST(SlurmConfig, DefaultsWhenOnlyThePlatformIsGiven) {
  const auto c = slurm_config_from_json(json{{"platform", "slurm"}}, "ts");
  EXPECT_TRUE(c.partition.empty());
  EXPECT_FALSE(c.gpus_per_trial.has_value());
  EXPECT_EQ(c.poll_interval, milliseconds(5000));
  EXPECT_EQ(c.kill_grace, milliseconds(5000));
}

void expect_input_error(const std::string& doc, const std::string& needle) {
  try {
    slurm_config_from_json(json::parse(doc), "exp.json: trainingService");
    FAIL() << "no error for " << doc;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exp.json: trainingService"), std::string::npos) << e.what();
  }
}

TEST(SlurmConfig, RejectsBadValuesNamingTheKey) {
  expect_input_error(R"({"platform": "slurm", "partiton": "gpu"})", "partiton: unknown key");
  expect_input_error(R"({"platform": "slurm", "sbatch_options": "--mem=8G --qos=x"})", "sbatch_options: must be a list");
  expect_input_error(R"({"platform": "slurm", "sbatch_options": ["mem=8G"]})", "'mem=8G' is not an option");
  expect_input_error(R"({"platform": "slurm", "gpus_per_trial": -1})", "gpus_per_trial: must be an integer >= 0");
  expect_input_error(R"({"platform": "slurm", "gpus_per_trial": 1.5})", "gpus_per_trial");
  expect_input_error(R"({"platform": "slurm", "poll_interval": 0})", "poll_interval: must be > 0");
  expect_input_error(R"({"platform": "slurm", "poll_interval": "5 minutes"})", "poll_interval: must be a number of seconds");
  expect_input_error(R"({"platform": "slurm", "kill_grace": "-1s"})", "kill_grace: must be >= 0");
  expect_input_error(R"({"platform": "local"})", "platform: must be 'slurm'");
  expect_input_error(R"([1])", "must be an object");
}

TEST(SlurmConfig, ExperimentConfigValidatesItAndKeepsItThroughTheStore) {
  const auto doc = nlohmann::ordered_json::parse(R"({"trialCommand": "true",
      "searchSpace": {"x": {"_type": "choice", "_value": [1]}},
      "trainingService": {"platform": "slurm", "partition": "gpu", "sbatchOptions": ["--mem=1G"]}})");
  const auto c = experiment_config_from_json(doc, "exp.json", ".");
  EXPECT_EQ(c.platform, "slurm");
  // The store keeps to_json(); resume reads it back and builds the executor from it.
  const auto again = experiment_config_from_json(c.to_json(), "store", ".");
  const auto slurm = slurm_config_from_json(again.training_service, "store");
  EXPECT_EQ(slurm.partition, "gpu");
  EXPECT_EQ(slurm.sbatch_options, std::vector<std::string>{"--mem=1G"});
  auto bad = doc;
  bad["trainingService"]["partiton"] = "gpu";
  try {
    experiment_config_from_json(bad, "exp.json", ".");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.json: trainingService: partiton: unknown key"), std::string::npos) << e.what();
  }
}

// --- sbatch arguments --------------------------------------------------------------------------

TEST(SbatchArgv, MapsTheLaunchAndConfigInOrder) {
  const auto root = scratch_dir("slurm_argv");
  auto l = make_launch(root);
  l.max_duration_s = 90.0;  // 1.5 min -> 2
  SlurmConfig c;
  c.partition = "gpu";
  c.account = "lab";
  c.gpus_per_trial = 2;
  c.sbatch_options = {"--qos=short"};
  const auto dir = l.trial_dir.string();
  EXPECT_EQ(sbatch_argv(c, l, l.trial_dir / "slurm_job.sh"),
            (std::vector<std::string>{"sbatch", "--parsable", "--job-name=du6ejcys_3",
                                      "--chdir=" + l.code_dir.string(), "--output=" + dir + "/trial.stdout",
                                      "--error=" + dir + "/trial.stderr", "--export=ALL", "--no-requeue",
                                      "--time=2", "--partition=gpu", "--account=lab", "--gres=gpu:2",
                                      "--qos=short", dir + "/slurm_job.sh"}));
}

TEST(SbatchArgv, TimeRoundsUpToWholeMinutesAndOmitsWhatIsUnset) {
  const auto root = scratch_dir("slurm_argv_time");
  auto l = make_launch(root);
  const auto time_arg = [&](std::optional<double> s) {
    l.max_duration_s = s;
    for (const auto& a : sbatch_argv(SlurmConfig{}, l, "s.sh"))
      if (a.rfind("--time=", 0) == 0) return a;
    return std::string("none");
  };
  EXPECT_EQ(time_arg(60.0), "--time=1");
  EXPECT_EQ(time_arg(60.001), "--time=2");
  EXPECT_EQ(time_arg(1.0), "--time=1");
  EXPECT_EQ(time_arg(std::nullopt), "none");
  l.max_duration_s.reset();
  const auto argv = sbatch_argv(SlurmConfig{}, l, "s.sh");
  EXPECT_EQ(argv.size(), 9u);  // sbatch, 7 fixed options, the script
  for (const auto& a : argv) EXPECT_EQ(a.find("--gres"), std::string::npos);
}

TEST(SbatchArgv, EscapesPercentInLogPathsAndDefaultsTheJobName) {
  const auto root = scratch_dir("slurm_100%");
  auto l = make_launch(root);
  l.env.clear();
  const auto argv = sbatch_argv(SlurmConfig{}, l, "s.sh");
  EXPECT_EQ(argv[2], "--job-name=spikeline_3");
  EXPECT_NE(argv[4].find("slurm_100%%/trials"), std::string::npos) << argv[4];
  EXPECT_NE(argv[3].find("slurm_100%/code"), std::string::npos) << argv[3];  // --chdir is literal
}

TEST(SbatchJobId, ParsesParsableOutput) {
  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("45;cluster2\n"), "45");
  EXPECT_EQ(parse_sbatch_job_id(""), "");
  EXPECT_EQ(parse_sbatch_job_id("Submitted batch job 7\n"), "");
}

// --- the batch script, run by bash as slurmstepd would -----------------------------------------

struct ScriptRun {
  int status = -1;
  std::string out;
};

// Runs the batch script in its own process group with `extra_env`; `interrupt_after` > 0 sends
// SIGINT to the whole group after that delay (what scancel --signal=INT --full does).
ScriptRun run_script(const std::filesystem::path& script, const std::vector<std::string>& extra_env,
                     milliseconds interrupt_after = milliseconds(0)) {
  const auto out = script.parent_path() / "script.out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
    std::freopen(out.c_str(), "w", stdout);
    ::execl("/bin/bash", "bash", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  if (interrupt_after.count() > 0) {
    std::this_thread::sleep_for(interrupt_after);
    ::kill(-pid, SIGINT);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(out)};
}

TEST(SlurmBatchScript, RunsTheCommandInTheCodeDirWithTheEnvironmentAndRecordsTheExitCode) {
  const auto root = scratch_dir("slurm_script");
  auto l = make_launch(root);
  l.env.push_back({"ODD", "it's a \"test\" $HOME `x`"});
  l.command = "pwd; echo \"$NNI_TRIAL_JOB_ID|$ODD|$SPIKELINE_TRIAL_DIR\"; exit 7";
  const auto script = l.trial_dir / kSlurmScriptFile;
  write_text(script, slurm_batch_script(SlurmConfig{}, l));
  const auto r = run_script(script, {});
  EXPECT_EQ(r.status, 7);
  EXPECT_EQ(r.out, l.code_dir.string() + "\nyHnaI|it's a \"test\" $HOME `x`|" + l.trial_dir.string() + "\n");
  EXPECT_EQ(read_exit_code(l.trial_dir), 7);
  EXPECT_FALSE(std::filesystem::exists(l.trial_dir / "exit_code.tmp"));
}

TEST(SlurmBatchScript, InterruptStillWritesTheExitCode) {
  const auto root = scratch_dir("slurm_script_int");
  auto l = make_launch(root);
  l.command = "sleep 5";
  const auto script = l.trial_dir / kSlurmScriptFile;
  write_text(script, slurm_batch_script(SlurmConfig{}, l));
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_script(script, {}, milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(r.status, 130);  // 128 + SIGINT, as the shell reports a signalled command
  EXPECT_EQ(read_exit_code(l.trial_dir), 130);
}

TEST(SlurmBatchScript, MissingCodeDirFailsInsteadOfRunningElsewhere) {
  const auto root = scratch_dir("slurm_script_nodir");
  auto l = make_launch(root);
  l.code_dir = root / "not_shared";
  l.command = "echo ran";
  const auto script = l.trial_dir / kSlurmScriptFile;
  write_text(script, slurm_batch_script(SlurmConfig{}, l));
  const auto r = run_script(script, {});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_exit_code(l.trial_dir), 1);
}

TEST(SlurmBatchScript, CudaVisibleDevicesFromTheAllocationUnlessSlurmSetIt) {
  const auto root = scratch_dir("slurm_script_gpu");
  auto l = make_launch(root);
  l.command = "echo \"[${CUDA_VISIBLE_DEVICES-unset}]\"";
  const auto script = l.trial_dir / kSlurmScriptFile;
  SlurmConfig c;
  c.gpus_per_trial = 2;
  write_text(script, slurm_batch_script(c, l));
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(run_script(script, {"SLURM_JOB_GPUS=1,3"}).out, "[1,3]\n");
  EXPECT_EQ(run_script(script, {"SLURM_JOB_GPUS=1,3", "SLURM_STEP_GPUS=2"}).out, "[2]\n");
  EXPECT_EQ(run_script(script, {"SLURM_JOB_GPUS=1,3", "CUDA_VISIBLE_DEVICES=0,1"}).out, "[0,1]\n");
  EXPECT_EQ(run_script(script, {}).out, "[unset]\n");  // Slurm told nothing (fake GRES): leave it
  c.gpus_per_trial = 0;  // NNI: trialGpuNumber 0 -> an empty CUDA_VISIBLE_DEVICES
  write_text(script, slurm_batch_script(c, l));
  EXPECT_EQ(run_script(script, {"CUDA_VISIBLE_DEVICES=0"}).out, "[]\n");
  c.gpus_per_trial.reset();  // no GPU handling at all
  write_text(script, slurm_batch_script(c, l));
  EXPECT_EQ(run_script(script, {"CUDA_VISIBLE_DEVICES=0"}).out, "[0]\n");
}

TEST(SlurmBatchScript, RejectsAnInvalidEnvironmentName) {
  const auto root = scratch_dir("slurm_script_env");
  auto l = make_launch(root);
  l.env.push_back({"BAD NAME", "x"});
  EXPECT_THROW(slurm_batch_script(SlurmConfig{}, l), InputError);
}

// --- squeue --json ------------------------------------------------------------------------------

TEST(SqueueJson, RecordedSlurm2205OutputMapsStatesToPhases) {
  // Recorded from scripts/slurm-local.sh: jobs 1-10 (see the job names in the file).
  const auto jobs = parse_squeue_json(sample_squeue());
  ASSERT_EQ(jobs.size(), 10u);
  const auto expect = [&](const std::string& id, const std::string& state, const std::string& reason, JobPhase phase) {
    ASSERT_TRUE(jobs.count(id)) << id;
    EXPECT_EQ(jobs.at(id).state, state) << id;
    EXPECT_EQ(jobs.at(id).reason, reason) << id;
    EXPECT_EQ(jobs.at(id).phase, phase) << id;
  };
  expect("1", "FAILED", "NonZeroExitCode", JobPhase::kEnded);  // scancel --signal=INT --full
  expect("2", "CANCELLED", "None", JobPhase::kEnded);          // scancel
  expect("4", "COMPLETED", "None", JobPhase::kEnded);
  expect("5", "FAILED", "NonZeroExitCode", JobPhase::kEnded);  // exit 3
  expect("6", "TIMEOUT", "TimeLimit", JobPhase::kEnded);       // --time=1
  expect("7", "RUNNING", "None", JobPhase::kRunning);
  expect("9", "CANCELLED", "JobHeldUser", JobPhase::kEnded);   // cancelled while held
  expect("10", "PENDING", "Resources", JobPhase::kQueued);     // both CPUs busy
}

TEST(SqueueJson, FiltersToTheWantedJobs) {
  // Slurm 22.05 ignores -j with --json: the filter must happen on our side.
  const auto jobs = parse_squeue_json(sample_squeue(), {"4", "10", "999"});
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_TRUE(jobs.count("4") && jobs.count("10"));
}

TEST(SqueueJson, LaterVersionsWithStateListsAndBadOutput) {
  const auto jobs = parse_squeue_json(R"({"jobs": [
      {"job_id": 5, "job_state": ["PENDING", "REQUEUED"], "state_reason": "BeginTime"},
      {"job_id": 6, "job_state": ["COMPLETED"], "state_reason": "None"},
      {"job_id": 7, "job_state": ["RUNNING", "COMPLETING"]},
      {"job_id": 8, "job_state": ["RUNNING"]},
      {"job_id": 9, "job_state": ["SOMETHING_NEW"]}]})");
  EXPECT_EQ(jobs.at("5").phase, JobPhase::kQueued);
  EXPECT_EQ(jobs.at("5").state, "PENDING+REQUEUED");
  EXPECT_EQ(jobs.at("6").phase, JobPhase::kEnded);
  EXPECT_EQ(jobs.at("7").phase, JobPhase::kEnded);
  EXPECT_EQ(jobs.at("8").phase, JobPhase::kRunning);
  EXPECT_EQ(jobs.at("9").phase, JobPhase::kRunning);  // unknown: the exit_code file decides
  EXPECT_THROW(parse_squeue_json("squeue: error: ..."), IoError);
  EXPECT_THROW(parse_squeue_json(R"({"errors": []})"), IoError);
}

// --- the executor against scripted Slurm commands --------------------------------------------

// Records every command; answers squeue with `queue` (job id -> state) and the others as set.
struct FakeSlurm {
  std::vector<std::vector<std::string>> calls;
  std::vector<std::vector<std::string>> unset;
  std::map<std::string, std::string> queue;
  CommandResult sbatch{0, "42\n", ""};
  CommandResult signal_result{0, "", ""};
  bool squeue_fails = false;

  CommandResult operator()(const CommandSpec& spec) {
    calls.push_back(spec.argv);
    unset.push_back(spec.unset_env);
    const auto& cmd = spec.argv[0];
    if (cmd == "sbatch") return sbatch;
    if (cmd == "squeue") {
      if (squeue_fails) return {1, "", "slurm_load_jobs error: Unable to contact slurm controller"};
      json jobs = json::array();
      for (const auto& [id, state] : queue) jobs.push_back({{"job_id", std::stoi(id)}, {"job_state", state}});
      return {0, json{{"jobs", jobs}}.dump(), ""};
    }
    if (cmd == "scancel" && spec.argv.size() > 2) return signal_result;
    return {0, "", ""};
  }
  std::vector<std::vector<std::string>> calls_of(const std::string& cmd) const {
    std::vector<std::vector<std::string>> out;
    for (const auto& c : calls)
      if (c[0] == cmd) out.push_back(c);
    return out;
  }
};

struct ExecutorFixture {
  std::shared_ptr<FakeSlurm> fake = std::make_shared<FakeSlurm>();
  std::unique_ptr<Executor> exec;
  explicit ExecutorFixture(SlurmConfig c = fast_config()) {
    exec = make_slurm_executor(c, [f = fake](const CommandSpec& s) { return (*f)(s); });
  }
  static SlurmConfig fast_config() {
    SlurmConfig c;
    c.poll_interval = milliseconds(10);
    c.kill_grace = milliseconds(0);
    c.exit_file_wait = milliseconds(0);
    return c;
  }
};

TEST(SlurmExecutor, SubmitWritesTheScriptAndJobIdAndReturnsTheHandle) {
  const auto root = scratch_dir("slurm_exec_submit");
  const auto l = make_launch(root);
  write_text(l.trial_dir / "exit_code", "0\n");  // from an earlier attempt
  SlurmConfig c = ExecutorFixture::fast_config();
  c.gpus_per_trial = 1;
  ExecutorFixture f(c);
  EXPECT_EQ(f.exec->submit(l), "slurm:42");
  EXPECT_EQ(f.exec->tracked(), 1u);
  EXPECT_FALSE(std::filesystem::exists(l.trial_dir / "exit_code"));
  EXPECT_EQ(slurp(l.trial_dir / kSlurmJobIdFile), "42\n");
  EXPECT_EQ(slurp(l.trial_dir / kSlurmScriptFile), slurm_batch_script(c, l));
  ASSERT_EQ(f.fake->calls.size(), 1u);
  EXPECT_EQ(f.fake->calls[0], sbatch_argv(c, l, l.trial_dir / kSlurmScriptFile));
  // The controller's own CUDA_VISIBLE_DEVICES must not reach a GPU job (Slurm's or ours wins).
  EXPECT_EQ(f.fake->unset[0], std::vector<std::string>{"CUDA_VISIBLE_DEVICES"});
}

TEST(SlurmExecutor, SbatchErrorsAreClear) {
  const auto root = scratch_dir("slurm_exec_sbatch_err");
  const auto l = make_launch(root);
  ExecutorFixture f;
  f.fake->sbatch = {1, "", "sbatch: error: invalid partition specified: gpux\n"};
  try {
    f.exec->submit(l);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("trial yHnaI: sbatch failed (exit code 1): sbatch: error: invalid partition "
                                         "specified: gpux (training_service.platform = slurm)"),
              std::string::npos)
        << e.what();
  }
  f.fake->sbatch = {127, "", ""};
  try {
    f.exec->submit(l);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "sbatch not found: is Slurm installed? (training_service.platform = slurm)");
  }
  EXPECT_EQ(f.exec->tracked(), 0u);
}

TEST(SlurmExecutor, ExitCodeFileEndsTheTrialAndOneSqueueCoversAllJobs) {
  const auto root = scratch_dir("slurm_exec_wait");
  auto a = make_launch(root);
  auto b = a;
  b.trial_id = "Bbbbb";
  b.sequence_id = 4;
  b.trial_dir = root / "trials" / "Bbbbb";
  std::filesystem::create_directories(b.trial_dir);
  ExecutorFixture f;
  f.exec->submit(a);
  f.fake->sbatch.out = "43\n";
  f.exec->submit(b);
  f.fake->queue = {{"42", "RUNNING"}, {"43", "PENDING"}};
  EXPECT_TRUE(f.exec->wait(milliseconds(50)).empty());
  const auto squeues = f.fake->calls_of("squeue");
  ASSERT_FALSE(squeues.empty());
  EXPECT_EQ(squeues[0], (std::vector<std::string>{"squeue", "--json", "--jobs=42,43"}));
  write_text(b.trial_dir / "exit_code", "3\n");
  const auto exits = f.exec->wait(milliseconds(2000));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].trial_id, "Bbbbb");
  EXPECT_EQ(exits[0].exit_code, 3);
  EXPECT_EQ(exits[0].message, "exit code 3 (Slurm job 43)");
  EXPECT_EQ(f.exec->tracked(), 1u);
}

TEST(SlurmExecutor, JobEndedWithoutExitCodeFileFailsAfterTheWait) {
  const auto root = scratch_dir("slurm_exec_lost");
  const auto l = make_launch(root);
  SlurmConfig c = ExecutorFixture::fast_config();
  c.exit_file_wait = milliseconds(300);
  ExecutorFixture f(c);
  f.exec->submit(l);
  f.fake->queue = {{"42", "NODE_FAIL"}};
  const auto start = std::chrono::steady_clock::now();
  auto exits = f.exec->wait(milliseconds(100));
  EXPECT_TRUE(exits.empty());  // the file may still show up on a shared filesystem
  exits = f.exec->wait(milliseconds(3000));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_FALSE(exits[0].exit_code.has_value());
  EXPECT_NE(exits[0].message.find("Slurm job 42 ended as NODE_FAIL"), std::string::npos) << exits[0].message;
}

TEST(SlurmExecutor, JobGoneFromTheQueueWithoutExitCodeFileFails) {
  const auto root = scratch_dir("slurm_exec_gone");
  const auto l = make_launch(root);
  ExecutorFixture f;
  f.exec->submit(l);
  const auto exits = f.exec->wait(milliseconds(2000));  // empty queue
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_FALSE(exits[0].exit_code.has_value());
  EXPECT_NE(exits[0].message.find("Slurm job 42 left the queue without writing"), std::string::npos);
}

TEST(SlurmExecutor, SqueueOutageIsToleratedWhileExitFilesStillWork) {
  const auto root = scratch_dir("slurm_exec_outage");
  const auto l = make_launch(root);
  ExecutorFixture f;
  f.exec->submit(l);
  f.fake->squeue_fails = true;
  EXPECT_TRUE(f.exec->wait(milliseconds(100)).empty());
  EXPECT_GE(f.fake->calls_of("squeue").size(), 2u);
  write_text(l.trial_dir / "exit_code", "0\n");
  const auto exits = f.exec->wait(milliseconds(2000));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].exit_code, 0);
}

TEST(SlurmExecutor, InterruptSignalsThenCancelsAfterTheGrace) {
  const auto root = scratch_dir("slurm_exec_int");
  const auto l = make_launch(root);
  SlurmConfig c = ExecutorFixture::fast_config();
  c.kill_grace = milliseconds(200);
  ExecutorFixture f(c);
  f.exec->submit(l);
  f.fake->queue = {{"42", "RUNNING"}};
  f.exec->interrupt(l.trial_id);
  ASSERT_EQ(f.fake->calls_of("scancel").size(), 1u);
  EXPECT_EQ(f.fake->calls_of("scancel")[0], (std::vector<std::string>{"scancel", "--signal=INT", "--full", "42"}));
  f.exec->wait(milliseconds(50));
  EXPECT_EQ(f.fake->calls_of("scancel").size(), 1u);  // still within the grace
  f.exec->wait(milliseconds(400));
  ASSERT_EQ(f.fake->calls_of("scancel").size(), 2u);
  EXPECT_EQ(f.fake->calls_of("scancel")[1], (std::vector<std::string>{"scancel", "42"}));
  f.exec->wait(milliseconds(50));
  EXPECT_EQ(f.fake->calls_of("scancel").size(), 2u);  // once
}

// The controller's max trial duration counts from started(): queue time must not count.
TEST(SlurmExecutor, StartedOnlyOnceSqueueShowsTheJobRunning) {
  const auto root = scratch_dir("slurm_exec_started");
  const auto l = make_launch(root);
  ExecutorFixture f;
  f.exec->submit(l);
  EXPECT_FALSE(f.exec->started(l.trial_id));  // just submitted: queued
  f.fake->queue = {{"42", "PENDING"}};
  f.exec->wait(milliseconds(30));
  EXPECT_FALSE(f.exec->started(l.trial_id));
  f.fake->queue = {{"42", "RUNNING"}};
  f.exec->wait(milliseconds(30));
  EXPECT_TRUE(f.exec->started(l.trial_id));
  EXPECT_TRUE(f.exec->started("unknown"));  // not a queued job of ours
}

TEST(SlurmExecutor, InterruptOfAQueuedJobCancelsAtOnce) {
  const auto root = scratch_dir("slurm_exec_int_pending");
  const auto l = make_launch(root);
  ExecutorFixture f;
  f.exec->submit(l);
  f.fake->signal_result = {228, "", "scancel: error: Kill job error on job id 42: Job can not be altered now"};
  f.exec->interrupt(l.trial_id);
  const auto calls = f.fake->calls_of("scancel");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], (std::vector<std::string>{"scancel", "42"}));
  f.exec->kill(l.trial_id);
  EXPECT_EQ(f.fake->calls_of("scancel").size(), 2u);
}

TEST(SlurmExecutor, AttachFindsQueuedOrRunningJobsOnly) {
  const auto root = scratch_dir("slurm_exec_attach");
  auto l = make_launch(root);
  ExecutorFixture f;
  f.fake->queue = {{"42", "RUNNING"}, {"50", "PENDING"}, {"51", "COMPLETED"}};
  EXPECT_TRUE(f.exec->attach("t42", "slurm:42", l.trial_dir));
  EXPECT_TRUE(f.exec->attach("t50", "slurm:50", l.trial_dir));
  EXPECT_FALSE(f.exec->attach("t51", "slurm:51", l.trial_dir));
  EXPECT_FALSE(f.exec->attach("t52", "slurm:52", l.trial_dir));
  EXPECT_FALSE(f.exec->attach("tx", "local:12:34", l.trial_dir));
  EXPECT_EQ(f.exec->tracked(), 2u);
  EXPECT_EQ(f.fake->calls_of("squeue").size(), 1u);  // one snapshot for the whole restart
  EXPECT_EQ(f.fake->calls_of("squeue")[0], (std::vector<std::string>{"squeue", "--json", "--me"}));
  // The handle was never committed: the job id file the submit wrote is enough.
  write_text(l.trial_dir / kSlurmJobIdFile, "50\n");
  EXPECT_TRUE(f.exec->attach("t50b", "", l.trial_dir));
  // An exit_code file means it ended: the caller reads it.
  write_text(l.trial_dir / "exit_code", "0\n");
  EXPECT_FALSE(f.exec->attach("t42b", "slurm:42", l.trial_dir));
  f.exec->detach("t42");
  EXPECT_EQ(f.exec->tracked(), 2u);
}

TEST(SlurmExecutor, MissingScancelOrSqueueIsAClearError) {
  const auto root = scratch_dir("slurm_exec_missing");
  const auto l = make_launch(root);
  auto exec = make_slurm_executor(ExecutorFixture::fast_config(), [](const CommandSpec& s) -> CommandResult {
    if (s.argv[0] == "sbatch") return {0, "7\n", ""};
    return {127, "", ""};
  });
  exec->submit(l);
  EXPECT_THROW(
      {
        try {
          exec->wait(milliseconds(100));
        } catch (const IoError& e) {
          EXPECT_EQ(std::string(e.what()), "squeue not found: is Slurm installed? (training_service.platform = slurm)");
          throw;
        }
      },
      IoError);
}

// --- run_command ---------------------------------------------------------------------------------

TEST(RunCommand, CapturesOutputAndStatusWithoutAShell) {
  const auto r = run_command({{"sh", "-c", "echo out; echo err >&2; exit 3"}, {}}, milliseconds(10000));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  // Arguments are passed as they are: no shell sees "$(...)".
  EXPECT_EQ(run_command({{"echo", "$(touch /tmp/x) ; a b"}, {}}, milliseconds(10000)).out, "$(touch /tmp/x) ; a b\n");
}

TEST(RunCommand, NotFoundTimeoutAndUnsetEnvironment) {
  EXPECT_EQ(run_command({{"spikeline-no-such-program"}, {}}, milliseconds(1000)).exit_code, 127);
  EXPECT_THROW(run_command({{"sleep", "5"}, {}}, milliseconds(200)), IoError);
  ::setenv("SPIKELINE_SLURM_TEST_VAR", "set", 1);
  EXPECT_EQ(run_command({{"sh", "-c", "echo ${SPIKELINE_SLURM_TEST_VAR-unset}"}, {}}, milliseconds(10000)).out, "set\n");
  EXPECT_EQ(run_command({{"sh", "-c", "echo ${SPIKELINE_SLURM_TEST_VAR-unset}"}, {"SPIKELINE_SLURM_TEST_VAR"}},
                        milliseconds(10000))
                .out,
            "unset\n");
  ::unsetenv("SPIKELINE_SLURM_TEST_VAR");
}

TEST(RunCommand, LargeOutputIsReadCompletely) {
  // More than a pipe buffer on both streams at once (squeue --json on a busy cluster).
  const auto r = run_command({{"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero >&2"}, {}},
                             milliseconds(10000));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 300000u);
  EXPECT_EQ(r.err.size(), 200000u);
}

}  // namespace
}  // namespace spikeline::hpo
