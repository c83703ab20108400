#include "spikeline/hw/dynapse2/dynapsim.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

// Rockpool 2.7 lookup/defaults.py: default_currents and default_layout.
constexpr DynapSimVector kVectors[] = {
    {"Idc", &DynapSimParams::Idc, 5e-13},
    {"If_nmda", &DynapSimParams::If_nmda, 5e-13},
    {"Igain_ahp", &DynapSimParams::Igain_ahp, 2.8368794326241126e-11},
    {"Igain_mem", &DynapSimParams::Igain_mem, 2.1276595744680848e-11},
    {"Igain_syn", &DynapSimParams::Igain_syn, 8.687943262411346e-09},
    {"Ipulse_ahp", &DynapSimParams::Ipulse_ahp, 3.5e-07},
    {"Ipulse", &DynapSimParams::Ipulse, 3.4999999999999996e-08},
    {"Iref", &DynapSimParams::Iref, 1.0499999999999999e-09},
    {"Ispkthr", &DynapSimParams::Ispkthr, 1e-07},
    {"Itau_ahp", &DynapSimParams::Itau_ahp, 2.8368794326241126e-11},
    {"Itau_mem", &DynapSimParams::Itau_mem, 5.319148936170212e-12},
    {"Itau_syn", &DynapSimParams::Itau_syn, 8.687943262411346e-11},
    {"Iw_ahp", &DynapSimParams::Iw_ahp, 5e-13},
    {"C_ahp", &DynapSimParams::C_ahp, 4e-11},
    {"C_syn", &DynapSimParams::C_syn, 2.5e-11},
    {"C_pulse_ahp", &DynapSimParams::C_pulse_ahp, 5e-13},
    {"C_pulse", &DynapSimParams::C_pulse, 5e-13},
    {"C_ref", &DynapSimParams::C_ref, 1.5e-12},
    {"C_mem", &DynapSimParams::C_mem, 3e-12},
    {"Io", &DynapSimParams::Io, 5e-13},
    {"kappa_n", &DynapSimParams::kappa_n, 0.75},
    {"kappa_p", &DynapSimParams::kappa_p, 0.66},
    {"Ut", &DynapSimParams::Ut, 0.025},
    {"Vth", &DynapSimParams::Vth, 0.7},
};

void check_sizes(const DynapSimParams& p, std::size_t input_size, int steps) {
  const auto n = static_cast<std::size_t>(p.n);
  for (const DynapSimVector& v : kVectors)
    if ((p.*v.member).size() != n)
      throw InputError(std::string(v.name), "expected " + std::to_string(n) + " values, got " + std::to_string((p.*v.member).size()));
  if (p.w_rec.size() != n * n) throw InputError("w_rec", "expected " + std::to_string(n * n) + " values");
  if (steps < 0 || input_size != static_cast<std::size_t>(steps) * n)
    throw InputError("input", "expected steps * " + std::to_string(n) + " values, got " + std::to_string(input_size));
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

std::span<const DynapSimVector> dynapsim_vectors() { return kVectors; }

const std::vector<std::string>& dynapsim_vector_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const DynapSimVector& v : kVectors) out.emplace_back(v.name);
    return out;
  }();
  return names;
}

DynapSimParams default_dynapsim_params(int n) {
  DynapSimParams p;
  p.n = n;
  for (const DynapSimVector& v : kVectors) p.*v.member = std::vector<double>(static_cast<std::size_t>(n), v.default_value);
  p.w_rec.assign(static_cast<std::size_t>(n) * n, 0.0);
  return p;
}

DynapSimParams dynapsim_params_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "expected a JSON object");
  if (!j.contains("n") || !j.at("n").is_number_integer() || j.at("n").get<int>() < 1)
    throw InputError(where, "field 'n' (number of neurons, integer >= 1) is required");
  const int n = j.at("n").get<int>();
  DynapSimParams p = default_dynapsim_params(n);
  const auto number = [&](const nlohmann::json& v, const std::string& field) {
    if (!v.is_number()) throw InputError(where, "field '" + field + "': expected a number");
    return v.get<double>();
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "n") continue;
    if (key == "Iscale") {
      p.Iscale = number(value, key);
    } else if (key == "dt") {
      p.dt = number(value, key);
      if (!(p.dt > 0.0)) throw InputError(where, "field 'dt' must be > 0");
    } else if (key == "w_rec") {
      if (!value.is_array() || value.size() != static_cast<std::size_t>(n))
        throw InputError(where, "field 'w_rec': expected " + std::to_string(n) + " rows");
      for (int r = 0; r < n; ++r) {
        const auto& row = value[static_cast<std::size_t>(r)];
        if (!row.is_array() || row.size() != static_cast<std::size_t>(n))
          throw InputError(where, "field 'w_rec' row " + std::to_string(r) + ": expected " + std::to_string(n) + " values");
        for (int c = 0; c < n; ++c) p.w_rec[static_cast<std::size_t>(r) * n + c] = number(row[c], key);
      }
    } else {
      const DynapSimVector* v = nullptr;
      for (const DynapSimVector& cand : kVectors)
        if (key == cand.name) v = &cand;
      if (!v) throw InputError(where, "unknown field '" + key + "'");
      auto& dst = p.*v->member;
      if (value.is_array()) {
        if (value.size() != static_cast<std::size_t>(n))
          throw InputError(where, "field '" + key + "': expected a number or " + std::to_string(n) + " values");
        for (int i = 0; i < n; ++i) dst[i] = number(value[i], key);
      } else {
        std::fill(dst.begin(), dst.end(), number(value, key));
      }
    }
  }
  return p;
}

template <class T>
DynapSimRecord<T> dynapsim_forward(const DynapSimParams& p, const std::vector<T>& input, int steps) {
  check_sizes(p, input.size(), steps);
  const int n = p.n;
  const auto N = static_cast<std::size_t>(n);
  // Per-neuron constants, computed once in T (the Rockpool module precomputes them the same way).
  const std::vector<T> Io = cast<T>(p.Io), Ut = cast<T>(p.Ut), Idc = cast<T>(p.Idc), Ispkthr = cast<T>(p.Ispkthr),
                       Iw_ahp = cast<T>(p.Iw_ahp), w_rec = cast<T>(p.w_rec);
  std::vector<T> kappa(N), kappa_fb(N), t_ref(N), t_pulse(N), t_pulse_ahp(N), Itau_syn(N), Igain_syn(N), tau_syn(N),
      Itau_ahp(N), Igain_ahp(N), tau_ahp(N), Itau_mem(N), Igain_mem(N), C_mem(N);
  for (std::size_t i = 0; i < N; ++i) {
    const auto c = [&](const std::vector<double>& v) { return static_cast<T>(v[i]); };
    kappa[i] = (c(p.kappa_n) + c(p.kappa_p)) / T(2);
    kappa_fb[i] = kappa[i] * kappa[i] / (kappa[i] + T(1));
    t_ref[i] = c(p.Vth) * c(p.C_ref) / c(p.Iref);
    t_pulse[i] = c(p.Vth) * c(p.C_pulse) / c(p.Ipulse);
    t_pulse_ahp[i] = c(p.Vth) * c(p.C_pulse_ahp) / c(p.Ipulse_ahp);
    Itau_syn[i] = std::max(c(p.Itau_syn), Io[i]);
    Igain_syn[i] = std::max(c(p.Igain_syn), Io[i]);
    tau_syn[i] = Ut[i] * c(p.C_syn) / (kappa[i] * Itau_syn[i]);
    Itau_ahp[i] = std::max(c(p.Itau_ahp), Io[i]);
    Igain_ahp[i] = std::max(c(p.Igain_ahp), Io[i]);
    tau_ahp[i] = Ut[i] * c(p.C_ahp) / (kappa[i] * Itau_ahp[i]);
    Itau_mem[i] = std::max(c(p.Itau_mem), Io[i]);
    Igain_mem[i] = std::max(c(p.Igain_mem), Io[i]);
    C_mem[i] = c(p.C_mem);
  }
  const T dt = static_cast<T>(p.dt), Iscale = static_cast<T>(p.Iscale);

  DynapSimRecord<T> r;
  r.steps = steps;
  r.n = n;
  const std::size_t total = static_cast<std::size_t>(steps) * N;
  for (auto* v : {&r.spikes, &r.imem, &r.isyn, &r.iahp, &r.vmem}) v->resize(total);
  std::vector<T> imem = Io, isyn = Io, iahp = Io, vmem(N, T(0)), spikes(N, T(0)), timer(N, T(0)), Iws(N);

  for (int t = 0; t < steps; ++t) {
    const T* u = input.data() + static_cast<std::size_t>(t) * N;
    // 1. Iws = (S @ w_rec + u) * Iscale, S = previous step's spikes.
    for (std::size_t j = 0; j < N; ++j) {
      T acc = T(0);
      for (std::size_t i = 0; i < N; ++i) acc += spikes[i] * w_rec[i * N + j];
      Iws[j] = (acc + u[j]) * Iscale;
    }
    for (std::size_t i = 0; i < N; ++i) {
      // 2-3. Synapse: discharge over dt, then charge one pulse width towards isyn_inf (>= Io).
      const T isyn_inf = std::max(Igain_syn[i] / Itau_syn[i] * Iws[i], Io[i]);
      isyn[i] = std::exp(-dt / tau_syn[i]) * isyn[i] + (T(1) - std::exp(-t_pulse[i] / tau_syn[i])) * isyn_inf;
      // 4. AHP driven by the previous step's spikes.
      const T iahp_inf = Igain_ahp[i] / Itau_ahp[i] * Iw_ahp[i] * spikes[i];
      iahp[i] = std::max(
          std::exp(-dt / tau_ahp[i]) * iahp[i] + (T(1) - std::exp(-t_pulse_ahp[i] / tau_ahp[i])) * iahp_inf, Io[i]);
      // 5. Membrane: positive feedback from the previous (pre-reset) vmem, forward Euler.
      const T Ifb = Io[i] * std::exp(kappa_fb[i] * vmem[i] / Ut[i]);
      const T Ileak = Itau_mem[i] + iahp[i];
      T Iin = isyn[i] - Ileak + Idc[i];
      if (timer[i] > T(0)) Iin = T(0);  // refractory
      Iin = std::max(Iin, Io[i]);
      const T imem_inf = Igain_mem[i] / Itau_mem[i] * (Iin - Ileak);
      const T f_imem = Ifb / Ileak * (imem[i] + Igain_mem[i]);
      const T tau_m = Ut[i] * C_mem[i] / (kappa[i] * Ileak);
      const T dI = imem[i] / (tau_m * (imem[i] + Igain_mem[i])) *
                   (imem_inf + f_imem - imem[i] * (T(1) + iahp[i] / Itau_mem[i]));
      imem[i] = std::max(imem[i] + dI * dt, Io[i]);
      vmem[i] = Ut[i] / kappa[i] * std::log(imem[i] / Io[i]);
      // 6-8. Events (several per step above e * Ispkthr), reset, refractory timer.
      const T nspk = std::max(std::ceil(std::log(imem[i] / Ispkthr[i])), T(0));
      const bool fired = nspk > T(0);
      if (fired) imem[i] = Io[i];
      timer[i] = fired ? t_ref[i] : std::max(timer[i] - dt, T(0));
      spikes[i] = nspk;
      const std::size_t k = static_cast<std::size_t>(t) * N + i;
      r.spikes[k] = nspk;
      r.imem[k] = imem[i];
      r.isyn[k] = isyn[i];
      r.iahp[k] = iahp[i];
      r.vmem[k] = vmem[i];
    }
  }
  r.final_imem = imem;
  r.final_isyn = isyn;
  r.final_iahp = iahp;
  r.final_vmem = vmem;
  r.final_spikes = spikes;
  r.final_timer_ref = timer;
  return r;
}

DynapSimRecord<double> dynapsim_reference(const DynapSimParams& p, const std::vector<double>& input, int steps) {
  check_sizes(p, input.size(), steps);
  const int n = p.n;
  DynapSimRecord<double> r;
  r.steps = steps;
  r.n = n;
  std::vector<double> imem = p.Io, isyn = p.Io, iahp = p.Io, vmem(n, 0.0), S(n, 0.0), timer(n, 0.0);
  for (int t = 0; t < steps; ++t) {
    std::vector<double> Snew(n, 0.0);
    for (int i = 0; i < n; ++i) {
      const double Io = p.Io[i], Ut = p.Ut[i];
      const double kappa = (p.kappa_n[i] + p.kappa_p[i]) / 2.0;
      double rec = 0.0;
      for (int s = 0; s < n; ++s) rec += S[s] * p.w_rec[static_cast<std::size_t>(s) * n + i];
      const double Iws = (rec + input[static_cast<std::size_t>(t) * n + i]) * p.Iscale;
      const double Itau_syn = std::max(p.Itau_syn[i], Io), Igain_syn = std::max(p.Igain_syn[i], Io);
      const double tau_syn = Ut * p.C_syn[i] / (kappa * Itau_syn);
      const double t_pulse = p.Vth[i] * p.C_pulse[i] / p.Ipulse[i];
      isyn[i] = std::exp(-p.dt / tau_syn) * isyn[i] +
                (1.0 - std::exp(-t_pulse / tau_syn)) * std::max(Igain_syn / Itau_syn * Iws, Io);
      const double Itau_ahp = std::max(p.Itau_ahp[i], Io), Igain_ahp = std::max(p.Igain_ahp[i], Io);
      const double tau_ahp = Ut * p.C_ahp[i] / (kappa * Itau_ahp);
      const double t_pulse_ahp = p.Vth[i] * p.C_pulse_ahp[i] / p.Ipulse_ahp[i];
      iahp[i] = std::max(std::exp(-p.dt / tau_ahp) * iahp[i] +
                             (1.0 - std::exp(-t_pulse_ahp / tau_ahp)) * (Igain_ahp / Itau_ahp * p.Iw_ahp[i] * S[i]),
                         Io);
      const double Itau_mem = std::max(p.Itau_mem[i], Io), Igain_mem = std::max(p.Igain_mem[i], Io);
      const double Ifb = Io * std::exp(kappa * kappa / (kappa + 1.0) * vmem[i] / Ut);
      const double Ileak = Itau_mem + iahp[i];
      const double Iin = std::max(timer[i] > 0.0 ? 0.0 : isyn[i] - Ileak + p.Idc[i], Io);
      const double tau_m = Ut * p.C_mem[i] / (kappa * Ileak);
      const double dI = imem[i] / (tau_m * (imem[i] + Igain_mem)) *
                        (Igain_mem / Itau_mem * (Iin - Ileak) + Ifb / Ileak * (imem[i] + Igain_mem) -
                         imem[i] * (1.0 + iahp[i] / Itau_mem));
      imem[i] = std::max(imem[i] + dI * p.dt, Io);
      vmem[i] = Ut / kappa * std::log(imem[i] / Io);
      Snew[i] = std::max(std::ceil(std::log(imem[i] / p.Ispkthr[i])), 0.0);
      const double b = std::min(Snew[i], 1.0);
      imem[i] = (1.0 - b) * imem[i] + b * Io;
      timer[i] = std::max(timer[i] - p.dt, 0.0);
      if (b == 1.0) timer[i] = p.Vth[i] * p.C_ref[i] / p.Iref[i];
      r.spikes.push_back(Snew[i]);
      r.imem.push_back(imem[i]);
      r.isyn.push_back(isyn[i]);
      r.iahp.push_back(iahp[i]);
      r.vmem.push_back(vmem[i]);
    }
    S = Snew;
  }
  r.final_imem = imem;
  r.final_isyn = isyn;
  r.final_iahp = iahp;
  r.final_vmem = vmem;
  r.final_spikes = S;
  r.final_timer_ref = timer;
  return r;
}

template <class T>
std::vector<T> weighted_input(const std::vector<T>& x, const std::vector<T>& w_in, int steps, int n_in, int n) {
  if (x.size() != static_cast<std::size_t>(steps) * n_in) throw InputError("input", "expected steps * n_in values");
  if (w_in.size() != static_cast<std::size_t>(n_in) * n) throw InputError("w_in", "expected n_in * n values");
  std::vector<T> out(static_cast<std::size_t>(steps) * n, T(0));
  for (int t = 0; t < steps; ++t)
    for (int j = 0; j < n; ++j) {
      T acc = T(0);
      for (int c = 0; c < n_in; ++c)
        acc += x[static_cast<std::size_t>(t) * n_in + c] * w_in[static_cast<std::size_t>(c) * n + j];
      out[static_cast<std::size_t>(t) * n + j] = acc;
    }
  return out;
}

template DynapSimRecord<float> dynapsim_forward<float>(const DynapSimParams&, const std::vector<float>&, int);
template DynapSimRecord<double> dynapsim_forward<double>(const DynapSimParams&, const std::vector<double>&, int);
template std::vector<float> weighted_input<float>(const std::vector<float>&, const std::vector<float>&, int, int,
                                                  int);
template std::vector<double> weighted_input<double>(const std::vector<double>&, const std::vector<double>&, int, int,
                                                    int);

}  // namespace spikeline::hw::dynapse2
