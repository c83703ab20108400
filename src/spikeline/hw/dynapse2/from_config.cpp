#include "spikeline/hw/dynapse2/from_config.hpp"

#include <map>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

double decoded(const CoreSetup& core, const char* name) {
  const DeviceSetting* s = core.find(name);
  SPIKELINE_ASSERT(s != nullptr);
  return s->current;
}

// Sum over the set bits of Iw_k, k ascending (as restore_weights, so the result is bit-identical).
double weight_current(const CamEntry& e, const std::array<double, kWeightBits>& Iw) {
  double sum = 0.0;
  for (int k = 0; k < kWeightBits; ++k)
    if (e.weight[std::size_t(k)]) sum += Iw[std::size_t(k)];
  return sum;
}

void set_neuron_currents(DynapSimParams& p, std::size_t n, const CoreSetup& core, const NeuronSetup& nr) {
  p.Idc[n] = nr.dc_latch ? decoded(core, "Idc") : 0.0;
  p.If_nmda[n] = decoded(core, "If_nmda");
  p.Igain_ahp[n] = decoded(core, "Igain_ahp");
  p.Igain_mem[n] = decoded(core, "Igain_mem");
  p.Ipulse_ahp[n] = decoded(core, "Ipulse_ahp");
  p.Ipulse[n] = decoded(core, "Ipulse");
  p.Iref[n] = decoded(core, "Iref");
  p.Ispkthr[n] = decoded(core, "Ispkthr");
  p.Itau_ahp[n] = decoded(core, "Itau_ahp");
  p.Itau_mem[n] = decoded(core, "Itau_mem");
  p.Iw_ahp[n] = decoded(core, "Iw_ahp");
  // Dendrite scores: the integer masks arriving on each dendrite type.
  double ampa = 0, gaba = 0;
  for (const CamEntry& e : nr.cam) (e.dendrite == Dendrite::AMPA ? ampa : gaba) += e.mask();
  if (ampa + gaba == 0) {
    p.Itau_syn[n] = decoded(core, "Itau_ampa");
    p.Igain_syn[n] = decoded(core, "Igain_ampa");
  } else {
    p.Itau_syn[n] = (ampa * decoded(core, "Itau_ampa") + gaba * decoded(core, "Itau_gaba")) / (ampa + gaba);
    p.Igain_syn[n] = (ampa * decoded(core, "Igain_ampa") + gaba * decoded(core, "Igain_gaba")) / (ampa + gaba);
  }
}

}  // namespace

DynapseNet net_from_config(const ChipConfig& c) {
  DynapseNet net;
  net.n_in = c.n_in;
  net.n = c.n_neuron;
  net.w_in.assign(std::size_t(c.n_in) * c.n_neuron, 0.0);
  net.sim = default_dynapsim_params(c.n_neuron);
  net.sim.Iscale = c.Iscale;
  net.sim.dt = c.dt;
  // Tag -> source: row of w_in (channel) or of w_rec (neuron).
  std::map<int, std::pair<bool, int>> source;  // tag -> (is input, index)
  for (const InputChannel& i : c.inputs) source[i.tag] = {true, i.channel};
  for (const NeuronSetup& n : c.neurons) source[n.tag] = {false, n.id};
  for (const NeuronSetup& nr : c.neurons) {
    if (nr.cluster < 0 || std::size_t(nr.cluster) >= c.cores.size())
      throw InputError(fmt::format("neuron {}", nr.id), fmt::format("core {} is not configured", nr.cluster));
    const CoreSetup& core = c.cores[std::size_t(nr.cluster)];
    const std::size_t n = std::size_t(nr.id);
    set_neuron_currents(net.sim, n, core, nr);
    const std::array<double, kWeightBits> Iw = {decoded(core, "Iw_0"), decoded(core, "Iw_1"), decoded(core, "Iw_2"),
                                                decoded(core, "Iw_3")};
    for (std::size_t e = 0; e < nr.cam.size(); ++e) {
      const CamEntry& entry = nr.cam[e];
      const auto it = source.find(entry.tag);
      if (it == source.end())
        throw InputError(fmt::format("neuron {} CAM entry {}", nr.id, e),
                         fmt::format("tag {} belongs to no input channel or neuron", entry.tag));
      const double sign = entry.dendrite == Dendrite::AMPA ? 1.0 : -1.0;
      const double w = sign * weight_current(entry, Iw) / c.Iscale;
      const auto [is_input, row] = it->second;
      auto& dst = is_input ? net.w_in : net.sim.w_rec;
      dst[std::size_t(row) * c.n_neuron + n] += w;
    }
  }
  return net;
}

}  // namespace spikeline::hw::dynapse2
