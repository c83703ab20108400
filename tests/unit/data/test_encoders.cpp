// Spike encoders on hand-computed signals; the filterbank against scipy's numbers.
#include <gtest/gtest.h>

#include <filesystem>

#include "spikeline/core/error.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/encode/encoders.hpp"

using namespace spikeline;
using namespace spikeline::encode;

namespace {

std::vector<std::uint8_t> run_encoder(const EncoderParams& p, const std::vector<float>& x, std::size_t T,
                                 std::size_t D, std::uint64_t stream = 0) {
  std::vector<std::uint8_t> out(encoder_steps(p, T) * encoder_channels(p, D), 99);
  encode_window(p, x, T, D, out, stream);
  return out;
}

// Column c of a [T][C] raster.
std::vector<int> column(const std::vector<std::uint8_t>& r, std::size_t C, std::size_t c) {
  std::vector<int> out;
  for (std::size_t t = 0; t < r.size() / C; ++t) out.push_back(r[t * C + c]);
  return out;
}

std::vector<int> phase(std::vector<double> signal, int bits, PhaseNegative neg = PhaseNegative::shift) {
  std::vector<std::uint8_t> out(signal.size());
  phase_code(signal, bits, neg, out);
  return {out.begin(), out.end()};
}

}  // namespace

// Chunk means -> divide by the largest -> arcsin -> level among 2^bits bins over [0, pi/2] -> bits
// MSB first.
TEST(PhaseCode, HandComputed) {
  // spikify's documented example: chunk means 0.4 and 0.275 -> ratios 1 and 0.6875;
  // asin(1) = pi/2 -> level 16 clipped to 15 = 1111; asin(0.6875) = 0.758 rad, 0.758 / (pi/32) =
  // 7.72 -> 8 bins below -> level 8 = 1000.
  EXPECT_EQ(phase({0.1, 0.2, 0.3, 1.0, 0.5, 0.3, 0.1, 0.2}, 4), (std::vector<int>{1, 1, 1, 1, 1, 0, 0, 0}));
  // ratio 0.5: asin = pi/6, (pi/6) / (pi/32) = 5.33 -> level 6 = 0110.
  EXPECT_EQ(phase({1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5}, 4), (std::vector<int>{1, 1, 1, 1, 0, 1, 1, 0}));
  // All zero: no spikes.
  EXPECT_EQ(phase({0, 0, 0, 0}, 2), (std::vector<int>{0, 0, 0, 0}));
  // Negative values: shift (spikify) subtracts the minimum; rectify (PoliTo) clips at 0.
  // [-1,-1,-0.5,-0.5] shifted is [0,0,0.5,0.5]: ratios 0 and 1 -> 2-bit levels 0 = 00 and 3 = 11.
  EXPECT_EQ(phase({-1, -1, -0.5, -0.5}, 2), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(phase({-1, -1, -0.5, -0.5}, 2, PhaseNegative::rectify), (std::vector<int>{0, 0, 0, 0}));
  // Scale does not matter (per-window normalisation).
  EXPECT_EQ(phase({10, 10, 10, 10, 5, 5, 5, 5}, 4), phase({1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5}, 4));
}

TEST(PhaseEncoder, PositiveNegativeHalves) {
  PhaseParams p;
  p.channels = PhaseChannels::posneg;
  // One dim: first chunk +1, second chunk -0.5. pos = [1,1,1,1,0,0,0,0] -> 1111 0000;
  // neg = [0,0,0,0,0.5,...] -> ratios 0, 1 -> 0000 1111.
  const auto r = run_encoder(p, {1, 1, 1, 1, -0.5f, -0.5f, -0.5f, -0.5f}, 8, 1);
  ASSERT_EQ(r.size(), 16u);
  EXPECT_EQ(column(r, 2, 0), (std::vector<int>{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(column(r, 2, 1), (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(encoder_channels(p, 6), 12u);
  const std::vector<std::string> dims{"acc_x", "acc_y"};
  EXPECT_EQ(encoder_channel_names(p, dims), (std::vector<std::string>{"acc_x:pos", "acc_x:neg", "acc_y:pos", "acc_y:neg"}));
  EXPECT_THROW(encoder_steps(p, 10), InputError);  // 10 is not a multiple of 4 bits
}

TEST(Filterbank, BandsAndButterworthMatchScipy) {
  // spikify FilterBank(fs=20, channels=2, f_min=0.5, f_max=10, order=2) band edges.
  const auto bands = filterbank_bands(2, 0.5, 10.0, 20.0);
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_NEAR(bands[0].first, 0.1842015749320193, 1e-12);
  EXPECT_NEAR(bands[0].second, 1.3572088082974534, 1e-12);
  EXPECT_NEAR(bands[1].first, 1.3572088082974534, 1e-12);
  EXPECT_NEAR(bands[1].second, 9.9999, 1e-12);
  // scipy.signal.butter(2, [lo, hi], btype="band", fs=20) (scipy 1.10).
  const Biquad low = butter_bandpass(2, bands[0].first, bands[0].second, 20.0);
  const std::vector<double> b0{0.02675311459098786, 0.0, -0.05350622918197573, 0.0, 0.02675311459098786};
  const std::vector<double> a0{1.0, -3.4435473989196805, 4.491667280299914, -2.641624670158516, 0.5939825625807562};
  const Biquad high = butter_bandpass(2, bands[1].first, bands[1].second, 20.0);
  const std::vector<double> b1{0.7390753606839625, 0.0, -1.478150721367925, 0.0, 0.7390753606839625};
  const std::vector<double> a1{1.0, 0.5910451530919285, -1.2703459697638864, -0.31395875009814755, 0.5474323756754398};
  ASSERT_EQ(low.b.size(), 5u);
  ASSERT_EQ(low.a.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(low.b[i], b0[i], 1e-12) << i;
    EXPECT_NEAR(low.a[i], a0[i], 1e-12) << i;
    EXPECT_NEAR(high.b[i], b1[i], 1e-12) << i;
    EXPECT_NEAR(high.a[i], a1[i], 1e-12) << i;
  }
  // scipy.signal.lfilter(b, a, [1, 0, 0, -2, 0, 0, 0, 0]).
  const std::vector<double> x{1, 0, 0, -2, 0, 0, 0, 0};
  const std::vector<double> y0{0.02675311459098786, 0.09212561816279641, 0.1435666141619351, 0.09774627431495658,
                               -0.05403599798158504, -0.19357870501965238, -0.25095281779890427, -0.24898542451046612};
  const std::vector<double> y1{0.7390753606839625, -0.4368269097019249, -0.28108488785181435, -1.6348989885513008,
                               0.806560018136362, 0.5535848451370681, 0.3380007538096958, 0.17354306075891926};
  const auto f0 = lfilter(low, x), f1 = lfilter(high, x);
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(f0[i], y0[i], 1e-12) << i;
    EXPECT_NEAR(f1[i], y1[i], 1e-12) << i;
  }
}

TEST(PhaseEncoder, FilterbankIsBandThenPhaseCode) {
  PhaseParams p;  // defaults: 2 bands, fs 20, 0.5..10 Hz, order 2, 4 bits
  p.channels = PhaseChannels::filterbank;
  std::vector<float> x(40 * 2);
  for (int t = 0; t < 40; ++t) {
    x[t * 2] = static_cast<float>(std::sin(0.7 * t)) + 9.81f;
    x[t * 2 + 1] = static_cast<float>(t % 7) - 3.0f;
  }
  const auto r = run_encoder(p, x, 40, 2);
  ASSERT_EQ(r.size(), 40u * 4);
  // Channel 2 d + k is dim d through band k then the phase code.
  const auto bands = filterbank_bands(2, 0.5, 10.0, 20.0);
  for (std::size_t d = 0; d < 2; ++d)
    for (std::size_t k = 0; k < 2; ++k) {
      std::vector<double> sig(40);
      for (int t = 0; t < 40; ++t) sig[t] = x[t * 2 + d];
      const auto filtered = lfilter(butter_bandpass(2, bands[k].first, bands[k].second, 20.0), sig);
      EXPECT_EQ(column(r, 4, 2 * d + k), phase(filtered, 4)) << d << " " << k;
    }
}

TEST(DeltaEncoder, HandComputed) {
  DeltaParams p;
  p.threshold = {0.5f};
  // base 0; t2: +1.2 -> 2 up, base 1.0; t4: -1.6 -> 3 down, base -0.5; t5: -0.1 -> nothing.
  const auto r = run_encoder(p, {0, 0.3f, 1.2f, 1.0f, -0.6f, -0.6f}, 6, 1);
  EXPECT_EQ(column(r, 2, 0), (std::vector<int>{0, 0, 2, 0, 0, 0}));
  EXPECT_EQ(column(r, 2, 1), (std::vector<int>{0, 0, 0, 0, 3, 0}));
  // Per-dim thresholds: dim 1 with threshold 2 stays silent on a step of 1.
  p.threshold = {1.0f, 2.0f};
  const auto r2 = run_encoder(p, {0, 0, 1, 1}, 2, 2);
  EXPECT_EQ(r2, (std::vector<std::uint8_t>{0, 0, 0, 0, 1, 0, 0, 0}));
  p.threshold = {1.0f, 2.0f, 3.0f};
  EXPECT_THROW(run_encoder(p, {0, 0, 1, 1}, 2, 2), InputError);
}

TEST(SigmaDeltaEncoder, HandComputed) {
  SigmaDeltaParams p;
  p.threshold = {1.0f};
  // mean 0; integral 1 each step -> one up spike each, then -3 -> three down spikes.
  auto r = run_encoder(p, {1, 1, 1, -3}, 4, 1);
  EXPECT_EQ(column(r, 2, 0), (std::vector<int>{1, 1, 1, 0}));
  EXPECT_EQ(column(r, 2, 1), (std::vector<int>{0, 0, 0, 3}));
  // gain 0.5: 0.5, 1.0 -> up (0), 0.5, 0.5 - 1.5 = -1 -> down (0).
  p.gain = 0.5f;
  r = run_encoder(p, {1, 1, 1, -3}, 4, 1);
  EXPECT_EQ(column(r, 2, 0), (std::vector<int>{0, 1, 0, 0}));
  EXPECT_EQ(column(r, 2, 1), (std::vector<int>{0, 0, 0, 1}));
  // A constant is removed with the mean (gravity), or integrated when the mean is kept.
  p.gain = 1.0f;
  EXPECT_EQ(run_encoder(p, {2, 2, 2}, 3, 1), (std::vector<std::uint8_t>(6, 0)));
  p.remove_mean = false;
  r = run_encoder(p, {2, 2, 2}, 3, 1);
  EXPECT_EQ(column(r, 2, 0), (std::vector<int>{2, 2, 2}));
}

TEST(RateEncoder, ExtremesAreExactAndMiddleIsSeeded) {
  RateParams p;
  p.max_spikes = 4;
  p.seed = 11;
  // dim 0: 0, 5, 10 -> probability 0, 0.5, 1; dim 1 constant -> 0.
  const std::vector<float> x{0, 3, 5, 3, 10, 3};
  const auto r = run_encoder(p, x, 3, 2, 1);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[4], 4);
  EXPECT_EQ(r[1] + r[3] + r[5], 0);
  EXPECT_EQ(run_encoder(p, x, 3, 2, 1), r);  // same stream, same raster
  // The middle count averages max_spikes * 0.5 over streams.
  double sum = 0;
  for (std::uint64_t s = 0; s < 2000; ++s) sum += run_encoder(p, x, 3, 2, s)[2];
  EXPECT_NEAR(sum / 2000, 2.0, 0.1);
}

TEST(EncoderConfig, FromJsonChecksKeysAndValues) {
  const auto p = encoder_from_json({{"type", "phase4"}, {"channels", "posneg"}});
  ASSERT_TRUE(std::holds_alternative<PhaseParams>(p));
  EXPECT_EQ(std::get<PhaseParams>(p).bits, 4);
  EXPECT_EQ(std::get<PhaseParams>(p).channels, PhaseChannels::posneg);
  EXPECT_EQ(encoder_type(encoder_from_json({{"type", "sigma-delta"}})), "sigma_delta");
  EXPECT_EQ(std::get<DeltaParams>(encoder_from_json({{"type", "delta"}, {"threshold", {0.1, 0.2}}})).threshold.size(), 2u);
  EXPECT_THROW(encoder_from_json({{"type", "phase"}, {"bitz", 4}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "phase4"}, {"bits", 3}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "phase"}, {"channels", "tri"}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "phase"}, {"channels", "filterbank"}, {"f_min", 20.0}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "delta"}, {"threshold", -1}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "rate"}, {"max_spikes", 0}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "ttfs"}}), InputError);
  EXPECT_THROW(encoder_from_json({{"type", "delta"}, {"threshold", "big"}}), InputError);
  // The JSON written to sidecars reads back to the same encoder.
  const auto j = encoder_to_json(encoder_from_json({{"type", "phase"}, {"channels", "filterbank"}, {"bits", 2}}));
  EXPECT_EQ(j["bits"], 2);
  EXPECT_EQ(j["band_edges_hz"].size(), 2u);
}

TEST(TimeScale, RescaleRasterAsTheThesisLoader) {
  const std::vector<std::uint8_t> in{1, 2, 3, 4};  // 4 steps, 1 channel
  std::vector<std::uint8_t> out(16, 99);
  // dt twice the sample period: pairs of steps add up.
  rescale_raster(in, 4, 1, {0.05, 1.0, 0.1}, out);
  EXPECT_EQ(scaled_steps(4, {0.05, 1.0, 0.1}), 2u);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 2), (std::vector<std::uint8_t>{3, 7}));
  // dt half the sample period: every other bin is empty.
  rescale_raster(in, 4, 1, {0.05, 1.0, 0.025}, out);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 8), (std::vector<std::uint8_t>{1, 0, 2, 0, 3, 0, 4, 0}));
  // Dynap-SE2: times x 0.02 on 1 ms bins = one bin per step despite binary rounding.
  EXPECT_EQ(scaled_steps(40, {0.05, 0.02, 1e-3}), 40u);
  rescale_raster(in, 4, 1, {0.05, 0.02, 1e-3}, out);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 4), in);
  // Counts saturate at 255.
  const std::vector<std::uint8_t> big{200, 100};
  rescale_raster(big, 2, 1, {0.05, 1.0, 0.1}, out);
  EXPECT_EQ(out[0], 255);
  EXPECT_THROW(scaled_steps(40, {0.05, 1.0, 0.0}), InputError);
}

TEST(EncodeDataset, ShapesLabelsAndSidecar) {
  data::WindowDataset ds;
  ds.classes = {{'A', "walking"}, {'B', "jogging"}};
  for (int s = 0; s < 3; ++s) {
    const std::size_t n = 3 + static_cast<std::size_t>(s);
    ds.splits[s].x = Array<float>({n, 40, 6});
    for (std::size_t i = 0; i < ds.splits[s].x.size(); ++i) ds.splits[s].x[i] = static_cast<float>(std::sin(0.37 * i));
    for (std::size_t i = 0; i < n; ++i) ds.splits[s].y.push_back(static_cast<std::int32_t>(i % 2));
  }
  PhaseParams filterbank;
  filterbank.channels = PhaseChannels::filterbank;
  const data::SpikeSet set = encode_dataset(ds, filterbank, {}, 2);
  EXPECT_EQ(set.steps(), 40u);
  EXPECT_EQ(set.channels(), 12u);
  EXPECT_EQ(set.splits[2].x.shape, (Shape{5, 40, 12}));
  EXPECT_EQ(set.splits[1].y, ds.splits[1].y);
  EXPECT_DOUBLE_EQ(set.info.dt, 0.05);
  EXPECT_EQ(set.info.channels[1], "acc_x:band1");
  // Window i of a split encodes exactly as encode_window does.
  std::vector<std::uint8_t> one(40 * 12);
  encode_window(filterbank, std::span<const float>(ds.splits[2].x.ptr() + 4 * 240, 240), 40, 6, one);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), set.splits[2].x.ptr() + 4 * 480));

  TimeScale dynapse;
  dynapse.sample_time_modifier = 0.02;
  dynapse.dt = 1e-3;
  const data::SpikeSet d = encode_dataset(ds, filterbank, dynapse, 1);
  EXPECT_EQ(d.steps(), 40u);
  EXPECT_EQ(d.splits[0].x.data, set.splits[0].x.data);
  EXPECT_DOUBLE_EQ(d.info.sample_time_modifier, 0.02);

  // Spikes file round trip.
  const auto dir = std::filesystem::temp_directory_path() / ("spikeline_spikes_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  data::write_spikes(dir / "s.npz", set);
  const data::SpikeSet back = data::read_spikes(dir / "s.npz");
  EXPECT_EQ(back.classes, set.classes);
  EXPECT_EQ(back.splits[2].x.data, set.splits[2].x.data);
  EXPECT_EQ(back.splits[2].y, set.splits[2].y);
  EXPECT_EQ(back.info.channels, set.info.channels);
  EXPECT_EQ(back.info.encoder["type"], "phase");
  std::filesystem::remove(dir / "s.json");
  EXPECT_THROW(data::read_spikes(dir / "s.npz"), InputError);  // class names live in the sidecar
  std::filesystem::remove_all(dir);
}
