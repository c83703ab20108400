#pragma once
// Spike encoders: a window x [T][D] (row-major, time-major) becomes a raster of spike counts
// [T'][C] (uint8, row-major). Formulas and parameters: docs/data.md, "Spike encoding".
//
//   phase        4-bit phase code of the thesis (PoliTo / spikify "PHASE"), with the two candidate
//                ways of making 2 channels per dim: a 2-band Butterworth filterbank per axis, or
//                positive/negative halves. T' = T, C = 2 D (channel 2d+k: dim d, band/half k).
//   delta        up/down threshold crossing (send-on-delta): T' = T, C = 2 D (2d: up, 2d+1: down).
//   sigma_delta  first-order sigma-delta modulator with up/down outputs: T' = T, C = 2 D.
//   rate         rate coding, Bernoulli slots per step, seeded: T' = T, C = D.
//
// Encoders are pure functions of (parameters, window, stream id): no state survives a window.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/data/spikes.hpp"
#include "spikeline/data/windows.hpp"

namespace spikeline::encode {

enum class PhaseChannels {
  filterbank,  // (a) two octave-spaced Butterworth band-passes per axis (the PoliTo filterbank)
  posneg,      // (b) max(x, 0) and max(-x, 0) per axis
};
enum class PhaseNegative {
  shift,    // spikify: subtract the channel's minimum when it is negative
  rectify,  // PoliTo original: negative values become 0
};

struct PhaseParams {
  int bits = 4;  // T must be a multiple of bits
  // posneg by default: trained on WISDM 2CB with the thesis's recipe it reproduces the thesis's
  // learning curve, while the filterbank variant floods the network and never learns
  // (docs/results.md), so posneg is most likely what the thesis's encoded data were.
  PhaseChannels channels = PhaseChannels::posneg;
  PhaseNegative negative = PhaseNegative::shift;
  // Filterbank (channels == filterbank): `bands` band-passes between f_min and f_max at fs.
  int bands = 2;
  double fs = 20.0, f_min = 0.5, f_max = 10.0;
  int order = 2;  // Butterworth order per band edge (scipy butter(N=order, btype="band"))
};

struct DeltaParams {
  std::vector<float> threshold{0.5f};  // per dim, or one value for all; > 0
};

struct SigmaDeltaParams {
  std::vector<float> threshold{1.0f};  // per dim, or one for all; > 0
  float gain = 1.0f;                   // input scale before integration
  bool remove_mean = true;             // integrate x - mean(window) (removes gravity)
};

struct RateParams {
  int max_spikes = 1;        // Bernoulli slots per step (the count is at most this)
  std::uint64_t seed = 0;    // combined with the window's stream id
};

using EncoderParams = std::variant<PhaseParams, DeltaParams, SigmaDeltaParams, RateParams>;

// "phase", "delta", "sigma_delta", "rate".
std::string_view encoder_type(const EncoderParams& p);
// From {"type": "...", ...parameters}; "phase4" is phase with bits = 4. Unknown keys and bad values
// throw InputError naming the key.
EncoderParams encoder_from_json(const nlohmann::json& config);
nlohmann::json encoder_to_json(const EncoderParams& p);

std::size_t encoder_channels(const EncoderParams& p, std::size_t dims);
std::size_t encoder_steps(const EncoderParams& p, std::size_t T);  // InputError when T does not fit
// Channel names from the input dims' names, e.g. "acc_x:band0", "gyro_z:down".
std::vector<std::string> encoder_channel_names(const EncoderParams& p, std::span<const std::string> dims);

// Encodes one window. `x` is [T][D]; `out` must hold steps * channels counts and is overwritten.
// `stream` seeds the randomness of the rate coder (use the window's index).
void encode_window(const EncoderParams& p, std::span<const float> x, std::size_t T, std::size_t D,
                   std::span<std::uint8_t> out, std::uint64_t stream = 0);

// The single stages, exposed for tests.
struct Biquad {  // one transfer function b/a of any order (a[0] == 1)
  std::vector<double> b, a;
};
// scipy.signal.butter(order, [lo, hi], btype="band", fs=fs) as (b, a).
Biquad butter_bandpass(int order, double lo_hz, double hi_hz, double fs);
// Band edges of the PoliTo/spikify filterbank: octave-spaced centres from f_min, last edge 0.99999 fs/2.
std::vector<std::pair<double, double>> filterbank_bands(int bands, double f_min, double f_max, double fs);
// scipy.signal.lfilter(b, a, x) with zero initial state.
std::vector<double> lfilter(const Biquad& f, std::span<const double> x);
// Phase code of one channel (length T, multiple of bits) into out[T] (0/1).
void phase_code(std::span<const double> signal, int bits, PhaseNegative negative, std::span<std::uint8_t> out);

// The thesis's time scaling: an event at input step k (time k * sample_period) lands in raster bin
// floor(k * sample_period * sample_time_modifier / dt); the raster has
// round(T * sample_period * sample_time_modifier / dt) bins; counts add up (saturating at 255).
struct TimeScale {
  double sample_period = 0.05;       // seconds per input sample (1 / 20 Hz)
  double sample_time_modifier = 1.0;  // 0.02 for the Dynap-SE2 path
  double dt = 0.05;                   // seconds per raster bin (1e-3 for Dynap-SE2)
  // encode_dataset: dt <= 0 means one bin per input sample (dt = sample_period * modifier).
};
std::size_t scaled_steps(std::size_t native_steps, const TimeScale& scale);  // InputError if 0
void rescale_raster(std::span<const std::uint8_t> in, std::size_t steps, std::size_t channels,
                    const TimeScale& scale, std::span<std::uint8_t> out);

// Encodes every window of every split (in parallel over windows) into a spike set whose sidecar
// records the encoder, the time scale and the windows' provenance. The sample period is taken from
// the windows (1 / sample_rate_hz); scale.dt <= 0 selects one bin per input sample.
data::SpikeSet encode_dataset(const data::WindowDataset& windows, const EncoderParams& params,
                              const TimeScale& scale = {}, int threads = 2, bool progress = false);

}  // namespace spikeline::encode
