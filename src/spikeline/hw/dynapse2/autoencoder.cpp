#include "spikeline/hw/dynapse2/autoencoder.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <string>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

constexpr float kPenalty = 1000.0f;  // Rockpool's f_penalty
constexpr std::size_t kLanes = 8;    // partial sums per reduction

// exp in float32 without branches or errno so that the compiler vectorises the sigmoid pass (glibc's
// expf is scalar and dominated the step time). Cephes' expf: exp(x) = 2^n exp(r), |r| <= ln2/2,
// degree-6 polynomial; within 2 ulp of expf over the clamped range.
[[gnu::always_inline]] inline float exp_f32(float x) {
  x = std::min(std::max(x, -87.3f), 88.3f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * (r * r) + r + 1.0f;
  const auto bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23;
  return e * std::bit_cast<float>(bits);
}

[[gnu::always_inline]] inline float sigmoid(float w) { return 1.0f / (1.0f + exp_f32(-w)); }

// Rockpool's step_pwl_ae forward: clip(floor(p + 0.5), 0). Computed in float so that p just
// below 0.5 rounds up exactly as in float32 jax.
[[gnu::always_inline]] inline float bit_of(float p) { return std::max(std::floor(p + 0.5f), 0.0f); }

std::array<float, kCodeLength> encode(std::span<const float> x, const float* w_en) {
  // Two rows per lane step: 8 independent partial sums (i % 2, k) in double.
  std::array<double, 2 * kCodeLength> acc{};
  for (std::size_t i = 0; i < x.size(); ++i)
    for (int k = 0; k < kCodeLength; ++k)
      acc[(i % 2) * kCodeLength + k] += static_cast<double>(x[i]) * w_en[i * kCodeLength + k];
  std::array<float, kCodeLength> code{};
  for (int k = 0; k < kCodeLength; ++k) code[k] = static_cast<float>(acc[k] + acc[kCodeLength + k]);
  return code;
}

std::vector<float> uniform_block(std::size_t n, double bound, Rng& rng) {
  std::vector<float> out(n);
  for (float& v : out) v = static_cast<float>(-bound + 2.0 * bound * rng.uniform());
  return out;
}

}  // namespace

AutoencoderInit random_autoencoder_init(std::size_t m, Rng& rng) {
  AutoencoderInit init;
  init.W_en = uniform_block(m * kCodeLength, std::sqrt(6.0 / static_cast<double>(m)), rng);
  init.W_dec = uniform_block(m * kCodeLength, std::sqrt(6.0 / kCodeLength), rng);
  return init;
}

BitAutoencoder::BitAutoencoder(std::vector<float> x, const AutoencoderInit& init) : m_(x.size()), x_(std::move(x)) {
  if (m_ == 0) throw InputError("autoencoder", "no weights to quantise");
  const std::size_t n = m_ * kCodeLength;
  if (init.W_en.size() != n || init.W_dec.size() != n)
    throw InputError("autoencoder init", "W_en and W_dec need " + std::to_string(n) + " values each (M = " +
                                             std::to_string(m_) + "), got " + std::to_string(init.W_en.size()) +
                                             " and " + std::to_string(init.W_dec.size()));
  theta_.reserve(2 * n);
  theta_.insert(theta_.end(), init.W_en.begin(), init.W_en.end());
  theta_.insert(theta_.end(), init.W_dec.begin(), init.W_dec.end());
  grad_.assign(2 * n, 0.0f);
  mom1_.assign(2 * n, 0.0f);
  mom2_.assign(2 * n, 0.0f);
  prob_.assign(n, 0.0f);
  d_recon_.assign(m_, 0.0f);
}

float BitAutoencoder::evaluate() {
  const std::size_t m = m_;
  const float* x = x_.data();
  const float* w_dec = theta_.data() + kCodeLength * m;
  float* g_en = grad_.data();
  float* g_dec = g_en + kCodeLength * m;
  const std::array<float, kCodeLength> code = encode(x_, theta_.data());

  // P = sigmoid(W_dec) in one contiguous (vectorised) pass.
  float* __restrict prob = prob_.data();
  for (std::size_t j = 0; j < kCodeLength * m; ++j) prob[j] = sigmoid(w_dec[j]);

  // Forward: recon = code @ bits, r = recon - x, d recon = d mean(r^2)/d recon = 2 r / M. Loops run
  // over contiguous rows so that they vectorise; sums use kLanes fixed partial sums in double
  // (deterministic order).
  float* __restrict d_rec = d_recon_.data();
  for (std::size_t i = 0; i < m; ++i) d_rec[i] = 0.0f;
  for (int k = 0; k < kCodeLength; ++k) {
    const float* __restrict pk = prob + k * m;
    for (std::size_t i = 0; i < m; ++i) d_rec[i] += code[k] * bit_of(pk[i]);
  }
  const float inv_m = 1.0f / static_cast<float>(m);
  std::array<double, kLanes> sq{};
  for (std::size_t i = 0; i < m; ++i) {
    const float r = d_rec[i] - x[i];
    sq[i % kLanes] += static_cast<double>(r) * r;
    d_rec[i] = 2.0f * r * inv_m;
  }
  double sq_sum = 0.0;
  for (double v : sq) sq_sum += v;

  // Backward: d bits/d P = P (custom jvp), d P/d W_dec = P (1 - P).
  std::array<double, kCodeLength> d_code{};
  for (int k = 0; k < kCodeLength; ++k) {
    const float* __restrict pk = prob + k * m;
    float* __restrict gk = g_dec + k * m;
    std::array<double, kLanes> acc{};
    for (std::size_t i = 0; i < m; ++i) {
      acc[i % kLanes] += static_cast<double>(d_rec[i] * bit_of(pk[i]));
      gk[i] = code[k] * d_rec[i] * pk[i] * (pk[i] * (1.0f - pk[i]));
    }
    for (double v : acc) d_code[k] += v;
  }

  // Penalty 1000 * (sum_k exp(-min(code_k, 0)) - 4); the bit-mask round-trip term is 0 for binary
  // masks and has no gradient (integer conversion). At code_k == 0 jax's min splits the gradient.
  float penalty = 0.0f;
  std::array<float, kCodeLength> d_code_f{};
  for (int k = 0; k < kCodeLength; ++k) {
    const float e = std::exp(-std::min(code[k], 0.0f));
    penalty += e;
    const float share = code[k] < 0.0f ? 1.0f : (code[k] == 0.0f ? 0.5f : 0.0f);
    d_code_f[k] = static_cast<float>(d_code[k]) - kPenalty * share * e;
  }
  penalty -= static_cast<float>(kCodeLength);

  for (std::size_t i = 0; i < m; ++i)
    for (int k = 0; k < kCodeLength; ++k) g_en[i * kCodeLength + k] = x[i] * d_code_f[k];

  return static_cast<float>(sq_sum / static_cast<double>(m)) + kPenalty * penalty;
}

void BitAutoencoder::adam_update(std::int64_t step, float lr) {
  // jax.example_libraries.optimizers.adam, float32.
  constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const auto t = static_cast<float>(step + 1);
  const float c1 = 1.0f - std::pow(b1, t), c2 = 1.0f - std::pow(b2, t);
  const std::size_t n = theta_.size();
  float* __restrict th = theta_.data();
  const float* __restrict g = grad_.data();
  float* __restrict m1 = mom1_.data();
  float* __restrict m2 = mom2_.data();
  for (std::size_t j = 0; j < n; ++j) {
    m1[j] = (1.0f - b1) * g[j] + b1 * m1[j];
    m2[j] = (1.0f - b2) * (g[j] * g[j]) + b2 * m2[j];
    const float mhat = m1[j] / c1, vhat = m2[j] / c2;
    th[j] -= lr * mhat / (std::sqrt(vhat) + eps);
  }
}

std::array<float, kCodeLength> BitAutoencoder::code() const { return encode(x_, theta_.data()); }

std::vector<int> BitAutoencoder::masks() const {
  const float* w_dec = theta_.data() + kCodeLength * m_;
  std::vector<int> out(m_, 0);
  for (int k = 0; k < kCodeLength; ++k)
    for (std::size_t i = 0; i < m_; ++i)
      if (bit_of(sigmoid(w_dec[k * m_ + i])) != 0.0f) out[i] |= 1 << k;
  return out;
}

bool PlateauStop::update(double chunk_mean) {
  if (best_ - chunk_mean < eps_) return ++count_ > patience_;
  count_ = 0;
  best_ = chunk_mean;
  return false;
}

void validate_autoencoder_options(const AutoencoderOptions& o) {
  if (o.n_bits != kWeightBits)
    throw InputError("autoencoder", "n_bits = " + std::to_string(o.n_bits) + ": only 4-bit masks are supported");
  if (o.num_epoch < 1) throw InputError("autoencoder", "num_epoch must be >= 1");
  if (o.num_epoch_checkpoint < 1) throw InputError("autoencoder", "num_epoch_checkpoint must be >= 1");
  if (!(o.step_size > 0.0) || !std::isfinite(o.step_size))
    throw InputError("autoencoder", "step_size must be a positive number");
  if (!std::isfinite(o.eps)) throw InputError("autoencoder", "eps must be finite");
}

AutoencoderRun train_autoencoder(BitAutoencoder& ae, const AutoencoderOptions& options, bool record_trace) {
  validate_autoencoder_options(options);
  const auto lr = static_cast<float>(options.step_size);
  AutoencoderRun run;
  const auto one_step = [&](std::int64_t counter) {
    const float loss = ae.evaluate();
    if (!std::isfinite(loss))
      throw Error("autoencoder quantisation: loss became " + std::to_string(loss) + " at step " +
                  std::to_string(run.steps));
    ae.adam_update(counter, lr);
    run.last_loss = loss;
    ++run.steps;
    if (record_trace) run.loss_trace.push_back(loss);
    return loss;
  };
  if (options.fixed_epoch) {
    if (record_trace) run.loss_trace.reserve(static_cast<std::size_t>(options.num_epoch));
    for (std::int64_t s = 0; s < options.num_epoch; ++s) one_step(s);
    return run;
  }
  PlateauStop stop(options.eps);
  const int chunk = options.num_epoch_checkpoint;
  for (std::int64_t start = 0; start < options.num_epoch; start += chunk) {
    double sum = 0.0;
    for (int s = 0; s < chunk; ++s) sum += one_step(s);
    if (stop.update(sum / chunk)) break;
  }
  return run;
}

ClusterQuantization learn_weights(const Matrix& w_in, const Matrix& w_rec, double Iscale,
                                  const AutoencoderOptions& options, Rng& rng, const AutoencoderInit* init) {
  validate_autoencoder_options(options);
  const std::vector<double> w_flat = flatten_weights(w_in, w_rec);
  ClusterQuantization out;
  if (w_flat.empty()) return out;
  const auto [lo, hi] = std::minmax_element(w_flat.begin(), w_flat.end());
  out.scale_factor = 1.0 / (*hi - *lo + 1.0);
  std::vector<float> x(w_flat.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(out.scale_factor * w_flat[i]);

  BitAutoencoder ae(std::move(x), init ? *init : random_autoencoder_init(w_flat.size(), rng));
  const AutoencoderRun run = train_autoencoder(ae, options);
  out.masks = ae.masks();
  const std::array<float, kCodeLength> code = ae.code();
  for (int k = 0; k < kWeightBits; ++k) out.Iw[k] = static_cast<double>(code[k]) * Iscale / out.scale_factor;
  out.loss = run.last_loss;
  out.steps = run.steps;
  return out;
}

}  // namespace spikeline::hw::dynapse2
