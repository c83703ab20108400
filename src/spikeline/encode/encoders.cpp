#include "spikeline/encode/encoders.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>
#include <numbers>

#include "spikeline/core/error.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/core/rng.hpp"

namespace spikeline::encode {

namespace {

using cplx = std::complex<double>;

std::uint8_t saturate(std::uint64_t count) { return static_cast<std::uint8_t>(std::min<std::uint64_t>(count, 255)); }

float threshold_for(const std::vector<float>& thresholds, std::size_t d, std::size_t D, const char* what) {
  if (thresholds.size() == 1) return thresholds[0];
  if (thresholds.size() != D)
    throw InputError(std::string("encoder ") + what,
                     "needs 1 or " + std::to_string(D) + " thresholds (one per dim), got " +
                         std::to_string(thresholds.size()));
  return thresholds[d];
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Coefficients of prod (z - r_i), highest power first (numpy.poly).
std::vector<cplx> poly(const std::vector<cplx>& roots) {
  std::vector<cplx> c{1.0};
  for (const cplx& r : roots) {
    std::vector<cplx> next(c.size() + 1, 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) {
      next[i] += c[i];
      next[i + 1] -= r * c[i];
    }
    c = std::move(next);
  }
  return c;
}

void encode_phase(const PhaseParams& p, std::span<const float> x, std::size_t T, std::size_t D,
                  std::span<std::uint8_t> out) {
  const std::size_t per_dim = p.channels == PhaseChannels::filterbank ? static_cast<std::size_t>(p.bands) : 2;
  const std::size_t C = D * per_dim;
  std::vector<double> signal(T), channel(T);
  std::vector<std::uint8_t> code(T);
  std::vector<Biquad> filters;
  if (p.channels == PhaseChannels::filterbank)
    for (const auto& [lo, hi] : filterbank_bands(p.bands, p.f_min, p.f_max, p.fs))
      filters.push_back(butter_bandpass(p.order, lo, hi, p.fs));
  for (std::size_t d = 0; d < D; ++d) {
    for (std::size_t t = 0; t < T; ++t) signal[t] = x[t * D + d];
    for (std::size_t k = 0; k < per_dim; ++k) {
      if (p.channels == PhaseChannels::filterbank) {
        channel = lfilter(filters[k], signal);
      } else {
        const double sign = k == 0 ? 1.0 : -1.0;
        for (std::size_t t = 0; t < T; ++t) channel[t] = std::max(0.0, sign * signal[t]);
      }
      phase_code(channel, p.bits, p.negative, code);
      const std::size_t c = d * per_dim + k;
      for (std::size_t t = 0; t < T; ++t) out[t * C + c] = code[t];
    }
  }
}

void encode_delta(const DeltaParams& p, std::span<const float> x, std::size_t T, std::size_t D,
                  std::span<std::uint8_t> out) {
  const std::size_t C = 2 * D;
  for (std::size_t d = 0; d < D; ++d) {
    const double thr = threshold_for(p.threshold, d, D, "delta threshold");
    double base = T ? x[d] : 0.0;
    for (std::size_t t = 1; t < T; ++t) {
      const double diff = x[t * D + d] - base;
      if (diff >= thr) {
        const double k = std::floor(diff / thr);
        out[t * C + 2 * d] = saturate(static_cast<std::uint64_t>(k));
        base += k * thr;
      } else if (diff <= -thr) {
        const double k = std::floor(-diff / thr);
        out[t * C + 2 * d + 1] = saturate(static_cast<std::uint64_t>(k));
        base -= k * thr;
      }
    }
  }
}

void encode_sigma_delta(const SigmaDeltaParams& p, std::span<const float> x, std::size_t T,
                        std::size_t D, std::span<std::uint8_t> out) {
  const std::size_t C = 2 * D;
  for (std::size_t d = 0; d < D; ++d) {
    const double thr = threshold_for(p.threshold, d, D, "sigma_delta threshold");
    double mean = 0.0;
    if (p.remove_mean && T) {
      for (std::size_t t = 0; t < T; ++t) mean += x[t * D + d];
      mean /= static_cast<double>(T);
    }
    double integral = 0.0;
    for (std::size_t t = 0; t < T; ++t) {
      integral += p.gain * (x[t * D + d] - mean);
      if (integral >= thr) {
        const double k = std::floor(integral / thr);
        out[t * C + 2 * d] = saturate(static_cast<std::uint64_t>(k));
        integral -= k * thr;
      } else if (integral <= -thr) {
        const double k = std::floor(-integral / thr);
        out[t * C + 2 * d + 1] = saturate(static_cast<std::uint64_t>(k));
        integral += k * thr;
      }
    }
  }
}

void encode_rate(const RateParams& p, std::span<const float> x, std::size_t T, std::size_t D,
                 std::span<std::uint8_t> out, std::uint64_t stream) {
  Rng rng(mix(p.seed, stream));
  std::vector<float> lo(D, 0.0f), hi(D, 0.0f);
  for (std::size_t d = 0; d < D && T; ++d) {
    lo[d] = hi[d] = x[d];
    for (std::size_t t = 1; t < T; ++t) {
      lo[d] = std::min(lo[d], x[t * D + d]);
      hi[d] = std::max(hi[d], x[t * D + d]);
    }
  }
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t d = 0; d < D; ++d) {
      const double range = static_cast<double>(hi[d]) - lo[d];
      const double prob = range > 0 ? (static_cast<double>(x[t * D + d]) - lo[d]) / range : 0.0;
      int count = 0;
      for (int s = 0; s < p.max_spikes; ++s) count += rng.uniform() < prob ? 1 : 0;
      out[t * D + d] = saturate(static_cast<std::uint64_t>(count));
    }
}

template <class T>
T get_checked(const nlohmann::json& j, const char* key, const std::string& type) {
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError("encoder " + type + "." + key, "has the wrong type: " + j.at(key).dump());
  }
}

std::vector<float> thresholds_from(const nlohmann::json& v, const std::string& where) {
  std::vector<float> out;
  if (v.is_number()) {
    out.push_back(v.get<float>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_number()) throw InputError(where, "expected numbers, got " + e.dump());
      out.push_back(e.get<float>());
    }
  } else {
    throw InputError(where, "expected a number or a list of numbers, got " + v.dump());
  }
  if (out.empty()) throw InputError(where, "is empty");
  for (float t : out)
    if (!(t > 0.0f) || !std::isfinite(t)) throw InputError(where, "thresholds must be positive");
  return out;
}

}  // namespace

std::vector<std::pair<double, double>> filterbank_bands(int bands, double f_min, double f_max, double fs) {
  if (bands < 1) throw InputError("encoder phase.bands", "must be at least 1");
  if (!(f_min > 0 && f_max > f_min && fs > 0))
    throw InputError("encoder phase", "needs 0 < f_min < f_max and fs > 0");
  const double octave = (bands - 0.5) * std::log10(2.0) / std::log10(f_max / f_min);
  std::vector<std::pair<double, double>> out;
  for (int ch = 0; ch < bands; ++ch) {
    const double centre = f_min * std::pow(2.0, ch / octave);
    out.emplace_back(centre * std::pow(2.0, -1.0 / (2.0 * octave)), centre * std::pow(2.0, 1.0 / (2.0 * octave)));
  }
  out.back().second = fs / 2.0 * 0.99999;
  for (const auto& [lo, hi] : out)
    if (!(lo > 0 && lo < hi && hi < fs / 2))
      throw InputError("encoder phase", "a filterbank band [" + std::to_string(lo) + ", " +
                                            std::to_string(hi) + "] Hz does not fit below fs/2");
  return out;
}

Biquad butter_bandpass(int order, double lo_hz, double hi_hz, double fs) {
  if (order < 1 || order > 8) throw InputError("encoder phase.order", "must be in 1..8");
  if (!(lo_hz > 0 && lo_hz < hi_hz && hi_hz < fs / 2))
    throw InputError("butterworth band", "needs 0 < lo < hi < fs/2");
  // As scipy: analog prototype, pre-warped edges (normalised to fs = 2), lp -> bp, bilinear.
  const double fs_norm = 2.0;
  const double w1 = 2.0 * fs_norm * std::tan(std::numbers::pi * (lo_hz / (fs / 2)) / fs_norm);
  const double w2 = 2.0 * fs_norm * std::tan(std::numbers::pi * (hi_hz / (fs / 2)) / fs_norm);
  const double bw = w2 - w1, wo = std::sqrt(w1 * w2);
  std::vector<cplx> poles_bp, zeros_bp;
  for (int m = -order + 1; m < order; m += 2) {
    const cplx p = -std::exp(cplx(0.0, std::numbers::pi * m / (2.0 * order)));
    const cplx lp = p * bw / 2.0;
    const cplx root = std::sqrt(lp * lp - wo * wo);
    poles_bp.push_back(lp + root);
    poles_bp.push_back(lp - root);
  }
  zeros_bp.assign(static_cast<std::size_t>(order), cplx(0.0));
  double k = std::pow(bw, order);
  const double fs2 = 2.0 * fs_norm;
  cplx num = 1.0, den = 1.0;
  std::vector<cplx> zz, pz;
  for (const cplx& z : zeros_bp) {
    zz.push_back((fs2 + z) / (fs2 - z));
    num *= fs2 - z;
  }
  for (const cplx& p : poles_bp) {
    pz.push_back((fs2 + p) / (fs2 - p));
    den *= fs2 - p;
  }
  zz.resize(pz.size(), cplx(-1.0));  // zeros at infinity map to Nyquist
  k *= (num / den).real();
  Biquad f;
  for (const cplx& c : poly(zz)) f.b.push_back(k * c.real());
  for (const cplx& c : poly(pz)) f.a.push_back(c.real());
  return f;
}

std::vector<double> lfilter(const Biquad& f, std::span<const double> x) {
  const std::size_t n = std::max(f.a.size(), f.b.size());
  std::vector<double> b(n, 0.0), a(n, 0.0), state(n, 0.0), y(x.size());
  const double a0 = f.a.at(0);
  for (std::size_t i = 0; i < f.b.size(); ++i) b[i] = f.b[i] / a0;
  for (std::size_t i = 0; i < f.a.size(); ++i) a[i] = f.a[i] / a0;
  // Direct form II transposed, as scipy.signal.lfilter.
  for (std::size_t t = 0; t < x.size(); ++t) {
    const double out = b[0] * x[t] + state[0];
    for (std::size_t i = 1; i < n; ++i) state[i - 1] = b[i] * x[t] + (i < n - 1 ? state[i] : 0.0) - a[i] * out;
    y[t] = out;
  }
  return y;
}

void phase_code(std::span<const double> signal, int bits, PhaseNegative negative, std::span<std::uint8_t> out) {
  const std::size_t T = signal.size(), B = static_cast<std::size_t>(bits);
  SPIKELINE_ASSERT(bits >= 1 && T % B == 0 && out.size() >= T);
  std::vector<double> v(signal.begin(), signal.end());
  if (negative == PhaseNegative::shift) {
    const double lowest = T ? *std::min_element(v.begin(), v.end()) : 0.0;
    if (lowest < 0)
      for (double& e : v) e -= lowest;
  } else {
    for (double& e : v) e = std::max(0.0, e);
  }
  // spikify scales by the maximum when above 1 (no effect on the ratios below beyond rounding).
  const double peak = T ? *std::max_element(v.begin(), v.end()) : 0.0;
  if (peak > 1)
    for (double& e : v) e /= peak;
  const std::size_t chunks = T / B;
  std::vector<double> mean(chunks, 0.0);
  for (std::size_t k = 0; k < chunks; ++k) {
    for (std::size_t j = 0; j < B; ++j) mean[k] += v[k * B + j];
    mean[k] /= static_cast<double>(B);
  }
  const double top = chunks ? *std::max_element(mean.begin(), mean.end()) : 0.0;
  const int levels = 1 << bits;
  const double step = (std::numbers::pi / 2) / levels;  // bins = linspace(0, pi/2, levels + 1)
  for (std::size_t k = 0; k < chunks; ++k) {
    const double ratio = top > 0 ? std::min(1.0, mean[k] / top) : mean[k];
    const double phase = std::asin(ratio);
    // searchsorted(bins, phase, side="left") = number of bins strictly below phase
    int level = 0;
    for (int i = 0; i <= levels; ++i)
      if ((i == levels ? std::numbers::pi / 2 : i * step) < phase) ++level;
    level = std::clamp(level, 0, levels - 1);
    for (std::size_t j = 0; j < B; ++j) out[k * B + j] = static_cast<std::uint8_t>((level >> (bits - 1 - static_cast<int>(j))) & 1);
  }
}

std::string_view encoder_type(const EncoderParams& p) {
  switch (p.index()) {
    case 0: return "phase";
    case 1: return "delta";
    case 2: return "sigma_delta";
    default: return "rate";
  }
}

EncoderParams encoder_from_json(const nlohmann::json& config) {
  if (!config.is_object()) throw InputError("encoder", "expected an object with a \"type\"");
  if (!config.contains("type") || !config["type"].is_string())
    throw InputError("encoder.type", "missing; expected phase, phase4, delta, sigma_delta or rate");
  std::string type = config["type"].get<std::string>();
  std::replace(type.begin(), type.end(), '-', '_');
  auto check_keys = [&](std::initializer_list<const char*> allowed) {
    for (const auto& item : config.items()) {
      const std::string key = item.key();  // a plain variable: clang 14 cannot capture bindings
      if (key == "type") continue;
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
        throw InputError("encoder " + type + "." + key, "unknown parameter");
    }
  };
  if (type == "phase" || type == "phase4") {
    check_keys({"bits", "channels", "negative", "bands", "fs", "f_min", "f_max", "order"});
    PhaseParams p;
    if (config.contains("bits")) p.bits = get_checked<int>(config, "bits", type);
    if (p.bits < 1 || p.bits > 8) throw InputError("encoder " + type + ".bits", "must be in 1..8");
    if (type == "phase4" && p.bits != 4) throw InputError("encoder phase4.bits", "is 4 (use type phase)");
    if (config.contains("channels")) {
      const auto c = get_checked<std::string>(config, "channels", type);
      if (c == "filterbank") p.channels = PhaseChannels::filterbank;
      else if (c == "posneg") p.channels = PhaseChannels::posneg;
      else throw InputError("encoder " + type + ".channels", "expected filterbank or posneg, got '" + c + "'");
    }
    if (config.contains("negative")) {
      const auto c = get_checked<std::string>(config, "negative", type);
      if (c == "shift") p.negative = PhaseNegative::shift;
      else if (c == "rectify") p.negative = PhaseNegative::rectify;
      else throw InputError("encoder " + type + ".negative", "expected shift or rectify, got '" + c + "'");
    }
    if (config.contains("bands")) p.bands = get_checked<int>(config, "bands", type);
    if (config.contains("fs")) p.fs = get_checked<double>(config, "fs", type);
    if (config.contains("f_min")) p.f_min = get_checked<double>(config, "f_min", type);
    if (config.contains("f_max")) p.f_max = get_checked<double>(config, "f_max", type);
    if (config.contains("order")) p.order = get_checked<int>(config, "order", type);
    if (p.channels == PhaseChannels::filterbank) {
      const auto bands = filterbank_bands(p.bands, p.f_min, p.f_max, p.fs);  // validates
      butter_bandpass(p.order, bands.front().first, bands.front().second, p.fs);
    }
    return p;
  }
  if (type == "delta") {
    check_keys({"threshold"});
    DeltaParams p;
    if (config.contains("threshold")) p.threshold = thresholds_from(config["threshold"], "encoder delta.threshold");
    return p;
  }
  if (type == "sigma_delta") {
    check_keys({"threshold", "gain", "remove_mean"});
    SigmaDeltaParams p;
    if (config.contains("threshold"))
      p.threshold = thresholds_from(config["threshold"], "encoder sigma_delta.threshold");
    if (config.contains("gain")) p.gain = get_checked<float>(config, "gain", type);
    if (!std::isfinite(p.gain) || p.gain == 0.0f)
      throw InputError("encoder sigma_delta.gain", "must be finite and non-zero");
    if (config.contains("remove_mean")) p.remove_mean = get_checked<bool>(config, "remove_mean", type);
    return p;
  }
  if (type == "rate") {
    check_keys({"max_spikes", "seed"});
    RateParams p;
    if (config.contains("max_spikes")) p.max_spikes = get_checked<int>(config, "max_spikes", type);
    if (p.max_spikes < 1 || p.max_spikes > 255) throw InputError("encoder rate.max_spikes", "must be in 1..255");
    if (config.contains("seed")) p.seed = get_checked<std::uint64_t>(config, "seed", type);
    return p;
  }
  throw InputError("encoder.type '" + type + "'", "unknown; expected phase, phase4, delta, sigma_delta or rate");
}

nlohmann::json encoder_to_json(const EncoderParams& params) {
  using nlohmann::json;
  return std::visit(
      [](const auto& p) -> json {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, PhaseParams>) {
          json j = {{"type", "phase"},
                    {"bits", p.bits},
                    {"channels", p.channels == PhaseChannels::filterbank ? "filterbank" : "posneg"},
                    {"negative", p.negative == PhaseNegative::shift ? "shift" : "rectify"}};
          if (p.channels == PhaseChannels::filterbank) {
            j["bands"] = p.bands;
            j["fs"] = p.fs;
            j["f_min"] = p.f_min;
            j["f_max"] = p.f_max;
            j["order"] = p.order;
            json edges = json::array();
            for (const auto& [lo, hi] : filterbank_bands(p.bands, p.f_min, p.f_max, p.fs)) edges.push_back({lo, hi});
            j["band_edges_hz"] = edges;
          }
          return j;
        } else if constexpr (std::is_same_v<P, DeltaParams>) {
          return {{"type", "delta"}, {"threshold", p.threshold}};
        } else if constexpr (std::is_same_v<P, SigmaDeltaParams>) {
          return {{"type", "sigma_delta"}, {"threshold", p.threshold}, {"gain", p.gain}, {"remove_mean", p.remove_mean}};
        } else {
          return {{"type", "rate"}, {"max_spikes", p.max_spikes}, {"seed", p.seed}};
        }
      },
      params);
}

std::size_t encoder_channels(const EncoderParams& p, std::size_t dims) {
  if (const auto* ph = std::get_if<PhaseParams>(&p))
    return dims * (ph->channels == PhaseChannels::filterbank ? static_cast<std::size_t>(ph->bands) : 2);
  if (std::holds_alternative<RateParams>(p)) return dims;
  return 2 * dims;
}

std::size_t encoder_steps(const EncoderParams& p, std::size_t T) {
  if (const auto* ph = std::get_if<PhaseParams>(&p))
    if (T % static_cast<std::size_t>(ph->bits) != 0)
      throw InputError("encoder phase.bits", "window length " + std::to_string(T) +
                                                 " is not a multiple of bits = " + std::to_string(ph->bits));
  return T;
}

std::vector<std::string> encoder_channel_names(const EncoderParams& p, std::span<const std::string> dims) {
  std::vector<std::string> suffix;
  if (const auto* ph = std::get_if<PhaseParams>(&p)) {
    if (ph->channels == PhaseChannels::filterbank)
      for (int b = 0; b < ph->bands; ++b) suffix.push_back(":band" + std::to_string(b));
    else
      suffix = {":pos", ":neg"};
  } else if (std::holds_alternative<RateParams>(p)) {
    suffix = {""};
  } else {
    suffix = {":up", ":down"};
  }
  std::vector<std::string> names;
  for (const auto& d : dims)
    for (const auto& s : suffix) names.push_back(d + s);
  return names;
}

void encode_window(const EncoderParams& params, std::span<const float> x, std::size_t T, std::size_t D,
                   std::span<std::uint8_t> out, std::uint64_t stream) {
  SPIKELINE_ASSERT(x.size() >= T * D);
  const std::size_t need = encoder_steps(params, T) * encoder_channels(params, D);
  SPIKELINE_ASSERT(out.size() >= need);
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(need), std::uint8_t{0});
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, PhaseParams>) encode_phase(p, x, T, D, out);
        else if constexpr (std::is_same_v<P, DeltaParams>) encode_delta(p, x, T, D, out);
        else if constexpr (std::is_same_v<P, SigmaDeltaParams>) encode_sigma_delta(p, x, T, D, out);
        else encode_rate(p, x, T, D, out, stream);
      },
      params);
}

std::size_t scaled_steps(std::size_t native_steps, const TimeScale& s) {
  if (!(s.sample_period > 0 && s.sample_time_modifier > 0 && s.dt > 0))
    throw InputError("time scale", "sample period, sample_time_modifier and dt must be positive");
  const double bins = static_cast<double>(native_steps) * s.sample_period * s.sample_time_modifier / s.dt;
  const auto n = static_cast<std::size_t>(std::llround(bins));
  if (n == 0 || bins > 1e7)
    throw InputError("time scale", "gives " + std::to_string(bins) + " raster steps (dt too large or too small)");
  return n;
}

void rescale_raster(std::span<const std::uint8_t> in, std::size_t steps, std::size_t channels,
                    const TimeScale& s, std::span<std::uint8_t> out) {
  const std::size_t bins = scaled_steps(steps, s);
  SPIKELINE_ASSERT(in.size() >= steps * channels && out.size() >= bins * channels);
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(bins * channels), std::uint8_t{0});
  const double ratio = s.sample_period * s.sample_time_modifier / s.dt;
  for (std::size_t k = 0; k < steps; ++k) {
    // The small epsilon keeps k * ratio = 2.9999999 (binary rounding) in bin 3.
    const auto bin = std::min(bins - 1, static_cast<std::size_t>(std::floor(static_cast<double>(k) * ratio + 1e-9)));
    for (std::size_t c = 0; c < channels; ++c) {
      const unsigned sum = out[bin * channels + c] + in[k * channels + c];
      out[bin * channels + c] = static_cast<std::uint8_t>(std::min(sum, 255u));
    }
  }
}

data::SpikeSet encode_dataset(const data::WindowDataset& windows, const EncoderParams& params,
                              const TimeScale& scale_in, int threads, bool progress) {
  TimeScale scale = scale_in;
  if (windows.info.sample_rate_hz > 0) scale.sample_period = 1.0 / windows.info.sample_rate_hz;
  if (scale.dt <= 0) scale.dt = scale.sample_period * scale.sample_time_modifier;
  data::SpikeSet set;
  set.classes = windows.classes;
  const auto& ref = windows.splits[data::kTrain].x;
  const std::size_t T = ref.ndim() == 3 ? ref.dim(1) : static_cast<std::size_t>(windows.info.window);
  const std::size_t D = ref.ndim() == 3 ? ref.dim(2) : windows.info.dims.size();
  const std::size_t steps = encoder_steps(params, T), C = encoder_channels(params, D);
  const std::size_t bins = scaled_steps(steps, scale);
  const bool identity = bins == steps && std::abs(scale.sample_period * scale.sample_time_modifier / scale.dt - 1.0) < 1e-9;

  std::size_t total = 0;
  for (const auto& s : windows.splits) total += s.size();
  ProgressBar bar("encoding", total, progress);
  std::mutex bar_mutex;
  std::size_t done = 0;
  constexpr std::size_t kBlock = 256;
  for (int s = 0; s < 3; ++s) {
    const auto& in = windows.splits[s];
    auto& out = set.splits[s];
    const std::size_t n = in.size();
    if (n && (in.x.ndim() != 3 || in.x.dim(1) != T || in.x.dim(2) != D))
      throw InputError(std::string(data::kSplitNames[s]) + "_x", "window shape " + shape_to_string(in.x.shape) +
                                                                      " differs from the training split's");
    out.x = Array<std::uint8_t>({n, bins, C});
    out.y = in.y;
    const std::size_t blocks = (n + kBlock - 1) / kBlock;
    parallel_for(blocks, threads, [&](std::size_t block, int) {
      std::vector<std::uint8_t> native(steps * C);
      const std::size_t end = std::min(n, (block + 1) * kBlock);
      for (std::size_t i = block * kBlock; i < end; ++i) {
        const std::span<const float> x(in.x.ptr() + i * T * D, T * D);
        const std::span<std::uint8_t> dst(out.x.ptr() + i * bins * C, bins * C);
        const std::uint64_t stream = (static_cast<std::uint64_t>(s) << 40) | i;
        if (identity) {
          encode_window(params, x, T, D, dst, stream);
        } else {
          encode_window(params, x, T, D, native, stream);
          rescale_raster(native, steps, C, scale, dst);
        }
      }
      std::lock_guard lock(bar_mutex);
      done += end - block * kBlock;
      bar.update(done);
    });
  }
  bar.finish();

  set.info.encoder = encoder_to_json(params);
  set.info.channels = encoder_channel_names(params, windows.info.dims);
  if (set.info.channels.size() != C) {
    set.info.channels.clear();
    for (std::size_t c = 0; c < C; ++c) set.info.channels.push_back("ch" + std::to_string(c));
  }
  set.info.dt = scale.dt;
  set.info.sample_time_modifier = scale.sample_time_modifier;
  set.info.sample_period = scale.sample_period;
  set.info.windows = data::windows_sidecar(windows);
  set.info.windows.erase("arrays");
  return set;
}

}  // namespace spikeline::encode
