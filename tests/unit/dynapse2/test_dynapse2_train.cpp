// Dynap-SE2 training building blocks: the taped forward equals dynapsim_forward, BPTT gradients
// against finite differences (float64, smooth spike stand-in), the step_pwl surrogate path against
// the derivative of the membrane current it stands for, float32 vs float64, mismatch law and
// seeding, jax's Adam and its epoch-step quirk, dynamic mismatch with and without the thesis quirk,
// thread-count independence, the model's JSON file, and a short fit that learns.
#include <gtest/gtest.h>

#include <cmath>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/dynapsim_grad.hpp"
#include "spikeline/hw/dynapse2/mismatch.hpp"
#include "spikeline/hw/dynapse2/model.hpp"
#include "spikeline/hw/dynapse2/trainer.hpp"
#include "spikeline/train/config.hpp"
#include "support/cli.hpp"

namespace spikeline::hw::dynapse2 {
namespace {

// A random net with the thesis's taus, 5 % mismatch and weights large enough to spike often.
DynapseNet random_net(int n_in, int n, std::uint64_t seed, double w_scale = 6.0) {
  Rng rng(seed);
  DynapseNet net;
  net.n_in = n_in;
  net.n = n;
  net.sim = default_dynapsim_params(n);
  net.sim.Itau_mem.assign(n, 2.364066e-12);
  net.sim.Itau_syn.assign(n, 1.143150e-11);
  for (int k = 0; k < n_in * n; ++k) net.w_in.push_back(w_scale * (2 * rng.uniform() - 0.5));
  for (auto& w : net.sim.w_rec) w = w_scale * (rng.uniform() - 0.5);
  apply_frozen_mismatch(net.sim, 0.05, 3.0, rng);
  return net;
}

template <class T>
std::vector<T> random_input(int steps, int n_in, Rng& rng, double p = 0.4) {
  std::vector<T> x(static_cast<std::size_t>(steps) * n_in);
  for (auto& v : x) v = rng.uniform() < p ? T(1 + rng.below(2)) : T(0);
  return x;
}

TEST(Dynapse2Grad, TapedForwardEqualsDynapsimForward) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const DynapseNet net = random_net(4, 3, seed);
    Rng rng(seed + 100);
    const auto xf = random_input<float>(60, 4, rng);
    const std::vector<double> xd(xf.begin(), xf.end());
    const auto ref_f = run_dynapse_net<float>(net, xf, 60);
    const auto ref_d = run_dynapse_net<double>(net, xd, 60);
    double total = 0;
    for (float s : ref_f.spikes) total += s;
    EXPECT_GT(total, 5) << "the test needs spikes";
    // Same operations in the same order: bit-identical spike counts in both precisions.
    EXPECT_EQ(kernel_forward(make_kernel<float>(net), xf, 60), ref_f.spikes);
    EXPECT_EQ(kernel_forward(make_kernel<double>(net), xd, 60), ref_d.spikes);
    const auto g = sse_and_grad(make_kernel<double>(net), xd, std::vector<double>(xd.size() / 4 * 3, 0.0), 60);
    EXPECT_EQ(g.spikes, ref_d.spikes);
  }
}

// Central differences of the float64 loss with the smooth spike stand-in. Rounding error of a
// central difference is ~ eps64 |L| / h ~ 1e-16 * 10 / 1e-6 = 1e-9 and truncation ~ h^2 |L'''| is
// far below that; but the forward contains max(x, floor) kinks (Io floors), which a perturbation
// may cross: the random nets are checked to stay away (a crossing would show as one large error,
// not as a small bias). Tolerance |fd - g| <= 1e-6 + 1e-5 |g|.
TEST(Dynapse2Grad, BackwardMatchesFiniteDifferencesFloat64) {
  for (std::uint64_t seed : {4u, 5u, 6u}) {
    DynapseNet net = random_net(3, 3, seed, 3.0);
    // A strong AHP (Rockpool's default Iw_ahp leaves iahp at its Io floor, where the clip passes
    // no gradient), so that the AHP and leak paths of the backward pass are exercised too.
    for (auto& w : net.sim.Iw_ahp) w *= 2000.0;
    Rng rng(seed + 7);
    const int steps = 30;
    const auto x = random_input<double>(steps, 3, rng, 0.5);
    std::vector<double> target(static_cast<std::size_t>(steps) * 3);
    for (auto& v : target) v = rng.uniform();
    const auto loss_of = [&](const DynapseNet& m) {
      return sse_and_grad(make_kernel<double>(m), x, target, steps, SpikeModel::smooth).sse;
    };
    const auto g = sse_and_grad(make_kernel<double>(net), x, target, steps, SpikeModel::smooth);
    double max_g = 0;
    const auto check = [&](std::vector<double>& w, const std::vector<double>& grad, const char* name) {
      for (std::size_t k = 0; k < w.size(); ++k) {
        const double h = 1e-6 * std::max(1.0, std::abs(w[k]));
        const double w0 = w[k];
        w[k] = w0 + h;
        const double up = loss_of(net);
        w[k] = w0 - h;
        const double down = loss_of(net);
        w[k] = w0;
        const double fd = (up - down) / (2 * h);
        max_g = std::max(max_g, std::abs(grad[k]));
        EXPECT_NEAR(grad[k], fd, 1e-6 + 1e-5 * std::abs(fd)) << name << "[" << k << "] seed " << seed;
      }
    };
    check(net.w_in, g.g_w_in, "w_in");
    check(net.sim.w_rec, g.g_w_rec, "w_rec");
    EXPECT_GT(max_g, 1e-3) << "gradients must not vanish for the check to mean something";
  }
}

// The step_pwl surrogate: d n / d imem = 1 (per ampere) above Io. Without recurrence and before a
// neuron's first spike, nothing else of the spike path carries gradient (the AHP's clip sits at its
// floor; the reset's tie term 0.5 (Io - imem) per step is ~1e-10 relative), so with an error only
// at the first spike's step T (2 (n - target) = 1 there) d sse / d w_in[c][j] must equal the
// derivative of the pre-reset membrane current imem_j(T), which is smooth and which
// dynapsim_forward records (as vmem = Ut/kappa ln(imem/Io)). FD in float64 with h = 1e-6: rtol 1e-6.
TEST(Dynapse2Grad, SurrogateIsTheMembraneCurrentDerivative) {
  DynapseNet net = random_net(3, 2, 11);
  std::fill(net.sim.w_rec.begin(), net.sim.w_rec.end(), 0.0);
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < 2; ++j) net.w_in[static_cast<std::size_t>(c) * 2 + j] = 1.0 + c + 0.5 * j;
  const int max_steps = 60;
  std::vector<double> x(static_cast<std::size_t>(max_steps) * 3);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<double>(1 + k % 3);
  const auto spikes = kernel_forward(make_kernel<double>(net), x, max_steps);
  for (int j = 0; j < 2; ++j) {
    int T = 0;
    while (T < max_steps && spikes[static_cast<std::size_t>(T) * 2 + j] == 0) ++T;
    ASSERT_LT(T, max_steps) << "neuron " << j << " must spike";
    ++T;  // steps up to and including the first spike
    const std::vector<double> xs(x.begin(), x.begin() + T * 3);
    std::vector<double> target(spikes.begin(), spikes.begin() + T * 2);
    target[static_cast<std::size_t>(T - 1) * 2 + j] -= 0.5;
    const auto g = sse_and_grad(make_kernel<double>(net), xs, target, T);
    const auto imem_pre = [&](const DynapseNet& m) {
      const auto r = run_dynapse_net<double>(m, xs, T);
      const double kappa = (m.sim.kappa_n[j] + m.sim.kappa_p[j]) / 2;
      return m.sim.Io[j] * std::exp(kappa * r.vmem[static_cast<std::size_t>(T - 1) * 2 + j] / m.sim.Ut[j]);
    };
    for (int c = 0; c < 3; ++c) {
      const std::size_t k = static_cast<std::size_t>(c) * 2 + j;
      const double h = 1e-6, w0 = net.w_in[k];
      net.w_in[k] = w0 + h;
      const double up = imem_pre(net);
      net.w_in[k] = w0 - h;
      const double down = imem_pre(net);
      net.w_in[k] = w0;
      const double fd = (up - down) / (2 * h);
      EXPECT_GT(std::abs(fd), 0.0);
      EXPECT_NEAR(g.g_w_in[k], fd, 1e-6 * std::abs(fd)) << c << "," << j << " T " << T;
      EXPECT_EQ(g.g_w_in[static_cast<std::size_t>(c) * 2 + (1 - j)], 0.0);  // no error on the other neuron
    }
  }
}

// Float32 against float64 on a net whose spikes agree in both: the same gradient within float32's
// accumulated rounding (30 steps of ~20 operations: rtol 1e-3).
TEST(Dynapse2Grad, Float32AgreesWithFloat64) {
  const DynapseNet net = random_net(4, 3, 21);
  Rng rng(22);
  const auto xf = random_input<float>(30, 4, rng);
  const std::vector<double> xd(xf.begin(), xf.end());
  std::vector<float> tf(90, 0.0f);
  for (int t = 0; t < 30; ++t) tf[t * 3] = 1.0f;
  const std::vector<double> td(tf.begin(), tf.end());
  const auto gf = sse_and_grad(make_kernel<float>(net), xf, tf, 30);
  const auto gd = sse_and_grad(make_kernel<double>(net), xd, td, 30);
  ASSERT_EQ(std::vector<double>(gf.spikes.begin(), gf.spikes.end()), gd.spikes);
  double scale = 0;
  for (double v : gd.g_w_in) scale = std::max(scale, std::abs(v));
  ASSERT_GT(scale, 0.0);
  for (std::size_t k = 0; k < gd.g_w_in.size(); ++k) EXPECT_NEAR(gf.g_w_in[k], gd.g_w_in[k], 1e-3 * scale) << k;
  for (std::size_t k = 0; k < gd.g_w_rec.size(); ++k) EXPECT_NEAR(gf.g_w_rec[k], gd.g_w_rec[k], 1e-3 * scale) << k;
}

TEST(Dynapse2Mismatch, LawSeedAndOff) {
  DynapSimParams base = default_dynapsim_params(4000);
  DynapSimParams a = base, b = base, c = base, off = base;
  Rng r1(3), r2(3), r3(4), r4(3);
  apply_frozen_mismatch(a, 0.05, 3.0, r1);
  apply_frozen_mismatch(b, 0.05, 3.0, r2);
  apply_frozen_mismatch(c, 0.05, 3.0, r3);
  apply_frozen_mismatch(off, 0.0, 3.0, r4);
  EXPECT_EQ(a.Itau_mem, b.Itau_mem);  // seeded
  EXPECT_NE(a.Itau_mem, c.Itau_mem);
  EXPECT_EQ(off.Itau_mem, base.Itau_mem);
  EXPECT_NE(a.Itau_mem, a.Itau_syn);  // each leaf its own draws
  // x * (1 + (p / r) z): relative deviations have mean 0 and sd p / r = 1/60. With 4000 draws the
  // sample mean's sd is 2.6e-4 and the sample sd's relative sd ~1.1 %: 5-sigma bounds.
  for (const auto* v : {&a.Itau_mem, &a.Ispkthr, &a.kappa_n}) {
    double sum = 0, sq = 0;
    const double x0 = v == &a.Itau_mem ? base.Itau_mem[0] : v == &a.Ispkthr ? base.Ispkthr[0] : base.kappa_n[0];
    for (double x : *v) {
      const double d = x / x0 - 1;
      sum += d;
      sq += d * d;
    }
    const double mean = sum / 4000, sd = std::sqrt(sq / 4000 - mean * mean);
    EXPECT_NEAR(mean, 0.0, 5 * (0.05 / 3) / std::sqrt(4000.0));
    EXPECT_NEAR(sd, 0.05 / 3, 0.055 * 0.05 / 3);
  }
  Rng bad(1);
  EXPECT_THROW(apply_frozen_mismatch(a, -0.1, 3.0, bad), InputError);
}

TEST(Dynapse2Adam, MatchesJaxUpdateAndEpochQuirk) {
  FitOptions o;
  o.lr = 1e-3;
  std::vector<double> x{1.0, -2.0}, m(2, 0.0), v(2, 0.0);
  const std::vector<double> g{0.5, -4e-9};
  adam_update(x, g, m, v, 0, o);
  // Step 0: mhat = g, vhat = g^2, so x -= lr g / (|g| + eps).
  EXPECT_DOUBLE_EQ(x[0], 1.0 - 1e-3 * 0.5 / (0.5 + 1e-8));
  EXPECT_DOUBLE_EQ(x[1], -2.0 - 1e-3 * -4e-9 / (4e-9 + 1e-8));  // eps matters at the surrogate's scale
  // A second update with index 0 again (the thesis's epoch index) vs index 1 (running count).
  std::vector<double> xa = x, ma = m, va = v, xb = x, mb = m, vb = v;
  adam_update(xa, g, ma, va, 0, o);
  adam_update(xb, g, mb, vb, 1, o);
  const double m1 = 0.1 * 0.5 + 0.9 * 0.05, v1 = 0.001 * 0.25 + 0.999 * 0.00025;
  EXPECT_DOUBLE_EQ(xa[0], x[0] - 1e-3 * (m1 / 0.1) / (std::sqrt(v1 / 0.001) + 1e-8));
  EXPECT_DOUBLE_EQ(xb[0], x[0] - 1e-3 * (m1 / (1 - 0.81)) / (std::sqrt(v1 / (1 - 0.999 * 0.999)) + 1e-8));
}

// Two classes: class k drives input group k.
void separable(int n, int steps, std::uint64_t seed, FloatArray& x, std::vector<int>& y) {
  Rng rng(seed);
  x = FloatArray(Shape{static_cast<std::size_t>(n), static_cast<std::size_t>(steps), 8});
  y.clear();
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.below(2));
    y.push_back(label);
    for (int t = 0; t < steps; ++t)
      for (int c = 0; c < 8; ++c)
        x.data[(static_cast<std::size_t>(i) * steps + t) * 8 + c] = rng.uniform() < (c / 4 == label ? 0.5 : 0.1);
  }
}

DynapseNet small_net(std::uint64_t seed) {
  DynapseNet net = random_net(8, 2, seed, 1.0);
  Rng rng(seed);
  for (auto& w : net.w_in) w = std::sqrt(6.0 / 8) * (2 * rng.uniform() - 1);
  for (auto& w : net.sim.w_rec) w = (2 * rng.uniform() - 1);
  return net;
}

TEST(Dynapse2Fit, BatchGradientIndependentOfThreads) {
  FloatArray x;
  std::vector<int> y;
  separable(24, 20, 1, x, y);
  const auto k = make_kernel<float>(small_net(2));
  std::vector<std::size_t> batch(24);
  for (std::size_t i = 0; i < 24; ++i) batch[i] = i;
  const auto a = batch_gradient(k, x, y, batch, 1);
  const auto b = batch_gradient(k, x, y, batch, 2);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.g_in, b.g_in);
  EXPECT_EQ(a.g_rec, b.g_rec);
}

TEST(Dynapse2Fit, LearnsASeparableTaskAndDynamicMismatchActsUnlessThesisQuirk) {
  FloatArray xt, xv;
  std::vector<int> yt, yv;
  separable(256, 20, 3, xt, yt);
  separable(128, 20, 4, xv, yv);
  FitOptions o;
  o.epochs = 6;
  o.batch_size = 16;
  o.lr = 0.02;
  o.threads = 2;
  o.progress = false;
  DynapseNet net = small_net(5);
  const FitState st = fit_dynapse(net, xt, yt, xv, yv, o);
  ASSERT_EQ(st.epochs.size(), 6u);
  EXPECT_GT(st.best_val_acc, 0.8);  // chance 0.5
  EXPECT_LT(st.epochs.back().loss, st.epochs.front().loss);

  // Dynamic mismatch before epoch 0: changes the trajectory; the thesis quirk draws and discards.
  o.epochs = 1;
  DynapseNet plain = small_net(5), quirk = small_net(5), active = small_net(5);
  fit_dynapse(plain, xt, yt, xv, yv, o);
  FitOptions oq = o, oa = o;
  oq.dynamic_mismatch = {true, 0.30, 3.0, 100, 0, true};
  oa.dynamic_mismatch = {true, 0.30, 3.0, 100, 0, false};
  const FitState sq = fit_dynapse(quirk, xt, yt, xv, yv, oq);
  fit_dynapse(active, xt, yt, xv, yv, oa);
  EXPECT_TRUE(sq.epochs[0].mismatch_redrawn);
  EXPECT_EQ(quirk.w_in, plain.w_in);
  EXPECT_NE(active.w_in, plain.w_in);
}

TEST(Dynapse2Model, JsonRoundTripAndErrors) {
  const DynapseNet net = random_net(3, 2, 9);
  const auto dir = test::scratch_dir("d2_model_json");
  write_dynapse_net(dir / "m.json", net);
  const DynapseNet back = read_dynapse_net(dir / "m.json");
  EXPECT_EQ(back.w_in, net.w_in);
  EXPECT_EQ(back.sim.w_rec, net.sim.w_rec);
  EXPECT_EQ(back.sim.Itau_mem, net.sim.Itau_mem);
  EXPECT_EQ(back.sim.kappa_p, net.sim.kappa_p);
  nlohmann::json j = to_json(net);
  j["w_in"][1] = {1.0};
  try {
    dynapse_net_from_json(j, "m.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("w_in"), std::string::npos) << e.what();
  }
  j = to_json(net);
  j["sim"]["n"] = 3;
  EXPECT_THROW(dynapse_net_from_json(j, "m.json"), InputError);
}

TEST(Dynapse2Config, KeysDefaultsRoundTripAndErrors) {
  const auto base = nlohmann::json::parse(R"({"data": {"file": "s.npz"}, "model": {"target": "dynapse2"}})");
  const train::TrainConfig d = train::config_from_json(base, "c.json");
  EXPECT_EQ(d.optim.loss, "mse");  // the thesis's loss is the default for this target
  EXPECT_EQ(d.dynapse2.adam_step, "iteration");
  EXPECT_DOUBLE_EQ(d.dynapse2.percent_mismatch, 0.05);
  EXPECT_FALSE(d.dynapse2.dynamic_mismatch.enabled);
  auto doc = base;
  doc["dynapse2"] = {{"adam_step", "epoch"}, {"precision", "float64"}, {"tau_mem", 0.05},
                     {"dynamic_mismatch", {{"enabled", true}, {"after", 10}, {"thesis_no_effect", true}}}};
  const train::TrainConfig c = train::config_from_json(doc, "c.json");
  EXPECT_EQ(c.dynapse2.adam_step, "epoch");
  EXPECT_EQ(c.dynapse2.dynamic_mismatch.after, 10);
  EXPECT_TRUE(c.dynapse2.dynamic_mismatch.thesis_no_effect);
  const auto back = train::config_to_json(c);
  EXPECT_EQ(train::config_to_json(train::config_from_json(back, "r.json")), back);
  const auto error_of = [&](const char* key, const nlohmann::json& value) {
    auto bad = base;
    bad["dynapse2"][key] = value;
    try {
      train::config_from_json(bad, "c.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("adam_step", "batch").find("c.json: dynapse2.adam_step"), std::string::npos);
  EXPECT_NE(error_of("precision", "half").find("dynapse2.precision"), std::string::npos);
  EXPECT_NE(error_of("dt", 0).find("dynapse2.dt"), std::string::npos);
  EXPECT_NE(error_of("typo", 1).find("dynapse2.typo"), std::string::npos);
  auto ce = base;
  ce["optim"] = {{"loss", "cross_entropy"}};
  EXPECT_THROW(train::config_from_json(ce, "c.json"), InputError);
  // Other targets keep cross-entropy and write no dynapse2 section.
  auto none = base;
  none["model"]["target"] = "none";
  EXPECT_FALSE(train::config_to_json(train::config_from_json(none, "c.json")).contains("dynapse2"));
}

}  // namespace
}  // namespace spikeline::hw::dynapse2
