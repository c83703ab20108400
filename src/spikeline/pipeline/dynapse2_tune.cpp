#include "spikeline/pipeline/dynapse2_tune.hpp"

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/pipeline/factor_search.hpp"
#include "spikeline/pipeline/dynapse2_deploy.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

double accuracy_of(const DynapseNet& net, const train::LabelledSet& set, int threads) {
  const std::vector<int> predicted = predict(net, set.x, threads);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < set.y.size(); ++i) hits += predicted[i] == set.y[i];
  return set.y.empty() ? 0.0 : double(hits) / double(set.y.size());
}

}  // namespace

TuneReport tune_checkpoint(const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // The thesis's NNI experiment files are the Xylo tuning's format (search_space, max_trial_number).
  const pipeline::TuningConfig config = pipeline::read_tuning_config(o.config);
  const Dynapse2Checkpoint ckpt = load_dynapse2_checkpoint(o.checkpoint);
  const train::TrainingData data =
      train::load_data_like(ckpt.config, o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);
  const int n = ckpt.net.n;
  for (const auto& p : config.space.specs())  // every name must be a factor of this network
    factors_from_params(nlohmann::json{{p.name, 1.1}}, n, o.config.string() + ": search_space");
  const Spec spec = map_network(ckpt.net);
  AutoencoderOptions ae;
  ae.seed = o.seed;

  TuningRecord r;
  r.split = o.split;
  r.seed = o.seed;
  r.tuner = config.tuner;
  r.float_accuracy = accuracy_of(ckpt.net, set, o.threads);
  const auto evaluate = [&](const nlohmann::ordered_json& params) -> pipeline::FactorScore {
    const ActivityFactors f = factors_from_params(nlohmann::json::parse(params.dump()), n, "trial");
    try {
      const Configured c = configure(spec, f, ae);
      if (!c.problems.empty()) return {std::nullopt, c.problems.front()};
      return {accuracy_of(c.net, set, o.threads), {}};
    } catch (const InputError& e) {  // e.g. a base current the bias generator cannot set
      return {std::nullopt, e.what()};
    }
  };
  const std::size_t total = std::size_t(o.trials > 0 ? o.trials : config.max_trials);
  ProgressBar bar("tune", total, o.progress);
  pipeline::FactorSearchOptions so;
  so.trials = o.trials;
  so.seed = o.seed;
  so.where = o.config.string() + ": tuner";
  so.on_trial = [&bar](const pipeline::FactorTrial& t, std::size_t done, std::size_t, double chosen) {
    bar.update(done, t.accuracy ? fmt::format("acc {:.4f} best {:.4f}", *t.accuracy, chosen) : "invalid config");
  };
  const pipeline::FactorSearch search = pipeline::search_factors(config, evaluate, so);
  bar.finish(fmt::format("best {:.4f}{}", search.chosen_accuracy, search.kept_untuned ? " (factors 1 kept)" : ""));
  if (!search.found())
    throw InputError(o.config.string(), "neither factors 1 nor any trial gave a configuration within the chip's limits");
  r.factors = factors_from_params(nlohmann::json::parse(search.chosen_params.dump()), n, "chosen trial");
  r.accuracy = search.chosen_accuracy;
  r.untuned_accuracy = search.untuned_accuracy.value_or(0.0);
  r.kept_untuned = search.kept_untuned;
  r.best_trial_accuracy = search.best_trial_accuracy();
  r.trials = int(search.trials.size());
  const nlohmann::json history = pipeline::factor_history(search.trials);
  write_tuning(o.checkpoint, r, n, history);
  TuneReport rep;
  rep.accuracy = r.accuracy;
  rep.untuned_accuracy = r.untuned_accuracy;
  rep.float_accuracy = r.float_accuracy;
  rep.trials = r.trials;
  rep.kept_untuned = r.kept_untuned;
  rep.best_trial_accuracy = r.best_trial_accuracy;
  rep.history = search.trials;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace spikeline::hw::dynapse2
