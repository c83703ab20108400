#include "spikeline/hw/xylo/validate.hpp"

#include <string>

namespace spikeline::hw::xylo {

namespace {

std::string range(std::int64_t lo, std::int64_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); }

void check_vector(const std::vector<std::int64_t>& v, const char* name, const char* neuron_kind, std::int64_t lo,
                  std::int64_t hi, std::vector<std::string>& out) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] < lo || v[i] > hi)
      out.push_back(std::string(name) + "[" + std::to_string(i) + "] (" + neuron_kind + " neuron " +
                    std::to_string(i) + ") = " + std::to_string(v[i]) + ", outside " + range(lo, hi));
}

}  // namespace

std::vector<std::string> validate(const IntSpec& s, const Limits& lim) {
  std::vector<std::string> out;
  if (s.n_in > lim.max_inputs)
    out.push_back(std::to_string(s.n_in) + " input channels, at most " + std::to_string(lim.max_inputs));
  if (s.n_hid > lim.max_hidden)
    out.push_back(std::to_string(s.n_hid) + " hidden neurons, at most " + std::to_string(lim.max_hidden));
  if (s.n_out > lim.max_outputs)
    out.push_back(std::to_string(s.n_out) + " readout neurons, at most " + std::to_string(lim.max_outputs));
  if (s.n_syn < 1 || s.n_syn > 2) out.push_back("synapses per hidden neuron = " + std::to_string(s.n_syn) + ", must be 1 or 2");
  if (!(s.dt > 0.0)) out.push_back("dt = " + std::to_string(s.dt) + ", must be > 0");

  const std::string syn_suffix[2] = {"", " synapse 2"};
  auto weight = [&](const char* name, std::int64_t w, const std::string& what) {
    if (w < lim.weight_min || w > lim.weight_max)
      out.push_back(std::string(name) + what + " = " + std::to_string(w) + ", outside int8 " +
                    range(lim.weight_min, lim.weight_max));
  };
  for (int c = 0; c < s.n_in; ++c)
    for (int j = 0; j < s.n_hid; ++j)
      for (int k = 0; k < s.n_syn; ++k)
        weight("weights_in", s.w_in(c, j, k),
               "[" + std::to_string(c) + "][" + std::to_string(j) + "] (input " + std::to_string(c) +
                   " -> hidden " + std::to_string(j) + syn_suffix[k] + ")");
  for (int i = 0; i < s.n_hid; ++i) {
    int fan_out = 0;
    for (int j = 0; j < s.n_hid; ++j)
      for (int k = 0; k < s.n_syn; ++k) {
        const auto w = s.w_rec(i, j, k);
        fan_out += w != 0;
        weight("weights_rec", w,
               "[" + std::to_string(i) + "][" + std::to_string(j) + "] (hidden " + std::to_string(i) +
                   " -> hidden " + std::to_string(j) + syn_suffix[k] + ")");
      }
    if (fan_out > lim.max_fan_out)
      out.push_back("hidden neuron " + std::to_string(i) + " has " + std::to_string(fan_out) +
                    " recurrent synapses, fan-out at most " + std::to_string(lim.max_fan_out));
    for (int o = 0; o < s.n_out; ++o)
      weight("weights_out", s.w_out(i, o),
             "[" + std::to_string(i) + "][" + std::to_string(o) + "] (hidden " + std::to_string(i) +
                 " -> readout " + std::to_string(o) + ")");
  }
  check_vector(s.dash_mem, "dash_mem", "hidden", lim.dash_min, lim.dash_max, out);
  check_vector(s.dash_syn, "dash_syn", "hidden", lim.dash_min, lim.dash_max, out);
  check_vector(s.dash_syn_2, "dash_syn_2", "hidden", lim.dash_min, lim.dash_max, out);
  check_vector(s.dash_mem_out, "dash_mem_out", "readout", lim.dash_min, lim.dash_max, out);
  check_vector(s.dash_syn_out, "dash_syn_out", "readout", lim.dash_min, lim.dash_max, out);
  check_vector(s.threshold, "threshold", "hidden", lim.state_min, lim.state_max, out);
  check_vector(s.threshold_out, "threshold_out", "readout", lim.state_min, lim.state_max, out);
  check_vector(s.bias, "bias", "hidden", lim.state_min, lim.state_max, out);
  check_vector(s.bias_out, "bias_out", "readout", lim.state_min, lim.state_max, out);
  for (int i = 0; i < static_cast<int>(s.aliases.size()); ++i) {
    const auto& a = s.aliases[std::size_t(i)];
    if (static_cast<int>(a.size()) > lim.max_aliases_per_neuron)
      out.push_back("aliases[" + std::to_string(i) + "] (hidden neuron " + std::to_string(i) + ") has " +
                    std::to_string(a.size()) + " targets, at most " + std::to_string(lim.max_aliases_per_neuron));
    for (int t : a)
      if (t < 0 || t >= s.n_hid || t == i)
        out.push_back("aliases[" + std::to_string(i) + "] (hidden neuron " + std::to_string(i) + ") target " +
                      std::to_string(t) + " is not another hidden neuron 0.." + std::to_string(s.n_hid - 1));
  }
  const std::pair<const char*, int> shifts[] = {
      {"weight_shift_in", s.weight_shift_in}, {"weight_shift_rec", s.weight_shift_rec}, {"weight_shift_out", s.weight_shift_out}};
  for (const auto& [name, v] : shifts)
    if (v < lim.weight_shift_min || v > lim.weight_shift_max)
      out.push_back(std::string(name) + " = " + std::to_string(v) + ", outside " +
                    range(lim.weight_shift_min, lim.weight_shift_max));
  return out;
}

}  // namespace spikeline::hw::xylo
