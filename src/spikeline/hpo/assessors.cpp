// Assessors: NNI's Medianstop (exact, hpo.md 2.5) and asynchronous successive halving (ASHA).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/assessor.hpp"
#include "spikeline/hpo/tuner.hpp"
#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo {

namespace {

// Medianstop: from the start_step-th report on, a trial is stopped when its best-so-far value is
// strictly worse than the median of the running averages, at the same report count, of the
// SUCCEEDED trials that reported at least that many times. Maximize takes the lower median,
// minimize the upper one (NNI's indices (n-1)/2 and n/2).
class Medianstop final : public Assessor {
 public:
  Medianstop(Direction dir, std::int64_t start_step) : dir_(dir), start_step_(start_step) {}

  Verdict assess(const std::string&, std::span<const double> history) override {
    const std::size_t t = history.size();
    if (t == 0 || static_cast<std::int64_t>(t) < start_step_) return Verdict::Good;
    const bool maximize = dir_ == Direction::Maximize;
    const double best = maximize ? *std::max_element(history.begin(), history.end())
                                 : *std::min_element(history.begin(), history.end());
    std::vector<double> avgs;
    for (const auto& [id, avg] : completed_)
      if (avg.size() >= t) avgs.push_back(avg[t - 1]);
    if (avgs.empty()) return Verdict::Good;
    std::sort(avgs.begin(), avgs.end());
    const std::size_t n = avgs.size();
    const double median = maximize ? avgs[(n - 1) / 2] : avgs[n / 2];
    return (maximize ? best < median : best > median) ? Verdict::Bad : Verdict::Good;
  }

  // NNI keeps a trial's averages only if the assessor had recorded it, i.e. it reported at least
  // start_step (and at least one) results; the averages run over the whole record.
  void trial_end(const std::string& trial_id, bool succeeded, std::span<const double> history) override {
    if (!succeeded || history.empty() || static_cast<std::int64_t>(history.size()) < start_step_) return;
    std::vector<double> avg;
    double sum = 0;
    for (std::size_t i = 0; i < history.size(); ++i) {
      sum += history[i];
      avg.push_back(sum / static_cast<double>(i + 1));
    }
    completed_[trial_id] = std::move(avg);
  }
  std::string name() const override { return "Medianstop"; }

 private:
  Direction dir_;
  std::int64_t start_step_;
  std::map<std::string, std::vector<double>> completed_;
};

// ASHA: rung k sits at min_resource * eta^k reports (below max_resource, if given). When a trial
// reaches a rung its value there (the report at that step) is recorded; it continues only if it
// is among the best max(1, floor(n / eta)) of the n trials recorded at that rung so far (itself
// included; ties continue). Every trial that reached a rung competes, whatever its final status.
class Asha final : public Assessor {
 public:
  Asha(Direction dir, std::int64_t min_resource, std::int64_t eta, std::int64_t max_resource)
      : dir_(dir), min_resource_(min_resource), eta_(eta), max_resource_(max_resource) {}

  Verdict assess(const std::string& trial_id, std::span<const double> history) override {
    const auto rung = rung_at(static_cast<std::int64_t>(history.size()));
    if (!rung) return Verdict::Good;
    auto& values = rungs_[*rung];
    values.emplace(trial_id, history.back());
    return promotable(values, values.at(trial_id)) ? Verdict::Good : Verdict::Bad;
  }

  void trial_end(const std::string& trial_id, bool, std::span<const double> history) override {
    // Records every rung the trial passed (idempotent), so replaying trial ends rebuilds state.
    for (std::size_t t = 1; t <= history.size(); ++t)
      if (const auto rung = rung_at(static_cast<std::int64_t>(t))) rungs_[*rung].emplace(trial_id, history[t - 1]);
  }
  std::string name() const override { return "ASHA"; }

 private:
  std::optional<int> rung_at(std::int64_t t) const {
    if (max_resource_ > 0 && t >= max_resource_) return std::nullopt;
    std::int64_t r = min_resource_;
    for (int k = 0; r <= t; ++k) {
      if (r == t) return k;
      if (r > INT64_MAX / eta_) break;
      r *= eta_;
    }
    return std::nullopt;
  }

  bool promotable(const std::map<std::string, double>& values, double v) const {
    std::vector<double> all;
    for (const auto& [id, x] : values) all.push_back(x);
    const std::size_t keep = std::max<std::size_t>(1, all.size() / static_cast<std::size_t>(eta_));
    if (dir_ == Direction::Maximize) {
      std::sort(all.begin(), all.end(), std::greater<>());
      return v >= all[keep - 1];
    }
    std::sort(all.begin(), all.end());
    return v <= all[keep - 1];
  }

  Direction dir_;
  std::int64_t min_resource_, eta_, max_resource_;
  std::map<int, std::map<std::string, double>> rungs_;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::unique_ptr<Assessor> make_assessor(const std::string& name, const nlohmann::json& class_args,
                                        const std::string& where) {
  const detail::ClassArgs a(class_args, where);
  const std::string n = lower(name);
  if (n == "medianstop") {
    a.only({"optimize_mode", "start_step"});
    return std::make_unique<Medianstop>(a.direction(Direction::Maximize), a.integer("start_step", 0, 0, 9999));
  }
  if (n == "asha") {
    a.only({"optimize_mode", "min_resource", "reduction_factor", "max_resource"});
    const auto min_r = a.integer("min_resource", 1, 1, 1000000000);
    const auto eta = a.integer("reduction_factor", 3, 2, 1000);
    const auto max_r = a.integer("max_resource", 0, 0, 1000000000);
    if (max_r != 0 && max_r <= min_r)
      throw InputError(where + ": max_resource", fmt::format("must be greater than min_resource ({})", min_r));
    return std::make_unique<Asha>(a.direction(Direction::Maximize), min_r, eta, max_r);
  }
  throw InputError(where, fmt::format("unknown assessor \"{}\" (expected Medianstop or ASHA)", name));
}

}  // namespace spikeline::hpo
