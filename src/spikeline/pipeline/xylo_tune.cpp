#include "spikeline/pipeline/xylo_tune.hpp"

#include <chrono>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/hpo/tuner.hpp"
#include "spikeline/hw/xylo/mapper.hpp"
#include "spikeline/hw/xylo/validate.hpp"

namespace spikeline::hw::xylo {

using nlohmann::ordered_json;

TuningConfig tuning_config_from_text(std::string_view text, const std::string& source) {
  ordered_json doc;
  try {
    doc = ordered_json::parse(text);  // ordered: the search space's key order drives the tuner's draws
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) throw InputError(source, "expected an NNI experiment object");
  TuningConfig c;
  bool have_space = false;
  for (const auto& [key, value] : doc.items()) {
    const std::string at = source + ": " + key;
    if (key == "search_space") {
      c.space = hpo::SearchSpace::parse(value, at);
      have_space = true;
    } else if (key == "max_trial_number") {
      if (!value.is_number_integer() || value.get<long long>() < 1) throw InputError(at, "must be a positive integer");
      c.max_trials = value.get<int>();
    } else if (key == "tuner") {
      if (!value.is_object() || !value.contains("name") || !value.at("name").is_string())
        throw InputError(at, "expected {\"name\": ..., \"classArgs\": {...}}");
      for (const auto& [k, v] : value.items())
        if (k != "name" && k != "classArgs" && k != "class_args") throw InputError(at + "." + k, "unknown key");
      c.tuner = value.at("name").get<std::string>();
      const char* args = value.contains("classArgs") ? "classArgs" : "class_args";
      c.class_args = value.contains(args) ? nlohmann::json::parse(value.at(args).dump()) : nlohmann::json::object();
      if (!c.class_args.contains("optimize_mode")) c.class_args["optimize_mode"] = "maximize";
    } else if (key != "trial_command" && key != "assessor_start_step") {
      throw InputError(at, "unknown key (expected search_space, max_trial_number, tuner, trial_command, "
                           "assessor_start_step)");
    }
  }
  if (!have_space) throw InputError(source, "missing key 'search_space'");
  return c;
}

TuningConfig read_tuning_config(const std::filesystem::path& path) {
  return tuning_config_from_text(read_file_text(path), path.string());
}

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
  TuneOutcome out;
  {
    const IntSpec base = quantize_with_factors(spec, {}, o.recipe);
    out.untuned_accuracy = validate(base).empty() ? accuracy_of(base, events, labels, o.sim) : 0.0;
  }
  auto tuner = hpo::make_tuner(config.tuner, config.class_args, config.space, o.seed, "tuner");
  const std::size_t total = std::size_t(o.trials > 0 ? o.trials : config.max_trials);
  for (std::size_t n = 0; n < total; ++n) {
    const auto id = static_cast<std::int64_t>(n);
    const auto params = tuner->generate(id);
    if (!params) break;  // space exhausted
    Trial t{id, *params, std::nullopt, {}};
    const ActivityFactors f = factors_from_params(*params, spec.n_out, fmt::format("trial {}", id));
    const IntSpec q = quantize_with_factors(spec, f, o.recipe);
    if (const auto problems = validate(q); !problems.empty()) {
      t.invalid = problems.front();
      tuner->trial_end(id, false);
    } else {
      t.accuracy = accuracy_of(q, events, labels, o.sim);
      tuner->receive_result(id, *params, *t.accuracy);
      tuner->trial_end(id, true);
      if (!out.best || *t.accuracy > out.best_accuracy) {
        out.best = out.trials.size();
        out.best_accuracy = *t.accuracy;
        out.best_factors = f;
      }
    }
    out.trials.push_back(std::move(t));
    if (o.on_trial) o.on_trial(out.trials.back(), n + 1, total, out.best_accuracy);
  }
  return out;
}

TuneReport tune_checkpoint(const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const TuningConfig config = read_tuning_config(o.config);
  const CheckpointModel ckpt = load_checkpoint_model(o.checkpoint);
  const train::TrainingData data = load_checkpoint_data(ckpt, o.data, o.threads);
  const train::LabelledSet& set = pick_split(data, o.split);
  if (set.size() == 0) throw InputError("--split " + o.split, "the split has no samples");
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
  loop.on_trial = [&bar](const Trial& t, std::size_t done, std::size_t, double best) {
    bar.update(done, t.accuracy ? fmt::format("acc {:.4f} best {:.4f}", *t.accuracy, best) : "invalid config");
  };
  TuneReport rep;
  rep.outcome = tune_factors(spec, events, set.y, config, loop);
  bar.finish(fmt::format("best {:.4f}", rep.outcome.best_accuracy));
  if (!rep.outcome.best)
    throw InputError(o.config.string(), "no trial gave a configuration within the chip's limits");

  TuningRecord& r = rep.record;
  r.factors = rep.outcome.best_factors;
  r.recipe = o.recipe;
  r.split = o.split;
  r.accuracy = rep.outcome.best_accuracy;
  r.untuned_accuracy = rep.outcome.untuned_accuracy;
  r.float_accuracy = train::evaluate(net, set, data.classes, o.threads).accuracy;
  r.max_fan_out = o.max_fan_out;
  r.trials = static_cast<int>(rep.outcome.trials.size());
  r.seed = o.seed;
  r.tuner = config.tuner;
  r.config = quantize_with_factors(spec, r.factors, r.recipe);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& t : rep.outcome.trials) {
    nlohmann::json h = {{"trial", t.id}, {"params", nlohmann::json::parse(t.params.dump())}};
    if (t.accuracy) h["accuracy"] = *t.accuracy;
    else h["invalid"] = t.invalid;
    history.push_back(std::move(h));
  }
  write_tuning(o.checkpoint, r, history);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace spikeline::hw::xylo
