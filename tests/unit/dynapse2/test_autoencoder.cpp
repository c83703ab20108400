// Autoencoder weight quantisation (shared docs dynapse2.md §6) against the DERIVED numpy port
// dynapse2_autoencoder_DERIVED_seed3.json (its init weights are injected, numpy's RNG is not
// reproduced), plus the chunked Adam counter quirk, the stop rule and the determinism of our init.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/autoencoder.hpp"
#include "spikeline/hw/dynapse2/weights.hpp"
#include "support/dynapse2_golden.hpp"
#include "support/shared.hpp"

namespace d2 = spikeline::hw::dynapse2;

namespace {

using namespace spikeline::test::dynapse2;  // golden JSON readers

std::vector<float> flat_f(const nlohmann::json& j) {
  std::vector<float> out;
  for (double v : flat(j)) out.push_back(static_cast<float>(v));
  return out;
}

struct Golden {
  nlohmann::json g;
  d2::Matrix w_in, w_rec;
  std::vector<float> x;
  d2::AutoencoderInit init;
};
Golden load(const std::filesystem::path& path) {
  Golden out;
  out.g = read_json(path);
  out.w_in = matrix(out.g.at("weights_in"));
  out.w_rec = matrix(out.g.at("weights_rec"));
  out.x = flat_f(out.g.at("x"));
  out.init = {flat_f(out.g.at("W_en_init")), flat_f(out.g.at("W_dec_init"))};
  return out;
}

// |got - want| <= atol + rtol |want| elementwise.
template <class A>
void expect_close(const A& got, const std::vector<double>& want, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), atol + rtol * std::fabs(want[i]))
        << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

int bit_flips(const std::vector<int>& a, const std::vector<int>& b) {
  int flips = 0;
  for (std::size_t i = 0; i < a.size(); ++i) flips += __builtin_popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return flips;
}

d2::AutoencoderOptions fixed(std::int64_t steps) {
  d2::AutoencoderOptions o;
  o.fixed_epoch = true;
  o.num_epoch = steps;
  return o;
}

}  // namespace

TEST(Dynapse2Autoencoder, GoldenScaledInput) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  EXPECT_EQ(d2::flatten_weights(gd.w_in, gd.w_rec), flat(gd.g.at("w_flat")));
  // learn_weights' preprocessing, observed through a 1-step run: same x as the golden bit for bit.
  const std::vector<double> w = d2::flatten_weights(gd.w_in, gd.w_rec);
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  const double s = 1.0 / (*hi - *lo + 1.0);
  EXPECT_DOUBLE_EQ(s, gd.g.at("scale_factor").get<double>());
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(static_cast<float>(s * w[i]), gd.x[i]) << i;
}

// At init every quantity is a short float32 computation: rtol 1e-5 as the golden states. Gradients
// get an absolute floor of 1e-6 x the matrix's largest entry, because d recon = 2 (recon - x) / M
// cancels to a few float32 ulps for weights already well reconstructed.
TEST(Dynapse2Autoencoder, GoldenLossAndGradientsAtInit) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  const auto& init = gd.g.at("init");
  d2::BitAutoencoder ae(gd.x, gd.init);
  ASSERT_EQ(ae.size(), 25u);
  const float loss = ae.evaluate();
  EXPECT_NEAR(loss, init.at("loss").get<double>(), 1e-5 * init.at("loss").get<double>());
  const auto code = ae.code();
  expect_close(code, flat(init.at("code")), 1e-5, 0.0, "code");
  // bit_mask [4, M] -> integer masks per weight
  const std::vector<double> bits = flat(init.at("bit_mask"));
  std::vector<int> want_masks(25, 0);
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 25; ++i)
      if (bits[static_cast<std::size_t>(k * 25 + i)] != 0.0) want_masks[static_cast<std::size_t>(i)] |= 1 << k;
  EXPECT_EQ(ae.masks(), want_masks);
  const std::vector<double> g_en = flat(init.at("grad_W_en")), g_dec = flat(init.at("grad_W_dec"));
  expect_close(ae.grad_W_en(), g_en, 1e-5, 1e-6 * max_abs(g_en), "grad_W_en");
  expect_close(ae.grad_W_dec(), g_dec, 1e-5, 1e-6 * max_abs(g_dec), "grad_W_dec");
}

// Loss levels of the golden's final phase. From step ~2200 the reconstruction is at its floor and
// one bit (weight 7, bit 1: its W_dec entry stays within ~1e-5 of 0) flips back and forth
// chaotically; the loss alternates between two levels 3.5% apart (0.04397 with the bit clear,
// 0.04551 set; the golden trace and final loss show both). Which level a given step lands on is
// decided by float32 rounding, so there either level is accepted at the golden's rtol 1e-2.
namespace {
bool near_a_floor_level(double loss, const nlohmann::json& g) {
  const std::vector<double> trace = flat(g.at("loss_trace_every_100"));
  const double lo = *std::min_element(trace.begin(), trace.end());
  const double hi = g.at("final").at("loss").get<double>();
  return std::fabs(loss - lo) <= 1e-2 * lo || std::fabs(loss - hi) <= 1e-2 * hi;
}
}  // namespace

// 3000 fixed steps (plain counter). Float32 rounding differs from numpy's in the last ulp, so the
// trajectories drift apart slowly; the golden asks for the final loss within rtol 1e-2 and the
// masks up to a few bit flips. The loss trace (every 100 steps) is held to rtol 1e-3 while the
// penalty dominates (loss > 1), rtol 1e-2 on the way down, and to the floor levels at the end.
TEST(Dynapse2Autoencoder, GoldenFixed3000Steps) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  ASSERT_EQ(gd.g.at("n_steps").get<int>(), 3000);
  d2::BitAutoencoder ae(gd.x, gd.init);
  const d2::AutoencoderRun run = d2::train_autoencoder(ae, fixed(3000), true);
  EXPECT_EQ(run.steps, 3000);
  ASSERT_EQ(run.loss_trace.size(), 3000u);
  const std::vector<double> trace = flat(gd.g.at("loss_trace_every_100"));
  for (std::size_t t = 0; t < trace.size(); ++t) {
    const double got = run.loss_trace[t * 100];
    if (trace[t] > 1.0)
      EXPECT_NEAR(got, trace[t], 1e-3 * trace[t]) << "step " << t * 100;
    else if (trace[t] > 0.05)
      EXPECT_NEAR(got, trace[t], 1e-2 * trace[t]) << "step " << t * 100;
    else
      EXPECT_TRUE(near_a_floor_level(got, gd.g)) << "step " << t * 100 << ": " << got;
  }
  const auto& fin = gd.g.at("final");
  EXPECT_TRUE(near_a_floor_level(run.last_loss, gd.g)) << run.last_loss;
  std::vector<int> want;
  for (double v : flat(fin.at("int_mask_flat"))) want.push_back(static_cast<int>(v));
  EXPECT_LE(bit_flips(ae.masks(), want), 2) << "of " << 4 * want.size() << " bits";
  // The two large base currents carry the reconstruction; the two tiny ones (code ~ 4e-3) are
  // where drift shows first.
  const auto code = ae.code();
  const std::vector<double> want_code = flat(fin.at("code"));
  EXPECT_NEAR(code[0], want_code[0], 1e-2 * want_code[0]);
  EXPECT_NEAR(code[1], want_code[1], 1e-2 * want_code[1]);
  EXPECT_NEAR(code[2], want_code[2], 0.1 * want_code[2] + 1e-4);
  EXPECT_NEAR(code[3], want_code[3], 0.1 * want_code[3] + 1e-4);
}

TEST(Dynapse2Autoencoder, GoldenLearnWeightsEndToEnd) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  spikeline::Rng rng(0);
  const double Iscale = gd.g.at("Iscale").get<double>();
  const d2::ClusterQuantization q = d2::learn_weights(gd.w_in, gd.w_rec, Iscale, fixed(3000), rng, &gd.init);
  const auto& fin = gd.g.at("final");
  EXPECT_DOUBLE_EQ(q.scale_factor, gd.g.at("scale_factor").get<double>());
  EXPECT_EQ(q.steps, 3000);
  EXPECT_TRUE(near_a_floor_level(q.loss, gd.g)) << q.loss;
  const d2::MaskPair masks = d2::reshape_masks(q.masks, gd.w_in, gd.w_rec);
  std::vector<int> want_in, want_rec;
  for (double v : flat(fin.at("weights_in"))) want_in.push_back(static_cast<int>(v));
  for (double v : flat(fin.at("weights_rec"))) want_rec.push_back(static_cast<int>(v));
  EXPECT_LE(bit_flips(masks.in.v, want_in) + bit_flips(masks.rec.v, want_rec), 2);
  EXPECT_EQ(masks.in.v[8], 0);  // the -0.0 weight has no mask
  EXPECT_NEAR(q.Iw[0], fin.at("Iw_0").get<double>(), 1e-2 * fin.at("Iw_0").get<double>());
  EXPECT_NEAR(q.Iw[1], fin.at("Iw_1").get<double>(), 1e-2 * fin.at("Iw_1").get<double>());
  // Iw_k = code_k * Iscale / scale_factor exactly (checked through the autoencoder's code).
  d2::BitAutoencoder ae(gd.x, gd.init);
  d2::train_autoencoder(ae, fixed(3000));
  const auto code = ae.code();
  for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(q.Iw[k], static_cast<double>(code[k]) * Iscale / q.scale_factor);
}

// Not-fixed mode: chunks of num_epoch_checkpoint steps whose Adam counter restarts at 0. Rebuilt
// by hand with evaluate/adam_update; the same run with a plain counter must end elsewhere, so the
// restart is observable.
TEST(Dynapse2Autoencoder, ChunkedCounterRestartsEveryCheckpoint) {
  spikeline::Rng rng(11);
  std::vector<float> x(40);
  for (float& v : x) v = rng.uniform_float();
  const d2::AutoencoderInit init = d2::random_autoencoder_init(x.size(), rng);
  d2::AutoencoderOptions o;
  o.num_epoch = 600;
  o.num_epoch_checkpoint = 200;
  o.eps = 0.0;
  d2::BitAutoencoder ae(x, init);
  const d2::AutoencoderRun run = d2::train_autoencoder(ae, o);
  EXPECT_EQ(run.steps, 600);

  d2::BitAutoencoder restart(x, init), plain(x, init);
  float last = 0;
  for (int s = 0; s < 600; ++s) {
    last = restart.evaluate();
    restart.adam_update(s % 200, 1e-4f);
    plain.evaluate();
    plain.adam_update(s, 1e-4f);
  }
  EXPECT_EQ(run.last_loss, last);
  const auto same = [](std::span<const float> a, std::span<const float> b) { return std::equal(a.begin(), a.end(), b.begin()); };
  EXPECT_TRUE(same(ae.W_en(), restart.W_en()));
  EXPECT_TRUE(same(ae.W_dec(), restart.W_dec()));
  EXPECT_FALSE(same(ae.W_en(), plain.W_en()));
}

TEST(Dynapse2Autoencoder, PlateauStopRule) {
  d2::PlateauStop stop(1e-6);
  EXPECT_FALSE(stop.update(10.0));  // first chunk: best = 10
  EXPECT_FALSE(stop.update(9.0));   // progress: best = 9, counter 0
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(stop.update(9.0 - 5e-7)) << i;  // < eps: counts 1..5
  EXPECT_TRUE(stop.update(9.0));  // sixth without progress: count 6 > 5

  d2::PlateauStop reset(1e-6);
  reset.update(1.0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(reset.update(2.0));  // worse counts too
  EXPECT_FALSE(reset.update(0.5));                              // progress resets the counter
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(reset.update(0.5));
  EXPECT_TRUE(reset.update(0.5));
}

// Default options (not fixed, eps 1e-6, chunks of 1000) on the golden cluster: stops by the rule,
// well below the cap, in whole chunks, and reaches at least the fixed-3000 quality.
TEST(Dynapse2Autoencoder, NotFixedModeStopsByItself) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  spikeline::Rng rng(0);
  const d2::ClusterQuantization q = d2::learn_weights(gd.w_in, gd.w_rec, 1e-8, d2::AutoencoderOptions{}, rng, &gd.init);
  EXPECT_EQ(q.steps % 1000, 0);
  EXPECT_GE(q.steps, 7000);  // at least one improving chunk, then six without progress
  EXPECT_LT(q.steps, 10'000'000);
  EXPECT_LT(q.loss, 0.02);  // well past the fixed-3000 floor (0.044): 0.0064 here
}

TEST(Dynapse2Autoencoder, DeterministicForASeed) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapse2_autoencoder_DERIVED_seed3.json");
  const Golden gd = load(path);
  const auto run = [&](std::uint64_t seed) {
    spikeline::Rng rng(seed);
    return d2::learn_weights(gd.w_in, gd.w_rec, 1e-8, fixed(500), rng);
  };
  const auto a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a.masks, b.masks);
  EXPECT_EQ(a.Iw, b.Iw);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_NE(a.Iw, c.Iw);
}

TEST(Dynapse2Autoencoder, RandomInitBounds) {
  spikeline::Rng rng(3);
  const d2::AutoencoderInit init = d2::random_autoencoder_init(24, rng);
  ASSERT_EQ(init.W_en.size(), 96u);
  ASSERT_EQ(init.W_dec.size(), 96u);
  const float b_en = std::sqrt(6.0f / 24), b_dec = std::sqrt(6.0f / 4);
  float max_en = 0, max_dec = 0;
  for (float v : init.W_en) max_en = std::max(max_en, std::fabs(v));
  for (float v : init.W_dec) max_dec = std::max(max_dec, std::fabs(v));
  EXPECT_LE(max_en, b_en);
  EXPECT_GT(max_en, 0.8f * b_en);  // 96 draws fill the range
  EXPECT_LE(max_dec, b_dec);
  EXPECT_GT(max_dec, 0.8f * b_dec);
}

TEST(Dynapse2Autoencoder, EmptyClusterAndBadInput) {
  spikeline::Rng rng(0);
  const d2::Matrix zin{2, 3, std::vector<double>(6, 0.0)}, zrec{3, 3, std::vector<double>(9, 0.0)};
  const d2::ClusterQuantization q = d2::learn_weights(zin, zrec, 1e-8, fixed(10), rng);
  EXPECT_TRUE(q.masks.empty());
  EXPECT_EQ(q.Iw, (std::array<double, 4>{0, 0, 0, 0}));
  EXPECT_EQ(q.steps, 0);

  d2::AutoencoderOptions bad;
  bad.n_bits = 3;
  EXPECT_THROW(d2::validate_autoencoder_options(bad), spikeline::InputError);
  bad = {};
  bad.num_epoch_checkpoint = 0;
  EXPECT_THROW(d2::validate_autoencoder_options(bad), spikeline::InputError);
  bad = {};
  bad.step_size = -1;
  EXPECT_THROW(d2::validate_autoencoder_options(bad), spikeline::InputError);
  EXPECT_THROW(d2::BitAutoencoder({0.5f, 0.25f}, d2::AutoencoderInit{std::vector<float>(8), std::vector<float>(7)}),
               spikeline::InputError);
  EXPECT_THROW(d2::BitAutoencoder({}, d2::AutoencoderInit{}), spikeline::InputError);
}
