// The quantisation-tuning loop shared by Xylo and Dynap-SE2 (pipeline/factor_search): which
// configuration is kept, with an evaluator whose scores are known exactly.
#include <gtest/gtest.h>

#include "spikeline/core/error.hpp"
#include "spikeline/pipeline/factor_search.hpp"

namespace spikeline::pipeline {
namespace {

using nlohmann::ordered_json;

TuningConfig one_factor(int trials) {
  return tuning_config_from_text(R"({"max_trial_number": )" + std::to_string(trials) +
                                     R"(, "search_space": {"g": {"_type": "uniform", "_value": [0.5, 1.5]}}})",
                                 "t.json");
}

// Scores: factors 1 (the empty object) -> `untuned`; a trial -> score(g).
FactorEvaluator scorer(std::optional<double> untuned, std::function<std::optional<double>(double)> score) {
  return [=](const ordered_json& p) -> FactorScore {
    const auto acc = p.empty() ? untuned : score(p.at("g").get<double>());
    return {acc, acc ? "" : "beyond the limits"};
  };
}

TEST(FactorSearch, KeepsFactorsOneWhenEveryTrialIsWorse) {
  const auto s = search_factors(one_factor(8), scorer(0.9, [](double g) { return 0.5 + 0.1 * g; }), {});
  ASSERT_EQ(s.trials.size(), 8u);
  ASSERT_TRUE(s.best_trial.has_value());
  EXPECT_LT(s.best_trial_accuracy(), 0.9);
  EXPECT_TRUE(s.kept_untuned);
  EXPECT_TRUE(s.found());
  EXPECT_EQ(s.chosen_accuracy, 0.9);
  EXPECT_TRUE(s.chosen_params.empty());
}

TEST(FactorSearch, TakesTheFirstBestTrialWhenItBeatsFactorsOne) {
  // Scores quantised to two levels so ties occur: the earliest of the best is kept.
  const auto score = [](double g) -> std::optional<double> { return g > 1.0 ? 0.8 : 0.6; };
  const auto s = search_factors(one_factor(20), scorer(0.7, score), {});
  ASSERT_TRUE(s.best_trial.has_value());
  EXPECT_FALSE(s.kept_untuned);
  EXPECT_EQ(s.chosen_accuracy, 0.8);
  std::size_t first = 0;
  while (*s.trials[first].accuracy != 0.8) ++first;
  EXPECT_EQ(*s.best_trial, first);
  EXPECT_EQ(s.chosen_params, s.trials[first].params);
}

TEST(FactorSearch, ATieKeepsFactorsOne) {
  const auto s = search_factors(one_factor(5), scorer(0.75, [](double) { return 0.75; }), {});
  EXPECT_TRUE(s.kept_untuned);
  EXPECT_EQ(s.chosen_accuracy, 0.75);
}

TEST(FactorSearch, InvalidUntunedTakesTheBestValidTrialEvenIfLow) {
  const auto s = search_factors(one_factor(6), scorer(std::nullopt, [](double g) -> std::optional<double> {
                                  if (g < 1.0) return std::nullopt;
                                  return 0.1 * g;
                                }),
                                {});
  EXPECT_FALSE(s.untuned_accuracy.has_value());
  EXPECT_FALSE(s.kept_untuned);
  if (s.best_trial) {
    EXPECT_EQ(s.chosen_accuracy, s.best_trial_accuracy());
    EXPECT_GE(s.chosen_params.at("g").get<double>(), 1.0);
  }
  for (const auto& t : s.trials) EXPECT_EQ(t.accuracy.has_value(), t.invalid.empty());
}

TEST(FactorSearch, NothingValidIsNotFound) {
  const auto s = search_factors(one_factor(4), scorer(std::nullopt, [](double) { return std::nullopt; }), {});
  EXPECT_FALSE(s.found());
  EXPECT_EQ(s.trials.size(), 4u);
  EXPECT_EQ(factor_history(s.trials).at(0).at("invalid"), "beyond the limits");
}

TEST(FactorSearch, ProgressReportsWhatWouldBeKeptSoFar) {
  std::vector<double> chosen;
  FactorSearchOptions o;
  o.trials = 6;
  o.on_trial = [&](const FactorTrial&, std::size_t done, std::size_t total, double c) {
    EXPECT_EQ(total, 6u);
    EXPECT_EQ(done, chosen.size() + 1);
    chosen.push_back(c);
  };
  search_factors(one_factor(100), scorer(0.5, [](double g) { return g / 2; }), o);  // best possible 0.75
  ASSERT_EQ(chosen.size(), 6u);
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    EXPECT_GE(chosen[i], 0.5);
    if (i > 0) {
      EXPECT_GE(chosen[i], chosen[i - 1]);
    }
  }
}

TEST(FactorSearch, SameSeedSameTrials) {
  FactorSearchOptions o;
  o.seed = 3;
  const auto score = [](double g) { return g; };
  const auto a = search_factors(one_factor(5), scorer(0.5, score), o);
  const auto b = search_factors(one_factor(5), scorer(0.5, score), o);
  ASSERT_EQ(a.trials.size(), b.trials.size());
  for (std::size_t i = 0; i < a.trials.size(); ++i) EXPECT_EQ(a.trials[i].params, b.trials[i].params);
}

}  // namespace
}  // namespace spikeline::pipeline
