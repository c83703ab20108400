#include "spikeline/hw/dynapse2/dynapsim_grad.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

// d max(x, floor) / dx with JAX's half-half split at a tie.
template <class T>
T dmax(T x, T floor) {
  return x > floor ? T(1) : x == floor ? T(0.5) : T(0);
}

// d clip(n, 0, 1) / dn = d min(max(n, 0), 1) / dn, ties split as JAX.
template <class T>
T dclip01(T n) {
  if (n < T(0) || n > T(1)) return T(0);
  if (n == T(0) || n == T(1)) return T(0.5);
  return T(1);
}

// Everything of one step and neuron the reverse pass needs (the rest is recomputed).
template <class T>
struct Tape {
  T imem_prev, vmem_prev, A, P, iahp, Iin1, M, imem_c, n;
  bool refractory;
};

template <class T>
struct Forward {
  std::vector<Tape<T>> tape;  // [steps * n]
  std::vector<T> spikes;      // [steps * n]
  std::vector<T> u;           // weighted input [steps * n]
};

template <class T>
void check(const DynapKernel<T>& k, std::size_t x_size, int steps) {
  if (steps < 0 || x_size != static_cast<std::size_t>(steps) * k.n_in)
    throw InputError("input", "expected steps * " + std::to_string(k.n_in) + " values, got " + std::to_string(x_size));
}

template <class T>
Forward<T> run_forward(const DynapKernel<T>& k, const std::vector<T>& x, int steps, SpikeModel spike) {
  check(k, x.size(), steps);
  const auto N = static_cast<std::size_t>(k.n);
  Forward<T> f;
  f.u = weighted_input<T>(x, k.w_in, steps, k.n_in, k.n);
  f.tape.resize(static_cast<std::size_t>(steps) * N);
  f.spikes.resize(static_cast<std::size_t>(steps) * N);
  std::vector<T> imem = k.Io, isyn = k.Io, iahp = k.Io, vmem(N, T(0)), S(N, T(0)), timer(N, T(0)), Iws(N);
  for (int t = 0; t < steps; ++t) {
    const T* u = f.u.data() + static_cast<std::size_t>(t) * N;
    for (std::size_t j = 0; j < N; ++j) {
      T acc = T(0);
      for (std::size_t i = 0; i < N; ++i) acc += S[i] * k.w_rec[i * N + j];
      Iws[j] = (acc + u[j]) * k.Iscale;
    }
    for (std::size_t i = 0; i < N; ++i) {
      Tape<T>& tp = f.tape[static_cast<std::size_t>(t) * N + i];
      tp.imem_prev = imem[i];
      tp.vmem_prev = vmem[i];
      tp.A = k.g_syn[i] * Iws[i];
      isyn[i] = k.fd_syn[i] * isyn[i] + k.fc_syn[i] * std::max(tp.A, k.Io[i]);
      tp.P = k.fd_ahp[i] * iahp[i] + k.fc_ahp[i] * (k.g_ahp_w[i] * S[i]);
      iahp[i] = std::max(tp.P, k.Io[i]);
      tp.iahp = iahp[i];
      const T Ifb = k.Io[i] * std::exp(k.kappa_fb[i] * vmem[i] / k.Ut[i]);
      const T Ileak = k.Itau_mem[i] + iahp[i];
      tp.refractory = timer[i] > T(0);
      tp.Iin1 = tp.refractory ? T(0) : isyn[i] - Ileak + k.Idc[i];
      const T Iin = std::max(tp.Iin1, k.Io[i]);
      const T imem_inf = k.g_mem[i] * (Iin - Ileak);
      const T f_imem = Ifb / Ileak * (imem[i] + k.Igain_mem[i]);
      const T tau_m = k.c_mem[i] / (k.kappa[i] * Ileak);
      const T dI = imem[i] / (tau_m * (imem[i] + k.Igain_mem[i])) *
                   (imem_inf + f_imem - imem[i] * (T(1) + iahp[i] / k.Itau_mem[i]));
      tp.M = imem[i] + dI * k.dt;
      tp.imem_c = std::max(tp.M, k.Io[i]);
      vmem[i] = k.Ut[i] / k.kappa[i] * std::log(tp.imem_c / k.Io[i]);
      T b;
      if (spike == SpikeModel::step_pwl) {
        tp.n = std::max(std::ceil(std::log(tp.imem_c / k.Ispkthr[i])), T(0));
        b = tp.n > T(0) ? T(1) : T(0);  // clip(n, 0, 1) of an integer count
        imem[i] = b > T(0) ? k.Io[i] : tp.imem_c;
      } else {
        tp.n = tp.imem_c / (tp.imem_c + k.Ispkthr[i]);
        b = tp.n;
        imem[i] = (T(1) - b) * tp.imem_c + b * k.Io[i];
      }
      timer[i] = b >= T(1) ? k.t_ref[i] : std::max(timer[i] - k.dt, T(0));
      S[i] = tp.n;
      f.spikes[static_cast<std::size_t>(t) * N + i] = tp.n;
    }
  }
  return f;
}

}  // namespace

template <class T>
DynapKernel<T> make_kernel(const DynapseNet& net) {
  const DynapSimParams& p = net.sim;
  const auto N = static_cast<std::size_t>(p.n);
  if (net.n != p.n || net.w_in.size() != static_cast<std::size_t>(net.n_in) * N || p.w_rec.size() != N * N)
    throw InputError("dynapse2 model", "inconsistent sizes of n, w_in, w_rec");
  DynapKernel<T> k;
  k.n_in = net.n_in;
  k.n = p.n;
  k.w_in.assign(net.w_in.begin(), net.w_in.end());
  k.w_rec.assign(p.w_rec.begin(), p.w_rec.end());
  k.dt = static_cast<T>(p.dt);
  k.Iscale = static_cast<T>(p.Iscale);
  for (auto* v : {&k.Io, &k.Ut, &k.Idc, &k.Ispkthr, &k.kappa, &k.kappa_fb, &k.t_ref, &k.fd_syn, &k.fc_syn, &k.g_syn,
                  &k.fd_ahp, &k.fc_ahp, &k.g_ahp_w, &k.Itau_mem, &k.Igain_mem, &k.g_mem, &k.c_mem})
    v->resize(N);
  // The same expressions, in the same order and precision, as dynapsim_forward's precomputation,
  // so that both forwards agree bit for bit.
  for (std::size_t i = 0; i < N; ++i) {
    const auto c = [&](const std::vector<double>& v) { return static_cast<T>(v.at(i)); };
    const T Io = c(p.Io), Ut = c(p.Ut);
    k.Io[i] = Io;
    k.Ut[i] = Ut;
    k.Idc[i] = c(p.Idc);
    k.Ispkthr[i] = c(p.Ispkthr);
    const T kappa = (c(p.kappa_n) + c(p.kappa_p)) / T(2);
    k.kappa[i] = kappa;
    k.kappa_fb[i] = kappa * kappa / (kappa + T(1));
    k.t_ref[i] = c(p.Vth) * c(p.C_ref) / c(p.Iref);
    const T t_pulse = c(p.Vth) * c(p.C_pulse) / c(p.Ipulse);
    const T t_pulse_ahp = c(p.Vth) * c(p.C_pulse_ahp) / c(p.Ipulse_ahp);
    const T Itau_syn = std::max(c(p.Itau_syn), Io), Igain_syn = std::max(c(p.Igain_syn), Io);
    const T tau_syn = Ut * c(p.C_syn) / (kappa * Itau_syn);
    const T Itau_ahp = std::max(c(p.Itau_ahp), Io), Igain_ahp = std::max(c(p.Igain_ahp), Io);
    const T tau_ahp = Ut * c(p.C_ahp) / (kappa * Itau_ahp);
    k.fd_syn[i] = std::exp(-k.dt / tau_syn);
    k.fc_syn[i] = T(1) - std::exp(-t_pulse / tau_syn);
    k.g_syn[i] = Igain_syn / Itau_syn;
    k.fd_ahp[i] = std::exp(-k.dt / tau_ahp);
    k.fc_ahp[i] = T(1) - std::exp(-t_pulse_ahp / tau_ahp);
    k.g_ahp_w[i] = Igain_ahp / Itau_ahp * c(p.Iw_ahp);
    k.Itau_mem[i] = std::max(c(p.Itau_mem), Io);
    k.Igain_mem[i] = std::max(c(p.Igain_mem), Io);
    k.g_mem[i] = k.Igain_mem[i] / k.Itau_mem[i];
    k.c_mem[i] = Ut * c(p.C_mem);
  }
  return k;
}

template <class T>
std::vector<T> kernel_forward(const DynapKernel<T>& k, const std::vector<T>& x, int steps, SpikeModel spike) {
  return run_forward(k, x, steps, spike).spikes;
}

template <class T>
SampleGrad<T> sse_and_grad(const DynapKernel<T>& k, const std::vector<T>& x, const std::vector<T>& target, int steps,
                           SpikeModel spike) {
  Forward<T> f = run_forward(k, x, steps, spike);
  const auto N = static_cast<std::size_t>(k.n);
  if (target.size() != f.spikes.size()) throw InputError("target", "expected steps * n values");
  SampleGrad<T> g;
  g.g_w_in.assign(static_cast<std::size_t>(k.n_in) * N, T(0));
  g.g_w_rec.assign(N * N, T(0));
  // Adjoints of the state after step t (imem after reset, isyn, iahp, vmem, spikes).
  std::vector<T> G_imem(N, T(0)), G_isyn(N, T(0)), G_iahp(N, T(0)), G_vmem(N, T(0)), G_S(N, T(0)), g_z(N);
  std::vector<T> g_u(static_cast<std::size_t>(steps) * N, T(0));
  for (std::size_t q = 0; q < f.spikes.size(); ++q) {
    const T e = f.spikes[q] - target[q];
    g.sse += e * e;
  }
  for (int t = steps - 1; t >= 0; --t) {
    const std::size_t row = static_cast<std::size_t>(t) * N;
    std::vector<T> g_S_prev(N, T(0));
    for (std::size_t i = 0; i < N; ++i) {
      const Tape<T>& tp = f.tape[row + i];
      const T Io = k.Io[i];
      // 7. reset imem' = (1 - b) imem_c + b Io, b = clip(n, 0, 1).
      const T b = spike == SpikeModel::step_pwl ? std::min(tp.n, T(1)) : tp.n;
      const T G_n = T(2) * (tp.n - target[row + i]) + G_S[i];
      T g_imem_c = G_imem[i] * (T(1) - b);
      const T db_dn = spike == SpikeModel::step_pwl ? dclip01(tp.n) : T(1);
      const T g_n = G_n + G_imem[i] * (Io - tp.imem_c) * db_dn;
      // 6. spike function: step_pwl's tangent is 1 (per ampere) above Io; smooth: its derivative.
      if (spike == SpikeModel::step_pwl) {
        g_imem_c += tp.imem_c > Io ? g_n : T(0);
      } else {
        const T s = tp.imem_c + k.Ispkthr[i];
        g_imem_c += g_n * (k.Ispkthr[i] / s) / s;
      }
      // vmem = Ut/kappa ln(imem_c / Io).
      g_imem_c += G_vmem[i] * (k.Ut[i] / k.kappa[i]) / tp.imem_c;
      const T g_M = g_imem_c * dmax(tp.M, Io);
      // 5. membrane, recomputed from the tape.
      const T imem = tp.imem_prev, iahp = tp.iahp, Ig = k.Igain_mem[i];
      const T Ifb = Io * std::exp(k.kappa_fb[i] * tp.vmem_prev / k.Ut[i]);
      const T Ileak = k.Itau_mem[i] + iahp;
      const T Iin = std::max(tp.Iin1, Io);
      const T imem_inf = k.g_mem[i] * (Iin - Ileak);
      const T f_imem = Ifb / Ileak * (imem + Ig);
      const T tau_m = k.c_mem[i] / (k.kappa[i] * Ileak);
      const T D = tau_m * (imem + Ig);
      const T Q = imem_inf + f_imem - imem * (T(1) + iahp / k.Itau_mem[i]);
      const T dI = imem / D * Q;
      T g_imem_prev = g_M;
      const T g_dI = g_M * k.dt;
      const T g_Q = g_dI * (imem / D);
      g_imem_prev += g_dI * Q / D * (Ig / (imem + Ig));   // dI through imem / (tau_m (imem + Ig))
      T g_Ileak = g_dI * dI / Ileak;                        // dI proportional to 1 / tau_m = kappa Ileak / c
      g_imem_prev += g_Q * (Ifb / Ileak - (T(1) + iahp / k.Itau_mem[i]));
      T g_iahp = -g_Q * imem / k.Itau_mem[i];
      const T g_Ifb = g_Q * (imem + Ig) / Ileak;
      g_Ileak -= g_Q * f_imem / Ileak;
      const T g_Iin = g_Q * k.g_mem[i];
      g_Ileak -= g_Q * k.g_mem[i];
      const T g_Iin0 = tp.refractory ? T(0) : g_Iin * dmax(tp.Iin1, Io);
      T g_isyn = G_isyn[i] + g_Iin0;
      g_Ileak -= g_Iin0;
      g_iahp += g_Ileak + G_iahp[i];
      const T g_vmem_prev = g_Ifb * Ifb * k.kappa_fb[i] / k.Ut[i];
      // 4. AHP.
      const T g_P = g_iahp * dmax(tp.P, Io);
      G_iahp[i] = g_P * k.fd_ahp[i];
      g_S_prev[i] += g_P * k.fc_ahp[i] * k.g_ahp_w[i];
      // 2-3. synapse.
      G_isyn[i] = g_isyn * k.fd_syn[i];
      const T g_A = g_isyn * k.fc_syn[i] * dmax(tp.A, Io);
      g_z[i] = g_A * k.g_syn[i] * k.Iscale;
      g_u[row + i] = g_z[i];
      G_imem[i] = g_imem_prev;
      G_vmem[i] = g_vmem_prev;
    }
    // 1. Iws = (S_prev @ w_rec + u) Iscale.
    if (t > 0) {
      const T* S_prev = f.spikes.data() + row - N;
      for (std::size_t s = 0; s < N; ++s)
        for (std::size_t j = 0; j < N; ++j) {
          g.g_w_rec[s * N + j] += S_prev[s] * g_z[j];
          g_S_prev[s] += k.w_rec[s * N + j] * g_z[j];
        }
    }
    G_S = g_S_prev;
  }
  // Linear layer: u[t] = x[t] @ w_in.
  for (int t = 0; t < steps; ++t)
    for (int c = 0; c < k.n_in; ++c) {
      const T xv = x[static_cast<std::size_t>(t) * k.n_in + c];
      if (xv == T(0)) continue;
      for (std::size_t j = 0; j < N; ++j)
        g.g_w_in[static_cast<std::size_t>(c) * N + j] += xv * g_u[static_cast<std::size_t>(t) * N + j];
    }
  g.spikes = std::move(f.spikes);
  return g;
}

template DynapKernel<float> make_kernel<float>(const DynapseNet&);
template DynapKernel<double> make_kernel<double>(const DynapseNet&);
template SampleGrad<float> sse_and_grad<float>(const DynapKernel<float>&, const std::vector<float>&,
                                               const std::vector<float>&, int, SpikeModel);
template SampleGrad<double> sse_and_grad<double>(const DynapKernel<double>&, const std::vector<double>&,
                                                 const std::vector<double>&, int, SpikeModel);
template std::vector<float> kernel_forward<float>(const DynapKernel<float>&, const std::vector<float>&, int,
                                                  SpikeModel);
template std::vector<double> kernel_forward<double>(const DynapKernel<double>&, const std::vector<double>&, int,
                                                    SpikeModel);

}  // namespace spikeline::hw::dynapse2
