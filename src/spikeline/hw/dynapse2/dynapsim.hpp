#pragma once
// DynapSim forward dynamics (Rockpool 2.7 devices/dynapse/simulation/dynapsim.py; equations in
// shared docs dynapse2.md §2 and docs/dynapse2.md). Forward only; float32 and float64.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::hw::dynapse2 {

// Per-neuron simulation parameters (currents in A, capacitances in F, voltages in V, time in s).
struct DynapSimParams {
  int n = 0;
  std::vector<double> Idc, If_nmda, Igain_ahp, Igain_mem, Igain_syn, Ipulse_ahp, Ipulse, Iref, Ispkthr, Itau_ahp,
      Itau_mem, Itau_syn, Iw_ahp, C_ahp, C_syn, C_pulse_ahp, C_pulse, C_ref, C_mem, Io, kappa_n, kappa_p, Ut, Vth;
  std::vector<double> w_rec;  // [n(src) * n(dst)], dimensionless; zeros = no recurrence
  double Iscale = 1e-8;
  double dt = 1e-3;
};

// Rockpool's default_currents / default_layout for n neurons, w_rec zero.
DynapSimParams default_dynapsim_params(int n);

// One per-neuron vector of DynapSimParams: its JSON/doc name, the member, Rockpool's default value.
struct DynapSimVector {
  std::string_view name;
  std::vector<double> DynapSimParams::*member;
  double default_value;
};

// Every per-neuron vector, in the order above (the single list that JSON I/O, mapping and mismatch use).
std::span<const DynapSimVector> dynapsim_vectors();

// Names of the per-neuron vectors, in the order above (for JSON I/O and docs).
const std::vector<std::string>& dynapsim_vector_names();

// Reads {"n": N, "Iscale", "dt", "w_rec": [[..]], "<name>": scalar or [N]} over the defaults;
// unknown keys and wrong shapes throw InputError naming `where` and the field.
DynapSimParams dynapsim_params_from_json(const nlohmann::json& j, const std::string& where);

// Evolution of one sample. Records are [T * n] (time-major), recorded after each step: imem after
// the reset, vmem before it, spikes = events per step (may exceed 1).
template <class T>
struct DynapSimRecord {
  int steps = 0;
  int n = 0;
  std::vector<T> spikes, imem, isyn, iahp, vmem;
  // Final state.
  std::vector<T> final_imem, final_isyn, final_iahp, final_vmem, final_spikes, final_timer_ref;
};

// `input` is the weighted input per neuron, [steps * n] (x[t] @ w_in), dimensionless. All
// arithmetic in T. Throws InputError on a size mismatch.
template <class T>
DynapSimRecord<T> dynapsim_forward(const DynapSimParams& p, const std::vector<T>& input, int steps);

// Plain reference twin: the same equations written per neuron and step straight from the
// documentation in double, nothing precomputed; for tests against dynapsim_forward.
DynapSimRecord<double> dynapsim_reference(const DynapSimParams& p, const std::vector<double>& input, int steps);

// Weighted input x[t] @ w_in for x [steps * n_in] and w_in [n_in * n], computed in T.
template <class T>
std::vector<T> weighted_input(const std::vector<T>& x, const std::vector<T>& w_in, int steps, int n_in, int n);

extern template DynapSimRecord<float> dynapsim_forward<float>(const DynapSimParams&, const std::vector<float>&, int);
extern template DynapSimRecord<double> dynapsim_forward<double>(const DynapSimParams&, const std::vector<double>&,
                                                                int);
extern template std::vector<float> weighted_input<float>(const std::vector<float>&, const std::vector<float>&, int,
                                                         int, int);
extern template std::vector<double> weighted_input<double>(const std::vector<double>&, const std::vector<double>&,
                                                           int, int, int);

}  // namespace spikeline::hw::dynapse2
