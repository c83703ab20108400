// Tuner factory, class arguments, optimize direction and metric extraction.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/tuner.hpp"
#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Direction parse_direction(const std::string& optimize_mode, const std::string& where) {
  const std::string m = lower(optimize_mode);
  if (m == "maximize") return Direction::Maximize;
  if (m == "minimize") return Direction::Minimize;
  throw InputError(where, fmt::format("optimize_mode must be \"maximize\" or \"minimize\", got \"{}\"",
                                      optimize_mode));
}

double metric_default(const nlohmann::json& metric, const std::string& where) {
  const nlohmann::json* v = &metric;
  if (metric.is_object()) {
    if (!metric.contains("default"))
      throw InputError(where, "a metric object must have a \"default\" entry");
    v = &metric["default"];
  }
  if (!v->is_number())
    throw InputError(where, fmt::format("a metric must be a number or {{\"default\": number}}, got {}",
                                        metric.dump()));
  const double x = v->get<double>();
  if (std::isnan(x)) throw InputError(where, "a metric is NaN");
  return x;
}

namespace detail {

ClassArgs::ClassArgs(const nlohmann::json& args, std::string where)
    : args_(args.is_null() ? nlohmann::json::object() : args), where_(std::move(where)) {
  if (!args_.is_object()) throw InputError(where_, "classArgs must be an object");
}

void ClassArgs::only(std::initializer_list<const char*> allowed) const {
  for (auto it = args_.begin(); it != args_.end(); ++it) {
    const bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; });
    if (ok) continue;
    std::string list;
    for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
    throw InputError(where_ + ": " + it.key(),
                     fmt::format("unknown class argument (expected one of: {})", list.empty() ? "none" : list));
  }
}

std::string ClassArgs::str(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!args_[key].is_string()) throw InputError(where_ + ": " + key, "expected a string");
  return args_[key].get<std::string>();
}

std::int64_t ClassArgs::integer(const char* key, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
  if (!has(key)) return fallback;
  const auto& v = args_[key];
  if (!v.is_number_integer()) throw InputError(where_ + ": " + key, "expected an integer");
  const auto x = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)
                     ? max + 1  // out of range anyway
                     : v.get<std::int64_t>();
  if (x < min || x > max)
    throw InputError(where_ + ": " + key, fmt::format("expected an integer in [{}, {}], got {}", min, max, v.dump()));
  return x;
}

double ClassArgs::number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  const auto& v = args_[key];
  if (!v.is_number() || !std::isfinite(v.get<double>())) throw InputError(where_ + ": " + key, "expected a number");
  return v.get<double>();
}

bool ClassArgs::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!args_[key].is_boolean()) throw InputError(where_ + ": " + key, "expected true or false");
  return args_[key].get<bool>();
}

Direction ClassArgs::direction(Direction fallback) const {
  if (!has("optimize_mode")) return fallback;
  return parse_direction(str("optimize_mode", ""), where_ + ": optimize_mode");
}

std::uint64_t ClassArgs::seed(std::uint64_t fallback) const {
  if (!has("seed")) return fallback;
  const auto& v = args_["seed"];
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0))
    throw InputError(where_ + ": seed", "expected a non-negative integer");
  return v.get<std::uint64_t>();
}

namespace {

TpeArgs tpe_args(const ClassArgs& outer) {
  TpeArgs t;
  if (!outer.has("tpe_args")) return t;
  const ClassArgs a(outer.raw()["tpe_args"], outer.where() + ": tpe_args");
  a.only({"constant_liar_type", "n_startup_jobs", "n_ei_candidates", "linear_forgetting", "prior_weight", "gamma"});
  t.constant_liar_type = a.has("constant_liar_type") ? lower(a.str("constant_liar_type", "best")) : "best";
  if (a.raw().contains("constant_liar_type") && a.raw()["constant_liar_type"].is_null()) t.constant_liar_type = "none";
  if (t.constant_liar_type != "best" && t.constant_liar_type != "worst" && t.constant_liar_type != "mean" &&
      t.constant_liar_type != "none")
    throw InputError(a.where() + ": constant_liar_type", "expected \"best\", \"worst\", \"mean\" or null");
  t.n_startup_jobs = static_cast<int>(a.integer("n_startup_jobs", 20, 0, 1000000));
  t.n_ei_candidates = static_cast<int>(a.integer("n_ei_candidates", 24, 1, 1000000));
  t.linear_forgetting = static_cast<int>(a.integer("linear_forgetting", 25, 1, 1000000));
  t.prior_weight = a.number("prior_weight", 1.0);
  t.gamma = a.number("gamma", 0.25);
  if (t.prior_weight < 0) throw InputError(a.where() + ": prior_weight", "must be >= 0");
  if (!(t.gamma > 0 && t.gamma <= 1)) throw InputError(a.where() + ": gamma", "must be in (0, 1]");
  return t;
}

}  // namespace

}  // namespace detail

std::unique_ptr<Tuner> make_tuner(const std::string& name, const nlohmann::json& class_args,
                                  const SearchSpace& space, std::uint64_t seed, const std::string& where) {
  const detail::ClassArgs a(class_args, where);
  const std::string n = lower(name);
  if (n == "anneal") {
    a.only({"optimize_mode", "seed", "parallel_optimize", "constant_liar_type"});
    // NNI's constant liar only acts with parallel_optimize at concurrency > 1 (hpo.md 2.2, step 10).
    if (a.boolean("parallel_optimize", false))
      throw InputError(where + ": parallel_optimize", "parallel_optimize=true is not supported by Spikeline's Anneal");
    const std::string liar = lower(a.str("constant_liar_type", "min"));
    if (liar != "min" && liar != "max" && liar != "mean")
      throw InputError(where + ": constant_liar_type", "expected \"min\", \"max\" or \"mean\"");
    return detail::make_anneal_tuner(space, a.direction(Direction::Minimize), a.seed(seed));
  }
  if (n == "tpe") {
    a.only({"optimize_mode", "seed", "tpe_args"});
    return detail::make_tpe_tuner(space, a.direction(Direction::Minimize), a.seed(seed), detail::tpe_args(a));
  }
  if (n == "random") {
    a.only({"seed", "optimize_mode"});  // optimize_mode is accepted and irrelevant
    (void)a.direction(Direction::Minimize);
    return detail::make_random_tuner(space, a.seed(seed));
  }
  if (n == "gridsearch") {
    a.only({"optimize_mode"});
    (void)a.direction(Direction::Minimize);
    return detail::make_grid_tuner(space);
  }
  if (n == "evolution") {
    a.only({"optimize_mode", "population_size", "seed"});
    const auto pop = a.integer("population_size", 32, 2, 1000000);
    return detail::make_evolution_tuner(space, a.direction(Direction::Maximize), a.seed(seed), static_cast<int>(pop));
  }
  throw InputError(where, fmt::format("unknown tuner \"{}\" (expected Anneal, TPE, Random, GridSearch or Evolution)",
                                      name));
}

}  // namespace spikeline::hpo
