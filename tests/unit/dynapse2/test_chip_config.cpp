// Dynap-SE2 chip configuration (shared docs dynapse2.md §7-8): CAM/SRAM/tag allocation of a
// hand-made quantised spec checked entry by entry, the per-core (coarse, fine) settings against
// the golden encoding of dynapsim_seed0.json (exact), the network rebuilt from a configuration
// (weights and currents exactly the decoded ones), limit violations each named, JSON round trip,
// and the tuning factors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/factors.hpp"
#include "spikeline/hw/dynapse2/from_config.hpp"
#include "support/shared.hpp"

namespace d2 = spikeline::hw::dynapse2;

namespace {

d2::CoreCurrents default_core() {
  const d2::DynapSimParams p = d2::default_dynapsim_params(1);
  d2::CoreCurrents c;
  c.Idc = p.Idc[0], c.If_nmda = p.If_nmda[0], c.Igain_ahp = p.Igain_ahp[0], c.Igain_mem = p.Igain_mem[0];
  c.Igain_syn = p.Igain_syn[0], c.Ipulse_ahp = p.Ipulse_ahp[0], c.Ipulse = p.Ipulse[0], c.Iref = p.Iref[0];
  c.Ispkthr = p.Ispkthr[0], c.Itau_ahp = p.Itau_ahp[0], c.Itau_mem = p.Itau_mem[0], c.Itau_syn = p.Itau_syn[0];
  c.Iw_ahp = p.Iw_ahp[0];
  return c;
}

// A quantised spec with n_in inputs, n neurons, `clusters` cores (core_map given), all masks 0.
d2::QuantizedSpec empty_spec(int n_in, int n, std::vector<int> core_map, int clusters) {
  d2::QuantizedSpec q;
  q.spec.n_in = n_in;
  q.spec.n_neuron = n;
  q.spec.n_cluster = clusters;
  q.spec.core_map = std::move(core_map);
  q.spec.weights_in = {n_in, n, std::vector<double>(std::size_t(n_in) * n, 0.0)};
  q.spec.weights_rec = {n, n, std::vector<double>(std::size_t(n) * n, 0.0)};
  q.spec.cores.assign(std::size_t(clusters), default_core());
  q.spec.unclustered = d2::default_dynapsim_params(n);
  q.masks_in = {n_in, n, std::vector<int>(std::size_t(n_in) * n, 0)};
  q.masks_rec = {n, n, std::vector<int>(std::size_t(n) * n, 0)};
  q.sign_in = {n_in, n, std::vector<double>(std::size_t(n_in) * n, 0.0)};
  q.sign_rec = {n, n, std::vector<double>(std::size_t(n) * n, 0.0)};
  q.Iw.assign(std::size_t(clusters), {1e-9, 2e-9, 4e-9, 8e-9});
  q.quantization_loss.assign(std::size_t(clusters), 0.0);
  return q;
}

void connect_in(d2::QuantizedSpec& q, int pre, int post, int mask, double sign) {
  q.masks_in(pre, post) = mask;
  q.sign_in(pre, post) = sign;
  q.spec.weights_in(pre, post) = sign * mask;
}
void connect_rec(d2::QuantizedSpec& q, int pre, int post, int mask, double sign) {
  q.masks_rec(pre, post) = mask;
  q.sign_rec(pre, post) = sign;
  q.spec.weights_rec(pre, post) = sign * mask;
}

// 2 inputs -> 3 neurons on one core:
//   in0 -> n0 mask 5 (+), in1 -> n0 mask 8 (-), in1 -> n2 mask 15 (+), n0 -> n1 mask 3 (-), n2 -> n0 mask 1 (+).
d2::QuantizedSpec small_spec() {
  d2::QuantizedSpec q = empty_spec(2, 3, {0, 0, 0}, 1);
  connect_in(q, 0, 0, 5, 1);
  connect_in(q, 1, 0, 8, -1);
  connect_in(q, 1, 2, 15, 1);
  connect_rec(q, 0, 1, 3, -1);
  connect_rec(q, 2, 0, 1, 1);
  return q;
}

bool has_message(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v)
    if (s.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(ChipConfig, CamSramAndTagsOfAHandMadeSpec) {
  const d2::ChipConfig c = d2::chip_config_from_spec(small_spec());
  ASSERT_EQ(c.neurons.size(), 3u);
  ASSERT_EQ(c.cores.size(), 1u);
  EXPECT_EQ(c.cores[0].chip(), 0);
  EXPECT_EQ(c.cores[0].core(), 0);
  // Tags: inputs 0, 1; neurons n_in + id = 2, 3, 4.
  EXPECT_EQ(c.inputs[0].tag, 0);
  EXPECT_EQ(c.inputs[1].tag, 1);
  EXPECT_EQ(c.neurons[0].tag, 2);
  EXPECT_EQ(c.neurons[2].tag, 4);
  // Neuron 0: inputs first (channel order), then recurrent sources.
  const auto& n0 = c.neurons[0].cam;
  ASSERT_EQ(n0.size(), 3u);
  EXPECT_EQ(n0[0].tag, 0);
  EXPECT_EQ(n0[0].dendrite, d2::Dendrite::AMPA);
  EXPECT_EQ(n0[0].weight, (std::array<bool, 4>{true, false, true, false}));  // 5 = Iw_0 + Iw_2
  EXPECT_EQ(n0[1].tag, 1);
  EXPECT_EQ(n0[1].dendrite, d2::Dendrite::GABA);
  EXPECT_EQ(n0[1].weight, (std::array<bool, 4>{false, false, false, true}));  // 8 = Iw_3
  EXPECT_EQ(n0[2].tag, 4);  // from neuron 2
  EXPECT_EQ(n0[2].mask(), 1);
  ASSERT_EQ(c.neurons[1].cam.size(), 1u);
  EXPECT_EQ(c.neurons[1].cam[0].tag, 2);
  EXPECT_EQ(c.neurons[1].cam[0].dendrite, d2::Dendrite::GABA);
  EXPECT_EQ(c.neurons[1].cam[0].mask(), 3);
  ASSERT_EQ(c.neurons[2].cam.size(), 1u);
  EXPECT_EQ(c.neurons[2].cam[0].mask(), 15);
  // SRAM: monitor (tag = id, hops -7) for every neuron, then the recurrent destination (core 0 of chip 0).
  ASSERT_EQ(c.neurons[0].sram.size(), 2u);
  EXPECT_TRUE(c.neurons[0].sram[0].is_monitor());
  EXPECT_EQ(c.neurons[0].sram[0].tag, 0);
  EXPECT_EQ(c.neurons[0].sram[1].tag, 2);
  EXPECT_EQ(c.neurons[0].sram[1].core_mask, (std::array<bool, 4>{true, false, false, false}));
  EXPECT_EQ(c.neurons[0].sram[1].x_hop, 0);
  ASSERT_EQ(c.neurons[1].sram.size(), 1u);  // no outgoing synapse: monitor only
  EXPECT_TRUE(c.neurons[1].sram[0].is_monitor());
  EXPECT_EQ(c.neurons[1].sram[0].tag, 1);
  // Input channel map: channel 1 reaches neurons 0 and 2, both on core 0.
  ASSERT_EQ(c.inputs[1].destinations.size(), 1u);
  EXPECT_EQ(c.inputs[1].destinations[0].tag, 1);
  // DC latch where Idc > 0 (Rockpool's default Idc is Io = 5e-13 A).
  EXPECT_TRUE(c.neurons[0].dc_latch);
  EXPECT_TRUE(d2::validate_chip_config(c).empty());
  const auto r = d2::count_chip_resources(c);
  EXPECT_EQ(r.cam_entries, 5);
  EXPECT_EQ(r.max_cam, 3);
  EXPECT_EQ(r.sram_entries, 5);  // 3 monitors + 2 recurrent
}

TEST(ChipConfig, CoarseFineAsTheCodecWithDendritesCopied) {
  d2::QuantizedSpec q = small_spec();
  q.spec.cores[0].Itau_mem = 2.3640661910712124e-12;
  q.spec.cores[0].Idc = 0.0;
  q.Iw[0][3] = 8.122593e-09;
  const d2::ChipConfig c = d2::chip_config_from_spec(q);
  const auto* leak = c.cores[0].find("SOIF_LEAK_N");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->sim_name, "Itau_mem");
  EXPECT_EQ(leak->cf, (d2::CoarseFine{0, 13}));  // hand-checked in the codec test: (0, 13) -> 2.431027e-12 A
  EXPECT_EQ(leak->current, 2.431026920611757e-12);
  EXPECT_EQ(leak->requested, 2.3640661910712124e-12);
  EXPECT_EQ(c.cores[0].find("Iw_3")->cf, (d2::CoarseFine{4, 31}));
  for (const char* d : {"Itau_ampa", "Itau_gaba", "Itau_nmda", "Itau_shunt"})
    EXPECT_EQ(c.cores[0].find(d)->requested, q.spec.cores[0].Itau_syn) << d;
  for (const char* d : {"Igain_ampa", "Igain_gaba", "Igain_nmda", "Igain_shunt"})
    EXPECT_EQ(c.cores[0].find(d)->requested, q.spec.cores[0].Igain_syn) << d;
  EXPECT_EQ(c.cores[0].params.size(), 23u);
  EXPECT_FALSE(c.neurons[0].dc_latch);  // Idc 0: latch off
  q.Iw[0][1] = -1e-12;
  EXPECT_THROW(d2::chip_config_from_spec(q), spikeline::InputError);
}

TEST(ChipConfig, CoreSettingsMatchGoldenEncoding) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  const auto g = nlohmann::json::parse(std::ifstream(path));
  const auto& s = g.at("mapper_spec");
  const auto& enc = g.at("coarse_fine_encoding");
  d2::QuantizedSpec q = empty_spec(3, 2, {0, 0}, 1);
  auto& k = q.spec.cores[0];
  const auto v = [&](const char* name) { return s.at(name).at(0).get<double>(); };
  k.Idc = v("Idc"), k.If_nmda = v("If_nmda"), k.Igain_ahp = v("Igain_ahp"), k.Igain_mem = v("Igain_mem");
  k.Igain_syn = v("Igain_syn"), k.Ipulse_ahp = v("Ipulse_ahp"), k.Ipulse = v("Ipulse"), k.Iref = v("Iref");
  k.Ispkthr = v("Ispkthr"), k.Itau_ahp = v("Itau_ahp"), k.Itau_mem = v("Itau_mem"), k.Itau_syn = v("Itau_syn");
  k.Iw_ahp = v("Iw_ahp");
  for (int b = 0; b < 4; ++b)
    q.Iw[0][std::size_t(b)] = enc.at("SYAM_W" + std::to_string(b) + "_P").at("requested_A").get<double>();
  const d2::ChipConfig c = d2::chip_config_from_spec(q);
  int checked = 0;
  for (const auto& [device, e] : enc.items()) {
    const d2::DeviceSetting* p = c.cores[0].find(device);
    ASSERT_NE(p, nullptr) << device;
    EXPECT_EQ(p->sim_name, e.at("sim_name").get<std::string>());
    EXPECT_EQ(p->requested, e.at("requested_A").get<double>()) << device;
    EXPECT_EQ(p->cf.coarse, e.at("coarse").get<int>()) << device;
    EXPECT_EQ(p->cf.fine, e.at("fine").get<int>()) << device;
    EXPECT_EQ(p->current, e.at("decoded_A").get<double>()) << device;
    ++checked;
  }
  EXPECT_EQ(checked, 23);
}

TEST(ChipConfig, RebuiltNetworkHasTheDecodedCurrentsAndMaskWeights) {
  d2::QuantizedSpec q = small_spec();
  q.Iw[0] = {1.3e-9, 2.1e-9, 3.7e-9, 9.4e-9};
  q.spec.Iscale = 2e-8;
  const d2::ChipConfig c = d2::chip_config_from_spec(q);
  const d2::DynapseNet net = d2::net_from_config(c);
  ASSERT_EQ(net.n, 3);
  ASSERT_EQ(net.n_in, 2);
  EXPECT_EQ(net.sim.Iscale, 2e-8);
  std::array<double, 4> Iw{};
  for (int b = 0; b < 4; ++b) Iw[std::size_t(b)] = c.cores[0].find("Iw_" + std::to_string(b))->current;
  for (int b = 0; b < 4; ++b) EXPECT_NE(Iw[std::size_t(b)], q.Iw[0][std::size_t(b)]);  // quantised by the codec
  // Weights: sign * sum_k bit_k Iw_k / Iscale with the decoded Iw, bit-identical to the weight handler.
  const d2::Matrix w_in = d2::restore_weights(q.masks_in, q.sign_in, Iw);
  const d2::Matrix w_rec = d2::restore_weights(q.masks_rec, q.sign_rec, Iw);
  for (std::size_t i = 0; i < w_in.v.size(); ++i) EXPECT_EQ(net.w_in[i], w_in.v[i] / 2e-8) << i;
  for (std::size_t i = 0; i < w_rec.v.size(); ++i) EXPECT_EQ(net.sim.w_rec[i], w_rec.v[i] / 2e-8) << i;
  EXPECT_EQ(net.w_in[0], (Iw[0] + Iw[2]) / 2e-8);  // in0 -> n0, mask 5
  EXPECT_EQ(net.w_in[3], -Iw[3] / 2e-8);           // in1 -> n0 (row 1 of [2, 3]), mask 8, GABA
  // Currents: every one the core's decoded value.
  const auto& core = c.cores[0];
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(net.sim.Itau_mem[std::size_t(n)], core.find("Itau_mem")->current);
    EXPECT_EQ(net.sim.Ispkthr[std::size_t(n)], core.find("Ispkthr")->current);
    EXPECT_EQ(net.sim.Idc[std::size_t(n)], core.find("Idc")->current);
    EXPECT_EQ(net.sim.Iref[std::size_t(n)], core.find("Iref")->current);
    EXPECT_EQ(net.sim.Itau_syn[std::size_t(n)], core.find("Itau_ampa")->current);  // all dendrites alike here
  }
}

TEST(ChipConfig, SynapticCurrentsAreTheDendriteWeightedAverage) {
  d2::ChipConfig c = d2::chip_config_from_spec(small_spec());
  // Give GABA its own time constant: neuron 0 has AMPA masks 5 + 1 = 6 and GABA mask 8.
  auto& params = c.cores[0].params;
  for (auto& p : params)
    if (p.sim_name == "Itau_gaba") p.cf = {2, 100}, p.current = d2::decode_current(*d2::find_bias_param("Itau_gaba"), p.cf);
  const double ampa = c.cores[0].find("Itau_ampa")->current, gaba = c.cores[0].find("Itau_gaba")->current;
  ASSERT_NE(ampa, gaba);
  const d2::DynapseNet net = d2::net_from_config(c);
  EXPECT_DOUBLE_EQ(net.sim.Itau_syn[0], (6 * ampa + 8 * gaba) / 14);
  EXPECT_DOUBLE_EQ(net.sim.Itau_syn[1], gaba);  // only GABA synapses (mask 3)
  EXPECT_DOUBLE_EQ(net.sim.Itau_syn[2], ampa);
}

TEST(ChipConfig, JsonRoundTripAndErrorsNameTheField) {
  const d2::ChipConfig c = d2::chip_config_from_spec(small_spec());
  const nlohmann::json j = d2::to_json(c);
  const d2::ChipConfig back = d2::chip_config_from_json(j, "cfg.json");
  EXPECT_EQ(d2::to_json(back), j);
  nlohmann::json bad = j;
  bad["cores"][0]["parameters"]["Itau_mem"]["coarse"] = 6;
  try {
    d2::chip_config_from_json(bad, "cfg.json");
    FAIL() << "no error";
  } catch (const spikeline::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json: field 'cores[0].parameters.Itau_mem.coarse'"), std::string::npos)
        << e.what();
  }
  bad = j;
  bad["neurons"][1]["cam"][0]["dendrite"] = "NMDA";
  EXPECT_THROW(d2::chip_config_from_json(bad, "cfg.json"), spikeline::InputError);
  bad = j;
  bad["neurons"][1]["cam"][0]["tag"] = 99;  // nobody's tag
  const auto problems = d2::validate_chip_config(d2::chip_config_from_json(bad, "cfg.json"));
  EXPECT_TRUE(has_message(problems, "neuron 1 CAM entry 0: tag 99")) << problems.size();
  EXPECT_THROW(d2::net_from_config(d2::chip_config_from_json(bad, "cfg.json")), spikeline::InputError);
  // A hand-edited setting takes effect: the decoded current is recomputed.
  bad = j;
  bad["cores"][0]["parameters"]["Itau_mem"]["fine"] = 200;
  const auto edited = d2::chip_config_from_json(bad, "cfg.json");
  EXPECT_EQ(edited.cores[0].find("Itau_mem")->current,
            d2::decode_current(*d2::find_bias_param("SOIF_LEAK_N"), {c.cores[0].find("Itau_mem")->cf.coarse, 200}));
}

TEST(ChipConfig, MultiChipDestinations) {
  // 5 clusters: cluster 4 is core 0 of chip 1. Neuron 0 (cluster 0) -> neurons on clusters 1 and 4.
  d2::QuantizedSpec q = empty_spec(1, 5, {0, 1, 2, 3, 4}, 5);
  connect_rec(q, 0, 1, 2, 1);
  connect_rec(q, 0, 4, 2, 1);
  connect_in(q, 0, 3, 1, 1);
  connect_in(q, 0, 4, 1, 1);
  const d2::ChipConfig c = d2::chip_config_from_spec(q);
  EXPECT_EQ(c.cores[4].chip(), 1);
  EXPECT_EQ(c.cores[4].core(), 0);
  EXPECT_EQ(c.neurons[4].index, 0);
  const auto& sram = c.neurons[0].sram;
  ASSERT_EQ(sram.size(), 3u);  // monitor, chip 0 (core 1), chip 1 (core 0)
  EXPECT_EQ(sram[1].core_mask, (std::array<bool, 4>{false, true, false, false}));
  EXPECT_EQ(sram[1].x_hop, 0);
  EXPECT_EQ(sram[2].core_mask, (std::array<bool, 4>{true, false, false, false}));
  EXPECT_EQ(sram[2].x_hop, 1);
  const auto& in = c.inputs[0].destinations;
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].core_mask, (std::array<bool, 4>{false, false, false, true}));
  EXPECT_EQ(in[1].x_hop, 1);
  EXPECT_TRUE(d2::validate_chip_config(c).empty());
}

TEST(ChipConfig, EveryLimitViolationIsNamed) {
  // 17 clusters: more cores than a board.
  {
    std::vector<int> map(17);
    for (int i = 0; i < 17; ++i) map[std::size_t(i)] = i;
    const auto p = d2::validate_chip_config(d2::chip_config_from_spec(empty_spec(1, 17, map, 17)));
    EXPECT_TRUE(has_message(p, "17 cores used, a board has 16")) << p.size();
  }
  // 257 neurons on one core (and 1 + 2 x 257 tags fit).
  {
    const auto p = d2::validate_chip_config(d2::chip_config_from_spec(empty_spec(1, 257, std::vector<int>(257, 0), 1)));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_TRUE(has_message(p, "core 0 (chip 0, core 0): 257 neurons, at most 256"));
  }
  // 65 synapses onto one neuron; 1990 inputs + 2 x 30 neurons > 2048 tags.
  {
    d2::QuantizedSpec q = empty_spec(1990, 30, std::vector<int>(30, 0), 1);
    for (int i = 0; i < 65; ++i) connect_in(q, i, 7, 1, 1);
    const auto p = d2::validate_chip_config(d2::chip_config_from_spec(q));
    EXPECT_EQ(p.size(), 2u);
    EXPECT_TRUE(has_message(p, "neuron 7: 65 CAM entries (synapses), at most 64"));
    EXPECT_TRUE(has_message(p, "tags: 1990 inputs + 2 x 30 neurons need 2050 tags, the chip has 2048"));
  }
  // Destinations on all 4 chips + the monitor entry: 5 SRAM entries.
  {
    std::vector<int> map(16);
    for (int i = 0; i < 16; ++i) map[std::size_t(i)] = i;
    d2::QuantizedSpec q = empty_spec(1, 16, map, 16);
    for (int post : {1, 4, 8, 12}) connect_rec(q, 0, post, 1, 1);
    const auto p = d2::validate_chip_config(d2::chip_config_from_spec(q));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_TRUE(has_message(p, "neuron 0: 5 SRAM entries (destinations, monitor included), at most 4"));
  }
}

TEST(ChipConfig, InconsistentSpecIsAnInputError) {
  d2::QuantizedSpec q = small_spec();
  q.spec.core_map[1] = 1;  // only one cluster
  EXPECT_THROW(d2::chip_config_from_spec(q), spikeline::InputError);
  q = small_spec();
  q.sign_in(0, 0) = 0;  // a mask without a sign
  EXPECT_THROW(d2::chip_config_from_spec(q), spikeline::InputError);
}

TEST(ActivityFactors, ScaleColumnsOfBothMatrices) {
  d2::QuantizedSpec q = small_spec();
  const d2::ActivityFactors f = d2::factors_from_params(
      {{"global_activity_factor", 0.5}, {"c0_activity_factor", 2.0}, {"c2_activity_factor", 1.25}}, 3, "params");
  const d2::Spec s = d2::apply_activity_factors(q.spec, f);
  EXPECT_EQ(s.weights_in(0, 0), 5 * 0.5 * 2.0);
  EXPECT_EQ(s.weights_in(1, 2), 15 * 0.5 * 1.25);
  EXPECT_EQ(s.weights_rec(0, 1), -3 * 0.5);  // class 1 at 1
  EXPECT_EQ(s.weights_rec(2, 0), 1 * 0.5 * 2.0);
  EXPECT_EQ(d2::factors_to_params(f, 3).dump(),
            R"({"global_activity_factor":0.5,"c0_activity_factor":2.0,"c1_activity_factor":1.0,"c2_activity_factor":1.25})");
  // The thesis's metadata lists c0..c6 at 1 for a 2-class network: accepted.
  EXPECT_NO_THROW(d2::factors_from_params({{"c5_activity_factor", 1}}, 2, "m"));
  EXPECT_THROW(d2::factors_from_params({{"c5_activity_factor", 1.1}}, 2, "m"), spikeline::InputError);
  EXPECT_THROW(d2::factors_from_params({{"gain", 1.1}}, 2, "m"), spikeline::InputError);
  EXPECT_THROW(d2::factors_from_params({{"global_activity_factor", -1}}, 2, "m"), spikeline::InputError);
}
