#include "spikeline/hw/xylo/sim.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/xylo/validate.hpp"

namespace spikeline::hw::xylo {

namespace {

// XyloIAFNeuron's saturating add on 16-bit state: strict comparison against the limit on y's side.
std::int16_t sat_add(std::int32_t x, std::int32_t y) {
  const std::int32_t lim = y >= 0 ? 32767 : -32768;
  if (std::abs(lim - x) > std::abs(y)) return static_cast<std::int16_t>(x + y);
  return static_cast<std::int16_t>(lim);
}

// The amount a bit-shift decay removes: v >> d (arithmetic, towards -inf), at least one unit.
std::int32_t decay_amount(std::int16_t v, std::uint8_t dash) {
  std::int32_t q = static_cast<std::int32_t>(v) >> dash;
  if (q == 0 && v != 0) q = v > 0 ? 1 : -1;
  return q;
}

template <class To>
std::vector<To> narrow(const std::vector<std::int64_t>& v) {
  return std::vector<To>(v.begin(), v.end());
}

}  // namespace

CoreConfig CoreConfig::from_spec(const IntSpec& spec, const Limits& limits) {
  const auto problems = validate(spec, limits);
  if (!problems.empty()) {
    std::string msg = std::to_string(problems.size()) + " violation(s) of the Xylo limits: " + problems.front();
    if (problems.size() > 1) msg += "; ... (run 'spikeline xylo validate' for the full list)";
    throw InputError("xylo config", msg);
  }
  CoreConfig c;
  c.n_in = spec.n_in;
  c.n_hid = spec.n_hid;
  c.n_out = spec.n_out;
  c.n_syn = spec.n_syn;
  c.weights_in = narrow<std::int8_t>(spec.weights_in);
  c.weights_rec = narrow<std::int8_t>(spec.weights_rec);
  c.weights_out = narrow<std::int8_t>(spec.weights_out);
  c.dash_mem = narrow<std::uint8_t>(spec.dash_mem);
  c.dash_syn = narrow<std::uint8_t>(spec.dash_syn);
  c.dash_syn_2 = narrow<std::uint8_t>(spec.dash_syn_2);
  c.dash_mem_out = narrow<std::uint8_t>(spec.dash_mem_out);
  c.dash_syn_out = narrow<std::uint8_t>(spec.dash_syn_out);
  c.threshold = narrow<std::int16_t>(spec.threshold);
  c.bias = narrow<std::int16_t>(spec.bias);
  c.threshold_out = narrow<std::int16_t>(spec.threshold_out);
  c.bias_out = narrow<std::int16_t>(spec.bias_out);
  c.alias_target.assign(std::size_t(c.n_hid), -1);
  for (int i = 0; i < c.n_hid; ++i)
    if (!spec.aliases[std::size_t(i)].empty()) c.alias_target[std::size_t(i)] = spec.aliases[std::size_t(i)][0];
  c.weight_shift_in = static_cast<std::uint8_t>(spec.weight_shift_in);
  c.weight_shift_rec = static_cast<std::uint8_t>(spec.weight_shift_rec);
  c.weight_shift_out = static_cast<std::uint8_t>(spec.weight_shift_out);
  c.limits = limits;
  return c;
}

XyloSimulator::XyloSimulator(CoreConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  // Sparse synapse lists: only non-zero weights cost time (a zero weight adds nothing).
  input_synapses_.resize(std::size_t(c.n_in));
  for (int ch = 0; ch < c.n_in; ++ch)
    for (int j = 0; j < c.n_hid; ++j)
      for (int s = 0; s < c.n_syn; ++s)
        if (const auto w = c.weights_in[(std::size_t(ch) * c.n_hid + j) * c.n_syn + s])
          input_synapses_[ch].push_back({j * c.n_syn + s, static_cast<std::int32_t>(w) << c.weight_shift_in});
  rec_synapses_.resize(std::size_t(c.n_hid));
  out_synapses_.resize(std::size_t(c.n_hid));
  for (int i = 0; i < c.n_hid; ++i) {
    for (int j = 0; j < c.n_hid; ++j)
      for (int s = 0; s < c.n_syn; ++s)
        if (const auto w = c.weights_rec[(std::size_t(i) * c.n_hid + j) * c.n_syn + s])
          rec_synapses_[i].push_back({j * c.n_syn + s, static_cast<std::int32_t>(w) << c.weight_shift_rec});
    for (int o = 0; o < c.n_out; ++o)
      if (const auto w = c.weights_out[std::size_t(i) * c.n_out + o])
        out_synapses_[i].push_back({o, static_cast<std::int32_t>(w) << c.weight_shift_out});
  }
  reset_state();
}

void XyloSimulator::reset_state() {
  const auto& c = config_;
  isyn_.assign(std::size_t(c.n_hid) * c.n_syn, 0);
  vmem_.assign(std::size_t(c.n_hid), 0);
  isyn_out_.assign(std::size_t(c.n_out), 0);
  vmem_out_.assign(std::size_t(c.n_out), 0);
  events_.assign(std::size_t(c.n_hid), 0);
  out_events_.assign(std::size_t(c.n_out), 0);
}

void XyloSimulator::step(const std::uint8_t* input) {
  const auto& c = config_;
  const auto& lim = c.limits;
  // 1. Input events, clipped to 15 per channel; saturation after every single event.
  for (int ch = 0; ch < c.n_in; ++ch) {
    const int k = std::min<int>(input[ch], lim.max_input_events);
    for (const auto& syn : input_synapses_[ch])
      for (int e = 0; e < k; ++e) isyn_[syn.target] = sat_add(isyn_[syn.target], syn.weight);
  }
  // 2. Last step's hidden events reach hidden neurons, then (separate pass) the readout.
  for (int i = 0; i < c.n_hid; ++i) {
    const int k = std::min<int>(events_[i], lim.max_hidden_events);
    for (const auto& syn : rec_synapses_[i])
      for (int e = 0; e < k; ++e) isyn_[syn.target] = sat_add(isyn_[syn.target], syn.weight);
  }
  for (int i = 0; i < c.n_hid; ++i) {
    const int k = std::min<int>(events_[i], lim.max_hidden_events);
    for (const auto& syn : out_synapses_[i])
      for (int e = 0; e < k; ++e) isyn_out_[syn.target] = sat_add(isyn_out_[syn.target], syn.weight);
  }
  // 3. New step: clear the event buffers.
  std::fill(events_.begin(), events_.end(), 0);
  std::fill(out_events_.begin(), out_events_.end(), 0);
  // 4. Hidden neurons in id order (aliased events deposited earlier in this step count towards the cap).
  for (int n = 0; n < c.n_hid; ++n) {
    std::int32_t current = 0;  // wide: two 16-bit synaptic currents
    for (int s = 0; s < c.n_syn; ++s) {
      auto& isyn = isyn_[std::size_t(n) * c.n_syn + s];
      const std::uint8_t dash = s == 0 ? c.dash_syn[n] : c.dash_syn_2[n];
      isyn = static_cast<std::int16_t>(isyn - decay_amount(isyn, dash));
      current += isyn;
    }
    std::int16_t dv = sat_add(-decay_amount(vmem_[n], c.dash_mem[n]), current);
    dv = sat_add(dv, c.bias[n]);
    vmem_[n] = sat_add(vmem_[n], dv);
    std::uint8_t k = events_[n];
    while (vmem_[n] >= c.threshold[n] && k < lim.max_hidden_events) {
      ++k;
      vmem_[n] = static_cast<std::int16_t>(vmem_[n] - c.threshold[n]);
    }
    events_[n] = k;
    if (const auto a = c.alias_target[n]; a >= 0)
      events_[a] = static_cast<std::uint8_t>(std::min<int>(events_[a] + k, lim.max_hidden_events));
  }
  // 5. Readout neurons: one synapse, at most one event per step, no aliases.
  for (int o = 0; o < c.n_out; ++o) {
    isyn_out_[o] = static_cast<std::int16_t>(isyn_out_[o] - decay_amount(isyn_out_[o], c.dash_syn_out[o]));
    std::int16_t dv = sat_add(-decay_amount(vmem_out_[o], c.dash_mem_out[o]), isyn_out_[o]);
    dv = sat_add(dv, c.bias_out[o]);
    vmem_out_[o] = sat_add(vmem_out_[o], dv);
    std::uint8_t k = 0;
    while (vmem_out_[o] >= c.threshold_out[o] && k < lim.max_output_events) {
      ++k;
      vmem_out_[o] = static_cast<std::int16_t>(vmem_out_[o] - c.threshold_out[o]);
    }
    out_events_[o] = k;
  }
}

SimRecord XyloSimulator::evolve(const std::vector<std::uint8_t>& input, int steps) {
  const auto& c = config_;
  SPIKELINE_ASSERT(input.size() == std::size_t(steps) * c.n_in);
  SimRecord r;
  r.steps = steps;
  const std::size_t th = std::size_t(steps) * c.n_hid, to = std::size_t(steps) * c.n_out;
  r.output.resize(to);
  r.vmem.resize(th);
  r.isyn.resize(th);
  r.isyn2.resize(th);
  r.spikes.resize(th);
  r.vmem_out.resize(to);
  r.isyn_out.resize(to);
  for (int t = 0; t < steps; ++t) {
    step(input.data() + std::size_t(t) * c.n_in);
    const std::size_t h = std::size_t(t) * c.n_hid, o = std::size_t(t) * c.n_out;
    for (int n = 0; n < c.n_hid; ++n) {
      r.vmem[h + n] = vmem_[n];
      r.isyn[h + n] = isyn_[std::size_t(n) * c.n_syn];
      r.isyn2[h + n] = c.n_syn == 2 ? isyn_[std::size_t(n) * 2 + 1] : std::int16_t{0};
      r.spikes[h + n] = events_[n];
    }
    for (int k = 0; k < c.n_out; ++k) {
      r.output[o + k] = out_events_[k];
      r.vmem_out[o + k] = vmem_out_[k];
      r.isyn_out[o + k] = isyn_out_[k];
    }
  }
  return r;
}

void XyloSimulator::run(std::span<const std::uint8_t> input, int steps, RunTally& tally) {
  const auto& c = config_;
  SPIKELINE_ASSERT(input.size() == std::size_t(steps) * c.n_in && tally.output_events.size() == std::size_t(c.n_out));
  for (int t = 0; t < steps; ++t) {
    const std::uint8_t* x = input.data() + std::size_t(t) * c.n_in;
    step(x);
    for (int ch = 0; ch < c.n_in; ++ch) tally.input_active += x[ch] != 0;
    for (int n = 0; n < c.n_hid; ++n) tally.hidden_active += events_[n] != 0;
    for (int o = 0; o < c.n_out; ++o) {
      tally.output_events[o] += out_events_[o];
      tally.output_active += out_events_[o] != 0;
    }
  }
  tally.steps += std::uint64_t(steps);
}

// ---- Reference twin: the text of xylo.md §6, with wide integers and clamping. ----
namespace {

long clamp16(long v) { return std::clamp(v, -32768L, 32767L); }
// floor(v / 2^d) without relying on shifts of negative numbers.
long floor_div_pow2(long v, long d) {
  const long p = 1L << d;
  return v >= 0 ? v / p : -((-v + p - 1) / p);
}
long leak(long v, long d) {
  long q = floor_div_pow2(v, d);
  if (q == 0 && v != 0) q = v > 0 ? 1 : -1;
  return q;
}

}  // namespace

SimRecord reference_simulate(const IntSpec& s, const std::vector<std::uint8_t>& input, int steps) {
  const int H = s.n_hid, O = s.n_out, S = s.n_syn;
  std::vector<std::vector<long>> isyn(H, std::vector<long>(S, 0));
  std::vector<long> vmem(H, 0), iout(O, 0), vout(O, 0), R(H, 0), Out(O, 0);
  SimRecord r;
  r.steps = steps;
  for (int t = 0; t < steps; ++t) {
    for (int c = 0; c < s.n_in; ++c) {
      const long k = std::min<long>(input[std::size_t(t) * s.n_in + c], 15);
      for (int j = 0; j < H; ++j)
        for (int syn = 0; syn < S; ++syn)
          for (long e = 0; e < k; ++e)
            isyn[j][syn] = clamp16(isyn[j][syn] + s.w_in(c, j, syn) * (1L << s.weight_shift_in));
    }
    for (int i = 0; i < H; ++i) {
      const long k = std::min<long>(R[i], 31);
      for (int j = 0; j < H; ++j)
        for (int syn = 0; syn < S; ++syn)
          for (long e = 0; e < k; ++e)
            isyn[j][syn] = clamp16(isyn[j][syn] + s.w_rec(i, j, syn) * (1L << s.weight_shift_rec));
    }
    for (int i = 0; i < H; ++i) {
      const long k = std::min<long>(R[i], 31);
      for (int o = 0; o < O; ++o)
        for (long e = 0; e < k; ++e) iout[o] = clamp16(iout[o] + s.w_out(i, o) * (1L << s.weight_shift_out));
    }
    std::fill(R.begin(), R.end(), 0);
    std::fill(Out.begin(), Out.end(), 0);
    for (int n = 0; n < H; ++n) {
      long I = 0;
      for (int syn = 0; syn < S; ++syn) {
        isyn[n][syn] -= leak(isyn[n][syn], syn == 0 ? s.dash_syn[n] : s.dash_syn_2[n]);
        I += isyn[n][syn];
      }
      long dv = clamp16(-leak(vmem[n], s.dash_mem[n]) + I);
      dv = clamp16(dv + s.bias[n]);
      vmem[n] = clamp16(vmem[n] + dv);
      long k = R[n];
      while (vmem[n] >= s.threshold[n] && k < 31) {
        ++k;
        vmem[n] -= s.threshold[n];
      }
      R[n] = k;
      for (int a : s.aliases[n]) R[a] = std::min<long>(R[a] + k, 31);
    }
    for (int o = 0; o < O; ++o) {
      iout[o] -= leak(iout[o], s.dash_syn_out[o]);
      long dv = clamp16(-leak(vout[o], s.dash_mem_out[o]) + iout[o]);
      dv = clamp16(dv + s.bias_out[o]);
      vout[o] = clamp16(vout[o] + dv);
      if (vout[o] >= s.threshold_out[o]) {
        Out[o] = 1;
        vout[o] -= s.threshold_out[o];
      }
    }
    for (int n = 0; n < H; ++n) {
      r.vmem.push_back(static_cast<std::int16_t>(vmem[n]));
      r.isyn.push_back(static_cast<std::int16_t>(isyn[n][0]));
      r.isyn2.push_back(static_cast<std::int16_t>(S == 2 ? isyn[n][1] : 0));
      r.spikes.push_back(static_cast<std::uint8_t>(R[n]));
    }
    for (int o = 0; o < O; ++o) {
      r.output.push_back(static_cast<std::uint8_t>(Out[o]));
      r.vmem_out.push_back(static_cast<std::int16_t>(vout[o]));
      r.isyn_out.push_back(static_cast<std::int16_t>(iout[o]));
    }
  }
  return r;
}

}  // namespace spikeline::hw::xylo
