#include "spikeline/data/synth.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/rng.hpp"

namespace spikeline::data {

namespace {

constexpr double kGravity = 9.81;
constexpr double kTwoPi = 2.0 * std::numbers::pi;
// The motion is simulated on a grid this many times finer than the output rate, so that the
// gyroscope (the derivative of the orientation) is accurate before it is sampled.
constexpr int kOversample = 5;

// Per-subject traits: what makes one wearer differ from another.
struct SubjectStyle {
  double v = 1.0;        // difficulty: scales all variation
  double cadence = 1.0;  // tempo of periodic motions
  double amplitude = 1.0;
  double pitch_offset = 0.0, roll_offset = 0.0;  // how the watch sits on the wrist (rad)
  double acc_noise = 0.05, gyro_noise = 0.015;
  double gyro_bias[3] = {0, 0, 0};
  double pose_prob = 0.5;  // preference among alternative rest poses
};

// Ornstein-Uhlenbeck process: smooth random drift with stationary deviation `sigma` and
// correlation time `tau` (s).
struct Drift {
  double sigma, tau, x = 0.0;
  Drift(double sigma_, double tau_, Rng& rng) : sigma(sigma_), tau(tau_), x(sigma_ * rng.normal()) {}
  double step(Rng& rng, double h) {
    x += -x * h / tau + sigma * std::sqrt(2.0 * h / tau) * rng.normal();
    return x;
  }
};

// Sparse events (fidgets, keystrokes, steps): start times from a Poisson process of `rate` per s.
struct Event {
  double start, duration;
  double a[3];
};

std::vector<Event> poisson_events(Rng& rng, double rate, double t_end, double dur_lo, double dur_hi,
                                  double amp) {
  std::vector<Event> events;
  if (rate <= 0) return events;
  double t = -std::log(1.0 - rng.uniform()) / rate;
  while (t < t_end) {
    Event e{t, dur_lo + (dur_hi - dur_lo) * rng.uniform(), {amp * rng.normal(), amp * rng.normal(), amp * rng.normal()}};
    events.push_back(e);
    t += e.duration + -std::log(1.0 - rng.uniform()) / rate;
  }
  return events;
}

// Raised-cosine bump over [0, 1].
double bump(double u) { return (u <= 0.0 || u >= 1.0) ? 0.0 : 0.5 * (1.0 - std::cos(kTwoPi * u)); }
double pulse(double dt, double width) { return std::exp(-0.5 * (dt * dt) / (width * width)); }

// Sum of active bumps at time t; `next` advances through the sorted events.
void add_bumps(const std::vector<Event>& events, std::size_t& next, double t, double out[3]) {
  while (next < events.size() && events[next].start + events[next].duration < t) ++next;
  for (std::size_t k = next; k < events.size() && events[k].start <= t; ++k) {
    const double b = bump((t - events[k].start) / events[k].duration);
    for (int d = 0; d < 3; ++d) out[d] += b * events[k].a[d];
  }
}

// Orientation (pitch theta about the watch's y axis, roll phi about x, yaw psi about z) and linear
// acceleration (m/s^2, watch frame) on the fine grid.
struct Motion {
  std::vector<double> theta, phi, psi, lin;  // lin: [n][3]
  explicit Motion(std::size_t n) : theta(n), phi(n), psi(n), lin(3 * n) {}
};

// A periodic gait: steps at `step_hz`, the arm swinging once per stride (two steps).
struct GaitParams {
  double step_hz, swing_pitch, swing_roll, swing_yaw, bounce, impact, pitch0, roll0;
  double turn_rate;  // turns per second (stairs landings, corridor ends)
};

void gait(Motion& m, const SubjectStyle& st, const GaitParams& p, Rng& rng, double h) {
  const std::size_t n = m.theta.size();
  const double v = st.v;
  Drift tempo(0.04 * v + 0.01, 6.0, rng), swing(0.15 * v + 0.03, 4.0, rng);
  Drift pose_p(0.06 * v + 0.01, 10.0, rng), pose_r(0.08 * v + 0.01, 10.0, rng), heading(0.1, 5.0, rng);
  const double step_hz = p.step_hz * st.cadence * (1.0 + 0.05 * v * rng.normal());
  const double amp = st.amplitude * (1.0 + 0.15 * v * rng.normal());
  const double pitch0 = p.pitch0 + st.pitch_offset, roll0 = p.roll0 + st.roll_offset;
  const auto turns = poisson_events(rng, p.turn_rate, static_cast<double>(n) * h, 1.5, 3.0, 1.0);
  std::size_t next_turn = 0;
  double stride_phase = kTwoPi * rng.uniform();
  double yaw = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) * h;
    double turn[3] = {0, 0, 0};
    add_bumps(turns, next_turn, t, turn);
    const double walking = 1.0 - std::min(1.0, std::abs(turn[0]) * 0.6);  // slower while turning
    stride_phase += kTwoPi * 0.5 * step_hz * (1.0 + tempo.step(rng, h)) * h * (0.6 + 0.4 * walking);
    const double a = amp * (1.0 + swing.step(rng, h));
    const double s = std::sin(stride_phase);
    yaw += turn[1] * 1.2 * h;
    m.theta[i] = pitch0 + pose_p.step(rng, h) + a * p.swing_pitch * s;
    m.phi[i] = roll0 + pose_r.step(rng, h) + a * p.swing_roll * std::sin(stride_phase + 0.6);
    m.psi[i] = yaw + heading.step(rng, h) + a * p.swing_yaw * std::sin(stride_phase + 1.2);
    // Vertical bounce twice per stride, and a sharp impact at each foot strike.
    const double step_phase = std::fmod(2.0 * stride_phase, kTwoPi);
    const double impact = a * p.impact * pulse(step_phase / (kTwoPi * step_hz), 0.035);
    const double bounce = a * p.bounce * std::sin(2.0 * stride_phase + 0.3);
    m.lin[3 * i + 0] = 0.8 * impact + 0.4 * bounce;
    m.lin[3 * i + 1] = 0.3 * a * p.bounce * std::sin(stride_phase + 2.0);
    m.lin[3 * i + 2] = 0.6 * impact + bounce;
  }
}

// A rest pose with slow drift, breathing, fidgets and a faint tremor.
struct RestParams {
  double pitch_a, roll_a, pitch_b, roll_b;  // two alternative poses (chosen per recording)
  double sway, fidget_rate, fidget_amp;
};

void rest(Motion& m, const SubjectStyle& st, const RestParams& p, Rng& rng, double h) {
  const std::size_t n = m.theta.size();
  const double v = st.v;
  const bool pose_a = rng.uniform() < st.pose_prob;
  const double pitch0 = (pose_a ? p.pitch_a : p.pitch_b) + st.pitch_offset + 0.15 * v * rng.normal();
  const double roll0 = (pose_a ? p.roll_a : p.roll_b) + st.roll_offset + 0.2 * v * rng.normal();
  Drift dp(p.sway, 3.0, rng), dr(p.sway, 3.0, rng), dy(p.sway, 3.0, rng);
  const auto fidgets = poisson_events(rng, p.fidget_rate, static_cast<double>(n) * h, 0.6, 1.6, p.fidget_amp);
  std::size_t next = 0;
  const double breath_hz = 0.25 + 0.05 * rng.uniform(), tremor_hz = 5.0 + 2.0 * rng.uniform();
  const double ph = kTwoPi * rng.uniform();
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) * h;
    double f[3] = {0, 0, 0};
    add_bumps(fidgets, next, t, f);
    const double breath = 0.01 * std::sin(kTwoPi * breath_hz * t + ph);
    const double tremor = 0.003 * std::sin(kTwoPi * tremor_hz * t);
    m.theta[i] = pitch0 + dp.step(rng, h) + f[0] + breath + tremor;
    m.phi[i] = roll0 + dr.step(rng, h) + f[1] + tremor;
    m.psi[i] = dy.step(rng, h) + f[2];
    const double fidget_acc = 4.0 * (std::abs(f[0]) + std::abs(f[1]));
    m.lin[3 * i + 0] = 0.3 * fidget_acc * std::sin(kTwoPi * 1.3 * t);
    m.lin[3 * i + 1] = 0.3 * fidget_acc * std::cos(kTwoPi * 1.1 * t);
    m.lin[3 * i + 2] = 0.0;
  }
}

// Typing: forearm level, palm down; short taps at a few per second, in bursts; the hand travels
// over the keyboard.
void typing(Motion& m, const SubjectStyle& st, Rng& rng, double h) {
  const std::size_t n = m.theta.size();
  const double v = st.v;
  const double pitch0 = 0.05 + st.pitch_offset + 0.1 * v * rng.normal();
  const double roll0 = 0.1 + st.roll_offset + 0.15 * v * rng.normal();
  const double rate = 5.5 * st.cadence * (1.0 + 0.2 * v * rng.normal());
  const double amp = st.amplitude * (1.0 + 0.2 * v * rng.normal());
  Drift travel(0.12, 2.0, rng), dp(0.02, 3.0, rng), dr(0.03, 3.0, rng);
  bool active = true;
  double next_tap = 0.0, last_tap = -1.0;
  double tap_amp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) * h;
    // Bursts of typing with pauses (thinking): a two-state switch.
    if (rng.uniform() < h / (active ? 4.0 : 1.5)) active = !active;
    if (active && t >= next_tap) {
      last_tap = t;
      tap_amp = amp * (0.6 + 0.8 * rng.uniform());
      next_tap = t + std::max(0.06, -std::log(1.0 - rng.uniform()) / rate);
    }
    const double tap = last_tap >= 0 ? tap_amp * pulse(t - last_tap, 0.03) : 0.0;
    m.theta[i] = pitch0 + dp.step(rng, h) + 0.015 * tap;
    m.phi[i] = roll0 + dr.step(rng, h) + 0.01 * tap;
    m.psi[i] = travel.step(rng, h);
    m.lin[3 * i + 0] = 0.15 * tap;
    m.lin[3 * i + 1] = 0.1 * tap;
    m.lin[3 * i + 2] = -0.7 * tap;
  }
}

// Writing: hand on its side on the table; pen strokes at ~3.5 Hz in letter bursts, a slow drift
// along the line and a quick return at each line end.
void writing(Motion& m, const SubjectStyle& st, Rng& rng, double h) {
  const std::size_t n = m.theta.size();
  const double v = st.v;
  const double pitch0 = 0.1 + st.pitch_offset + 0.1 * v * rng.normal();
  const double roll0 = 0.45 + st.roll_offset + 0.15 * v * rng.normal();
  const double stroke_hz = 3.5 * st.cadence * (1.0 + 0.1 * v * rng.normal());
  const double amp = st.amplitude * (1.0 + 0.2 * v * rng.normal());
  Drift tempo(0.15, 0.5, rng), dp(0.02, 3.0, rng), dr(0.02, 3.0, rng);
  double phase = kTwoPi * rng.uniform(), line_pos = 0.0, envelope = 0.0;
  bool pen_down = true;
  const double line_seconds = 5.0 + 3.0 * rng.uniform();
  for (std::size_t i = 0; i < n; ++i) {
    if (rng.uniform() < h / (pen_down ? 0.8 : 0.25)) pen_down = !pen_down;
    envelope += ((pen_down ? 1.0 : 0.0) - envelope) * std::min(1.0, h / 0.05);
    phase += kTwoPi * stroke_hz * (1.0 + tempo.step(rng, h)) * h;
    line_pos += h / line_seconds;
    if (line_pos >= 1.0) line_pos -= 1.0;
    // Along the line the hand yaws slowly, then returns in the last 8 % of the line time.
    const double sweep = line_pos < 0.92 ? line_pos / 0.92 : (1.0 - line_pos) / 0.08;
    const double s = envelope * amp * std::sin(phase), c = envelope * amp * std::cos(phase * 0.5);
    m.theta[i] = pitch0 + dp.step(rng, h) + 0.015 * c;
    m.phi[i] = roll0 + dr.step(rng, h) + 0.02 * s;
    m.psi[i] = 0.35 * sweep + 0.03 * s;
    m.lin[3 * i + 0] = 0.35 * s;
    m.lin[3 * i + 1] = 0.25 * c;
    m.lin[3 * i + 2] = 0.1 * s;
  }
}

// Brushing teeth: forearm raised to the mouth; brisk back-and-forth strokes at ~4 Hz; the brush
// moves between regions of the mouth every few seconds; short pauses.
void brushing(Motion& m, const SubjectStyle& st, Rng& rng, double h) {
  const std::size_t n = m.theta.size();
  const double v = st.v;
  const double pitch0 = 0.85 + st.pitch_offset + 0.15 * v * rng.normal();
  const double roll0 = 0.9 + st.roll_offset + 0.3 * v * rng.normal();
  const double stroke_hz = 4.0 * st.cadence * (1.0 + 0.1 * v * rng.normal());
  const double amp = st.amplitude * (1.0 + 0.2 * v * rng.normal());
  Drift tempo(0.08, 1.0, rng);
  const auto regions = poisson_events(rng, 0.15, static_cast<double>(n) * h, 1.0, 1.0, 0.0);
  double region_pitch = 0.0, region_roll = 0.0, target_pitch = 0.0, target_roll = 0.0;
  std::size_t next_region = 0;
  double phase = kTwoPi * rng.uniform(), envelope = 1.0;
  bool brushing_now = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) * h;
    if (next_region < regions.size() && t >= regions[next_region].start) {
      target_pitch = 0.15 * rng.normal();
      target_roll = 0.3 * rng.normal();
      ++next_region;
    }
    region_pitch += (target_pitch - region_pitch) * std::min(1.0, h / 0.4);
    region_roll += (target_roll - region_roll) * std::min(1.0, h / 0.4);
    if (rng.uniform() < h / (brushing_now ? 20.0 : 1.5)) brushing_now = !brushing_now;
    envelope += ((brushing_now ? 1.0 : 0.1) - envelope) * std::min(1.0, h / 0.2);
    phase += kTwoPi * stroke_hz * (1.0 + tempo.step(rng, h)) * h;
    const double s = envelope * amp * std::sin(phase);
    m.theta[i] = pitch0 + region_pitch + 0.05 * s;
    m.phi[i] = roll0 + region_roll + 0.1 * std::sin(phase + 0.5) * envelope * amp;
    m.psi[i] = 0.12 * s;
    m.lin[3 * i + 0] = 0.5 * s;
    m.lin[3 * i + 1] = 2.5 * s;
    m.lin[3 * i + 2] = 0.4 * envelope * amp * std::sin(2.0 * phase);
  }
}

Motion simulate(char activity, const SubjectStyle& st, Rng& rng, std::size_t n, double h) {
  Motion m(n);
  switch (activity) {
    case 'A':  // walking
      gait(m, st, {1.85, 0.30, 0.08, 0.15, 1.8, 2.5, -0.75, 0.2, 0.03}, rng, h);
      break;
    case 'B':  // jogging: forearm bent, fast, strong impacts
      gait(m, st, {2.6, 0.50, 0.2, 0.25, 5.0, 7.0, -0.15, 0.3, 0.02}, rng, h);
      break;
    case 'C':  // stairs: slower steps, less swing, harder bounce, turns at landings
      gait(m, st, {1.55, 0.20, 0.10, 0.12, 2.4, 3.2, -0.6, 0.35, 0.07}, rng, h);
      break;
    case 'D':  // sitting: hands on the lap, or the forearm on an armrest
      rest(m, st, {-0.25, 0.5, -0.6, 0.9, 0.03, 0.12, 0.25}, rng, h);
      break;
    case 'E':  // standing: arm hanging, or hands held in front
      rest(m, st, {-1.15, 0.1, -0.35, 0.4, 0.04, 0.08, 0.2}, rng, h);
      break;
    case 'F': typing(m, st, rng, h); break;
    case 'G': brushing(m, st, rng, h); break;
    case 'Q': writing(m, st, rng, h); break;
    default:
      throw InputError("synth activities", "no generator for activity '" + std::string(1, activity) +
                                               "'; supported: " + std::string(synth_supported_activities()));
  }
  return m;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void append_float(std::string& out, float v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 7);
  out.append(buf, res.ptr);
}

std::vector<std::uint8_t> gzip_bytes(const std::string& text) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("zlib: deflateInit2 failed");
  std::vector<std::uint8_t> out(deflateBound(&zs, text.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error("zlib: deflate failed");
  out.resize(written);
  return out;
}

}  // namespace

std::string_view synth_supported_activities() { return "ABCDEFGQ"; }

SynthSubject synthesize_subject(const SynthOptions& o, int index) {
  if (o.sample_rate_hz <= 0 || o.seconds <= 0)
    throw InputError("synth", "sample rate and duration must be positive");
  Rng rng(mix(o.seed, static_cast<std::uint64_t>(index)));
  const double v = std::max(0.0, o.difficulty);
  SubjectStyle st;
  st.v = v;
  st.cadence = 1.0 + v * rng.uniform(-0.12f, 0.12f);
  st.amplitude = 1.0 + v * rng.uniform(-0.25f, 0.25f);
  st.pitch_offset = v * 0.15 * rng.normal();
  st.roll_offset = v * 0.2 * rng.normal();
  st.acc_noise = 0.04 + v * 0.12 * rng.uniform();
  st.gyro_noise = 0.01 + v * 0.03 * rng.uniform();
  for (double& b : st.gyro_bias) b = v * 0.01 * rng.normal();
  st.pose_prob = 0.5 + 0.4 * (rng.uniform() - 0.5);

  SynthSubject out;
  out.subject = o.first_subject + index;
  const std::size_t n = static_cast<std::size_t>(std::llround(o.seconds * o.sample_rate_hz));
  const double h = 1.0 / (o.sample_rate_hz * kOversample);
  const auto period_ns = static_cast<std::int64_t>(std::llround(1e9 / o.sample_rate_hz));
  std::int64_t clock = 10'000'000'000'000LL + static_cast<std::int64_t>(rng.below(80'000'000'000'000ULL));

  for (char act : o.activities) {
    Rng arng(mix(mix(o.seed, static_cast<std::uint64_t>(index)), static_cast<std::uint64_t>(act)));
    // The watch's two sensors share timestamps; the accelerometer often logs a sample more at the
    // start or one or two more at the end (as in the real files).
    const std::size_t extra_head = arng.uniform() < 0.3 ? 1 : 0;
    const std::size_t extra_tail = arng.uniform() < 0.7 ? 1 + arng.below(2) : 0;
    const std::size_t total = extra_head + n + extra_tail;
    const Motion m = simulate(act, st, arng, total * kOversample + 2, h);

    SensorRecording acc, gyr;
    acc.subject = gyr.subject = out.subject;
    acc.activity = gyr.activity = act;
    // One recording in twenty has a pause in logging (a gap) of 1.5 to 4 s.
    const std::size_t gap_at = arng.uniform() < 0.05 * v ? 1 + arng.below(total - 1) : total;
    const auto gap_ns = static_cast<std::int64_t>((1.5 + 2.5 * arng.uniform()) * 1e9);
    for (std::size_t k = 0; k < total; ++k) {
      clock += period_ns + static_cast<std::int64_t>(0.005 * period_ns * arng.normal());
      if (k == gap_at) clock += gap_ns;
      const std::size_t i = k * kOversample + 1;
      const double th = m.theta[i], ph = m.phi[i];
      const double acc_v[3] = {-kGravity * std::sin(th) + m.lin[3 * i],
                               kGravity * std::sin(ph) * std::cos(th) + m.lin[3 * i + 1],
                               kGravity * std::cos(ph) * std::cos(th) + m.lin[3 * i + 2]};
      const double gyr_v[3] = {(m.phi[i + 1] - m.phi[i - 1]) / (2 * h),
                               (m.theta[i + 1] - m.theta[i - 1]) / (2 * h),
                               (m.psi[i + 1] - m.psi[i - 1]) / (2 * h)};
      const bool in_gyro = k >= extra_head && k < extra_head + n;
      acc.timestamp.push_back(clock);
      for (int d = 0; d < 3; ++d) acc.xyz.push_back(static_cast<float>(acc_v[d] + st.acc_noise * arng.normal()));
      if (in_gyro) {
        gyr.timestamp.push_back(clock);
        for (int d = 0; d < 3; ++d)
          gyr.xyz.push_back(static_cast<float>(gyr_v[d] + st.gyro_bias[d] + st.gyro_noise * arng.normal()));
      }
    }
    clock += static_cast<std::int64_t>((30.0 + 90.0 * arng.uniform()) * 1e9);  // a break between activities
    out.accel.push_back(std::move(acc));
    out.gyro.push_back(std::move(gyr));
  }
  return out;
}

std::string format_wisdm_raw(const std::vector<SensorRecording>& recordings) {
  std::string out;
  std::size_t lines = 0;
  for (const auto& r : recordings) lines += r.size();
  out.reserve(lines * 56);
  char buf[32];
  for (const auto& r : recordings) {
    const std::string prefix = std::to_string(r.subject) + "," + std::string(1, r.activity) + ",";
    for (std::size_t k = 0; k < r.size(); ++k) {
      out += prefix;
      out.append(buf, std::to_chars(buf, buf + sizeof buf, r.timestamp[k]).ptr);
      for (int d = 0; d < 3; ++d) {
        out += ',';
        append_float(out, r.xyz[3 * k + d]);
      }
      out += ";\n";
    }
  }
  return out;
}

std::vector<int> write_synthetic_wisdm(const std::filesystem::path& out, const SynthOptions& o) {
  if (o.subjects <= 0) throw InputError("synth subjects", "must be positive");
  if (o.activities.empty()) throw InputError("synth activities", "none given");
  for (char a : o.activities)
    if (synth_supported_activities().find(a) == std::string_view::npos)
      throw InputError("synth activities", "no generator for '" + std::string(1, a) +
                                               "'; supported: " + std::string(synth_supported_activities()));
  if (std::string sorted = o.activities; std::sort(sorted.begin(), sorted.end()),
      std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw InputError("synth activities", "an activity is named twice");

  const auto root = out / "raw" / "watch";
  std::vector<int> ids(static_cast<std::size_t>(o.subjects));
  parallel_for(ids.size(), o.threads, [&](std::size_t task, int) {
    const SynthSubject s = synthesize_subject(o, static_cast<int>(task));
    ids[task] = s.subject;
    for (const Sensor sensor : {Sensor::accel, Sensor::gyro}) {
      const std::string text = format_wisdm_raw(sensor == Sensor::accel ? s.accel : s.gyro);
      const std::string name = "data_" + std::to_string(s.subject) + "_" + std::string(sensor_name(sensor)) +
                               "_watch.txt" + (o.gzip ? ".gz" : "");
      const auto path = root / std::string(sensor_name(sensor)) / name;
      if (o.gzip) {
        write_file_atomic(path, gzip_bytes(text));
      } else {
        write_file_atomic(path, std::string_view(text));
      }
    }
  });

  std::string key;
  for (const auto& a : wisdm_activities()) key += std::string(a.name) + " = " + a.letter + "\n";
  write_file_atomic(out / "activity_key.txt", std::string_view(key));
  nlohmann::json meta = {{"generator", "spikeline synthetic wrist IMU"},
                         {"subjects", ids},
                         {"seed", o.seed},
                         {"seconds", o.seconds},
                         {"sample_rate_hz", o.sample_rate_hz},
                         {"activities", o.activities},
                         {"difficulty", o.difficulty},
                         {"gzip", o.gzip}};
  write_file_atomic(out / "synth.json", meta.dump(2) + "\n");
  return ids;
}

}  // namespace spikeline::data
