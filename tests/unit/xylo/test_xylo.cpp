// Xylo mapper, quantisation, validation and simulator against the Rockpool 2.7 / xylosim 0.1.3
// goldens (exact), and the simulator against its plain reference twin on random configs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/quantize.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/hw/xylo/validate.hpp"
#include "support/shared.hpp"
#include "unit/xylo/xylo_golden.hpp"

namespace xylo = spikeline::hw::xylo;
using spikeline::test::flat;

namespace {

// Every key of `want` (a Rockpool dict) equals ours exactly.
// float_dash_ulps: the float dashes of spec_float may differ by 1 float32 ulp (numpy's float32 log2
// kernel is not reproduced bit for bit); their rounded integers, and everything else, are exact.
void expect_same_dict(const nlohmann::json& got, const nlohmann::json& want, const std::string& what,
                      bool float_dash_ulps = false) {
  for (const auto& [key, value] : want.items()) {
    if (key == "mapped_graph") continue;
    ASSERT_TRUE(got.contains(key)) << what << ": missing " << key;
    if (key == "aliases") {
      EXPECT_EQ(got.at(key), value) << what << ": aliases";
      continue;
    }
    const auto g = flat(got.at(key)), w = flat(value);
    ASSERT_EQ(g.size(), w.size()) << what << ": " << key;
    const bool loose = float_dash_ulps && key.rfind("dash", 0) == 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (loose) {
        const float wf = static_cast<float>(w[i]);
        EXPECT_TRUE(g[i] == w[i] || g[i] == std::nextafter(wf, 1e9f) || g[i] == std::nextafter(wf, -1e9f))
            << what << ": " << key << "[" << i << "] got " << g[i] << ", want " << w[i] << " (1 ulp allowed)";
      } else {
        EXPECT_EQ(g[i], w[i]) << what << ": " << key << "[" << i << "]";
      }
    }
  }
}

template <class T>
void expect_record(const std::vector<T>& got, const nlohmann::json& want, const std::string& what) {
  const auto w = flat(want);
  ASSERT_EQ(got.size(), w.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < got.size() && bad < 5; ++i)
    if (static_cast<double>(got[i]) != w[i]) {
      ADD_FAILURE() << what << "[" << i << "]: got " << double(got[i]) << ", want " << w[i];
      ++bad;
    }
}

void expect_records(const xylo::SimRecord& r, const nlohmann::json& spikes, const nlohmann::json& rec,
                    const std::string& what) {
  expect_record(r.output, spikes, what + " output");
  expect_record(r.vmem, rec.at("Vmem"), what + " Vmem");
  expect_record(r.isyn, rec.at("Isyn"), what + " Isyn");
  expect_record(r.isyn2, rec.at("Isyn2"), what + " Isyn2");
  expect_record(r.spikes, rec.at("Spikes"), what + " Spikes");
  expect_record(r.vmem_out, rec.at("Vmem_out"), what + " Vmem_out");
  expect_record(r.isyn_out, rec.at("Isyn_out"), what + " Isyn_out");
}

std::vector<std::uint8_t> raster(const nlohmann::json& j) {
  std::vector<std::uint8_t> v;
  for (double x : flat(j)) v.push_back(static_cast<std::uint8_t>(x));
  return v;
}

class XyloGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(XyloGolden, MapperMatchesRockpoolSpec) {
  SPIKELINE_REQUIRE_SHARED(path, GetParam());
  const auto g = spikeline::test::read_json(path);
  const auto mapped = xylo::map_network(spikeline::test::xylo_golden_network(g));
  expect_same_dict(xylo::to_json(mapped.spec), g.at("spec_float"), "spec_float", true);
  const auto& ids = g.at("hidden_layer_ids");
  ASSERT_EQ(mapped.hidden_layer_ids.size() + 1, ids.size());
  for (std::size_t l = 0; l < mapped.hidden_layer_ids.size(); ++l)
    EXPECT_EQ(nlohmann::json(mapped.hidden_layer_ids[l].second), ids[l].at("hw_ids"));
}

TEST_P(XyloGolden, QuantizationMatchesRockpool) {
  SPIKELINE_REQUIRE_SHARED(path, GetParam());
  const auto g = spikeline::test::read_json(path);
  const auto spec = xylo::float_spec_from_json(g.at("spec_float"), "spec_float");
  for (bool bugs : {true, false}) {
    const std::string mode = bugs ? " (rockpool bugs)" : " (fixed)";
    xylo::IntSpec q = xylo::quantize(spec, {xylo::QuantizeMethod::Global, bugs});
    expect_same_dict(xylo::to_json(q), g.at("global_quantize_output"), "global" + mode);
    expect_same_dict(xylo::to_json(q), g.at("spec_quantized_before_bump"), "before bump" + mode);
    xylo::IntSpec thesis = q, per_neuron = q;
    EXPECT_EQ(xylo::fix_zero_synaptic_dash(thesis, xylo::DashZeroFix::Thesis), g.at("dash_bump_applied").get<bool>());
    expect_same_dict(xylo::to_json(thesis), g.at("spec_quantized_final"), "final (thesis bump)" + mode);
    xylo::fix_zero_synaptic_dash(per_neuron, xylo::DashZeroFix::PerNeuron);
    expect_same_dict(xylo::to_json(per_neuron), g.at("spec_quantized_final"), "final (per-neuron)" + mode);
    EXPECT_TRUE(xylo::validate(thesis).empty());
    const xylo::IntSpec c = xylo::quantize(spec, {xylo::QuantizeMethod::Channel, bugs});
    expect_same_dict(xylo::to_json(c), g.at("channel_quantize_output"), "channel" + mode);
  }
}

TEST_P(XyloGolden, SimulatorMatchesXyloSimIncludingSecondCall) {
  SPIKELINE_REQUIRE_SHARED(path, GetParam());
  const auto g = spikeline::test::read_json(path);
  const auto spec = xylo::int_spec_from_json(g.at("spec_quantized_final"), "spec_quantized_final");
  const auto input = raster(g.at("input"));
  const int steps = static_cast<int>(g.at("input").size());
  xylo::XyloSimulator sim(xylo::CoreConfig::from_spec(spec));
  expect_records(sim.evolve(input, steps), g.at("xylosim_output_spikes"), g.at("xylosim_records"), "first call");
  // Second call on input[:5] without reset: the state carries over.
  const std::vector<std::uint8_t> head(input.begin(), input.begin() + 5 * spec.n_in);
  expect_records(sim.evolve(head, 5), g.at("xylosim_second_evolve_output_spikes"),
                 g.at("xylosim_second_evolve_records"), "second call");
  // After a reset the first call repeats exactly.
  sim.reset_state();
  expect_records(sim.evolve(input, steps), g.at("xylosim_output_spikes"), g.at("xylosim_records"), "after reset");
  // The reference twin, written from the text alone, agrees too.
  expect_records(xylo::reference_simulate(spec, input, steps), g.at("xylosim_output_spikes"), g.at("xylosim_records"),
                 "reference twin");
}

INSTANTIATE_TEST_SUITE_P(Goldens, XyloGolden, ::testing::ValuesIn(spikeline::test::kXyloGoldens));

// Random valid configs, including saturation-prone ones (large weights, shifts, small thresholds,
// aliases in both directions, two synapses): the bit-accurate simulator equals the reference twin.
TEST(XyloSim, MatchesReferenceTwinOnRandomConfigs) {
  std::mt19937_64 rng(12345);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 200; ++trial) {
    xylo::IntSpec s;
    s.resize(uni(1, 16), uni(1, 40), uni(1, 8), uni(1, 2));
    const int density = uni(10, 100);
    for (auto* w : {&s.weights_in, &s.weights_rec, &s.weights_out})
      for (auto& x : *w) x = uni(1, 100) <= density ? uni(-128, 127) : 0;
    for (int i = 0; i < s.n_hid; ++i) {  // keep within the fan-out limit
      int fan = 0;
      for (int j = 0; j < s.n_hid; ++j)
        for (int k = 0; k < s.n_syn; ++k)
          if (s.w_rec(i, j, k) != 0 && ++fan > 64) s.w_rec(i, j, k) = 0;
    }
    for (auto* d : {&s.dash_mem, &s.dash_syn, &s.dash_syn_2, &s.dash_mem_out, &s.dash_syn_out})
      for (auto& x : *d) x = uni(0, 15);
    const bool tiny = trial % 3 == 0;
    for (auto* t : {&s.threshold, &s.threshold_out})
      for (auto& x : *t) x = tiny ? uni(1, 40) : uni(1, 32767);
    for (auto* b : {&s.bias, &s.bias_out})
      for (auto& x : *b) x = trial % 4 == 0 ? uni(-32768, 32767) : uni(-50, 50);
    for (int i = 0; i < s.n_hid; ++i)
      if (s.n_hid > 1 && uni(0, 3) == 0) {
        int t = uni(0, s.n_hid - 2);
        s.aliases[i] = {t >= i ? t + 1 : t};
      }
    s.weight_shift_in = uni(0, 4);
    s.weight_shift_rec = uni(0, 4);
    s.weight_shift_out = uni(0, 4);
    s.dt = 0.01;
    ASSERT_TRUE(xylo::validate(s).empty()) << xylo::validate(s).front();
    const int steps = uni(1, 60);
    std::vector<std::uint8_t> input(std::size_t(steps) * s.n_in);
    for (auto& x : input) x = static_cast<std::uint8_t>(uni(0, 3) == 0 ? uni(0, 255) : uni(0, 3));
    xylo::XyloSimulator sim(xylo::CoreConfig::from_spec(s));
    const auto got = sim.evolve(input, steps);
    const auto want = xylo::reference_simulate(s, input, steps);
    ASSERT_EQ(got.output, want.output) << "trial " << trial;
    ASSERT_EQ(got.vmem, want.vmem) << "trial " << trial;
    ASSERT_EQ(got.isyn, want.isyn) << "trial " << trial;
    ASSERT_EQ(got.isyn2, want.isyn2) << "trial " << trial;
    ASSERT_EQ(got.spikes, want.spikes) << "trial " << trial;
    ASSERT_EQ(got.vmem_out, want.vmem_out) << "trial " << trial;
    ASSERT_EQ(got.isyn_out, want.isyn_out) << "trial " << trial;
  }
}

TEST(XyloValidate, OneMessagePerViolationNamingTheNeuronOrWeight) {
  xylo::IntSpec s;
  s.resize(2, 3, 1);
  s.dt = 0.05;
  for (auto& t : s.threshold) t = 100;
  s.threshold_out[0] = 100;
  s.w_in(1, 2) = 200;
  s.w_rec(0, 1) = -129;
  s.w_out(2, 0) = 128;
  s.dash_mem[1] = 16;
  s.dash_syn_out[0] = -1;
  s.threshold[0] = 40000;
  s.bias_out[0] = -40000;
  s.aliases[2] = {0, 1};
  s.weight_shift_rec = 20;
  const auto msgs = xylo::validate(s);
  ASSERT_EQ(msgs.size(), 9u) << ::testing::PrintToString(msgs);
  auto has = [&](const std::string& needle) {
    for (const auto& m : msgs)
      if (m.find(needle) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("weights_in[1][2] (input 1 -> hidden 2) = 200"));
  EXPECT_TRUE(has("weights_rec[0][1] (hidden 0 -> hidden 1) = -129"));
  EXPECT_TRUE(has("weights_out[2][0] (hidden 2 -> readout 0) = 128"));
  EXPECT_TRUE(has("dash_mem[1] (hidden neuron 1) = 16, outside 0..15"));
  EXPECT_TRUE(has("dash_syn_out[0] (readout neuron 0) = -1"));
  EXPECT_TRUE(has("threshold[0] (hidden neuron 0) = 40000, outside -32768..32767"));
  EXPECT_TRUE(has("bias_out[0] (readout neuron 0) = -40000"));
  EXPECT_TRUE(has("aliases[2] (hidden neuron 2) has 2 targets"));
  EXPECT_TRUE(has("weight_shift_rec = 20"));
  EXPECT_THROW(xylo::CoreConfig::from_spec(s), spikeline::InputError);

  xylo::IntSpec big;
  big.resize(17, 70, 9);
  big.dt = 0.05;
  for (int j = 0; j < 70; ++j) big.w_rec(0, j) = 1;
  const auto m2 = xylo::validate(big);
  EXPECT_EQ(m2.size(), 3u) << ::testing::PrintToString(m2);  // inputs, outputs, fan-out of neuron 0 (70 > 64)
}

TEST(XyloMapper, RejectsNetworksThatBreakTheDesignRules) {
  spikeline::snn::Network net;
  spikeline::snn::Linear lin{2, 2, {1, 0, 0, 1}, {}};
  spikeline::snn::LIF lif;
  lif.n = 2;
  net.layers = {{"0_LinearTorch", lin}, {"1_LIFTorch", lif}};
  EXPECT_THROW(xylo::map_network(net), spikeline::InputError);  // one LIF layer only (rule 9)
  spikeline::snn::LIF rec = lif;
  rec.has_rec = true;
  rec.w_rec = {0, 1, 1, 0};
  net.layers = {{"0_LinearTorch", lin}, {"1_LIFTorch", lif}, {"2_LinearTorch", lin}, {"3_LIFTorch", rec}};
  EXPECT_THROW(xylo::map_network(net), spikeline::InputError);  // recurrent readout (rule 6)
  net.layers[3] = {"3_LIFTorch", lif};
  spikeline::snn::LIF other_dt = lif;
  other_dt.dt = 2e-3f;
  net.layers[1] = {"1_LIFTorch", other_dt};
  EXPECT_THROW(xylo::map_network(net), spikeline::InputError);  // two dts (rule 5)
  net.layers[1] = {"1_LIFTorch", lif};
  const auto ok = xylo::map_network(net);
  EXPECT_EQ(ok.spec.n_hid, 2);
  EXPECT_EQ(ok.spec.n_out, 2);
}

TEST(XyloSpec, JsonRoundTripAndErrorsNameTheField) {
  xylo::IntSpec s;
  s.resize(2, 3, 1, 2);
  s.w_in(1, 2, 1) = -5;
  s.w_rec(2, 0, 0) = 7;
  s.aliases[0] = {1};
  s.dt = 0.05;
  const auto back = xylo::int_spec_from_json(xylo::to_json(s), "mem");
  EXPECT_EQ(back.weights_in, s.weights_in);
  EXPECT_EQ(back.weights_rec, s.weights_rec);
  EXPECT_EQ(back.n_syn, 2);
  EXPECT_EQ(back.aliases, s.aliases);
  auto j = xylo::to_json(s);
  j["threshold"][1] = 1.5;
  try {
    xylo::int_spec_from_json(j, "cfg.json");
    FAIL();
  } catch (const spikeline::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json: threshold[1]"), std::string::npos) << e.what();
  }
}

}  // namespace
