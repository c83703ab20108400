#include "spikeline/hw/xylo/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace spikeline::hw::xylo {

namespace {

constexpr double kWeightMax = 127.0;     // 2^(8-1) - 1
constexpr std::int64_t kThresholdMax = 32767;  // 2^(16-1) - 1

// numpy: float32 array * float64 scalar stays float32 (value-based casting), then np.round (half to
// even) and astype(int).
std::int64_t round_f32(double value, double scale) {
  const float product = static_cast<float>(value) * static_cast<float>(scale);
  return static_cast<std::int64_t>(std::nearbyint(product));
}
std::int64_t round_f32(double value) { return static_cast<std::int64_t>(std::nearbyint(static_cast<float>(value))); }
// Integer array * float64 scalar: float64 arithmetic.
std::int64_t round_f64(std::int64_t value, double scale) {
  return static_cast<std::int64_t>(std::nearbyint(static_cast<double>(value) * scale));
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::fabs(static_cast<double>(static_cast<float>(x))));
  return m;
}

void round_dashes(const FloatSpec& f, IntSpec& q) {
  auto round_all = [](const std::vector<double>& v) {
    std::vector<std::int64_t> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = round_f32(v[i]);
    return out;
  };
  q.dash_mem = round_all(f.dash_mem);
  q.dash_syn = round_all(f.dash_syn);
  q.dash_syn_2 = round_all(f.dash_syn_2);
  q.dash_mem_out = round_all(f.dash_mem_out);
  q.dash_syn_out = round_all(f.dash_syn_out);
}

IntSpec skeleton(const FloatSpec& f) {
  IntSpec q;
  q.resize(f.n_in, f.n_hid, f.n_out, f.n_syn);
  q.aliases = f.aliases;
  q.weight_shift_in = f.weight_shift_in;
  q.weight_shift_rec = f.weight_shift_rec;
  q.weight_shift_out = f.weight_shift_out;
  q.dt = f.dt;
  return q;
}

IntSpec global_quantize(const FloatSpec& f, bool bugs) {
  IntSpec q = skeleton(f);
  const double max_w = std::max({max_abs(f.weights_in), max_abs(f.weights_rec), max_abs(f.bias)});
  const double max_w_out = std::max(max_abs(f.weights_out), max_abs(f.bias_out));
  const double scale = max_w != 0.0 ? kWeightMax / max_w : 1.0;
  const double scale_out = max_w_out != 0.0 ? kWeightMax / max_w_out : 1.0;
  for (std::size_t i = 0; i < f.weights_in.size(); ++i) q.weights_in[i] = round_f32(f.weights_in[i], scale);
  for (std::size_t i = 0; i < f.weights_rec.size(); ++i) q.weights_rec[i] = round_f32(f.weights_rec[i], scale);
  for (std::size_t i = 0; i < f.weights_out.size(); ++i) q.weights_out[i] = round_f32(f.weights_out[i], scale_out);
  for (int n = 0; n < f.n_hid; ++n) {
    q.threshold[n] = round_f32(f.threshold[n], scale);
    q.bias[n] = round_f32(f.bias[n], scale);
  }
  for (int o = 0; o < f.n_out; ++o) {
    q.threshold_out[o] = round_f32(f.threshold_out[o], scale_out);
    // Rockpool 2.7 scales bias_out with the hidden scale.
    q.bias_out[o] = round_f32(f.bias_out[o], bugs ? scale : scale_out);
  }

  // Thresholds beyond 16 bits: shrink thresholds and the weights feeding them (from the rounded
  // integers, in float64). 2.7 tests max(threshold), not max |threshold|.
  auto largest = [bugs](const std::vector<std::int64_t>& v) {
    std::int64_t m = v.empty() ? 0 : v[0];
    for (auto x : v) m = std::max(m, bugs ? x : std::abs(x));
    return m;
  };
  auto rescale = [](std::vector<std::int64_t>& v, double s) {
    for (auto& x : v) x = round_f64(x, s);
  };
  if (const auto m = largest(q.threshold); std::abs(m) > kThresholdMax) {
    const double s = double(kThresholdMax) / double(m);
    rescale(q.threshold, s);
    rescale(q.weights_in, s);
    rescale(q.weights_rec, s);
    if (!bugs) rescale(q.bias, s);
  }
  if (const auto m = largest(q.threshold_out); std::abs(m) > kThresholdMax) {
    const double s = double(kThresholdMax) / double(m);
    rescale(q.threshold_out, s);
    rescale(q.weights_out, s);
    if (bugs) rescale(q.weights_rec, s);  // 2.7 quirk
    else rescale(q.bias_out, s);
  }
  round_dashes(f, q);
  return q;
}

IntSpec channel_quantize(const FloatSpec& f, bool bugs) {
  IntSpec q = skeleton(f);
  for (int j = 0; j < f.n_hid; ++j) {
    double max_w = 0.0;
    for (int c = 0; c < f.n_in; ++c)
      for (int s = 0; s < f.n_syn; ++s) max_w = std::max(max_w, std::fabs(double(float(f.w_in(c, j, s)))));
    for (int i = 0; i < f.n_hid; ++i)
      for (int s = 0; s < f.n_syn; ++s) max_w = std::max(max_w, std::fabs(double(float(f.w_rec(i, j, s)))));
    if (max_w == 0.0) {
      q.threshold[j] = round_f32(f.threshold[j]);
      q.bias[j] = round_f32(f.bias[j]);
      continue;
    }
    const double scale = kWeightMax / max_w;
    auto scale_column = [&](double sc) {
      for (int c = 0; c < f.n_in; ++c)
        for (int s = 0; s < f.n_syn; ++s) q.w_in(c, j, s) = round_f32(f.w_in(c, j, s), sc);
      for (int i = 0; i < f.n_hid; ++i)
        for (int s = 0; s < f.n_syn; ++s) q.w_rec(i, j, s) = round_f32(f.w_rec(i, j, s), sc);
      q.threshold[j] = round_f32(f.threshold[j], sc);
    };
    scale_column(scale);
    // 2.7 scales the hidden bias only in the two-synapse branch; otherwise it is just rounded.
    q.bias[j] = (bugs && f.n_syn == 1) ? round_f32(f.bias[j]) : round_f32(f.bias[j], scale);
    if (std::abs(q.threshold[j]) > kThresholdMax) {
      // numpy: python int / float32 scalar is float32.
      const float limited = 32767.0f / static_cast<float>(f.threshold[j]);
      scale_column(limited);
      if (!bugs) q.bias[j] = round_f32(f.bias[j], limited);
    }
  }
  for (int o = 0; o < f.n_out; ++o) {
    double max_w = 0.0;
    for (int i = 0; i < f.n_hid; ++i) max_w = std::max(max_w, std::fabs(double(float(f.w_out(i, o)))));
    if (max_w == 0.0) {
      q.threshold_out[o] = round_f32(f.threshold_out[o]);
      q.bias_out[o] = round_f32(f.bias_out[o]);
      continue;
    }
    const double scale = kWeightMax / max_w;
    auto scale_column = [&](double sc) {
      for (int i = 0; i < f.n_hid; ++i) q.w_out(i, o) = round_f32(f.w_out(i, o), sc);
      q.threshold_out[o] = round_f32(f.threshold_out[o], sc);
    };
    scale_column(scale);
    // 2.7 quirk (xylo.md §3.2): bias_out[o] is computed from the hidden bias[o].
    const double bias_source = bugs ? (o < f.n_hid ? f.bias[o] : 0.0) : f.bias_out[o];
    q.bias_out[o] = round_f32(bias_source, scale);
    if (std::abs(q.threshold_out[o]) > kThresholdMax) {
      const float limited = 32767.0f / static_cast<float>(f.threshold_out[o]);
      scale_column(limited);
      if (!bugs) q.bias_out[o] = round_f32(f.bias_out[o], limited);
    }
  }
  round_dashes(f, q);
  return q;
}

}  // namespace

IntSpec quantize(const FloatSpec& spec, const QuantizeOptions& options) {
  return options.method == QuantizeMethod::Global ? global_quantize(spec, options.rockpool_bugs)
                                                  : channel_quantize(spec, options.rockpool_bugs);
}

bool fix_zero_synaptic_dash(IntSpec& spec, DashZeroFix fix) {
  bool changed = false;
  auto apply = [&](std::vector<std::int64_t>& dash) {
    if (dash.empty()) return;
    if (fix == DashZeroFix::Thesis && dash[0] == 0) {
      for (auto& d : dash) d += 1;  // the thesis tests element 0 only and bumps all
      changed = true;
    } else if (fix == DashZeroFix::PerNeuron) {
      for (auto& d : dash)
        if (d == 0) d = 1, changed = true;
    }
  };
  apply(spec.dash_syn);
  apply(spec.dash_syn_out);
  return changed;
}

}  // namespace spikeline::hw::xylo
