#include "spikeline/hpo/client.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/trial_protocol.hpp"
#include "spikeline/hpo/tuner.hpp"

namespace spikeline::hpo {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string read_if_exists(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return "";
  return read_file_text(p);
}

// Appends one whole frame with a single write on an O_APPEND descriptor, so reports from
// concurrent processes of one trial never interleave.
void append_frame(const std::filesystem::path& file, const std::string& frame) {
  std::filesystem::create_directories(file.parent_path());
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(file.string() + ": cannot open: " + std::strerror(errno));
  const ssize_t n = ::write(fd, frame.data(), frame.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(frame.size())) throw IoError(file.string() + ": cannot write: " + std::strerror(err));
}

}  // namespace

TrialClient TrialClient::from_environment() {
  TrialClient c;
  if (env("NNI_PLATFORM").empty()) return c;
  c.standalone_ = false;
  c.experiment_id_ = env("NNI_EXP_ID");
  c.trial_id_ = env("NNI_TRIAL_JOB_ID");
  c.sys_dir_ = env("NNI_SYS_DIR");
  if (c.sys_dir_.empty()) throw InputError("NNI_SYS_DIR", "is not set although NNI_PLATFORM is");
  const std::string seq = env("NNI_TRIAL_SEQ_ID");
  c.sequence_id_ = seq.empty() ? 0 : std::atoll(seq.c_str());
  return c;
}

nlohmann::ordered_json TrialClient::get_next_parameter(std::chrono::milliseconds wait) const {
  if (standalone_) return nlohmann::ordered_json::object();
  const auto file = sys_dir_ / kParameterFile;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::string text = read_if_exists(file);
  while (text.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = read_if_exists(file);
  }
  if (text.empty()) throw InputError(file.string(), "no parameters (file missing or empty)");
  const auto rec = nlohmann::ordered_json::parse(text, nullptr, false);
  if (rec.is_discarded() || !rec.is_object() || !rec.contains("parameters"))
    throw InputError(file.string(), "is not an NNI parameter record");
  return rec["parameters"];
}

void TrialClient::report(const std::string& type, const nlohmann::ordered_json& metric) const {
  (void)metric_default(nlohmann::json::parse(metric.dump()), type == "FINAL" ? "final result" : "intermediate result");
  const std::string value = dump_python_json(metric);
  if (standalone_) {
    std::fprintf(stderr, "[nni standalone] %s result: %s\n", type == "FINAL" ? "final" : "intermediate", value.c_str());
    return;
  }
  MetricReport r;
  r.trial_job_id = trial_id_;
  r.type = type;
  r.value = value;
  const auto params = nlohmann::json::parse(read_if_exists(sys_dir_ / kParameterFile), nullptr, false);
  if (params.is_object() && params.contains("parameter_id") && params["parameter_id"].is_number_integer())
    r.parameter_id = params["parameter_id"].get<std::int64_t>();
  const auto file = sys_dir_ / kMetricsFile;
  if (type == "PERIODICAL") {  // the next number: count this trial's earlier intermediate reports
    const auto parsed = parse_metric_frames(read_if_exists(file));
    for (const auto& m : parsed.reports) r.sequence += m.type == "PERIODICAL" ? 1 : 0;
  }
  append_frame(file, metric_frame(r));
}

void TrialClient::report_intermediate_result(const nlohmann::ordered_json& metric) const { report("PERIODICAL", metric); }
void TrialClient::report_final_result(const nlohmann::ordered_json& metric) const { report("FINAL", metric); }

nlohmann::ordered_json get_next_parameter() { return TrialClient::from_environment().get_next_parameter(); }
void report_intermediate_result(const nlohmann::ordered_json& metric) {
  TrialClient::from_environment().report_intermediate_result(metric);
}
void report_final_result(const nlohmann::ordered_json& metric) { TrialClient::from_environment().report_final_result(metric); }
std::string get_experiment_id() { return TrialClient::from_environment().experiment_id(); }
std::string get_trial_id() { return TrialClient::from_environment().trial_id(); }
std::int64_t get_sequence_id() { return TrialClient::from_environment().sequence_id(); }

}  // namespace spikeline::hpo
