// Dynap-SE2 numeric building blocks against the Rockpool 2.7 goldens: bias codec (exact), weight
// handler (exact / rtol 1e-12), DynapSim forward in float32 and float64 (spikes exact, currents
// rtol 1e-3), and the simulator against its plain reference twin.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/dynapse2/bias.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"
#include "spikeline/hw/dynapse2/weights.hpp"
#include "support/dynapse2_golden.hpp"
#include "support/shared.hpp"

namespace d2 = spikeline::hw::dynapse2;

namespace {

using namespace spikeline::test::dynapse2;  // golden JSON readers

std::vector<int> flat_int(const nlohmann::json& j) {
  std::vector<int> out;
  for (double v : flat(j)) out.push_back(static_cast<int>(v));
  return out;
}

template <class T>
void expect_close(const std::vector<T>& got, const std::vector<double>& want, double rtol, double atol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), atol + rtol * std::fabs(want[i]))
        << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
}

}  // namespace

// ---- bias codec --------------------------------------------------------------------------------

TEST(Dynapse2Bias, TablesCoverEverySimulatorCurrent) {
  for (const char* sim : {"Idc", "If_nmda", "Igain_ahp", "Igain_ampa", "Igain_gaba", "Igain_nmda", "Igain_shunt",
                          "Igain_mem", "Ipulse_ahp", "Ipulse", "Iref", "Ispkthr", "Itau_ahp", "Itau_ampa",
                          "Itau_gaba", "Itau_nmda", "Itau_shunt", "Itau_mem", "Iw_0", "Iw_1", "Iw_2", "Iw_3",
                          "Iw_ahp"})
    EXPECT_NE(d2::find_bias_param(sim), nullptr) << sim;
  const d2::BiasParam* leak = d2::find_bias_param("SOIF_LEAK_N");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->sim_name, "Itau_mem");
  EXPECT_EQ(leak->scale_factor, 0.61);
  EXPECT_EQ(leak->type, d2::Transistor::N);
  EXPECT_EQ(d2::find_bias_param("NO_SUCH_P"), nullptr);
  EXPECT_EQ(d2::bias_params().size(), 53u);
}

TEST(Dynapse2Bias, GoldenCoarseFineSeed1) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_coarse_fine_seed1.json");
  const auto g = read_json(path);
  ASSERT_EQ(g.at("cases").size(), 48u);
  for (const auto& c : g.at("cases")) {
    const auto name = c.at("param").get<std::string>();
    const d2::BiasParam* p = d2::find_bias_param(name);
    ASSERT_NE(p, nullptr) << name;
    const d2::CoarseFine cf = d2::encode_current(*p, c.at("requested_A").get<double>());
    EXPECT_EQ(cf.coarse, c.at("coarse").get<int>()) << name;
    EXPECT_EQ(cf.fine, c.at("fine").get<int>()) << name;
    EXPECT_EQ(d2::decode_current(*p, cf), c.at("decoded_A").get<double>()) << name;
  }
}

TEST(Dynapse2Bias, GoldenDynapsimClusterEncoding) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  const auto g = read_json(path).at("coarse_fine_encoding");
  for (const auto& [dev, e] : g.items()) {
    const d2::BiasParam* p = d2::find_bias_param(dev);
    ASSERT_NE(p, nullptr) << dev;
    EXPECT_EQ(p->sim_name, e.at("sim_name").get<std::string>());
    EXPECT_EQ(p->scale_factor, e.at("scale_factor").get<double>());
    const d2::CoarseFine cf = d2::encode_current(*p, e.at("requested_A").get<double>());
    EXPECT_EQ(cf, (d2::CoarseFine{e.at("coarse").get<int>(), e.at("fine").get<int>()})) << dev;
    EXPECT_EQ(d2::decode_current(*p, cf), e.at("decoded_A").get<double>()) << dev;
  }
}

TEST(Dynapse2Bias, RejectsBadInput) {
  const d2::BiasParam& p = *d2::find_bias_param("Itau_mem");
  EXPECT_THROW(d2::encode_current(p, -1e-12), spikeline::InputError);
  EXPECT_THROW(d2::encode_current(p, NAN), spikeline::InputError);
  EXPECT_THROW(d2::decode_current(p, {6, 0}), spikeline::InputError);
  EXPECT_THROW(d2::decode_current(p, {0, 256}), spikeline::InputError);
  // Zero maps to the smallest table entry.
  const d2::CoarseFine z = d2::encode_current(p, 0.0);
  EXPECT_EQ(z.coarse, 0);
  EXPECT_EQ(z.fine, 0);
}

// ---- weight handler ----------------------------------------------------------------------------

TEST(Dynapse2Weights, GoldenWeightHandlerSeed2) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_weight_handler_seed2.json");
  const auto g = read_json(path);
  const d2::Matrix w_in = matrix(g.at("w_in")), w_rec = matrix(g.at("w_rec"));
  EXPECT_EQ(d2::flatten_weights(w_in, w_rec), flat(g.at("w_flat")));
  const d2::Matrix s_in = d2::sign_of(w_in), s_rec = d2::sign_of(w_rec);
  EXPECT_EQ(s_in.v, flat(g.at("sign_in")));
  EXPECT_EQ(s_rec.v, flat(g.at("sign_rec")));

  const std::vector<int> masks = flat_int(g.at("int_mask_flat"));
  const auto bits = d2::int_to_bits(masks);
  const auto& want_bits = g.at("bit_mask_[bit][flat]");
  for (int k = 0; k < d2::kWeightBits; ++k) EXPECT_EQ(bits[k], flat_int(want_bits.at(k))) << "bit " << k;
  EXPECT_EQ(d2::bits_to_int(bits), flat_int(g.at("bit2int_back")));

  const d2::MaskPair q = d2::reshape_masks(masks, w_in, w_rec);
  EXPECT_EQ(q.in.v, flat_int(g.at("q_weights_in")));
  EXPECT_EQ(q.rec.v, flat_int(g.at("q_weights_rec")));

  const std::vector<double> Iw_v = flat(g.at("code_Iw"));
  const std::array<double, 4> Iw{Iw_v.at(0), Iw_v.at(1), Iw_v.at(2), Iw_v.at(3)};
  std::vector<double> restored = d2::restore_weights(q.in, s_in, Iw).v;
  const std::vector<double> rec = d2::restore_weights(q.rec, s_rec, Iw).v;
  restored.insert(restored.end(), rec.begin(), rec.end());
  expect_close(restored, flat(g.at("restored_weights_vstack_in_rec")), 1e-12, 0.0, "restored");
}

TEST(Dynapse2Weights, RejectsBadMasks) {
  const d2::Matrix w{1, 2, {1.0, 0.0}};
  EXPECT_THROW(d2::int_to_bits(std::vector<int>{16}), spikeline::InputError);
  EXPECT_THROW(d2::reshape_masks(std::vector<int>{1, 2, 3}, w, w), spikeline::InputError);  // 2 non-zeros
  EXPECT_THROW(d2::reshape_masks(std::vector<int>{}, w, w), spikeline::InputError);
  EXPECT_THROW(d2::flatten_weights(w, d2::Matrix{1, 3, {0, 0, 0}}), spikeline::InputError);
}

// ---- DynapSim ----------------------------------------------------------------------------------

namespace {

struct SimGolden {
  d2::DynapSimParams params;
  std::vector<double> x, w_in;
  int steps = 0, n_in = 0;
  nlohmann::json g;
};

SimGolden load_sim_golden(const std::filesystem::path& path) {
  SimGolden s;
  s.g = read_json(path);
  nlohmann::json pj = s.g.at("simulation_parameters");
  pj["Iscale"] = pj.at("Iscale").at(0);
  pj["dt"] = pj.at("dt").at(0);
  pj["w_rec"] = s.g.at("w_rec");
  pj["n"] = static_cast<int>(s.g.at("w_rec").size());
  s.params = d2::dynapsim_params_from_json(pj, path.string());
  s.x = flat(s.g.at("input").at(0));
  s.w_in = flat(s.g.at("w_in"));
  s.n_in = static_cast<int>(s.g.at("w_in").size());
  s.steps = static_cast<int>(s.g.at("input").at(0).size());
  return s;
}

template <class T>
void check_against_golden(const SimGolden& s) {
  const std::vector<T> x(s.x.begin(), s.x.end()), w(s.w_in.begin(), s.w_in.end());
  const auto u = d2::weighted_input<T>(x, w, s.steps, s.n_in, s.params.n);
  const auto r = d2::dynapsim_forward<T>(s.params, u, s.steps);
  const auto& rec = s.g.at("records");
  expect_close(r.spikes, flat(s.g.at("outputs").at(0)), 0.0, 0.0, "spikes");
  expect_close(r.spikes, flat(rec.at("spikes").at(0)), 0.0, 0.0, "spikes record");
  expect_close(r.imem, flat(rec.at("imem").at(0)), 1e-3, 0.0, "imem");
  expect_close(r.isyn, flat(rec.at("isyn").at(0)), 1e-3, 0.0, "isyn");
  expect_close(r.iahp, flat(rec.at("iahp").at(0)), 1e-3, 0.0, "iahp");
  expect_close(r.vmem, flat(rec.at("vmem").at(0)), 1e-3, 1e-9, "vmem");
  const auto& fs = s.g.at("final_state");
  expect_close(r.final_imem, flat(fs.at("imem")), 1e-3, 0.0, "final imem");
  expect_close(r.final_isyn, flat(fs.at("isyn")), 1e-3, 0.0, "final isyn");
  expect_close(r.final_iahp, flat(fs.at("iahp")), 1e-3, 0.0, "final iahp");
  expect_close(r.final_vmem, flat(fs.at("vmem")), 1e-3, 1e-9, "final vmem");
  expect_close(r.final_spikes, flat(fs.at("spikes")), 0.0, 0.0, "final spikes");
  expect_close(r.final_timer_ref, flat(fs.at("timer_ref")), 1e-3, 1e-12, "final timer_ref");
}

}  // namespace

TEST(Dynapse2Sim, GoldenSeed0Float32) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  check_against_golden<float>(load_sim_golden(path));
}

TEST(Dynapse2Sim, GoldenSeed0Float64) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  check_against_golden<double>(load_sim_golden(path));
}

TEST(Dynapse2Sim, GoldenSeed0ReferenceTwin) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  const SimGolden s = load_sim_golden(path);
  const auto r = d2::dynapsim_reference(s.params, d2::weighted_input<double>(s.x, s.w_in, s.steps, s.n_in, s.params.n),
                                        s.steps);
  expect_close(r.spikes, flat(s.g.at("outputs").at(0)), 0.0, 0.0, "spikes");
  expect_close(r.imem, flat(s.g.at("records").at("imem").at(0)), 1e-3, 0.0, "imem");
}

// The optimised simulator equals the plain twin on random networks (jittered currents, a strong
// AHP, heavy drive so that every network fires).
TEST(Dynapse2Sim, MatchesReferenceTwinOnRandomNetworks) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> wdist(-20.0, 40.0);
  std::bernoulli_distribution spike(0.3);
  for (int trial = 0; trial < 5; ++trial) {
    const int n = 3 + trial, steps = 80;
    d2::DynapSimParams p = d2::default_dynapsim_params(n);
    for (double& w : p.w_rec) w = wdist(rng);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    for (auto* v : {&p.Itau_mem, &p.Igain_syn, &p.Iw_ahp, &p.Ispkthr})
      for (double& x : *v) x *= jitter(rng);
    for (double& x : p.Iw_ahp) x *= 1e4;  // make the AHP matter
    std::vector<double> u(static_cast<std::size_t>(steps) * n);
    for (double& x : u) x = spike(rng) ? wdist(rng) * 3.0 : 0.0;
    const auto a = d2::dynapsim_forward<double>(p, u, steps);
    const auto b = d2::dynapsim_reference(p, u, steps);
    EXPECT_EQ(a.spikes, b.spikes) << "trial " << trial;
    expect_close(a.imem, b.imem, 1e-9, 0.0, "imem");
    expect_close(a.isyn, b.isyn, 1e-9, 0.0, "isyn");
    expect_close(a.iahp, b.iahp, 1e-9, 0.0, "iahp");
    expect_close(a.vmem, b.vmem, 1e-9, 1e-12, "vmem");
    double total = 0.0;
    for (double s : a.spikes) total += s;
    EXPECT_GT(total, 0.0) << "trial " << trial << " never fired";
  }
}

TEST(Dynapse2Sim, ParamsJsonErrorsNameTheField) {
  EXPECT_THROW(d2::dynapsim_params_from_json(nlohmann::json::object(), "p.json"), spikeline::InputError);
  try {
    d2::dynapsim_params_from_json({{"n", 2}, {"Itau_mem", {1.0, 2.0, 3.0}}}, "p.json");
    FAIL();
  } catch (const spikeline::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Itau_mem"), std::string::npos) << e.what();
  }
  EXPECT_THROW(d2::dynapsim_params_from_json({{"n", 2}, {"bogus", 1.0}}, "p.json"), spikeline::InputError);
  const auto p = d2::dynapsim_params_from_json({{"n", 2}, {"Itau_mem", 1e-12}, {"dt", 5e-4}}, "p.json");
  EXPECT_EQ(p.Itau_mem, (std::vector<double>{1e-12, 1e-12}));
  EXPECT_EQ(p.dt, 5e-4);
  EXPECT_EQ(p.Ispkthr, (std::vector<double>{1e-7, 1e-7}));
  EXPECT_THROW(d2::dynapsim_forward<double>(p, std::vector<double>(3), 2), spikeline::InputError);
}
