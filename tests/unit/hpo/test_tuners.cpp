// Tuners: Anneal's rules (hpo.md 2.2) checked end to end and piece by piece, Random's dedup,
// GridSearch's enumeration order, TPE and Evolution basics, seeded determinism. Statistical
// checks use fixed seeds and 5-sigma binomial bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/tuner.hpp"
#include "spikeline/hpo/tuner_anneal.hpp"

namespace spikeline::hpo {
namespace {

using ojson = nlohmann::ordered_json;

void expect_freq(std::size_t count, std::size_t n, double p, const std::string& what) {
  const double sd = std::sqrt(p * (1 - p) / static_cast<double>(n));
  EXPECT_NEAR(static_cast<double>(count) / static_cast<double>(n), p, 5 * sd) << what;
}

SearchSpace space(const std::string& text) { return SearchSpace::parse_text(text, "space"); }

// ---------------------------------------------------------------- Anneal, piece by piece

TEST(AnnealRules, RankPickIsGeometricWithTailOnTheWorst) {
  Rng rng(1);
  const std::size_t n = 100000;
  std::map<std::size_t, std::size_t> h;
  for (std::size_t i = 0; i < n; ++i) ++h[anneal::pick_rank(rng, 5)];
  const double p[] = {1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 16};
  for (std::size_t k = 0; k < 5; ++k) expect_freq(h[k], n, p[k], "rank " + std::to_string(k));
  EXPECT_EQ(h.size(), 5u);
  EXPECT_EQ(anneal::pick_rank(rng, 1), 0u);
}

TEST(AnnealRules, ShrinkAndWindow) {
  EXPECT_DOUBLE_EQ(anneal::shrink(0), 1.0);
  EXPECT_DOUBLE_EQ(anneal::shrink(10), 0.5);
  EXPECT_DOUBLE_EQ(anneal::shrink(90), 0.1);
  const auto u = space(R"({"x": {"_type": "uniform", "_value": [0, 10]}})").specs()[0];
  // T = 10: s = 1/2, width 5; the centre is clamped to [2.5, 7.5].
  EXPECT_DOUBLE_EQ(anneal::window(u, 1.0, 10).lo, 0.0);
  EXPECT_DOUBLE_EQ(anneal::window(u, 1.0, 10).hi, 5.0);
  EXPECT_DOUBLE_EQ(anneal::window(u, 5.0, 10).lo, 2.5);
  EXPECT_DOUBLE_EQ(anneal::window(u, 9.5, 10).lo, 5.0);
  EXPECT_DOUBLE_EQ(anneal::window(u, 9.5, 10).hi, 10.0);
  // Log types work in log space: [1, e^4], T = 10 -> log width 2, centre clamped to [1, 3].
  const auto l = space(R"({"x": {"_type": "loguniform", "_value": [1, 54.598150033144236]}})").specs()[0];
  EXPECT_NEAR(anneal::window(l, std::exp(3.9), 10).lo, 2.0, 1e-12);
  EXPECT_NEAR(anneal::window(l, std::exp(3.9), 10).hi, 4.0, 1e-12);
  EXPECT_NEAR(anneal::window(l, std::exp(2.2), 10).lo, 1.2, 1e-12);
}

TEST(AnnealRules, CategoricalKeepProbability) {
  // K = 5, T = 10: s = 1/2; P(keep) = (1 - s) + s/K = 0.6, each other category s/K = 0.1.
  const auto c = space(R"({"x": {"_type": "choice", "_value": ["a", "b", "c", "d", "e"]}})").specs()[0];
  Rng rng(2);
  const std::size_t n = 50000;
  std::map<double, std::size_t> h;
  for (std::size_t i = 0; i < n; ++i) ++h[anneal::perturb(c, 3.0, 10, rng)];
  expect_freq(h[3.0], n, 0.6, "keep");
  for (double k : {0.0, 1.0, 2.0, 4.0}) expect_freq(h[k], n, 0.1, "other");
}

TEST(AnnealRules, NormalFamiliesPerturbWithShrunkSigma) {
  // normal [0, 2], T = 10: N(base, 2 * 0.5) around base 3.
  const auto nrm = space(R"({"x": {"_type": "normal", "_value": [0, 2]}})").specs()[0];
  Rng rng(3);
  const int n = 40000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = anneal::perturb(nrm, 3.0, 10, rng);
    sum += x;
    sq += x * x;
  }
  const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 3.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sd, 1.0, 5.0 / std::sqrt(2.0 * n));
  // qlognormal re-centred on 0 uses ln(0 + 1e-16): stays 0, never NaN.
  const auto qln = space(R"({"x": {"_type": "qlognormal", "_value": [0, 1, 1]}})").specs()[0];
  for (int i = 0; i < 100; ++i) EXPECT_EQ(anneal::perturb(qln, 0.0, 1, rng), 0.0);
}

// ---------------------------------------------------------------- Anneal, end to end

// One tuner fed 5 imported results, then asked for many suggestions without further results:
// each suggestion is an independent draw around a base trial picked from the same history.
// Parameters are 40 randint [0, 1000) (categorical, K = 1000) and trial j has value j in every
// one, so the base trial is recognisable: with T = 5 (s = 2/3) each parameter keeps the base's
// value with P = 1/3 + 2/3000 and hits another trial's value with P = 2/3000; P(no parameter
// shows the base) = (2/3)^40 < 1e-7.
struct BaseStats {
  std::map<int, std::size_t> base_count;
  std::size_t kept = 0, draws = 0;
};

BaseStats anneal_base_stats(const char* mode, std::size_t reps) {
  std::string text = "{";
  for (int d = 0; d < 40; ++d) {
    text.append(d ? ",\"p" : "\"p").append(std::to_string(d));
    text.append(R"(": {"_type": "randint", "_value": [0, 1000]})");
  }
  const auto s = space(text.append("}"));
  const bool maximize = std::string(mode) == "maximize";
  auto t = make_tuner("Anneal", {{"optimize_mode", mode}}, s, 1000, "tuner");
  for (int j = 0; j < 5; ++j) {
    ojson p = ojson::object();
    for (int d = 0; d < 40; ++d) p[std::string("p").append(std::to_string(d))] = j;
    // Rank j = j-th best: loss j + 1 when minimizing, value 5 - j (loss j - 5) when maximizing.
    t->receive_result(j, p, maximize ? 5.0 - j : j + 1.0);
  }
  BaseStats st;
  for (std::size_t r = 0; r < reps; ++r) {
    const Parameters out = *t->generate(static_cast<std::int64_t>(10 + r));
    int hits[5] = {0, 0, 0, 0, 0};
    for (auto it = out.begin(); it != out.end(); ++it)
      if (const int v = it.value().get<int>(); v < 5) ++hits[v];
    int base = -1, most = 0;
    for (int j = 0; j < 5; ++j)
      if (hits[j] > most) most = hits[j], base = j;
    ++st.base_count[base];
    st.kept += static_cast<std::size_t>(most);
    st.draws += 40;
  }
  return st;
}

TEST(Anneal, BaseTrialRanksAreGeometricAndPerturbationIsJoint) {
  const std::size_t n = 2000;  // 5 sigma at p = 1/2 is +-0.056: a wrong rank law (e.g. p = 1/3) fails
  for (const char* mode : {"minimize", "maximize"}) {
    const BaseStats st = anneal_base_stats(mode, n);
    EXPECT_EQ(st.base_count.count(-1), 0u) << "a base trial is always recognisable (joint perturbation)";
    const double p[] = {1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 16};
    for (int k = 0; k < 5; ++k) expect_freq(st.base_count.at(k), n, p[k], std::string(mode) + " rank " + std::to_string(k));
    expect_freq(st.kept, st.draws, 1.0 / 3 + 2.0 / 3000, std::string(mode) + " keep probability");
  }
}

TEST(Anneal, SeededRunStaysInsideTheShrinkingWindowAroundOneBase) {
  const auto s = space(R"({"a": {"_type": "uniform", "_value": [0, 10]},
                            "b": {"_type": "loguniform", "_value": [0.01, 100]},
                            "c": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}})");
  auto t = make_tuner("Anneal", {{"optimize_mode", "maximize"}, {"seed", 7}}, s, 0, "tuner");
  std::vector<Parameters> history;
  std::size_t checked = 0;
  for (int i = 0; i < 80; ++i) {
    const Parameters p = *t->generate(i);
    const double a = p["a"].get<double>(), b = p["b"].get<double>(), c = p["c"].get<double>();
    if (!history.empty()) {
      const std::size_t T = history.size();
      bool some_base = false;  // one trial whose windows hold all three values
      for (const auto& h : history) {
        const auto wa = anneal::window(s.specs()[0], h["a"].get<double>(), T);
        const auto wb = anneal::window(s.specs()[1], h["b"].get<double>(), T);
        const auto wc = anneal::window(s.specs()[2], h["c"].get<double>(), T);
        EXPECT_NEAR(wa.hi - wa.lo, 10 * anneal::shrink(T), 1e-9);
        some_base = some_base || (a >= wa.lo - 1e-12 && a <= wa.hi + 1e-12 && std::log(b) >= wb.lo - 1e-12 &&
                                  std::log(b) <= wb.hi + 1e-12 && c >= std::max(0.6, wc.lo - 0.005 - 1e-12) &&
                                  c <= std::min(1.4, wc.hi + 0.005 + 1e-12));
      }
      EXPECT_TRUE(some_base) << "trial " << i << ": " << p.dump();
      ++checked;
    }
    // Reward peaks at a = 7, b = 1, c = 1: later windows contract around good trials.
    const double reward = -std::abs(a - 7) - std::abs(std::log10(b)) - std::abs(c - 1);
    t->receive_result(i, p, reward);
    history.push_back(p);
  }
  EXPECT_EQ(checked, 79u);
}

TEST(Anneal, WithoutResultsEverySuggestionIsAPriorDraw) {
  const auto s = space(R"({"x": {"_type": "uniform", "_value": [0, 1]}})");
  auto t = make_tuner("anneal", ojson::object(), s, 5, "tuner");
  const std::size_t n = 4000;
  std::size_t low = 0;
  for (std::size_t i = 0; i < n; ++i) low += (*t->generate(static_cast<std::int64_t>(i)))["x"].get<double>() < 0.1;
  expect_freq(low, n, 0.1, "uniform prior");
}

TEST(Anneal, DuplicateGuardNeverExhausts) {
  const auto s = space(R"({"x": {"_type": "choice", "_value": ["only"]}})");
  auto t = make_tuner("Anneal", ojson::object(), s, 1, "tuner");
  for (int i = 0; i < 5; ++i) {
    const auto p = t->generate(i);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ((*p)["x"], "only");
    t->receive_result(i, *p, 1.0);
  }
}

// ---------------------------------------------------------------- all tuners

double quadratic(const Parameters& p) {
  const double x = p["x"].get<double>();
  return (x - 3) * (x - 3);
}

std::vector<std::string> run(const std::string& name, const SearchSpace& s, std::uint64_t seed, int n,
                             const ojson& args = ojson::object()) {
  auto t = make_tuner(name, args, s, seed, "tuner");
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const auto p = t->generate(i);
    if (!p) break;
    out.push_back(dump_python_json(*p));
    double v = 0;
    for (auto it = p->begin(); it != p->end(); ++it)
      if (it.value().is_number()) v += it.value().get<double>();
    if (i % 5 == 4) t->trial_end(i, false);  // a failed trial now and then
    else t->receive_result(i, *p, v);
  }
  return out;
}

TEST(Tuners, SameSeedAndCallsGiveTheSameSequence) {
  const auto s = space(R"({"lr": {"_type": "qloguniform", "_value": [0.02, 0.2, 0.001]},
                            "n": {"_type": "choice", "_value": [16, 32, 64]},
                            "k": {"_type": "randint", "_value": [0, 4]},
                            "w": {"_type": "normal", "_value": [0, 1]}})");
  for (const char* name : {"Anneal", "TPE", "Random", "Evolution", "GridSearch"}) {
    const auto a = run(name, s, 11, 40), b = run(name, s, 11, 40);
    EXPECT_EQ(a, b) << name;
    EXPECT_EQ(a.size(), 40u) << name;
    if (std::string(name) != "GridSearch") {
      EXPECT_NE(a, run(name, s, 12, 40)) << name;
      // An explicit seed class argument wins over the engine's seed.
      EXPECT_EQ(run(name, s, 99, 40, {{"seed", 11}}), a) << name;
    }
    // Every suggestion fits the space.
    for (const auto& text : a) EXPECT_NO_THROW((void)s.to_point(ojson::parse(text), name)) << text;
  }
}

TEST(Random, DeduplicatesDiscreteSpacesAndReportsExhaustion) {
  const auto s = space(R"({"c": {"_type": "choice", "_value": [1, 2, 3]}, "k": {"_type": "randint", "_value": [0, 2]}})");
  auto t = make_tuner("Random", {{"seed", 3}}, s, 0, "tuner");
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    const auto p = t->generate(i);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(seen.insert(p->dump()).second) << p->dump();
  }
  EXPECT_FALSE(t->generate(6).has_value());
}

TEST(GridSearch, CategoricalOdometerOrderThenExhaustion) {
  const auto s = space(R"({"c": {"_type": "choice", "_value": ["a", "b"]}, "k": {"_type": "randint", "_value": [0, 3]}})");
  auto t = make_tuner("GridSearch", ojson::object(), s, 0, "tuner");
  std::vector<std::string> got;
  while (auto p = t->generate(static_cast<std::int64_t>(got.size()))) got.push_back(dump_python_json(*p));
  EXPECT_EQ(got, (std::vector<std::string>{R"({"c": "a", "k": 0})", R"({"c": "a", "k": 1})", R"({"c": "a", "k": 2})",
                                            R"({"c": "b", "k": 0})", R"({"c": "b", "k": 1})", R"({"c": "b", "k": 2})"}));
}

TEST(GridSearch, NumericalEpochsRefineInCdfSpace) {
  // NNI's own example: x choice(5, 7), y normal(0, 1), z quniform(2, 3, 1). Epoch 1 uses the
  // median; epoch 2 adds the quartiles of y; z never refines (the 3/4 point rounds to 3 like the
  // upper end, so NNI's rule drops it), so only y's new points make new vectors.
  const auto s = space(R"({"x": {"_type": "choice", "_value": [5, 7]}, "y": {"_type": "normal", "_value": [0, 1]},
                            "z": {"_type": "quniform", "_value": [2, 3, 1]}})");
  auto t = make_tuner("GridSearch", ojson::object(), s, 0, "tuner");
  const double q1 = 0.6744897501960817, e1 = 1.1503493803760079, e3 = 0.31863936396437514;  // Python NormalDist
  const std::vector<std::pair<int, double>> want = {
      {5, 0},   {7, 0},                                                  // epoch 1
      {5, -q1}, {5, q1}, {7, -q1}, {7, q1},                              // epoch 2
      {5, -e1}, {5, -e3}, {5, e3}, {5, e1}, {7, -e1}, {7, -e3}, {7, e3}, {7, e1}};  // epoch 3
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto p = t->generate(static_cast<std::int64_t>(i));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ((*p)["x"], want[i].first) << i;
    EXPECT_NEAR((*p)["y"].get<double>(), want[i].second, 1e-12) << i;
    EXPECT_EQ((*p)["z"].get<double>(), 2.0) << i;
  }
}

TEST(GridSearch, QuantizedGridStopsWhenNoNewValueAppears) {
  // quniform [0, 1, 0.25]: 0.5, then 0.25 and 0.75; the next midpoints round onto existing
  // values (half-even: 0.125 -> 0, 0.375 -> 0.5, ...), so the space counts as explored.
  const auto s = space(R"({"q": {"_type": "quniform", "_value": [0, 1, 0.25]}})");
  auto t = make_tuner("GridSearch", ojson::object(), s, 0, "tuner");
  std::vector<double> got;
  while (auto p = t->generate(static_cast<std::int64_t>(got.size()))) got.push_back((*p)["q"].get<double>());
  EXPECT_EQ(got, (std::vector<double>{0.5, 0.25, 0.75}));
}

TEST(GridSearch, NestedChoiceEnumeratesOnlyChosenSubspaces) {
  const auto s = space(R"({"m": {"_type": "choice", "_value": [
      {"_name": "a", "k": {"_type": "choice", "_value": [1, 2]}}, {"_name": "b"}]}})");
  auto t = make_tuner("GridSearch", ojson::object(), s, 0, "tuner");
  std::vector<std::string> got;
  while (auto p = t->generate(static_cast<std::int64_t>(got.size()))) got.push_back(dump_python_json(*p));
  EXPECT_EQ(got, (std::vector<std::string>{R"({"m": {"_name": "a", "k": 1}})", R"({"m": {"_name": "a", "k": 2}})",
                                            R"({"m": {"_name": "b"}})"}));
}

TEST(Tpe, BeatsRandomOnAQuadratic) {
  // minimize (x - 3)^2 on uniform [-10, 10], 60 trials. A prior draw has mean loss
  // var + bias^2 = 400/12 + 9 = 42.3 and sd 45.7, so Random's mean over trials 30..59 is
  // 42.3 +- 8.4 per seed and +- 3.7 over 5 seeds. After its 20 random start-up trials TPE draws
  // from the good Parzen mixture (whose sigmas are floored at 20/(m+1), hence broad) and keeps
  // the candidate with the best good/bad ratio: its mean loss must be well under Random's on
  // every seed and under half of it on average. A TPE that ignored its history would fail.
  const auto s = space(R"({"x": {"_type": "uniform", "_value": [-10, 10]}})");
  double total[2] = {0, 0};
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    double mean[2] = {0, 0};
    const char* names[2] = {"TPE", "Random"};
    for (int k = 0; k < 2; ++k) {
      auto t = make_tuner(names[k], ojson::object(), s, seed, "tuner");
      for (int i = 0; i < 60; ++i) {
        const Parameters p = *t->generate(i);
        const double loss = quadratic(p);
        if (i >= 30) mean[k] += loss / 30;
        t->receive_result(i, p, loss);
      }
      total[k] += mean[k] / 5;
    }
    EXPECT_LT(mean[0], 0.7 * mean[1]) << "seed " << seed << ": TPE " << mean[0] << " Random " << mean[1];
  }
  EXPECT_LT(total[0], 0.5 * total[1]) << "TPE " << total[0] << " Random " << total[1];
}

TEST(Tpe, PrefersTheGoodCategory) {
  // A continuous companion parameter keeps NNI's deduplicator out of the way (a 4-point space
  // would be exhausted after 4 suggestions).
  const auto s = space(R"({"c": {"_type": "choice", "_value": ["a", "b", "c", "d"]},
                            "x": {"_type": "uniform", "_value": [0, 1]}})");
  auto t = make_tuner("TPE", {{"optimize_mode", "maximize"}, {"seed", 4}}, s, 0, "tuner");
  std::size_t good_late = 0;
  for (int i = 0; i < 80; ++i) {
    const Parameters p = *t->generate(i);
    const bool good = p["c"] == "c";
    if (i >= 40) good_late += good;
    t->receive_result(i, p, good ? 1.0 : 0.0);
  }
  // Random picks "c" 10 of 40 times (sd 2.7); TPE's good-set counts favour it strongly.
  EXPECT_GT(good_late, 24u);
}

TEST(Tpe, ExhaustsSmallDiscreteSpacesLikeNni) {
  const auto s = space(R"({"c": {"_type": "choice", "_value": ["a", "b", "c", "d"]}})");
  auto t = make_tuner("TPE", ojson::object(), s, 1, "tuner");
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const auto p = t->generate(i);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(seen.insert(p->dump()).second);
    t->receive_result(i, *p, 1.0);
  }
  EXPECT_FALSE(t->generate(4).has_value());
}

TEST(Evolution, IssuesThePopulationThenMutatesOneParameter) {
  const auto s = space(R"({"a": {"_type": "uniform", "_value": [0, 1]}, "b": {"_type": "uniform", "_value": [0, 1]},
                            "c": {"_type": "uniform", "_value": [0, 1]}})");
  auto t = make_tuner("Evolution", {{"population_size", 4}, {"seed", 9}}, s, 0, "tuner");
  std::vector<Parameters> evaluated;
  auto differing = [](const Parameters& x, const Parameters& y) {
    int d = 0;
    for (const char* k : {"a", "b", "c"}) d += x[k] != y[k];
    return d;
  };
  for (int i = 0; i < 4; ++i) {
    const Parameters p = *t->generate(i);
    for (const auto& e : evaluated) EXPECT_EQ(differing(p, e), 3);  // random individuals
    t->receive_result(i, p, p["a"].get<double>());
    evaluated.push_back(p);
  }
  for (int i = 4; i < 30; ++i) {
    const Parameters p = *t->generate(i);
    int best = 3;
    for (const auto& e : evaluated) best = std::min(best, differing(p, e));
    EXPECT_EQ(best, 1) << "a child differs from an evaluated individual in exactly one parameter";
    t->receive_result(i, p, p["a"].get<double>());
    evaluated.push_back(p);
  }
  // A failed child is replaced by a fresh random individual, which is issued next.
  const Parameters child = *t->generate(30);
  t->trial_end(30, false);
  const Parameters fresh = *t->generate(31);
  for (const auto& e : evaluated) EXPECT_EQ(differing(fresh, e), 3);
  (void)child;
}

TEST(Tuners, FactoryValidatesNamesAndClassArgs) {
  const auto s = space(R"({"x": {"_type": "uniform", "_value": [0, 1]}})");
  EXPECT_NO_THROW((void)make_tuner("anneal", {{"optimize_mode", "maximize"}}, s, 0, "t"));
  EXPECT_NO_THROW((void)make_tuner("TPE", {{"tpe_args", {{"n_startup_jobs", 5}, {"constant_liar_type", nullptr}}}}, s, 0, "t"));
  EXPECT_THROW((void)make_tuner("SMAC", ojson::object(), s, 0, "t"), InputError);
  EXPECT_THROW((void)make_tuner("Anneal", {{"optimize_mode", "best"}}, s, 0, "t"), InputError);
  EXPECT_THROW((void)make_tuner("Anneal", {{"parallel_optimize", true}}, s, 0, "t"), InputError);
  EXPECT_THROW((void)make_tuner("TPE", {{"tpe_args", {{"gamma", 2}}}}, s, 0, "t"), InputError);
  EXPECT_THROW((void)make_tuner("Evolution", {{"population_size", 1}}, s, 0, "t"), InputError);
  EXPECT_THROW((void)make_tuner("Random", {{"seed", -1}}, s, 0, "t"), InputError);
  try {
    (void)make_tuner("GridSearch", {{"seed", 1}}, s, 0, "cfg.yaml: tuner");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.yaml: tuner: seed: unknown class argument"), std::string::npos) << e.what();
  }
  EXPECT_EQ(metric_default(nlohmann::json(0.5), "m"), 0.5);
  EXPECT_EQ(metric_default(nlohmann::json{{"default", 2}, {"loss", 1}}, "m"), 2.0);
  EXPECT_THROW((void)metric_default(nlohmann::json{{"loss", 1}}, "m"), InputError);
  EXPECT_THROW((void)metric_default(nlohmann::json("0.5"), "m"), InputError);
  EXPECT_EQ(parse_direction("Maximize", "d"), Direction::Maximize);
}

}  // namespace
}  // namespace spikeline::hpo
