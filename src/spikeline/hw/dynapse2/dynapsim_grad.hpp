#pragma once
// BPTT through Linear(n_in, n, no bias) -> DynapSim(n, recurrent) for one sample, in float32 or
// float64: the forward of dynapsim.hpp (same equations, same order; a test keeps them equal) with
// a tape, then the reverse pass of every step (derivation in docs/dynapse2_training.md).
//
// Spike function: `step_pwl` is Rockpool's (forward ceil(ln(imem/Ispkthr)) clipped at 0, tangent
// 1 per ampere while imem > Io, nothing to Ispkthr). `smooth` (n = imem / (imem + Ispkthr), in
// (0, 1), so no reset is complete and no refractory period starts) exists only so that finite
// differences can check the backward pass: everything else is shared.
// max(x, floor) and the reset's clip(n, 0, 1) pass half the gradient at exact ties, as JAX does.
#include <vector>

#include "spikeline/hw/dynapse2/model.hpp"

namespace spikeline::hw::dynapse2 {

enum class SpikeModel { step_pwl, smooth };

// Per-neuron constants of the dynamics and the weights, in T; built once per batch.
template <class T>
struct DynapKernel {
  int n_in = 0, n = 0;
  std::vector<T> w_in, w_rec;
  std::vector<T> Io, Ut, Idc, Ispkthr, kappa, kappa_fb, t_ref, fd_syn, fc_syn, g_syn, fd_ahp, fc_ahp, g_ahp_w,
      Itau_mem, Igain_mem, g_mem, c_mem;
  T dt{}, Iscale{};
};
template <class T>
DynapKernel<T> make_kernel(const DynapseNet& net);

template <class T>
struct SampleGrad {
  T sse{};                     // sum over steps and neurons of (spikes - target)^2
  std::vector<T> spikes;       // [steps * n]
  std::vector<T> g_w_in;       // d sse / d w_in  [n_in * n]
  std::vector<T> g_w_rec;      // d sse / d w_rec [n * n]
};

// x [steps * n_in] (input events per step), target [steps * n].
template <class T>
SampleGrad<T> sse_and_grad(const DynapKernel<T>& k, const std::vector<T>& x, const std::vector<T>& target,
                           int steps, SpikeModel spike = SpikeModel::step_pwl);

// Forward only with the same kernel (spikes [steps * n]).
template <class T>
std::vector<T> kernel_forward(const DynapKernel<T>& k, const std::vector<T>& x, int steps,
                              SpikeModel spike = SpikeModel::step_pwl);

extern template DynapKernel<float> make_kernel<float>(const DynapseNet&);
extern template DynapKernel<double> make_kernel<double>(const DynapseNet&);
extern template SampleGrad<float> sse_and_grad<float>(const DynapKernel<float>&, const std::vector<float>&,
                                                      const std::vector<float>&, int, SpikeModel);
extern template SampleGrad<double> sse_and_grad<double>(const DynapKernel<double>&, const std::vector<double>&,
                                                        const std::vector<double>&, int, SpikeModel);
extern template std::vector<float> kernel_forward<float>(const DynapKernel<float>&, const std::vector<float>&, int,
                                                         SpikeModel);
extern template std::vector<double> kernel_forward<double>(const DynapKernel<double>&, const std::vector<double>&,
                                                           int, SpikeModel);

}  // namespace spikeline::hw::dynapse2
