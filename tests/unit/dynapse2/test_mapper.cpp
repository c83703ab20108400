// Mapper to a Dynap-SE2 specification (shared docs dynapse2.md §5) against the mapper spec in
// dynapsim_seed0.json and hand-computed clusterings, quantize_spec end to end, and the JSON round
// trips of Spec and QuantizedSpec with errors that name the field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/mapper.hpp"
#include "support/dynapse2_golden.hpp"
#include "support/shared.hpp"

namespace d2 = spikeline::hw::dynapse2;

namespace {

using namespace spikeline::test::dynapse2;  // golden JSON readers

// A network of n neurons with default currents, weights from `rng`, and neuron i's Itau_mem set to
// (i + 1) pA so per-core means are easy to compute by hand.
d2::DynapseNet make_net(int n_in, int n, spikeline::Rng& rng, bool recurrent = true) {
  d2::DynapseNet net;
  net.n_in = n_in;
  net.n = n;
  net.sim = d2::default_dynapsim_params(n);
  net.w_in.resize(static_cast<std::size_t>(n_in) * n);
  for (double& w : net.w_in) w = rng.uniform() * 4.0 - 2.0;
  if (recurrent)
    for (double& w : net.sim.w_rec) w = rng.uniform() < 0.3 ? 0.0 : rng.uniform() * 2.0 - 1.0;
  for (int i = 0; i < n; ++i) net.sim.Itau_mem[static_cast<std::size_t>(i)] = (i + 1) * 1e-12;
  return net;
}

d2::AutoencoderOptions fixed(std::int64_t steps, std::uint64_t seed = 1) {
  d2::AutoencoderOptions o;
  o.fixed_epoch = true;
  o.num_epoch = steps;
  o.seed = seed;
  return o;
}

// Expects InputError whose message contains `needle` (the field name).
template <class F>
void expect_input_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError (wanted one mentioning '" << needle << "')";
  } catch (const spikeline::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

// ---- mapper ------------------------------------------------------------------------------------

// The golden spec came from the real Rockpool mapper on the float32 network; every value of it is
// reproduced exactly (means of equal float32 values are exact).
TEST(Dynapse2Mapper, GoldenDynapsimSeed0Spec) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  const auto g = read_json(path);
  const auto& sp = g.at("simulation_parameters");
  d2::DynapseNet net;
  net.n_in = 3;
  net.n = 2;
  net.w_in = flat(g.at("w_in"));
  nlohmann::json params = {{"n", 2}, {"Iscale", sp.at("Iscale").at(0)}, {"dt", sp.at("dt").at(0)}, {"w_rec", g.at("w_rec")}};
  for (const std::string& name : d2::dynapsim_vector_names()) params[name] = sp.at(name);
  net.sim = d2::dynapsim_params_from_json(params, "golden");

  const d2::Spec spec = d2::map_network(net);
  const nlohmann::json got = d2::to_json(spec);
  const auto& want = g.at("mapper_spec");
  for (const auto& [key, value] : want.items()) {
    ASSERT_TRUE(got.contains(key)) << key;
    EXPECT_EQ(flat(got.at(key)), flat(value)) << key;
  }
  EXPECT_EQ(spec.n_cluster, 1);
  EXPECT_EQ(spec.core_map, (std::vector<int>{0, 0}));
  EXPECT_TRUE(d2::has_recurrent_weights(spec));
  EXPECT_EQ(spec.unclustered.Itau_mem, net.sim.Itau_mem);
}

TEST(Dynapse2Mapper, ThreeHundredNeuronsMakeTwoClusters) {
  spikeline::Rng rng(1);
  const d2::DynapseNet net = make_net(2, 300, rng);
  const d2::Spec spec = d2::map_network(net);
  ASSERT_EQ(spec.n_cluster, 2);  // 300 // 256 + 1
  for (int i = 0; i < 300; ++i) EXPECT_EQ(spec.core_map[static_cast<std::size_t>(i)], i < 150 ? 0 : 1) << i;
  // Itau_mem = (i + 1) pA: cluster 0 averages 1..150 pA = 75.5 pA, cluster 1 151..300 pA = 225.5 pA.
  EXPECT_NEAR(spec.cores[0].Itau_mem, 75.5e-12, 1e-12 * 75.5e-12);
  EXPECT_NEAR(spec.cores[1].Itau_mem, 225.5e-12, 1e-12 * 225.5e-12);
  EXPECT_NEAR(spec.cores[1].Itau_syn, net.sim.Itau_syn[0], 1e-14 * net.sim.Itau_syn[0]);  // mean of equal values
  EXPECT_EQ(spec.weights_in.v, net.w_in);
  EXPECT_EQ(spec.weights_rec.v, net.sim.w_rec);
}

TEST(Dynapse2Mapper, ClusterCountRule) {
  EXPECT_EQ(d2::greedy_core_map(4, 1), (std::vector<int>{0, 0, 0, 0}));
  spikeline::Rng rng(2);
  EXPECT_EQ(d2::map_network(make_net(1, 255, rng, false)).n_cluster, 1);
  const d2::Spec s256 = d2::map_network(make_net(1, 256, rng, false));  // 256 neurons already need 2
  EXPECT_EQ(s256.n_cluster, 2);
  EXPECT_EQ(s256.core_map[127], 0);
  EXPECT_EQ(s256.core_map[128], 1);
  // Explicit n_cluster.
  const d2::Spec s6 = d2::map_network(make_net(1, 6, rng), 3);
  EXPECT_EQ(s6.core_map, (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_NEAR(s6.cores[2].Itau_mem, 5.5e-12, 1e-24);
}

// Rockpool's n // floor(N / n_cluster) puts the remainder into extra clusters; they are counted.
TEST(Dynapse2Mapper, RemainderNeuronsGetTheirOwnCluster) {
  EXPECT_EQ(d2::greedy_core_map(5, 2), (std::vector<int>{0, 0, 1, 1, 2}));
  spikeline::Rng rng(3);
  const d2::Spec s5 = d2::map_network(make_net(2, 5, rng), 2);
  EXPECT_EQ(s5.n_cluster, 3);
  EXPECT_NEAR(s5.cores[2].Itau_mem, 5e-12, 1e-24);
  const d2::Spec s257 = d2::map_network(make_net(1, 257, rng, false));  // floor(257 / 2) = 128
  EXPECT_EQ(s257.n_cluster, 3);
  EXPECT_EQ(s257.core_map[255], 1);
  EXPECT_EQ(s257.core_map[256], 2);
}

TEST(Dynapse2Mapper, RejectsBadClusterCountsAndCurrents) {
  spikeline::Rng rng(4);
  expect_input_error([&] { d2::map_network(make_net(1, 300, rng), 1); }, "at least 2 clusters");
  expect_input_error([&] { d2::map_network(make_net(1, 3, rng), 4); }, "exceed");
  d2::DynapseNet net = make_net(1, 3, rng);
  net.sim.Ispkthr[1] = -1e-9;
  expect_input_error([&] { d2::map_network(net); }, "Ispkthr of neuron 1");
}

TEST(Dynapse2Mapper, RecurrentBlockOnlyWithANonZero) {
  spikeline::Rng rng(5);
  const d2::Spec spec = d2::map_network(make_net(2, 3, rng, false));
  EXPECT_FALSE(d2::has_recurrent_weights(spec));
  const nlohmann::json j = d2::to_json(spec);
  EXPECT_TRUE(j.at("weights_rec").is_null());
  const d2::Spec back = d2::spec_from_json(j, "spec.json");
  EXPECT_EQ(back.weights_rec.rows, 3);
  EXPECT_EQ(back.weights_rec.v, std::vector<double>(9, 0.0));
}

TEST(Dynapse2Mapper, SpecJsonRoundTrip) {
  spikeline::Rng rng(6);
  const d2::Spec spec = d2::map_network(make_net(3, 7, rng), 2);
  const nlohmann::json j = d2::to_json(spec);
  const d2::Spec back = d2::spec_from_json(nlohmann::json::parse(j.dump()), "spec.json");
  EXPECT_EQ(d2::to_json(back), j);
  EXPECT_EQ(back.core_map, spec.core_map);
  EXPECT_EQ(back.weights_in.v, spec.weights_in.v);
  EXPECT_EQ(back.weights_rec.v, spec.weights_rec.v);
  EXPECT_EQ(back.unclustered.Itau_mem, spec.unclustered.Itau_mem);
  EXPECT_EQ(back.unclustered.w_rec, spec.unclustered.w_rec);
  EXPECT_EQ(back.cores[1].Itau_mem, spec.cores[1].Itau_mem);
}

TEST(Dynapse2Mapper, SpecJsonErrorsNameTheField) {
  spikeline::Rng rng(7);
  const nlohmann::json good = d2::to_json(d2::map_network(make_net(2, 4, rng), 2));
  const auto with = [&](const std::string& key, const nlohmann::json& v) {
    nlohmann::json j = good;
    j[key] = v;
    return j;
  };
  const auto without = [&](const std::string& key) {
    nlohmann::json j = good;
    j.erase(key);
    return j;
  };
  expect_input_error([&] { d2::spec_from_json(without("Itau_mem"), "s.json"); }, "s.json: field 'Itau_mem' is missing");
  expect_input_error([&] { d2::spec_from_json(with("core_map", {0, 0, 1, 2}), "s.json"); }, "field 'core_map' entry 3");
  expect_input_error([&] { d2::spec_from_json(with("Igain_syn", {1e-9}), "s.json"); }, "field 'Igain_syn'");
  expect_input_error([&] { d2::spec_from_json(with("weights_in", {{1, 2, 3, 4}, {1, 2, 3}}), "s.json"); },
                     "field 'weights_in' row 1");
  expect_input_error([&] { d2::spec_from_json(with("weights_rec", "x"), "s.json"); }, "field 'weights_rec'");
  expect_input_error([&] { d2::spec_from_json(with("format", "other"), "s.json"); }, "field 'format'");
  expect_input_error([&] { d2::spec_from_json(with("n_cluster", -1), "s.json"); }, "field 'n_cluster'");
  expect_input_error([&] { d2::spec_from_json(with("Iscale", "big"), "s.json"); }, "field 'Iscale'");
  nlohmann::json bad_un = good;
  bad_un["unclustered"]["Itau_mem"] = {1.0};
  expect_input_error([&] { d2::spec_from_json(bad_un, "s.json"); }, "Itau_mem");
  expect_input_error([&] { d2::spec_from_json(nlohmann::json::array(), "s.json"); }, "expected a JSON object");
}

// ---- quantize_spec -----------------------------------------------------------------------------

// Two clusters of 3 neurons: every cluster is exactly learn_weights on its own columns with the
// cluster's split of Rng(seed); the merged masks sit on the non-zero weights only; signs are kept;
// the realised weights are sign * sum_k bit_k Iw_k / Iscale with the column's cluster's Iw.
TEST(Dynapse2Quantize, PerClusterEndToEnd) {
  spikeline::Rng rng(8);
  const d2::Spec spec = d2::map_network(make_net(4, 6, rng), 2);
  d2::AutoencoderOptions opt;  // Rockpool's defaults: not fixed, chunks of 1000, eps 1e-6
  opt.seed = 42;
  const d2::QuantizedSpec q = d2::quantize_spec(spec, opt);
  ASSERT_EQ(q.Iw.size(), 2u);
  for (std::int64_t steps : q.steps) EXPECT_EQ(steps % 1000, 0);

  spikeline::Rng root(42);
  for (int c = 0; c < 2; ++c) {
    spikeline::Rng crng = root.split();
    d2::Matrix w_in = spec.weights_in, w_rec = spec.weights_rec;
    for (int r = 0; r < w_in.rows; ++r)
      for (int col = 0; col < 6; ++col)
        if (spec.core_map[static_cast<std::size_t>(col)] != c) w_in(r, col) = 0;
    for (int r = 0; r < 6; ++r)
      for (int col = 0; col < 6; ++col)
        if (spec.core_map[static_cast<std::size_t>(col)] != c) w_rec(r, col) = 0;
    const d2::ClusterQuantization want = d2::learn_weights(w_in, w_rec, spec.Iscale, opt, crng);
    EXPECT_EQ(q.Iw[static_cast<std::size_t>(c)], want.Iw) << c;
    EXPECT_EQ(q.quantization_loss[static_cast<std::size_t>(c)], want.loss) << c;
    const d2::MaskPair m = d2::reshape_masks(want.masks, w_in, w_rec);
    for (int r = 0; r < 4; ++r)
      for (int col = 0; col < 6; ++col)
        if (spec.core_map[static_cast<std::size_t>(col)] == c) {
          EXPECT_EQ(q.masks_in(r, col), m.in(r, col));
        }
  }
  EXPECT_EQ(q.sign_in.v, d2::sign_of(spec.weights_in).v);
  EXPECT_EQ(q.sign_rec.v, d2::sign_of(spec.weights_rec).v);
  for (std::size_t i = 0; i < spec.weights_rec.v.size(); ++i)
    if (spec.weights_rec.v[i] == 0.0) {
      EXPECT_EQ(q.masks_rec.v[i], 0) << i;
    }

  const d2::Matrix real_in = d2::realised_weights_in(q), real_rec = d2::realised_weights_rec(q);
  for (int r = 0; r < 4; ++r)
    for (int col = 0; col < 6; ++col) {
      const auto& Iw = q.Iw[static_cast<std::size_t>(spec.core_map[static_cast<std::size_t>(col)])];
      double sum = 0;
      for (int k = 0; k < 4; ++k)
        if ((q.masks_in(r, col) >> k) & 1) sum += Iw[static_cast<std::size_t>(k)];
      EXPECT_DOUBLE_EQ(real_in(r, col), q.sign_in(r, col) * sum / spec.Iscale);
    }
  // The quantised weights approximate the float ones: the autoencoder minimises
  // mean((|realised| - |w|)^2) * s^2 over the cluster's weights. It is a coarse quantiser: here it
  // converges to ~20% relative rms error (4000 fixed steps leave 52%); the bound is 30%.
  double err = 0, norm = 0;
  for (std::size_t i = 0; i < real_in.v.size(); ++i) {
    err += std::pow(real_in.v[i] - spec.weights_in.v[i], 2);
    norm += std::pow(spec.weights_in.v[i], 2);
  }
  for (std::size_t i = 0; i < real_rec.v.size(); ++i) {
    err += std::pow(real_rec.v[i] - spec.weights_rec.v[i], 2);
    norm += std::pow(spec.weights_rec.v[i], 2);
  }
  EXPECT_LT(std::sqrt(err / norm), 0.3);
}

TEST(Dynapse2Quantize, DeterministicForASeed) {
  spikeline::Rng rng(9);
  const d2::Spec spec = d2::map_network(make_net(3, 4, rng), 2);
  const nlohmann::json a = d2::to_json(d2::quantize_spec(spec, fixed(300, 5)));
  EXPECT_EQ(d2::to_json(d2::quantize_spec(spec, fixed(300, 5))), a);
  EXPECT_NE(d2::to_json(d2::quantize_spec(spec, fixed(300, 6))).at("Iw_0"), a.at("Iw_0"));
}

TEST(Dynapse2Quantize, JsonRoundTripAndErrors) {
  spikeline::Rng rng(10);
  const d2::QuantizedSpec q = d2::quantize_spec(d2::map_network(make_net(3, 5, rng), 2), fixed(200));
  const nlohmann::json j = d2::to_json(q);
  const d2::QuantizedSpec back = d2::quantized_spec_from_json(nlohmann::json::parse(j.dump()), "q.json");
  EXPECT_EQ(d2::to_json(back), j);
  EXPECT_EQ(back.masks_in.v, q.masks_in.v);
  EXPECT_EQ(back.Iw, q.Iw);
  EXPECT_EQ(d2::realised_weights_rec(back).v, d2::realised_weights_rec(q).v);

  const auto broken = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json b = j;
    edit(b);
    return b;
  };
  expect_input_error([&] { d2::quantized_spec_from_json(broken([](auto& b) { b["weights_in"][0][0] = 16; }), "q.json"); },
                     "field 'weights_in' entry 0");
  expect_input_error([&] { d2::quantized_spec_from_json(broken([](auto& b) { b["sign_in"][0][0] = 0.5; }), "q.json"); },
                     "field 'sign_in' entry 0");
  expect_input_error([&] { d2::quantized_spec_from_json(broken([](auto& b) { b.erase("Iw_2"); }), "q.json"); },
                     "field 'Iw_2' is missing");
  expect_input_error([&] { d2::quantized_spec_from_json(broken([](auto& b) { b["quantization_loss"] = {1.0}; }), "q.json"); },
                     "field 'quantization_loss'");
  expect_input_error([&] { d2::quantized_spec_from_json(broken([](auto& b) { b["spec"].erase("core_map"); }), "q.json"); },
                     "q.json (spec): field 'core_map' is missing");
  // A mask on a zero weight is inconsistent with the spec.
  const nlohmann::json zero_w = broken([](auto& b) {
    b["spec"]["weights_in"][0][0] = 0.0;
    b["sign_in"][0][0] = 0.0;
    b["weights_in"][0][0] = 3;
  });
  expect_input_error([&] { d2::quantized_spec_from_json(zero_w, "q.json"); }, "field 'weights_in' entry 0");
}

TEST(Dynapse2Quantize, RejectsInconsistentSpec) {
  spikeline::Rng rng(11);
  d2::Spec spec = d2::map_network(make_net(2, 3, rng));
  spec.core_map[1] = 4;
  expect_input_error([&] { d2::quantize_spec(spec, fixed(10)); }, "core_map[1]");
}
