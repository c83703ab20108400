#include "spikeline/pipeline/factor_search.hpp"

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/tuner.hpp"

namespace spikeline::pipeline {

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

FactorSearch search_factors(const TuningConfig& config, const FactorEvaluator& evaluate, const FactorSearchOptions& o) {
  FactorSearch out;
  out.untuned_accuracy = evaluate(ordered_json::object()).accuracy;
  const auto chosen_so_far = [&] {
    const double trial = out.best_trial_accuracy();
    return out.untuned_accuracy && (!out.best_trial || *out.untuned_accuracy >= trial) ? *out.untuned_accuracy : trial;
  };
  auto tuner = hpo::make_tuner(config.tuner, config.class_args, config.space, o.seed, o.where);
  const std::size_t total = std::size_t(o.trials > 0 ? o.trials : config.max_trials);
  for (std::size_t n = 0; n < total; ++n) {
    const auto id = static_cast<std::int64_t>(n);
    const auto params = tuner->generate(id);
    if (!params) break;  // space exhausted
    FactorTrial t{id, *params, std::nullopt, {}};
    FactorScore score = evaluate(t.params);
    t.accuracy = score.accuracy;
    t.invalid = std::move(score.invalid);
    if (t.accuracy) {
      tuner->receive_result(id, *params, *t.accuracy);
      if (!out.best_trial || *t.accuracy > out.best_trial_accuracy()) out.best_trial = out.trials.size();
    }
    tuner->trial_end(id, t.accuracy.has_value());
    out.trials.push_back(std::move(t));
    if (o.on_trial) o.on_trial(out.trials.back(), n + 1, total, chosen_so_far());
  }
  out.kept_untuned = out.untuned_accuracy && (!out.best_trial || *out.untuned_accuracy >= out.best_trial_accuracy());
  if (out.kept_untuned) {
    out.chosen_accuracy = *out.untuned_accuracy;
  } else if (out.best_trial) {
    out.chosen_params = out.trials[*out.best_trial].params;
    out.chosen_accuracy = out.best_trial_accuracy();
  }
  return out;
}

nlohmann::json factor_history(const std::vector<FactorTrial>& trials) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& t : trials) {
    nlohmann::json h = {{"trial", t.id}, {"params", nlohmann::json::parse(t.params.dump())}};
    if (t.accuracy) h["accuracy"] = *t.accuracy;
    else h["invalid"] = t.invalid;
    history.push_back(std::move(h));
  }
  return history;
}

}  // namespace spikeline::pipeline
