#pragma once
// Assessors decide, from a running trial's intermediate results, whether to stop it early.
#include <memory>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace spikeline::hpo {

enum class Verdict { Good, Bad };

class Assessor {
 public:
  virtual ~Assessor() = default;
  // `history`: the trial's contiguous intermediate results so far (default metric values, report
  // 0, 1, 2, ...). Called once per new report.
  virtual Verdict assess(const std::string& trial_id, std::span<const double> history) = 0;
  // The trial ended; succeeded == (status == SUCCEEDED). `history` is its full intermediate record.
  virtual void trial_end(const std::string& trial_id, bool succeeded,
                         std::span<const double> history) = 0;
  virtual std::string name() const = 0;
};

// name: "Medianstop" (NNI, exact) or "ASHA" (asynchronous successive halving), case-insensitive;
// class_args: NNI's classArgs (optimize_mode, start_step; ASHA: min_resource, reduction_factor,
// max_resource). Unknown keys are an InputError naming `where`.
std::unique_ptr<Assessor> make_assessor(const std::string& name, const nlohmann::json& class_args,
                                        const std::string& where);

}  // namespace spikeline::hpo
