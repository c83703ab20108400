#pragma once
// The trial side of NNI's protocol for C++ programs (docs/hpo.md, "Trial protocol"): include this
// header, link spikeline_lib, and a program is an NNI trial, under Spikeline or NNI itself (legacy
// file channel). Outside an experiment (NNI_PLATFORM unset) it runs standalone, like NNI's SDK:
// get_next_parameter() gives {} and reports only go to stderr.
//
//   auto params = spikeline::hpo::get_next_parameter();
//   for (...) spikeline::hpo::report_intermediate_result({{"default", acc}, {"loss", loss}});
//   spikeline::hpo::report_final_result(best);
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace spikeline::hpo {

class TrialClient {
 public:
  // From NNI_PLATFORM, NNI_EXP_ID, NNI_TRIAL_JOB_ID, NNI_TRIAL_SEQ_ID and NNI_SYS_DIR.
  static TrialClient from_environment();

  bool standalone() const { return standalone_; }
  const std::string& experiment_id() const { return experiment_id_; }  // "STANDALONE" outside
  const std::string& trial_id() const { return trial_id_; }            // "STANDALONE" outside
  std::int64_t sequence_id() const { return sequence_id_; }           // 0 outside
  const std::filesystem::path& sys_dir() const { return sys_dir_; }

  // The trial's parameters ({} standalone). Waits up to `wait` for parameter.cfg to be non-empty,
  // as NNI's SDK polls it.
  nlohmann::ordered_json get_next_parameter(std::chrono::milliseconds wait = std::chrono::seconds(60)) const;
  // A metric is a number or an object with a numeric "default" (other keys are for display);
  // InputError otherwise. Intermediate results are numbered 0, 1, ... in report order.
  void report_intermediate_result(const nlohmann::ordered_json& metric) const;
  void report_final_result(const nlohmann::ordered_json& metric) const;

 private:
  void report(const std::string& type, const nlohmann::ordered_json& metric) const;
  bool standalone_ = true;
  std::string experiment_id_ = "STANDALONE", trial_id_ = "STANDALONE";
  std::int64_t sequence_id_ = 0;
  std::filesystem::path sys_dir_;
};

// NNI's SDK functions, each on TrialClient::from_environment() (no state kept between calls: the
// report numbering lives in the metrics file, so separate processes can report for one trial).
nlohmann::ordered_json get_next_parameter();
void report_intermediate_result(const nlohmann::ordered_json& metric);
void report_final_result(const nlohmann::ordered_json& metric);
std::string get_experiment_id();
std::string get_trial_id();
std::int64_t get_sequence_id();

}  // namespace spikeline::hpo
