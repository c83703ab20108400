#pragma once
// LIF layer dynamics (Rockpool LIFTorch, docs/engine.md) over one micro-batch, time-major.
// A layer description (snn::LIF, with taus in seconds) is lowered once into per-neuron decay
// factors; the scan then runs over T with batch and neurons contiguous and allocates nothing.
#include <cstdint>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/kernels.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::snn {

struct LoweredLif {
  int n = 0;
  std::vector<float> alpha, beta, threshold, bias;  // per neuron, alpha = exp(-dt/tau_mem)
  std::vector<float> inv_threshold;                 // 1 / threshold (StepPWL surrogate)
  std::vector<float> window_lo;                     // threshold - window: StepPWL surrogate != 0 from here
  bool unit_threshold = false;  // every threshold is 1: floor(v / 1) == floor(v) needs no divide
  float window = 0.5f;
  float max_spikes = 65536.0f;
  float noise_scale = 0.0f;  // noise_std * sqrt(dt)
  SpikeFn spike_fn = SpikeFn::StepPWL;
  const float* w_rec = nullptr;  // [n][n] or null
};
LoweredLif lower_lif(const LIF& layer);

// Spike count for membrane value v (forward of both spike functions).
inline float spike_count(float v, float threshold, float max_spikes) {
  if (!(v >= threshold)) return 0.0f;
  float n = __builtin_floorf(v / threshold);
  return n < max_spikes ? n : max_spikes;
}
// Output of the spike function for membrane value v.
inline float spike_output(SpikeFn fn, float v, float threshold, float window, float max_spikes) {
  if (fn != SpikeFn::Softplus) return spike_count(v, threshold, max_spikes);
  const float z = (v - threshold) / window;
  return window * (z > 20.0f ? z : __builtin_log1pf(__builtin_expf(z)));
}
// d spikes / d v: the surrogate gradient (the exact derivative for Softplus).
float surrogate_grad(SpikeFn fn, float v, float threshold, float window, float max_spikes);

// Per-batch-element state [B][n] carried through the scan.
struct LifState {
  std::vector<float> vmem, isyn, spikes;
  void resize(int batch, int n);
};

// Optional per-step records [T][B][n]; null pointers are skipped.
struct LifRecords {
  float* vmem = nullptr;  // after the subtractive reset
  float* isyn = nullptr;  // after decay (the value added to vmem)
  float* irec = nullptr;  // the recurrent contribution of the step
};

// Forward scan. in, spikes_out, v_pre: [T][B][n]. v_pre keeps the membrane value that entered the
// spike function (needed by the surrogate in backward). `window` marks the (row, neuron) pairs
// whose surrogate is non-zero, i.e. where a gradient can pass (resized to [T * B][n] here).
// `noise` is used when noise_scale > 0.
void lif_forward(const LoweredLif& p, const float* in, int T, int B, LifState& state,
                 float* spikes_out, float* v_pre, kernels::BitMask* window,
                 const LifRecords& records, Rng* noise);

// Backward scan (BPTT). grad_spikes: [T][B][n] dL/dS (read where the surrogate is non-zero; for
// recurrent layers the recurrent term is added in place). grad_in: dL/d input [T][B][n], added
// to (or overwritten with, when `overwrite_in`: saves zeroing the buffer first).
// grad_w_rec (+=): [n][n]. initial_spikes: [B][n] spikes of the state the scan started from
// (null = zeros). scratch_gv, scratch_ga: [B][n] each.
void lif_backward(const LoweredLif& p, int T, int B, const float* v_pre, const float* spikes,
                  const float* initial_spikes, const kernels::BitMask& window, float* grad_spikes,
                  float* grad_in, bool overwrite_in, float* grad_w_rec,
                  std::vector<float>& scratch_gv, std::vector<float>& scratch_ga);

}  // namespace spikeline::snn
