// Search-space parsing, validation and prior sampling against hand-computed NNI behaviour
// (hpo.md 2.1). Statistical checks use fixed seeds and 5-sigma binomial bounds: with these
// sample sizes they cannot fail by chance (p < 1e-6 each) but do fail for a wrong rule.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/search_space.hpp"
#include "support/shared.hpp"

namespace spikeline::hpo {
namespace {

using ojson = nlohmann::ordered_json;

SearchSpace one(const std::string& type, const std::string& value) {
  return SearchSpace::parse_text(R"({"x": {"_type": ")" + type + R"(", "_value": )" + value + "}}", "space.json");
}

// |count/n - p| within 5 binomial standard deviations.
void expect_freq(std::size_t count, std::size_t n, double p, const std::string& what) {
  const double sd = std::sqrt(p * (1 - p) / static_cast<double>(n));
  EXPECT_NEAR(static_cast<double>(count) / static_cast<double>(n), p, 5 * sd) << what;
}

std::map<std::string, std::size_t> histogram(const SearchSpace& s, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::map<std::string, std::size_t> h;
  for (std::size_t i = 0; i < n; ++i) ++h[dump_python_json(s.sample(rng)["x"])];
  return h;
}

TEST(PythonRepr, MatchesPythonFloatRepr) {
  // Expected strings printed by python3 repr().
  EXPECT_EQ(python_float_repr(1e-05), "1e-05");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(python_float_repr(1e22), "1e+22");
  EXPECT_EQ(python_float_repr(1.2345678901234568e17), "1.2345678901234568e+17");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float_repr(69 * 0.01), "0.6900000000000001");
  EXPECT_EQ(python_float_repr(-2.5), "-2.5");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(1e-300), "1e-300");
}

TEST(PythonJson, MatchesJsonDumpsDefaults) {
  // python3: json.dumps({'a':1e-05,'b':1e16,'c':[1.0,2,0.1+0.2],'d':'\u00e9\n','e':None,'f':True,
  //                     'g':123456789012345680.0,'h':-0.0,'i':1.5e-7,'j':1e22,'k':0.0001})
  const ojson doc = ojson::parse(R"({"a": 1e-05, "b": 1e16, "c": [1.0, 2, 0.30000000000000004],
      "d": "\u00e9\n", "e": null, "f": true, "g": 123456789012345680.0, "h": -0.0, "i": 1.5e-7,
      "j": 1e22, "k": 0.0001})");
  EXPECT_EQ(dump_python_json(doc),
            R"({"a": 1e-05, "b": 1e+16, "c": [1.0, 2, 0.30000000000000004], "d": "\u00e9\n", "e": null, )"
            R"("f": true, "g": 1.2345678901234568e+17, "h": -0.0, "i": 1.5e-07, "j": 1e+22, "k": 0.0001})");
  EXPECT_EQ(dump_python_json(ojson::object()), "{}");
  EXPECT_EQ(dump_python_json(ojson::array()), "[]");
}

TEST(SearchSpace, KeepsKeyOrderAndFlattensNestedChoice) {
  const auto s = SearchSpace::parse_text(R"({
    "zeta": {"_type": "uniform", "_value": [0, 1]},
    "model": {"_type": "choice", "_value": [
        {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]}, "ch": {"_type": "randint", "_value": [1, 4]}},
        {"_name": "none"}]},
    "alpha": {"_type": "choice", "_value": ["a", "b"]}})",
                                         "s.json");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.specs()[0].name, "zeta");
  EXPECT_EQ(s.specs()[1].name, "model");
  EXPECT_TRUE(s.specs()[1].nested);
  EXPECT_EQ(s.specs()[2].path, "model/conv/kernel");
  EXPECT_EQ(s.specs()[2].parent, 1);
  EXPECT_EQ(s.specs()[3].path, "model/conv/ch");
  EXPECT_EQ(s.specs()[4].name, "alpha");
  Rng rng(3);
  std::size_t conv = 0;
  const std::size_t n = 4000;
  for (std::size_t i = 0; i < n; ++i) {
    const Parameters p = s.sample(rng);
    std::vector<std::string> keys;
    for (auto it = p.begin(); it != p.end(); ++it) keys.push_back(it.key());
    ASSERT_EQ(keys, (std::vector<std::string>{"zeta", "model", "alpha"}));
    const auto& m = p["model"];
    if (m["_name"] == "conv") {
      ++conv;
      ASSERT_EQ(m.size(), 3u);  // _name, kernel, ch
      EXPECT_TRUE(m["kernel"] == 3 || m["kernel"] == 5);
      EXPECT_GE(m["ch"].get<int>(), 1);
      EXPECT_LT(m["ch"].get<int>(), 4);
    } else {
      ASSERT_EQ(m, (ojson{{"_name", "none"}}));  // unchosen sub-parameters do not exist
    }
    EXPECT_EQ(s.to_parameters(s.to_point(p, "p")), p);
  }
  expect_freq(conv, n, 0.5, "nested option frequency");
}

TEST(SearchSpace, QuniformGridIsAnchoredAtZeroAndClippedAfterRounding) {
  // [0.2, 0.8, 0.3]: round(U/0.3) in {1, 2, 3} -> 0.3 (U < 0.45), 0.6 (U < 0.75), 0.9 -> clip 0.8.
  // P = 0.25/0.6 = 5/12, 0.3/0.6 = 1/2, 0.05/0.6 = 1/12; never 0.2 or 0.5.
  const std::size_t n = 60000;
  const auto h = histogram(one("quniform", "[0.2, 0.8, 0.3]"), n, 11);
  ASSERT_EQ(h.size(), 3u);
  expect_freq(h.at("0.3"), n, 5.0 / 12, "0.3");
  expect_freq(h.at("0.6"), n, 0.5, "0.6");
  expect_freq(h.at("0.8"), n, 1.0 / 12, "0.8");
}

TEST(SearchSpace, RoundingIsHalfToEven) {
  // Python: round(0.5) == 0, round(1.5) == 2, round(2.5) == 2; std::round would give 1 and 3.
  const auto s = one("quniform", "[0, 2, 0.5]");
  const ParamSpec& p = s.specs()[0];
  EXPECT_EQ(p.finish(0.25), 0.0);
  EXPECT_EQ(p.finish(0.75), 1.0);
  EXPECT_EQ(p.finish(1.25), 1.0);
  EXPECT_EQ(p.finish(1.3), 1.5);
  const auto q = one("qnormal", "[0, 1, 1]");
  EXPECT_EQ(q.specs()[0].finish(2.5), 2.0);
  EXPECT_EQ(q.specs()[0].finish(-0.5), -0.0);
  EXPECT_EQ(q.specs()[0].finish(3.5), 4.0);
}

TEST(SearchSpace, ThesisQuniformGridPrintsLikePython) {
  // Every value of quniform [0.60, 1.40, 0.01] as python3 prints round(x / 0.01) * 0.01, clipped
  // (1.4000000000000001 = 140 * 0.01 clips to 1.4).
  const std::set<std::string> expected = {"0.6", "0.61", "0.62", "0.63", "0.64", "0.65", "0.66", "0.67", "0.68", "0.6900000000000001", "0.7000000000000001", "0.71", "0.72", "0.73", "0.74", "0.75", "0.76", "0.77", "0.78", "0.79", "0.8", "0.81", "0.8200000000000001", "0.8300000000000001", "0.84", "0.85", "0.86", "0.87", "0.88", "0.89", "0.9", "0.91", "0.92", "0.93", "0.9400000000000001", "0.9500000000000001", "0.96", "0.97", "0.98", "0.99", "1.0", "1.01", "1.02", "1.03", "1.04", "1.05", "1.06", "1.07", "1.08", "1.09", "1.1", "1.11", "1.12", "1.1300000000000001", "1.1400000000000001", "1.1500000000000001", "1.16", "1.17", "1.18", "1.19", "1.2", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26", "1.27", "1.28", "1.29", "1.3", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37", "1.3800000000000001", "1.3900000000000001", "1.4"};
  ASSERT_EQ(expected.size(), 81u);
  const std::size_t n = 200000;
  const auto h = histogram(one("quniform", "[0.60, 1.40, 0.01]"), n, 5);
  std::set<std::string> got;
  for (const auto& [k, c] : h) got.insert(k);
  EXPECT_EQ(got, expected);
  // Endpoints carry half an interior point's mass: 1/160 vs 1/80.
  expect_freq(h.at("0.6"), n, 1.0 / 160, "low endpoint");
  expect_freq(h.at("1.4"), n, 1.0 / 160, "high endpoint");
  expect_freq(h.at("1.0"), n, 1.0 / 80, "interior");
  expect_freq(h.at("0.6900000000000001"), n, 1.0 / 80, "interior with artifact");
}

TEST(SearchSpace, ThesisQloguniformGridPrintsLikePython) {
  const std::set<std::string> expected = {"0.02", "0.021", "0.022", "0.023", "0.024", "0.025", "0.026000000000000002", "0.027", "0.028", "0.029", "0.03", "0.031", "0.032", "0.033", "0.034", "0.035", "0.036000000000000004", "0.037", "0.038", "0.039", "0.04", "0.041", "0.042", "0.043000000000000003", "0.044", "0.045", "0.046", "0.047", "0.048", "0.049", "0.05", "0.051000000000000004", "0.052000000000000005", "0.053", "0.054", "0.055", "0.056", "0.057", "0.058", "0.059000000000000004", "0.06", "0.061", "0.062", "0.063", "0.064", "0.065", "0.066", "0.067", "0.068", "0.069", "0.07", "0.07100000000000001", "0.07200000000000001", "0.073", "0.074", "0.075", "0.076", "0.077", "0.078", "0.079", "0.08", "0.081", "0.082", "0.083", "0.084", "0.085", "0.08600000000000001", "0.08700000000000001", "0.088", "0.089", "0.09", "0.091", "0.092", "0.093", "0.094", "0.095", "0.096", "0.097", "0.098", "0.099", "0.1", "0.101", "0.10200000000000001", "0.10300000000000001", "0.10400000000000001", "0.105", "0.106", "0.107", "0.108", "0.109", "0.11", "0.111", "0.112", "0.113", "0.114", "0.115", "0.116", "0.117", "0.11800000000000001", "0.11900000000000001", "0.12", "0.121", "0.122", "0.123", "0.124", "0.125", "0.126", "0.127", "0.128", "0.129", "0.13", "0.131", "0.132", "0.133", "0.134", "0.135", "0.136", "0.137", "0.138", "0.139", "0.14", "0.14100000000000001", "0.14200000000000002", "0.14300000000000002", "0.14400000000000002", "0.145", "0.146", "0.147", "0.148", "0.149", "0.15", "0.151", "0.152", "0.153", "0.154", "0.155", "0.156", "0.157", "0.158", "0.159", "0.16", "0.161", "0.162", "0.163", "0.164", "0.165", "0.166", "0.167", "0.168", "0.169", "0.17", "0.171", "0.17200000000000001", "0.17300000000000001", "0.17400000000000002", "0.17500000000000002", "0.176", "0.177", "0.178", "0.179", "0.18", "0.181", "0.182", "0.183", "0.184", "0.185", "0.186", "0.187", "0.188", "0.189", "0.19", "0.191", "0.192", "0.193", "0.194", "0.195", "0.196", "0.197", "0.198", "0.199", "0.2"};
  ASSERT_EQ(expected.size(), 181u);
  const std::size_t n = 40000;
  const auto h = histogram(one("qloguniform", "[2e-2, 2e-1, 1e-3]"), n, 7);
  std::set<std::string> got;
  for (const auto& [k, c] : h) got.insert(k);
  EXPECT_EQ(got, expected);
  // Density 1/x: P(0.021) = ln(0.0215/0.0205)/ln 10 = 0.02069; P(0.199) = ln(0.1995/0.1985)/ln 10.
  expect_freq(h.at("0.021"), n, std::log(0.0215 / 0.0205) / std::log(10.0), "0.021");
  expect_freq(h.at("0.199"), n, std::log(0.1995 / 0.1985) / std::log(10.0), "0.199");
  expect_freq(h.at("0.02"), n, std::log(0.0205 / 0.02) / std::log(10.0), "endpoint 0.02");
}

TEST(SearchSpace, RandintIsUpperExclusiveIntegers) {
  const std::size_t n = 30000;
  const auto h = histogram(one("randint", "[3, 6]"), n, 1);
  ASSERT_EQ(h.size(), 3u);  // 3, 4, 5 as JSON integers; never 6
  for (const char* k : {"3", "4", "5"}) expect_freq(h.at(k), n, 1.0 / 3, k);
}

TEST(SearchSpace, ChoiceReturnsTheOptionItself) {
  const auto s = one("choice", R"([16, "relu", 0.5, [1, 2], true])");
  const std::size_t n = 25000;
  const auto h = histogram(s, n, 2);
  ASSERT_EQ(h.size(), 5u);
  for (const char* k : {"16", "\"relu\"", "0.5", "[1, 2]", "true"}) expect_freq(h.at(k), n, 0.2, k);
}

TEST(SearchSpace, UniformFamiliesStayInBoundsWithoutClipping) {
  Rng rng(4);
  const auto u = one("uniform", "[-1, 3]");
  const auto lu = one("loguniform", "[0.001, 10]");
  std::size_t below_gm = 0;
  const std::size_t n = 20000;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = u.sample(rng)["x"].get<double>();
    EXPECT_TRUE(x >= -1 && x < 3);
    const double y = lu.sample(rng)["x"].get<double>();
    EXPECT_TRUE(y >= 0.001 * (1 - 1e-12) && y <= 10 * (1 + 1e-12));
    below_gm += y < 0.1 ? 1 : 0;  // geometric mean of [0.001, 10]: half the log-uniform mass
  }
  expect_freq(below_gm, n, 0.5, "loguniform median");
}

TEST(SearchSpace, NormalFamiliesAreNotClipped) {
  Rng rng(8);
  const auto qn = one("qnormal", "[1, 1, 2]");  // grid ..., -2, 0, 2, 4 (anchored at 0, no clip)
  const auto qln = one("qlognormal", "[0, 1, 5]");
  const auto ln = one("lognormal", "[1, 0.5]");
  std::map<double, std::size_t> qh;
  std::size_t zeros = 0, below_median = 0;
  const std::size_t n = 20000;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = qn.sample(rng)["x"].get<double>();
    EXPECT_EQ(std::fmod(x, 2.0), 0.0);
    ++qh[x];
    const double y = qln.sample(rng)["x"].get<double>();
    EXPECT_EQ(std::fmod(y, 5.0), 0.0);
    zeros += y == 0 ? 1 : 0;
    below_median += ln.sample(rng)["x"].get<double>() < std::exp(1.0) ? 1 : 0;
  }
  // qnormal: P(0) = P(-1 < N(1,1) < 1) = Phi(0) - Phi(-2) = 0.47725; P(-2) = Phi(-2) - Phi(-4).
  expect_freq(qh[0.0], n, 0.5 - 0.022750131948179195, "qnormal 0");
  expect_freq(qh[-2.0], n, 0.022750131948179195 - 3.167124183311998e-05, "qnormal -2 (below mu - sigma)");
  // qlognormal: exp(N(0,1)) < 2.5 rounds to 0: P = Phi(ln 2.5) = 0.82016.
  expect_freq(zeros, n, 0.5 * std::erfc(-std::log(2.5) / std::sqrt(2.0)), "qlognormal zero");
  expect_freq(below_median, n, 0.5, "lognormal median exp(mu)");
}

TEST(SearchSpace, SameSeedSameDraws) {
  const auto s = one("qloguniform", "[0.02, 0.2, 0.001]");
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const auto x = s.sample(a), y = s.sample(b), z = s.sample(c);
    EXPECT_EQ(x, y);
    differs = differs || x != z;
  }
  EXPECT_TRUE(differs);
}

struct BadCase {
  const char* space;
  const char* message;  // expected substring, including where + parameter
};

TEST(SearchSpace, InvalidSpacesNameTheParameter) {
  const BadCase cases[] = {
      {R"([1, 2])", "s.json: a search space must be a JSON object"},
      {R"({})", "s.json: the search space has no parameters"},
      {R"({"lr": 3})", "s.json: lr: expected an object"},
      {R"({"lr": {"_type": "uniform"}})", "s.json: lr: \"_value\" is missing or not a list"},
      {R"({"lr": {"_value": [1, 2]}})", "s.json: lr: \"_type\" is missing"},
      {R"({"lr": {"_type": "gauss", "_value": [1, 2]}})", "s.json: lr: unknown _type \"gauss\""},
      {R"({"lr": {"_type": "uniform", "_value": [1, 2], "x": 1}})", "s.json: lr: unknown key \"x\""},
      {R"({"lr": {"_type": "uniform", "_value": [2, 1]}})", "s.json: lr: needs low < high"},
      {R"({"lr": {"_type": "uniform", "_value": [1, 1]}})", "s.json: lr: needs low < high"},
      {R"({"lr": {"_type": "uniform", "_value": [1, 2, 3]}})", "s.json: lr: uniform needs 2 numbers [low, high]"},
      {R"({"lr": {"_type": "quniform", "_value": [1, 2]}})", "s.json: lr: quniform needs 3 numbers [low, high, q]"},
      {R"({"lr": {"_type": "quniform", "_value": [1, 2, 0]}})", "s.json: lr: q must be > 0"},
      {R"({"lr": {"_type": "quniform", "_value": [1, "2", 1]}})", "s.json: lr: high must be a number"},
      {R"({"lr": {"_type": "loguniform", "_value": [0, 1]}})", "s.json: lr: loguniform needs low > 0"},
      {R"({"lr": {"_type": "qloguniform", "_value": [-1, 1, 0.1]}})", "s.json: lr: qloguniform needs low > 0"},
      {R"({"lr": {"_type": "normal", "_value": [0, 0]}})", "s.json: lr: sigma must be > 0"},
      {R"({"lr": {"_type": "qlognormal", "_value": [0, -1, 1]}})", "s.json: lr: sigma must be > 0"},
      {R"({"n": {"_type": "randint", "_value": [1.5, 4]}})", "s.json: n: randint needs [lower, upper] as two integers"},
      {R"({"n": {"_type": "randint", "_value": [4, 4]}})", "s.json: n: randint needs lower < upper"},
      {R"({"n": {"_type": "choice", "_value": []}})", "s.json: n: choice needs at least one option"},
      {R"({"n": {"_type": "choice", "_value": [{"a": 1}]}})", "s.json: n: a choice option that is an object must have \"_name\""},
      {R"({"n": {"_type": "choice", "_value": [{"_name": "a"}, 3]}})", "s.json: n: nested choice: every option"},
      {R"({"n": {"_type": "choice", "_value": [{"_name": "a"}, {"_name": "a"}]}})", "s.json: n: option 1: duplicate _name \"a\""},
      {R"({"n": {"_type": "choice", "_value": [{"_name": "a", "k": {"_type": "uniform", "_value": [3, 1]}}]}})",
       "s.json: n/a/k: needs low < high"},
      {R"({"_name": {"_type": "choice", "_value": [1]}})", "s.json: _name: \"_name\" is reserved"},
  };
  for (const auto& c : cases) {
    try {
      (void)SearchSpace::parse_text(c.space, "s.json");
      ADD_FAILURE() << "accepted: " << c.space;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what() << "\nfor " << c.space;
    }
  }
  EXPECT_THROW((void)SearchSpace::parse_text("{", "s.json"), InputError);
}

TEST(SearchSpace, ToPointRejectsParametersOutsideTheSpace) {
  const auto s = SearchSpace::parse_text(
      R"({"a": {"_type": "uniform", "_value": [0, 1]}, "b": {"_type": "randint", "_value": [0, 3]},
          "c": {"_type": "choice", "_value": ["x", "y"]}})",
      "s");
  EXPECT_NO_THROW((void)s.to_point(ojson::parse(R"({"a": 0.5, "b": 2, "c": "y"})"), "p"));
  EXPECT_THROW((void)s.to_point(ojson::parse(R"({"a": 1.5, "b": 2, "c": "y"})"), "p"), InputError);
  EXPECT_THROW((void)s.to_point(ojson::parse(R"({"a": 0.5, "b": 3, "c": "y"})"), "p"), InputError);
  EXPECT_THROW((void)s.to_point(ojson::parse(R"({"a": 0.5, "b": 2, "c": "z"})"), "p"), InputError);
  EXPECT_THROW((void)s.to_point(ojson::parse(R"({"a": 0.5, "c": "y"})"), "p"), InputError);
}

TEST(SearchSpace, ParsesEveryThesisSearchSpace) {
  SPIKELINE_REQUIRE_SHARED(dir, "fixtures/thesis/configs");
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    const ojson cfg = ojson::parse(in);
    const auto s = SearchSpace::parse(cfg.at("search_space"), entry.path().string());
    Rng rng(1);
    const Parameters p = s.sample(rng);
    std::vector<std::string> want, got;
    for (auto it = cfg["search_space"].begin(); it != cfg["search_space"].end(); ++it) want.push_back(it.key());
    for (auto it = p.begin(); it != p.end(); ++it) got.push_back(it.key());
    EXPECT_EQ(got, want) << entry.path();
    ++n;
  }
  EXPECT_EQ(n, 17u);  // the 17 thesis experiment configs in the fixture set
}

}  // namespace
}  // namespace spikeline::hpo
