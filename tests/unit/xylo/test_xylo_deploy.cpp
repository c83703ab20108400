// Deployment pieces: Rockpool's cycle model against hand-computed values (xylo.md §7), the C
// header against config.json, the thesis's activity factors, classification figures, the stored
// tuning record, and the tuning loop (determinism, best = best seen, reproducible best).
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/xylo/c_header.hpp"
#include "spikeline/hw/xylo/cycles.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/hw/xylo/evaluate.hpp"
#include "spikeline/hw/xylo/factors.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/pipeline/xylo_tune.hpp"
#include "spikeline/snn/network.hpp"
#include "support/cli.hpp"
#include "support/shared.hpp"

namespace spikeline::hw::xylo {
namespace {

// 2 inputs, 3 hidden, 2 readouts; recurrent 0->1, 0->2, 1->2; alias 0 -> 1.
IntSpec small_spec() {
  IntSpec s;
  s.resize(2, 3, 2);
  s.dt = 0.05;
  s.weights_in = {10, -20, 30, 0, 127, -128};
  s.w_rec(0, 1) = 5;
  s.w_rec(0, 2) = -6;
  s.w_rec(1, 2) = 7;
  s.weights_out = {1, 2, 3, 4, 0, -5};
  s.dash_mem = {1, 2, 3};
  s.dash_syn = {1, 1, 2};
  s.threshold = {100, 200, 32767};
  s.bias = {0, -1, -32768};
  s.dash_mem_out = {4, 5};
  s.dash_syn_out = {1, 15};
  s.threshold_out = {90, 91};
  s.bias_out = {0, 3};
  s.aliases[0] = {1};
  return s;
}

TEST(XyloCycles, WorstCaseMatchesHandComputedValues) {
  // F = 3 rec weights / 3 neurons = 1; one alias: a_t = a_s = 1/3.
  const CycleEstimate e = estimate_cycles(small_spec());
  EXPECT_DOUBLE_EQ(e.mean_fan_out, 1.0);
  EXPECT_DOUBLE_EQ(e.alias_target_prob, 1.0 / 3);
  EXPECT_DOUBLE_EQ(e.input, 23.0);           // 2 * (1 * 3 * 3.5 + 1)
  EXPECT_DOUBLE_EQ(e.hidden_isyn, 30.0);     // 3 * (1 * 7 * 1 + 3)
  EXPECT_DOUBLE_EQ(e.output_isyn, 51.0);     // 3 * 1 * (1 + 8 * 2)
  EXPECT_NEAR(e.hidden_spiking, 70.0, 1e-12);  // 3 * (19 + 2 + 3 * 1/3 + 1 + 1/3)
  EXPECT_DOUBLE_EQ(e.output_spiking, 24.0);  // 12 * 2
  EXPECT_NEAR(e.total, 198.0, 1e-12);
  EXPECT_DOUBLE_EQ(e.additional_isyn2_ops, 0.0);
  EXPECT_NEAR(min_clock_hz(e.total, 0.05), 4752.0, 1e-9);  // 198 * 1.2 / 0.05
  EXPECT_NEAR(min_clock_hz(e.total, 0.001, 0.0), 198000.0, 1e-6);
}

TEST(XyloCycles, MeasuredProbabilitiesMatchHandComputedValues) {
  const CycleEstimate e = estimate_cycles(small_spec(), {0.5, 0.25, 0.1});
  EXPECT_DOUBLE_EQ(e.input, 12.5);          // 2 * (0.5 * 3 * 3.5 + 1)
  EXPECT_DOUBLE_EQ(e.hidden_isyn, 14.25);   // 3 * (7 * 0.25 + 3)
  EXPECT_DOUBLE_EQ(e.output_isyn, 12.75);   // 3 * 0.25 * 17
  // variable part: max(.25, 1/9) * 2 + max(.25/3, 1/9) * 3 + .25 + max(.25, 1/3) / 3 = 0.5 + 1/3 + 0.25 + 1/9
  EXPECT_NEAR(e.hidden_spiking, 3 * (19 + 0.5 + 1.0 / 3 + 0.25 + 1.0 / 9), 1e-12);
  EXPECT_NEAR(e.total, 12.5 + 14.25 + 12.75 + 3 * (19 + 0.5 + 1.0 / 3 + 0.25 + 1.0 / 9) + 24, 1e-12);
}

TEST(XyloCycles, TwoSynapsesCountIsyn2OperationsAndFanOutPerSynapse) {
  IntSpec s;
  s.resize(1, 2, 1, 2);
  s.w_rec(0, 1, 0) = 1;
  s.w_rec(0, 1, 1) = 1;
  s.w_rec(1, 0, 1) = 1;
  const CycleEstimate e = estimate_cycles(s);
  EXPECT_DOUBLE_EQ(e.mean_fan_out, 0.75);  // numpy: mean over the [2][2] per-synapse row counts
  // 1.5 * 1 * 1 * 2 + 5 * 0.75 * 1 * 2 + 2
  EXPECT_DOUBLE_EQ(e.additional_isyn2_ops, 3.0 + 7.5 + 2.0);
}

// Numbers of one array's initialiser in the header, in order.
std::vector<double> header_array(const std::string& header, const std::string& name) {
  const auto def = header.find(name + "[");
  const auto at = header.find(" = ", header.find(name + "[", header.find("#ifdef")));
  EXPECT_NE(def, std::string::npos) << name;
  const auto end = header.find(";", at);
  const std::string body = header.substr(at + 3, end - at - 3);
  std::vector<double> out;
  const std::regex num("-?[0-9]+");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), num); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod(it->str()));
  return out;
}

std::vector<double> json_flat(const nlohmann::json& j) {
  std::vector<double> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      const auto sub = json_flat(e);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  } else {
    out.push_back(j.get<double>());
  }
  return out;
}

TEST(XyloHeader, ArraysAndDimensionsMatchConfigJson) {
  for (int syn : {1, 2}) {
    IntSpec s = small_spec();
    if (syn == 2) {
      IntSpec t;
      t.resize(2, 3, 2, 2);
      t.dt = 0.001;
      for (std::size_t i = 0; i < t.weights_in.size(); ++i) t.weights_in[i] = static_cast<std::int64_t>(i) - 5;
      t.w_rec(2, 0, 1) = -3;
      t.threshold = {1, 2, 3};
      t.dash_syn_2 = {4, 5, 6};
      t.threshold_out = {7, 8};
      s = t;
    }
    HeaderInfo info;
    info.comment = "test */ comment\nline two";
    info.clock_hz = 12.5e6;
    const std::string h = c_header(s, info);
    const nlohmann::json j = to_json(s);
    EXPECT_NE(h.find("#ifndef XYLO_CONFIG_H\n#define XYLO_CONFIG_H"), std::string::npos);
    EXPECT_NE(h.find("#define XYLO_N_IN 2\n#define XYLO_N_HID 3\n#define XYLO_N_OUT 2\n#define XYLO_N_SYN " +
                     std::to_string(syn)),
              std::string::npos);
    EXPECT_NE(h.find("#define XYLO_CLOCK_HZ 12500000L"), std::string::npos);
    EXPECT_NE(h.find(syn == 1 ? "#define XYLO_DT_US 50000L" : "#define XYLO_DT_US 1000L"), std::string::npos);
    EXPECT_EQ(h.find("test */"), std::string::npos) << "a */ in the comment must not end it";
    EXPECT_NE(h.find(syn == 1 ? "extern const int8_t xylo_weights_in[XYLO_N_IN][XYLO_N_HID];"
                              : "extern const int8_t xylo_weights_in[XYLO_N_IN][XYLO_N_HID][XYLO_N_SYN];"),
              std::string::npos);
    for (const char* key : {"weights_in", "weights_rec", "weights_out", "dash_mem", "dash_syn", "dash_syn_2", "threshold",
                            "bias", "dash_mem_out", "dash_syn_out", "threshold_out", "bias_out"})
      EXPECT_EQ(header_array(h, std::string("xylo_") + key), json_flat(j.at(key))) << key << " syn " << syn;
    std::vector<double> alias;
    for (const auto& a : j.at("aliases")) alias.push_back(a.empty() ? -1.0 : a[0].get<double>());
    EXPECT_EQ(header_array(h, "xylo_alias_target"), alias);
  }
}

TEST(XyloHeader, RefusesValuesOutsideTheirCType) {
  IntSpec s = small_spec();
  s.weights_out[1] = 128;
  try {
    c_header(s);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("weights_out[1]"), std::string::npos) << e.what();
  }
}

FloatSpec float_spec() {
  FloatSpec f;
  f.resize(1, 2, 2);
  f.dt = 0.05;
  f.weights_in = {0.5, -0.25};
  f.w_rec(0, 1) = 0.125;
  f.weights_out = {1.0, 1.0, -0.5, 0.5};
  f.threshold = {1.0, 1.0};
  f.threshold_out = {1.0, 1.0};
  f.dash_mem = {1, 1};
  f.dash_syn = {1, 1};
  f.dash_mem_out = {1, 1};
  f.dash_syn_out = {1, 1};
  return f;
}

TEST(XyloFactors, ScaleAllWeightsGloballyAndReadoutColumnsPerClass) {
  const FloatSpec f = float_spec();
  const FloatSpec g = apply_activity_factors(f, {1.03, {0.69, 2.0}});
  // numpy: float32 array * Python float -> float32 product of the float32 values.
  EXPECT_EQ(g.weights_in[1], double(-0.25f * 1.03f));
  EXPECT_EQ(g.w_rec(0, 1), double(0.125f * 1.03f));
  EXPECT_EQ(g.w_out(0, 0), double(float(1.0f * 1.03f) * 0.69f));
  EXPECT_EQ(g.w_out(1, 1), double(float(0.5f * 1.03f) * 2.0f));
  EXPECT_EQ(g.threshold, f.threshold);  // thresholds are not scaled
  EXPECT_EQ(g.threshold_out, f.threshold_out);
}

TEST(XyloFactors, GlobalQuantisationTurnsTheFactorsIntoThresholdAndReadoutRatios) {
  const FloatSpec f = float_spec();
  QuantizeRecipe recipe;
  const IntSpec base = quantize_with_factors(f, {}, recipe);
  EXPECT_EQ(base.weights_in, (std::vector<std::int64_t>{127, -64}));  // 127 / 0.5 scale; -63.5 -> -64 (half even)
  EXPECT_EQ(base.threshold, (std::vector<std::int64_t>{254, 254}));
  EXPECT_EQ(base.weights_out, (std::vector<std::int64_t>{127, 127, -64, 64}));
  // Global factor 2: the weights keep their integers, the thresholds halve.
  const IntSpec g2 = quantize_with_factors(f, {2.0, {}}, recipe);
  EXPECT_EQ(g2.weights_in, base.weights_in);
  EXPECT_EQ(g2.threshold, (std::vector<std::int64_t>{127, 127}));
  EXPECT_EQ(g2.threshold_out, (std::vector<std::int64_t>{64, 64}));  // 127 / 2 = 63.5 -> 64
  // Class 1 factor 0.5: its column shrinks relative to class 0; the readout scale stays (max from column 0).
  const IntSpec c1 = quantize_with_factors(f, {1.0, {1.0, 0.5}}, recipe);
  EXPECT_EQ(c1.weights_out, (std::vector<std::int64_t>{127, 64, -64, 32}));
  EXPECT_EQ(c1.threshold_out, (std::vector<std::int64_t>{127, 127}));
}

TEST(XyloFactors, ParamsRoundTripAndErrorsNameTheKey) {
  const auto f = factors_from_params(nlohmann::json{{"global_activity_factor", 1.03}, {"c0_activity_factor", 0.88},
                                                    {"c1_activity_factor", 1.09}, {"c6_activity_factor", 1}},
                                     2, "p");
  EXPECT_EQ(f.global, 1.03);
  EXPECT_EQ(f.per_class, (std::vector<double>{0.88, 1.09}));
  const auto back = factors_to_params(f, 2);
  EXPECT_EQ(back.dump(), R"({"global_activity_factor":1.03,"c0_activity_factor":0.88,"c1_activity_factor":1.09})");
  auto message = [](const nlohmann::json& p) {
    try {
      factors_from_params(p, 2, "p");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({{"c2_activity_factor", 0.9}}).find("p: c2_activity_factor"), std::string::npos);
  EXPECT_NE(message({{"tau_mem", 0.9}}).find("unknown factor"), std::string::npos);
  EXPECT_NE(message({{"global_activity_factor", -1}}).find("positive"), std::string::npos);
  EXPECT_NE(message({{"global_activity_factor", "x"}}).find("positive"), std::string::npos);
}

TEST(XyloDeploy, ClassificationFiguresAreHandComputed) {
  const std::vector<int> pred = {0, 0, 1, 1, 1, 0};
  const std::vector<int> y = {0, 1, 1, 1, 0, 0};
  const auto ev = train::classify(pred, y, {"a", "b"});
  EXPECT_DOUBLE_EQ(ev.accuracy, 4.0 / 6);
  EXPECT_EQ(ev.confusion, (std::vector<std::vector<std::size_t>>{{2, 1}, {1, 2}}));
  EXPECT_DOUBLE_EQ(ev.precision[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(ev.recall[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(ev.f1[1], 2.0 / 3);
}

TEST(XyloDeploy, ResourcesCountNonZeroWeightsAndTheBusiestNeuron) {
  const Resources r = count_resources(small_spec());
  EXPECT_EQ(r.synapses_in, 5u);
  EXPECT_EQ(r.synapses_rec, 3u);
  EXPECT_EQ(r.synapses_out, 5u);
  EXPECT_EQ(r.synapses(), 13u);
  EXPECT_EQ(r.max_fan_out, 2);
  EXPECT_EQ(r.aliases, 1);
}

TEST(XyloDeploy, TuningRecordRoundTripsAndWritesTheThesisFile) {
  const auto dir = test::scratch_dir("xylo_tuning_record");
  TuningRecord r;
  r.factors = {1.03, {0.88, 1.09}};
  r.recipe.options.method = QuantizeMethod::Channel;
  r.recipe.dash_fix = DashZeroFix::Thesis;
  r.accuracy = 0.99;
  r.untuned_accuracy = 0.9;
  r.float_accuracy = 0.995;
  r.trials = 3;
  r.seed = 4;
  r.tuner = "Anneal";
  r.config = small_spec();
  write_tuning(dir, r, nlohmann::json::array());
  const auto back = read_tuning(dir, 2);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->factors.per_class, r.factors.per_class);
  EXPECT_EQ(back->recipe.options.method, QuantizeMethod::Channel);
  EXPECT_EQ(back->recipe.dash_fix, DashZeroFix::Thesis);
  EXPECT_EQ(to_json(back->config), to_json(r.config));
  const auto thesis = nlohmann::json::parse(test::slurp(dir / kThesisTuningFile));
  EXPECT_EQ(thesis.at("params").size(), 8u);  // global + c0..c6, as the thesis's file
  EXPECT_EQ(thesis.at("params").at("c6_activity_factor"), 1.0);
  EXPECT_EQ(thesis.at("val_accuracy_after_tuning"), 0.99);
  EXPECT_FALSE(read_tuning(dir / "nothing", 2).has_value());
}

// A small ff_deep_deep_res mapped to Xylo, with random event data and labels.
struct TuneFixture {
  FloatSpec spec;
  EventSet events;
  std::vector<int> labels;
};
TuneFixture tune_fixture() {
  Rng rng(3);
  snn::NeuronParams np;
  np.tau_mem = 0.2f;
  np.tau_syn = 0.15f;
  np.dt = 0.05f;
  const snn::Network net = snn::make_architecture("ff_deep_deep_res", 4, 8, 2, np, rng);
  TuneFixture f{map_network(net).spec, {40, 10, 4, {}}, {}};
  for (std::size_t i = 0; i < 40 * 10 * 4; ++i) f.events.data.push_back(static_cast<std::uint8_t>(rng.below(3)));
  for (int i = 0; i < 40; ++i) f.labels.push_back(static_cast<int>(rng.below(2)));
  return f;
}

TuningConfig three_factor_config(int trials) {
  return tuning_config_from_text(R"({"trial_command": "python run.py", "assessor_start_step": 300,
      "max_trial_number": )" + std::to_string(trials) + R"(, "search_space": {
      "global_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c0_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c1_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}}})",
                                 "tuning.json");
}

TEST(XyloTune, SameSeedSameTrialsAndTheStoredBestIsTheBestSeen) {
  const auto f = tune_fixture();
  const auto config = three_factor_config(12);
  TuneLoopOptions o;
  o.seed = 7;
  o.sim.threads = 2;
  const auto a = tune_factors(f.spec, f.events, f.labels, config, o);
  const auto b = tune_factors(f.spec, f.events, f.labels, config, o);
  ASSERT_EQ(a.search.trials.size(), 12u);
  ASSERT_EQ(b.search.trials.size(), 12u);
  for (std::size_t i = 0; i < a.search.trials.size(); ++i) {
    EXPECT_EQ(a.search.trials[i].params, b.search.trials[i].params) << i;
    EXPECT_EQ(a.search.trials[i].accuracy, b.search.trials[i].accuracy) << i;
  }
  o.seed = 8;
  const auto c = tune_factors(f.spec, f.events, f.labels, config, o);
  EXPECT_NE(a.search.trials[0].params, c.search.trials[0].params);

  const auto& search = a.search;
  ASSERT_TRUE(search.best_trial.has_value());
  double best = -1;
  std::size_t first_best = 0;
  for (std::size_t i = 0; i < search.trials.size(); ++i)
    if (search.trials[i].accuracy && *search.trials[i].accuracy > best) best = *search.trials[i].accuracy, first_best = i;
  EXPECT_EQ(*search.best_trial, first_best);
  EXPECT_EQ(search.best_trial_accuracy(), best);
  // The choice: the best trial when it beats factors 1, else factors 1.
  EXPECT_EQ(a.search.kept_untuned, a.untuned_accuracy >= best);
  EXPECT_EQ(a.accuracy, std::max(best, a.untuned_accuracy));
  const auto& params = a.search.kept_untuned ? nlohmann::ordered_json::object() : search.trials[first_best].params;
  for (const auto& [k, v] : params.items()) EXPECT_TRUE(v.get<double>() >= 0.6 && v.get<double>() <= 1.4) << k;
  const auto fac = factors_from_params(params, 2, "best");
  EXPECT_EQ(a.factors.global, fac.global);
  EXPECT_EQ(a.factors.per_class, fac.per_class);
  // The stored choice reproduces its accuracy: quantise with its factors and simulate again (serially).
  const IntSpec q = quantize_with_factors(f.spec, a.factors, {});
  const auto sim = simulate_set(CoreConfig::from_spec(q), f.events, {1, false});
  std::size_t hits = 0;
  for (std::size_t i = 0; i < f.labels.size(); ++i) hits += sim.predicted[i] == f.labels[i];
  EXPECT_DOUBLE_EQ(a.accuracy, static_cast<double>(hits) / f.labels.size());
}

// Labels set to the untuned quantisation's own predictions: factors 1 score exactly 1.0, no trial
// can score more, and a tie keeps factors 1 — so the untuned quantisation must be what is kept.
TEST(XyloTune, KeepsFactorsOneWhenNoTrialBeatsThem) {
  auto f = tune_fixture();
  const IntSpec untuned = quantize_with_factors(f.spec, {}, {});
  f.labels = simulate_set(CoreConfig::from_spec(untuned), f.events, {1, false}).predicted;
  const auto config = three_factor_config(6);
  TuneLoopOptions o;
  o.seed = 1;
  const auto out = tune_factors(f.spec, f.events, f.labels, config, o);
  ASSERT_EQ(out.search.trials.size(), 6u);
  ASSERT_TRUE(out.search.best_trial.has_value());
  EXPECT_EQ(out.untuned_accuracy, 1.0);
  EXPECT_TRUE(out.search.kept_untuned);
  EXPECT_EQ(out.accuracy, 1.0);
  EXPECT_EQ(out.factors.global, 1.0);
  for (double c : out.factors.per_class) EXPECT_EQ(c, 1.0);
  const IntSpec chosen = quantize_with_factors(f.spec, out.factors, {});
  EXPECT_EQ(chosen.weights_out, untuned.weights_out);
  EXPECT_EQ(chosen.weights_in, untuned.weights_in);
}

TEST(XyloTune, ParallelAndSerialSimulationAgree) {
  const auto f = tune_fixture();
  const IntSpec q = quantize_with_factors(f.spec, {}, {});
  const auto core = CoreConfig::from_spec(q);
  const auto one = simulate_set(core, f.events, {1, false});
  const auto two = simulate_set(core, f.events, {2, false});
  EXPECT_EQ(one.predicted, two.predicted);
  EXPECT_EQ(one.counts, two.counts);
  EXPECT_DOUBLE_EQ(one.activity.hidden, two.activity.hidden);
  // Each sample from zero state equals evolve() of that sample alone.
  XyloSimulator sim(core);
  const auto s3 = f.events.sample(3);
  const auto rec = sim.evolve(std::vector<std::uint8_t>(s3.begin(), s3.end()), 10);
  std::vector<std::uint32_t> counts(2, 0);
  for (int t = 0; t < 10; ++t)
    for (int k = 0; k < 2; ++k) counts[std::size_t(k)] += rec.output[std::size_t(t) * 2 + k];
  EXPECT_EQ(one.counts[3], counts);
}

TEST(XyloTune, ConfigErrorsNameTheFileAndKey) {
  auto message = [](const std::string& text) {
    try {
      tuning_config_from_text(text, "t.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string space = R"("search_space": {"global_activity_factor": {"_type": "uniform", "_value": [0.6, 1.4]}})";
  EXPECT_NE(message("{" + space + R"(, "max_trials": 3})").find("t.json: max_trials"), std::string::npos);
  EXPECT_NE(message(R"({"max_trial_number": 3})").find("search_space"), std::string::npos);
  EXPECT_NE(message("{" + space + R"(, "max_trial_number": 0})").find("positive"), std::string::npos);
  EXPECT_NE(message("{" + space + R"(, "tuner": {"name": "Anneal", "args": {}}})").find("t.json: tuner.args"),
            std::string::npos);
  // A parameter that is not a factor of the network is refused before any trial.
  const auto f = tune_fixture();
  const auto bad = tuning_config_from_text(
      R"({"search_space": {"c2_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}}})", "t.json");
  EXPECT_THROW(tune_factors(f.spec, f.events, f.labels, bad, {}), InputError);
}

TEST(XyloTune, ReadsTheThesisTuningConfigsUnchanged) {
  SPIKELINE_REQUIRE_SHARED(path, "fixtures/thesis/configs/xylo_tuning_7cb.json");
  const auto c = read_tuning_config(path);
  EXPECT_EQ(c.max_trials, 1000);
  ASSERT_EQ(c.space.size(), 8u);
  EXPECT_EQ(c.space.specs()[0].name, "global_activity_factor");  // file order kept
  EXPECT_EQ(c.space.specs()[7].name, "c6_activity_factor");
  EXPECT_EQ(c.tuner, "Anneal");
}

}  // namespace
}  // namespace spikeline::hw::xylo
