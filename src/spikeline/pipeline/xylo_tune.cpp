#include "spikeline/pipeline/xylo_tune.hpp"

#include <chrono>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/validate.hpp"

namespace spikeline::hw::xylo {

using nlohmann::ordered_json;

namespace {

double accuracy_of(const IntSpec& q, const EventSet& events, std::span<const int> labels, const SimEvalOptions& o) {
  const SimEvaluation sim = simulate_set(CoreConfig::from_spec(q), events, o);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) hits += sim.predicted[i] == labels[i];
  return labels.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(labels.size());
}

}  // namespace

TuneOutcome tune_factors(const FloatSpec& spec, const EventSet& events, std::span<const int> labels,
                         const TuningConfig& config, const TuneLoopOptions& o) {
  SPIKELINE_ASSERT(labels.size() == events.samples);
  for (const auto& p : config.space.specs())  // every name must be a factor of this network
    factors_from_params(ordered_json{{p.name, 1.0}}, spec.n_out, "search_space");
  const auto evaluate = [&](const ordered_json& params) -> pipeline::FactorScore {
    const ActivityFactors f = factors_from_params(params, spec.n_out, "trial");
    const IntSpec q = quantize_with_factors(spec, f, o.recipe);
    if (const auto problems = validate(q); !problems.empty()) return {std::nullopt, problems.front()};
    return {accuracy_of(q, events, labels, o.sim), {}};
  };
  pipeline::FactorSearchOptions so;
  so.trials = o.trials;
  so.seed = o.seed;
  so.on_trial = o.on_trial;
  TuneOutcome out;
  out.search = pipeline::search_factors(config, evaluate, so);
  out.factors = factors_from_params(out.search.chosen_params, spec.n_out, "chosen trial");
  out.accuracy = out.search.chosen_accuracy;
  out.untuned_accuracy = out.search.untuned_accuracy.value_or(0.0);
  return out;
}

TuneReport tune_checkpoint(const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const TuningConfig config = read_tuning_config(o.config);
  const CheckpointModel ckpt = load_checkpoint_model(o.checkpoint);
  const train::TrainingData data = train::load_data_like(ckpt.config, o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);
  const snn::Network net = prune_for_deploy(ckpt.net, o.max_fan_out);
  const FloatSpec spec = map_network(net).spec;
  const EventSet events = to_events(set.x, o.split + " split");

  TuneLoopOptions loop;
  loop.trials = o.trials;
  loop.seed = o.seed;
  loop.recipe = o.recipe;
  loop.sim = {o.threads, o.carry_state};
  const std::size_t total = std::size_t(o.trials > 0 ? o.trials : config.max_trials);
  ProgressBar bar("tune", total, o.progress);
  loop.on_trial = [&bar](const Trial& t, std::size_t done, std::size_t, double chosen) {
    bar.update(done, t.accuracy ? fmt::format("acc {:.4f} best {:.4f}", *t.accuracy, chosen) : "invalid config");
  };
  TuneReport rep;
  rep.outcome = tune_factors(spec, events, set.y, config, loop);
  const pipeline::FactorSearch& search = rep.outcome.search;
  bar.finish(fmt::format("best {:.4f}{}", rep.outcome.accuracy, search.kept_untuned ? " (factors 1 kept)" : ""));
  if (!search.found())
    throw InputError(o.config.string(), "neither factors 1 nor any trial gave a configuration within the chip's limits");

  TuningRecord& r = rep.record;
  r.factors = rep.outcome.factors;
  r.recipe = o.recipe;
  r.split = o.split;
  r.accuracy = rep.outcome.accuracy;
  r.untuned_accuracy = rep.outcome.untuned_accuracy;
  r.kept_untuned = search.kept_untuned;
  r.best_trial_accuracy = search.best_trial_accuracy();
  r.float_accuracy = train::evaluate(net, set, data.classes, o.threads).accuracy;
  r.max_fan_out = o.max_fan_out;
  r.trials = static_cast<int>(search.trials.size());
  r.seed = o.seed;
  r.tuner = config.tuner;
  r.config = quantize_with_factors(spec, r.factors, r.recipe);
  write_tuning(o.checkpoint, r, pipeline::factor_history(search.trials));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace spikeline::hw::xylo
