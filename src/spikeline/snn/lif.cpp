#include "spikeline/snn/lif.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace spikeline::snn {

namespace {
std::vector<float> expand(const std::vector<float>& v, int n) {
  if (v.size() == 1) return std::vector<float>(n, v[0]);
  return v;
}
}  // namespace

LoweredLif lower_lif(const LIF& layer) {
  LoweredLif p;
  p.n = layer.n;
  const auto tau_mem = expand(layer.tau_mem, layer.n);
  const auto tau_syn = expand(layer.tau_syn, layer.n);
  p.alpha.resize(layer.n);
  p.beta.resize(layer.n);
  // float32 arithmetic, as Rockpool computes exp(-dt / tau) on float32 tensors.
  for (int j = 0; j < layer.n; ++j) {
    p.alpha[j] = std::exp(-layer.dt / tau_mem[j]);
    p.beta[j] = std::exp(-layer.dt / tau_syn[j]);
  }
  p.threshold = expand(layer.threshold, layer.n);
  p.inv_threshold.resize(layer.n);
  for (int j = 0; j < layer.n; ++j) p.inv_threshold[j] = 1.0f / p.threshold[j];
  p.bias = expand(layer.bias, layer.n);
  p.window = layer.learning_window;
  p.window_lo.resize(layer.n);
  for (int j = 0; j < layer.n; ++j) p.window_lo[j] = p.threshold[j] - p.window;
  p.unit_threshold = std::all_of(p.threshold.begin(), p.threshold.end(), [](float t) { return t == 1.0f; });
  p.max_spikes = layer.max_spikes_per_dt;
  p.noise_scale = layer.noise_std * std::sqrt(layer.dt);
  p.spike_fn = layer.spike_fn;
  p.w_rec = layer.has_rec ? layer.w_rec.data() : nullptr;
  return p;
}

float surrogate_grad(SpikeFn fn, float v, float threshold, float window, float max_spikes) {
  if (fn == SpikeFn::StepPWL) return v >= threshold - window ? 1.0f / threshold : 0.0f;
  if (fn == SpikeFn::Softplus) return 1.0f / (1.0f + std::exp(-(v - threshold) / window));
  const float vs = v - threshold / 2.0f;
  float k = std::floor(vs / threshold);
  if (k > max_spikes - 1.0f) k = max_spikes - 1.0f;
  const float vp = vs - k * threshold;
  const float u = v < threshold ? vs : vp;
  return std::exp(-std::fabs(u - threshold / 2.0f) / window) / threshold;
}

void LifState::resize(int batch, int n) {
  const std::size_t size = static_cast<std::size_t>(batch) * n;
  vmem.assign(size, 0.0f);
  isyn.assign(size, 0.0f);
  spikes.assign(size, 0.0f);
}

namespace {
// One time step of one batch element, all neurons (the hot loop of the forward pass).
// kUnit: every threshold is 1, so the division of the spike count is skipped (v / 1 == v exactly).
// kExtra: add the recurrent (xr) and noise (nz) rows; without them the loop streams two arrays
// fewer (adding an all-zero row would change no bit, so both variants give the same results).
template <bool kUnit, bool kExtra>
void lif_step_row(int n, const float* __restrict x, const float* __restrict xr,
                  const float* __restrict nz, const float* __restrict alpha,
                  const float* __restrict beta, const float* __restrict thr,
                  const float* __restrict bias, float max_spikes, float* __restrict is,
                  float* __restrict v, float* __restrict s, float* __restrict vp_out,
                  float* __restrict s_out) {
  for (int j = 0; j < n; ++j) {
    const float isj = (kExtra ? (is[j] + x[j]) + xr[j] : is[j] + x[j]) * beta[j];
    is[j] = isj;
    const float vv = (kExtra ? (v[j] * alpha[j] + isj) + nz[j] : v[j] * alpha[j] + isj) + bias[j];
    vp_out[j] = vv;
    float c = __builtin_floorf(kUnit ? vv : vv / thr[j]);
    c = c < max_spikes ? c : max_spikes;
    c = vv >= thr[j] ? c : 0.0f;  // a select, so the loop vectorises
    s[j] = c;
    s_out[j] = c;
    v[j] = vv - c * thr[j];
  }
}

// One backward time step of one batch element with the StepPWL surrogate.
template <bool kOverwrite>
void lif_step_back_row(int n, const float* __restrict vp, const float* __restrict thr,
                       const float* __restrict inv_thr, const float* __restrict alpha,
                       const float* __restrict beta, const float* __restrict lo,
                       const float* __restrict gs, float* __restrict gv, float* __restrict ga,
                       float* __restrict gin) {
  for (int j = 0; j < n; ++j) {
    const float sg = vp[j] >= lo[j] ? inv_thr[j] : 0.0f;
    const float gvp = gv[j] + sg * (gs[j] - thr[j] * gv[j]);
    const float gnew = beta[j] * (gvp + ga[j]);
    gin[j] = kOverwrite ? gnew : gin[j] + gnew;
    ga[j] = gnew;
    gv[j] = alpha[j] * gvp;
  }
}

// Window bits of one row with the StepPWL surrogate: bit j set where vp[j] >= lo[j].
void window_bits_row(int n, const float* __restrict vp, const float* __restrict lo,
                     std::uint64_t* __restrict bits) {
#if defined(__AVX512F__)
  for (int w = 0; w * 64 < n; ++w) {
    std::uint64_t word = 0;
    for (int q = 0; q < 4; ++q) {
      const int j = w * 64 + q * 16;
      if (j >= n) break;
      const __mmask16 valid = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
      const __mmask16 m = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, vp + j),
                                                  _mm512_maskz_loadu_ps(valid, lo + j), _CMP_GE_OQ);
      word |= static_cast<std::uint64_t>(m) << (16 * q);
    }
    bits[w] = word;
  }
#else
  for (int w = 0; w * 64 < n; ++w) {
    std::uint64_t word = 0;
    const int end = std::min(n, w * 64 + 64);
    for (int j = w * 64; j < end; ++j) word |= static_cast<std::uint64_t>(vp[j] >= lo[j]) << (j & 63);
    bits[w] = word;
  }
#endif
}
}  // namespace

void lif_forward(const LoweredLif& p, const float* in, int T, int B, LifState& state,
                 float* spikes_out, float* v_pre, kernels::BitMask* window, const LifRecords& rec,
                 Rng* noise) {
  const int n = p.n;
  const float* __restrict alpha = p.alpha.data();
  const float* __restrict beta = p.beta.data();
  const float* __restrict thr = p.threshold.data();
  const float* __restrict bias = p.bias.data();
  const bool step_pwl = p.spike_fn == SpikeFn::StepPWL;
  // Scalars copied to locals: the compiler cannot prove that stores through the state pointers
  // leave `p` unchanged, and a reload per element would stop vectorisation.
  const float max_spikes = p.max_spikes;
  if (window) window->resize(T * B, n);
  // One row each, reused for every step (allocated per call, not per step).
  const bool has_noise = p.noise_scale > 0.0f && noise != nullptr;
  std::vector<float> irec(p.w_rec ? n : 0), noise_row(has_noise ? n : 0), zeros(n, 0.0f);
  std::vector<float> spike_val(p.w_rec ? n : 0);
  std::vector<std::int32_t> spike_idx(p.w_rec ? n : 0);
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(t) * B + b;
      const float* __restrict x = in + row * n;
      float* __restrict v = state.vmem.data() + static_cast<std::size_t>(b) * n;
      float* __restrict is = state.isyn.data() + static_cast<std::size_t>(b) * n;
      float* __restrict s = state.spikes.data() + static_cast<std::size_t>(b) * n;
      float* __restrict vp_out = v_pre + row * n;
      float* __restrict s_out = spikes_out + row * n;
      if (p.w_rec) {
        // Recurrent input from the previous step's event counts (event-driven).
        int count = 0;
        for (int i = 0; i < n; ++i) {  // branch-free compaction of the previous step's events
          spike_idx[count] = i;
          spike_val[count] = s[i];
          count += s[i] != 0.0f;
        }
        kernels::events_row_matmul(spike_idx.data(), spike_val.data(), count, p.w_rec, n, irec.data());
        if (rec.irec) std::memcpy(rec.irec + row * n, irec.data(), sizeof(float) * n);
      }
      if (has_noise)
        for (int j = 0; j < n; ++j) noise_row[j] = p.noise_scale * static_cast<float>(noise->normal());
      // One fused pass in Rockpool's order of operations: isyn += x (+ irec); isyn *= beta;
      // v = v * alpha + isyn (+ noise) + bias; spikes; reset by subtraction. Adding an all-zero
      // irec/noise row changes no value, so one loop serves every case.
      const float* __restrict xr = p.w_rec ? irec.data() : zeros.data();
      const float* __restrict nz = has_noise ? noise_row.data() : zeros.data();
      if (p.spike_fn != SpikeFn::Softplus) {
        const bool extra = p.w_rec || has_noise;
        auto step = p.unit_threshold ? (extra ? lif_step_row<true, true> : lif_step_row<true, false>)
                                     : (extra ? lif_step_row<false, true> : lif_step_row<false, false>);
        step(n, x, xr, nz, alpha, beta, thr, bias, max_spikes, is, v, s, vp_out, s_out);
      } else {
        for (int j = 0; j < n; ++j) {
          const float isj = ((is[j] + x[j]) + xr[j]) * beta[j];
          is[j] = isj;
          const float vv = ((v[j] * alpha[j] + isj) + nz[j]) + bias[j];
          vp_out[j] = vv;
          const float c = spike_output(p.spike_fn, vv, thr[j], p.window, p.max_spikes);
          s[j] = c;
          s_out[j] = c;
          v[j] = vv - c * thr[j];
        }
      }
      if (rec.vmem) std::memcpy(rec.vmem + row * n, v, sizeof(float) * n);
      if (rec.isyn) std::memcpy(rec.isyn + row * n, is, sizeof(float) * n);
      if (window) {
        std::uint64_t* bits = window->row(static_cast<int>(row));
        if (step_pwl) {
          window_bits_row(n, vp_out, p.window_lo.data(), bits);
        } else {
          std::fill(bits, bits + window->words, 0);
          for (int j = 0; j < n; ++j)
            if (surrogate_grad(p.spike_fn, vp_out[j], thr[j], p.window, p.max_spikes) != 0.0f)
              bits[j >> 6] |= std::uint64_t{1} << (j & 63);
        }
      }
    }
  }
}

void lif_backward(const LoweredLif& p, int T, int B, const float* v_pre, const float* spikes,
                  const float* initial_spikes, const kernels::BitMask& window, float* grad_spikes,
                  float* grad_in, bool overwrite_in, float* grad_w_rec,
                  std::vector<float>& scratch_gv, std::vector<float>& scratch_ga) {
  const int n = p.n;
  const std::size_t state_size = static_cast<std::size_t>(B) * n;
  scratch_gv.assign(state_size, 0.0f);  // alpha * dL/dv' of the next step
  scratch_ga.assign(state_size, 0.0f);  // dL/d(isyn_prev + I + R) of the next step
  const float* __restrict alpha = p.alpha.data();
  const float* __restrict beta = p.beta.data();
  const float* __restrict thr = p.threshold.data();
  const bool step_pwl = p.spike_fn == SpikeFn::StepPWL;
  const float* __restrict inv_thr = p.inv_threshold.data();
  const float* __restrict lo = p.window_lo.data();
  std::vector<std::int32_t> window_idx(p.w_rec ? static_cast<std::size_t>(window.words) * 64 : 0);
  for (int t = T - 1; t >= 0; --t) {
    for (int b = 0; b < B; ++b) {
      const std::size_t row = static_cast<std::size_t>(t) * B + b;
      float* __restrict gv = scratch_gv.data() + static_cast<std::size_t>(b) * n;
      float* __restrict ga = scratch_ga.data() + static_cast<std::size_t>(b) * n;
      float* __restrict gs = grad_spikes + row * n;
      const float* __restrict vp = v_pre + row * n;
      float* __restrict gin = grad_in + row * n;
      if (p.w_rec && t + 1 < T) {
        // S_t feeds the recurrent input of step t+1: dL/dS_t += W_rec[i][:] . ga_{t+1}, needed only
        // where the surrogate of step t is non-zero.
        const int count = kernels::bit_indices(window.row(static_cast<int>(row)), window.words,
                                               window_idx.data());
        kernels::gathered_dots(ga, p.w_rec, n, window_idx.data(), count, gs);
      }
      if (step_pwl) {
        if (overwrite_in)
          lif_step_back_row<true>(n, vp, thr, inv_thr, alpha, beta, lo, gs, gv, ga, gin);
        else
          lif_step_back_row<false>(n, vp, thr, inv_thr, alpha, beta, lo, gs, gv, ga, gin);
      } else {
        for (int j = 0; j < n; ++j) {
          const float sg = surrogate_grad(p.spike_fn, vp[j], thr[j], p.window, p.max_spikes);
          const float gvp = gv[j] + sg * (gs[j] - thr[j] * gv[j]);
          const float gnew = beta[j] * (gvp + ga[j]);
          gin[j] = overwrite_in ? gnew : gin[j] + gnew;
          ga[j] = gnew;
          gv[j] = alpha[j] * gvp;
        }
      }
      // With grad_in overwritten, it ends up holding ga_t of every row, and the weight gradient
      // of steps t >= 1 is one event-driven product after the scan (accumulating in registers
      // instead of read-modify-writing a row of dW_rec per spike per step).
      const float* s_prev = t > 0 ? (overwrite_in ? nullptr : spikes + (row - B) * n)
                                  : (initial_spikes ? initial_spikes + static_cast<std::size_t>(b) * n
                                                    : nullptr);
      if (p.w_rec && s_prev) {
        // dW_rec[i][:] += S_{t-1}[i] * ga_t (event-driven over the previous step's spikes).
        for (int i = 0; i < n; ++i) {
          const float c = s_prev[i];
          if (c == 0.0f) continue;
          kernels::axpy(c, ga, grad_w_rec + static_cast<std::size_t>(i) * n, n);
        }
      }
    }
  }
  if (p.w_rec && overwrite_in && T > 1) {
    // dW_rec += S[0 : T-1]^T ga[1 : T]: spikes of row r feed the step of row r + B.
    kernels::Csr events, by_column;
    kernels::to_csr(spikes, (T - 1) * B, n, events);
    kernels::transpose_events(events, n, by_column);
    kernels::events_weight_grad(by_column, grad_in + static_cast<std::size_t>(B) * n, n, grad_w_rec);
  }
}

}  // namespace spikeline::snn
