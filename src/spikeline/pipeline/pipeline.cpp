#include "spikeline/pipeline/pipeline.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/pipeline/pipeline_stages.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::pipeline {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
  return fmt::format("{}.{:03d}Z", buf, ms);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One pipeline per run directory at a time: an exclusive flock on RUN/.lock, released by the
// kernel when the process ends however it ends.
class RunLock {
 public:
  explicit RunLock(const fs::path& run_dir) {
    const fs::path path = run_dir / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError("cannot open " + path.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw InputError(run_dir.string(), "another spikeline pipeline is running in this run directory");
    }
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock() { ::close(fd_); }

 private:
  int fd_ = -1;
};

json run_stage(Stage s, const detail::StageContext& ctx) {
  switch (s) {
    case Stage::data: return detail::run_data(ctx);
    case Stage::encode: return detail::run_encode(ctx);
    case Stage::tasks: return detail::run_tasks(ctx);
    case Stage::hpo: return detail::run_hpo(ctx);
    case Stage::train: return detail::run_train(ctx);
    case Stage::qat: return detail::run_qat(ctx);
    case Stage::quantize: return detail::run_quantize(ctx);
    case Stage::deploy: return detail::run_deploy(ctx);
  }
  return json::object();
}

json content_hash(const std::string& path) {
  if (path.empty() || !fs::is_regular_file(path)) return nullptr;
  return hex64(fnv1a(read_file_text(path)));
}

}  // namespace

// ---- stamps ---------------------------------------------------------------------------------

std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

json path_fingerprint(const fs::path& path) {
  std::error_code ec;
  auto one = [](const fs::path& p) {
    const auto mtime = fs::last_write_time(p).time_since_epoch();
    return json{{"size", fs::file_size(p)},
                {"mtime_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count()}};
  };
  if (fs::is_regular_file(path, ec)) return one(path);
  if (!fs::is_directory(path, ec)) return nullptr;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  json j = json::object();
  for (const auto& f : files) j[fs::relative(f, path).string()] = one(f);
  return j;
}

std::string stage_stamp(std::string_view stage, const json& section, const json& externals,
                        std::string_view upstream_token) {
  // json::dump sorts object keys, so equal documents hash equally.
  const json doc = {{"stage", stage}, {"section", section}, {"externals", externals}, {"upstream", upstream_token}};
  return hex64(fnv1a(doc.dump()));
}

std::string stage_dir_name(Stage s) {
  return fmt::format("{:02d}-{}", static_cast<int>(s) + 1, stage_name(s));
}

namespace {

std::string run_dir_of(const fs::path& stage_dir) {
  return fs::absolute(stage_dir).lexically_normal().parent_path().string();
}

// Every string that is `from` or a path below it, moved below `to`.
void rebase_paths(json& j, const std::string& from, const std::string& to) {
  if (j.is_string()) {
    const std::string& v = j.get_ref<const std::string&>();
    if (v == from || (v.size() > from.size() && v.compare(0, from.size(), from) == 0 && v[from.size()] == '/'))
      j = to + v.substr(from.size());
  } else if (j.is_structured()) {
    for (auto& child : j) rebase_paths(child, from, to);
  }
}

}  // namespace

std::optional<StageRecord> read_record(const fs::path& stage_dir) {
  const fs::path path = stage_dir / "stage.json";
  if (!fs::exists(path)) return std::nullopt;
  try {
    const json j = json::parse(read_file_text(path));
    StageRecord r;
    r.stamp = j.at("stamp").get<std::string>();
    r.token = j.at("token").get<std::string>();
    r.seconds = j.at("seconds").get<double>();
    r.finished_at = j.at("finished_at").get<std::string>();
    r.result = j.at("result");
    // A run directory moved or copied elsewhere: its outputs are read from the new place.
    const std::string written_in = j.value("run_dir", std::string());
    if (const std::string here = run_dir_of(stage_dir); !written_in.empty() && written_in != here)
      rebase_paths(r.result, written_in, here);
    return r;
  } catch (const json::exception&) {
    return std::nullopt;  // a damaged record only means the stage runs again
  }
}

void write_record(const fs::path& stage_dir, const StageRecord& r) {
  const json j = {{"stamp", r.stamp},   {"token", r.token},   {"seconds", r.seconds}, {"finished_at", r.finished_at},
                  {"result", r.result}, {"run_dir", run_dir_of(stage_dir)}};
  write_file_atomic(stage_dir / "stage.json", j.dump(2) + "\n");
}

json stamp_section(const PipelineConfig& c, Stage s) {
  const json& d = c.doc;
  const std::string chip(chip_name(c.chip));
  switch (s) {
    case Stage::data: return {{"data", d["data"]}, {"seed", d["seed"]}, {"tasks_enabled", d["tasks"]["enabled"]}};
    case Stage::encode: return d["encode"];
    case Stage::tasks: return d["tasks"];
    case Stage::hpo: return {{"hpo", d["hpo"]}, {"train", d["train"]}, {"seed", d["seed"]}, {"chip", chip}};
    case Stage::train: return {{"train", d["train"]}, {"map", d["hpo"]["map"]}, {"chip", chip}};
    case Stage::qat: return {{"qat", d["qat"]}, {"chip", chip}};
    case Stage::quantize: return {{"quantize", d["quantize"]}, {"seed", d["seed"]}, {"chip", chip}};
    case Stage::deploy: return {{"deploy", d["deploy"]}, {"chip", chip}};
  }
  return nullptr;
}

json stamp_externals(const PipelineConfig& c, Stage s) {
  const json& d = c.doc;
  switch (s) {
    case Stage::data: {
      json j = {{"tasks_file", content_hash(d["data"]["tasks_file"].get<std::string>())}};
      if (!c.enabled(Stage::data)) j["windows"] = path_fingerprint(d["data"]["windows"].get<std::string>());
      else if (d["data"]["source"] == "wisdm") j["wisdm"] = path_fingerprint(wisdm_dir(c));
      return j;
    }
    case Stage::encode:
      return c.enabled(Stage::encode) ? json(nullptr) : path_fingerprint(d["encode"]["spikes"].get<std::string>());
    case Stage::train:
      return c.enabled(Stage::train) ? json(nullptr) : path_fingerprint(d["train"]["checkpoint"].get<std::string>());
    case Stage::quantize: return content_hash(d["quantize"]["tuning"].get<std::string>());
    default: return nullptr;
  }
}

// ---- running --------------------------------------------------------------------------------

PipelineResult run_pipeline(const PipelineConfig& config, const PipelineOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  PipelineResult result;
  result.run_dir = fs::absolute(o.out);
  std::optional<RunLock> lock;
  if (!o.dry_run) {
    fs::create_directories(result.run_dir);
    lock.emplace(result.run_dir);
    write_file_atomic(result.run_dir / "resolved.json", config.doc.dump(2) + "\n");
    write_file_atomic(result.run_dir / "resolved.yaml",
                      "# spikeline pipeline: the resolved config of this run (every key, defaults filled in)\n" +
                          to_yaml(config.doc));
  }
  std::string token;          // the last enabled stage's token
  bool upstream_ran = false;  // a stage before this one runs now (dry run: would run)
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const Stage s = static_cast<Stage>(i);
    const std::string name(stage_name(s));
    const fs::path dir = result.run_dir / stage_dir_name(s);
    StageOutcome outcome;
    outcome.stage = s;
    if (!config.enabled(s)) {
      outcome.action = "disabled";
      const json res = detail::disabled_result(config, s);
      if (!res.empty()) {
        result.results[name] = res;
        token = stage_stamp(name, stamp_section(config, s), stamp_externals(config, s), token);
      }
      result.stages.push_back(outcome);
      continue;
    }
    const std::string stamp = stage_stamp(name, stamp_section(config, s), stamp_externals(config, s), token);
    const auto record = read_record(dir);
    const bool forced = o.force || (o.from && i >= static_cast<std::size_t>(*o.from));
    const bool cached = record && record->stamp == stamp && !upstream_ran;
    if (o.only && *o.only != s) {
      // Not selected: upstream must be complete; downstream is left as it is.
      if (static_cast<std::size_t>(*o.only) > i) {
        if (!cached)
          throw InputError("--only " + std::string(stage_name(*o.only)),
                           "stage '" + name + "' before it is not complete with the current config: run without --only first");
        result.results[name] = record->result;
        token = record->token;
      }
      outcome.action = "not run";
      result.stages.push_back(outcome);
      continue;
    }
    if (cached && !forced) {
      outcome.action = o.dry_run ? "planned: skip" : "skipped";
      outcome.reason = "inputs unchanged";
      outcome.recorded_seconds = record->seconds;
      result.results[name] = record->result;
      token = record->token;
      result.stages.push_back(outcome);
      if (o.progress || o.dry_run) o.log(fmt::format("{:<9} skipped (unchanged since {})", name, record->finished_at));
      continue;
    }
    outcome.reason = forced ? "forced" : upstream_ran ? "upstream stage re-ran" : !record ? "not run before"
                     : "inputs changed";
    upstream_ran = true;
    if (o.dry_run) {
      outcome.action = "planned: run";
      result.stages.push_back(outcome);
      o.log(fmt::format("{:<9} would run ({})", name, outcome.reason));
      continue;
    }
    // An interrupted run of this stage with the same stamp resumes; anything else starts clean.
    const fs::path started = dir / "started.json";
    bool resume = false;
    if (!forced && !record && fs::exists(started)) {
      try {
        resume = json::parse(read_file_text(started)).value("stamp", "") == stamp;
      } catch (const json::exception&) {
        resume = false;
      }
    }
    if (resume) outcome.reason = "interrupted run resumed";
    else fs::remove_all(dir);
    fs::create_directories(dir);
    fs::remove(dir / "stage.json");
    write_file_atomic(started, json{{"stamp", stamp}, {"started_at", now_iso()}}.dump() + "\n");
    o.log(fmt::format("{:<9} {} ({})", name, resume ? "resuming" : "running", outcome.reason));
    const auto ts = std::chrono::steady_clock::now();
    detail::StageContext ctx{config, result.results, dir, resume, o.progress, o.stop, o.log};
    StageRecord rec;
    rec.result = run_stage(s, ctx);
    rec.seconds = seconds_since(ts);
    rec.stamp = stamp;
    rec.finished_at = now_iso();
    rec.token = hex64(fnv1a(stamp + rec.finished_at + std::to_string(rec.seconds)));
    write_record(dir, rec);
    fs::remove(started);
    outcome.action = resume ? "resumed" : "ran";
    outcome.seconds = outcome.recorded_seconds = rec.seconds;
    result.results[name] = rec.result;
    token = rec.token;
    result.stages.push_back(outcome);
  }
  result.seconds = seconds_since(t0);
  if (!o.dry_run) {
    write_file_atomic(result.run_dir / "timings.json", timings_json(result).dump(2) + "\n");
    result.report = result.run_dir / "report.html";
    write_report(result.run_dir, config, result);
  }
  return result;
}

std::string timing_table(const PipelineResult& r) {
  std::string out = fmt::format("{:<10} {:<14} {:>12} {:>14}  {}\n", "stage", "this run", "seconds", "last run (s)", "why");
  double total = 0, recorded = 0;
  for (const auto& s : r.stages) {
    total += s.seconds;
    recorded += s.recorded_seconds;
    out += fmt::format("{:<10} {:<14} {:>12.2f} {:>14.2f}  {}\n", stage_name(s.stage), s.action, s.seconds,
                       s.recorded_seconds, s.reason);
  }
  out += fmt::format("{:<10} {:<14} {:>12.2f} {:>14.2f}  (wall {:.2f} s)\n", "total", "", total, recorded, r.seconds);
  return out;
}

json timings_json(const PipelineResult& r) {
  json stages = json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"stage", stage_name(s.stage)}, {"action", s.action}, {"reason", s.reason},
                      {"seconds", s.seconds}, {"recorded_seconds", s.recorded_seconds}});
  return {{"stages", stages}, {"wall_seconds", r.seconds}, {"finished_at", now_iso()}};
}

}  // namespace spikeline::pipeline
