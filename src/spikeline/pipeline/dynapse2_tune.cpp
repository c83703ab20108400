#include "spikeline/pipeline/dynapse2_tune.hpp"

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/hpo/tuner.hpp"
#include "spikeline/pipeline/dynapse2_deploy.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"
#include "spikeline/pipeline/xylo_tune.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

double accuracy_of(const DynapseNet& net, const train::LabelledSet& set, int threads) {
  const std::vector<int> predicted = predict(net, set.x, threads);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < set.y.size(); ++i) hits += predicted[i] == set.y[i];
  return set.y.empty() ? 0.0 : double(hits) / double(set.y.size());
}

struct Trial {
  std::int64_t id = 0;
  nlohmann::json params;
  std::optional<double> accuracy;  // none: the configuration broke the chip's limits
  std::string invalid;
};

}  // namespace

TuneReport tune_checkpoint(const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // The thesis's NNI experiment files are the Xylo tuning's format (search_space, max_trial_number).
  const xylo::TuningConfig config = xylo::read_tuning_config(o.config);
  const Dynapse2Checkpoint ckpt = load_dynapse2_checkpoint(o.checkpoint);
  const train::TrainingData data =
      train::load_data_like(ckpt.config, o.data.empty() ? ckpt.config.data.file : o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);
  if (set.size() == 0) throw InputError("--split " + o.split, "the split has no samples");
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
  {
    const Configured base = configure(spec, {}, ae);
    r.untuned_accuracy = base.problems.empty() ? accuracy_of(base.net, set, o.threads) : 0.0;
  }
  auto tuner = hpo::make_tuner(config.tuner, config.class_args, config.space, o.seed, o.config.string() + ": tuner");
  const std::size_t total = std::size_t(o.trials > 0 ? o.trials : config.max_trials);
  ProgressBar bar("tune", total, o.progress);
  std::vector<Trial> trials;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < total; ++i) {
    const auto id = static_cast<std::int64_t>(i);
    const auto params = tuner->generate(id);
    if (!params) break;  // space exhausted
    Trial t{id, nlohmann::json::parse(params->dump()), std::nullopt, {}};
    const ActivityFactors f = factors_from_params(t.params, n, fmt::format("trial {}", id));
    try {
      const Configured c = configure(spec, f, ae);
      if (!c.problems.empty()) t.invalid = c.problems.front();
      else t.accuracy = accuracy_of(c.net, set, o.threads);
    } catch (const InputError& e) {  // e.g. a base current the bias generator cannot set
      t.invalid = e.what();
    }
    if (t.accuracy) {
      tuner->receive_result(id, *params, *t.accuracy);
      if (!best || *t.accuracy > *trials[*best].accuracy) {
        best = trials.size();
        r.factors = f;
        r.accuracy = *t.accuracy;
      }
    }
    tuner->trial_end(id, t.accuracy.has_value());
    trials.push_back(std::move(t));
    bar.update(i + 1, trials.back().accuracy ? fmt::format("acc {:.4f} best {:.4f}", *trials.back().accuracy, r.accuracy)
                                             : "invalid config");
  }
  bar.finish(fmt::format("best {:.4f}", r.accuracy));
  if (!best) throw InputError(o.config.string(), "no trial gave a configuration within the chip's limits");
  r.trials = int(trials.size());
  nlohmann::json history = nlohmann::json::array();
  for (const Trial& t : trials) {
    nlohmann::json h = {{"trial", t.id}, {"params", t.params}};
    if (t.accuracy) h["accuracy"] = *t.accuracy;
    else h["invalid"] = t.invalid;
    history.push_back(std::move(h));
  }
  write_tuning(o.checkpoint, r, n, history);
  TuneReport rep;
  rep.accuracy = r.accuracy;
  rep.untuned_accuracy = r.untuned_accuracy;
  rep.float_accuracy = r.float_accuracy;
  rep.trials = r.trials;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace spikeline::hw::dynapse2
