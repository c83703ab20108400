#include "spikeline/hw/xylo/evaluate.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/core/error.hpp"
#include "spikeline/core/parallel.hpp"

namespace spikeline::hw::xylo {

EventSet to_events(const FloatArray& x, const std::string& where) {
  if (x.ndim() != 3) throw InputError(where, "expected spike rasters [samples, steps, channels], got " + shape_to_string(x.shape));
  EventSet e{x.dim(0), x.dim(1), x.dim(2), std::vector<std::uint8_t>(x.size())};
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float v = x[i];
    if (!(v >= 0.0f && v <= 255.0f) || std::nearbyint(v) != v)
      throw InputError(where, "element " + std::to_string(i) + " = " + std::to_string(v) +
                                  ": the chip takes event counts, integers 0..255");
    e.data[i] = static_cast<std::uint8_t>(v);
  }
  return e;
}

int argmax_class(std::span<const std::uint32_t> counts) {
  return static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

SimEvaluation simulate_set(const CoreConfig& config, const EventSet& set, const SimEvalOptions& options) {
  if (set.samples && set.channels != std::size_t(config.n_in))
    throw InputError("xylo simulation", "the data have " + std::to_string(set.channels) + " channels, the config " +
                                            std::to_string(config.n_in) + " inputs");
  SimEvaluation ev;
  ev.predicted.assign(set.samples, 0);
  ev.counts.assign(set.samples, {});
  const int workers = options.carry_state ? 1 : std::max(1, options.threads);
  std::vector<RunTally> totals(static_cast<std::size_t>(workers));
  std::vector<XyloSimulator> sims(static_cast<std::size_t>(workers), XyloSimulator(config));
  for (auto& t : totals) t.reset(config.n_out);
  parallel_for(set.samples, workers, [&](std::size_t i, int w) {
    auto& sim = sims[std::size_t(w)];
    if (!options.carry_state) sim.reset_state();
    RunTally tally;
    tally.reset(config.n_out);
    sim.run(set.sample(i), static_cast<int>(set.steps), tally);
    ev.counts[i] = tally.output_events;
    ev.predicted[i] = argmax_class(tally.output_events);
    auto& total = totals[std::size_t(w)];
    total.steps += tally.steps;
    total.input_active += tally.input_active;
    total.hidden_active += tally.hidden_active;
    total.output_active += tally.output_active;
  });
  RunTally sum;
  for (const auto& t : totals) {
    sum.steps += t.steps;
    sum.input_active += t.input_active;
    sum.hidden_active += t.hidden_active;
    sum.output_active += t.output_active;
  }
  auto rate = [&](std::uint64_t active, int n) {
    const double slots = static_cast<double>(sum.steps) * n;
    return slots > 0 ? static_cast<double>(active) / slots : 0.0;
  };
  ev.activity = {rate(sum.input_active, config.n_in), rate(sum.hidden_active, config.n_hid),
                 rate(sum.output_active, config.n_out)};
  return ev;
}

}  // namespace spikeline::hw::xylo
