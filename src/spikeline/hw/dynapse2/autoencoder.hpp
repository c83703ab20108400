#pragma once
// The autoencoder weight quantisation of one Dynap-SE2 cluster (Rockpool 2.7
// devices/dynapse/quantization/autoencoder; shared docs dynapse2.md §6). The M non-zero |weights|
// of a cluster, scaled into [0, 1), are encoded into 4 base currents (`code`) and decoded by a
// 4 x M bit matrix; both are learnt with Adam on the reconstruction error. All arithmetic is float32
// as in Rockpool (jax's default), reductions are accumulated in double.
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/weights.hpp"

namespace spikeline::hw::dynapse2 {

struct AutoencoderOptions {
  int n_bits = 4;            // only 4 (the chip's masks) is supported
  bool fixed_epoch = false;  // true: exactly num_epoch steps (the DERIVED golden's mode)
  std::int64_t num_epoch = 10'000'000;
  int num_epoch_checkpoint = 1000;
  double eps = 1e-6;
  double step_size = 1e-4;
  std::uint64_t seed = 0;  // initialisation of W_en, W_dec
};

inline constexpr int kCodeLength = kWeightBits;

// Autoencoder parameters: W_en [M, 4] and W_dec [4, M], row-major.
struct AutoencoderInit {
  std::vector<float> W_en;
  std::vector<float> W_dec;
};

// Rockpool's kaiming init: W_en ~ U(+-sqrt(6/M)) drawn first, then W_dec ~ U(+-sqrt(6/4)).
AutoencoderInit random_autoencoder_init(std::size_t m, Rng& rng);

// Parameters, Adam moments and workspace of one cluster's autoencoder; nothing is allocated per step.
class BitAutoencoder {
 public:
  // x: the scaled flat weights (length M >= 1). Throws InputError when init's sizes do not fit.
  BitAutoencoder(std::vector<float> x, const AutoencoderInit& init);

  std::size_t size() const { return m_; }
  // Loss at the current parameters; also computes its gradient (read with grad_W_en/grad_W_dec).
  float evaluate();
  // One Adam step (b1 0.9, b2 0.999, eps 1e-8) along the last evaluate()'s gradient; `step` is the
  // counter the bias correction sees (0 for the first step).
  void adam_update(std::int64_t step, float lr);

  std::span<const float> W_en() const { return {theta_.data(), 4 * m_}; }
  std::span<const float> W_dec() const { return {theta_.data() + 4 * m_, 4 * m_}; }
  std::span<const float> grad_W_en() const { return {grad_.data(), 4 * m_}; }
  std::span<const float> grad_W_dec() const { return {grad_.data() + 4 * m_, 4 * m_}; }
  // Forward pass at the current parameters.
  std::array<float, kCodeLength> code() const;
  std::vector<int> masks() const;  // sum_k bit_k << k per weight

 private:
  std::size_t m_;
  std::vector<float> x_;
  std::vector<float> theta_;  // W_en then W_dec: one contiguous block for the Adam loop
  std::vector<float> grad_, mom1_, mom2_;
  std::vector<float> prob_;     // sigmoid(W_dec), workspace of evaluate()
  std::vector<float> d_recon_;  // recon, then d loss/d recon, workspace of evaluate()
};

// Rockpool's convergence rule, fed one chunk mean at a time: a chunk counts as "no progress" when
// it lowers the best mean so far by less than eps; stop after more than `patience` in a row.
class PlateauStop {
 public:
  explicit PlateauStop(double eps, int patience = 5) : eps_(eps), patience_(patience) {}
  bool update(double chunk_mean);  // true: stop now

 private:
  double eps_;
  int patience_;
  double best_ = std::numeric_limits<double>::infinity();
  int count_ = 0;
};

struct AutoencoderRun {
  float last_loss = 0;          // loss of the last step (Rockpool's quantization_loss)
  std::int64_t steps = 0;
  std::vector<float> loss_trace;  // per step, only when asked for
};

// Fixed mode: num_epoch steps with a plain step counter. Otherwise chunks of num_epoch_checkpoint
// steps whose Adam step counter restarts at 0 in every chunk (Rockpool quirk: the bias correction
// restarts, the moments do not), stopped by PlateauStop on the chunk means or after the chunk that
// reaches num_epoch steps. Throws Error if the loss stops being finite.
AutoencoderRun train_autoencoder(BitAutoencoder& ae, const AutoencoderOptions& options, bool record_trace = false);

// One cluster's result (Rockpool learn_weights).
struct ClusterQuantization {
  std::vector<int> masks;                   // per non-zero weight of vstack(w_in, w_rec), row-major
  std::array<double, kWeightBits> Iw{};     // code_k * Iscale / scale_factor (A)
  double scale_factor = 0;                  // 1 / (max|w| - min|w| + 1)
  double loss = 0;                          // last training loss
  std::int64_t steps = 0;
};

// Quantises the non-zero weights of w_in/w_rec (columns of other clusters already zeroed). `init`
// (for golden tests) replaces the random init drawn from `rng`. A cluster without non-zero weights
// gets no masks, Iw 0 and loss 0 (Rockpool would fail on the empty max). Throws InputError on bad
// options or shapes.
ClusterQuantization learn_weights(const Matrix& w_in, const Matrix& w_rec, double Iscale,
                                  const AutoencoderOptions& options, Rng& rng, const AutoencoderInit* init = nullptr);

// Throws InputError naming the option when it is out of range.
void validate_autoencoder_options(const AutoencoderOptions& options);

}  // namespace spikeline::hw::dynapse2
