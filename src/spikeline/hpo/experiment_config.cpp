#include "spikeline/hpo/experiment_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/slurm_executor.hpp"
#include "spikeline/io/document.hpp"

namespace spikeline::hpo {

namespace {

using json = nlohmann::ordered_json;  // keeps the file's key order (the search space's order)
using ojson = nlohmann::ordered_json;

// NNI matches config keys ignoring case and underscores: max_trial_number == maxTrialNumber.
std::string canonical(const std::string& key) {
  std::string out;
  for (char c : key)
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const char* type_name(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

// The document's keys by canonical name, keeping the spelling used (for messages).
struct Keys {
  std::map<std::string, std::pair<std::string, json>> items;
  const json* get(const std::string& canon) const {
    const auto it = items.find(canon);
    return it == items.end() ? nullptr : &it->second.second;
  }
  std::string spelled(const std::string& canon) const {
    const auto it = items.find(canon);
    return it == items.end() ? canon : it->second.first;
  }
};

Keys read_keys(const json& obj, const std::string& where) {
  Keys k;
  for (const auto& [key, value] : obj.items()) {
    const auto c = canonical(key);
    if (k.items.count(c))
      throw InputError(where, fmt::format("'{}' and '{}' are the same key (case and '_' are ignored)",
                                          k.items[c].first, key));
    k.items[c] = {key, value};
  }
  return k;
}

class Reader {
 public:
  Reader(const json& obj, std::string where) : keys_(read_keys(obj, where)), where_(std::move(where)) {}

  const json* get(const std::string& canon) {
    used_.push_back(canon);
    return keys_.get(canon);
  }
  std::string at(const std::string& canon) const { return where_ + ": " + keys_.spelled(canon); }
  std::string path(const std::string& canon) const { return keys_.spelled(canon); }

  std::optional<std::string> str(const std::string& canon) {
    const json* v = get(canon);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) throw InputError(at(canon), fmt::format("must be a string, not {}", type_name(*v)));
    return v->get<std::string>();
  }
  std::optional<std::int64_t> integer(const std::string& canon, std::int64_t min) {
    const json* v = get(canon);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()))
      throw InputError(at(canon), fmt::format("must be an integer, not {}", type_name(*v)));
    const auto i = v->is_number_integer() ? v->get<std::int64_t>() : static_cast<std::int64_t>(v->get<double>());
    if (i < min) throw InputError(at(canon), fmt::format("must be >= {}, got {}", min, i));
    return i;
  }
  std::optional<double> duration(const std::string& canon) {
    const json* v = get(canon);
    if (!v || v->is_null()) return std::nullopt;
    return parse_duration(*v, at(canon));
  }
  // Keys nobody asked for: NNI ignores them with a warning.
  void warn_unknown(std::vector<std::string>* warnings) const {
    if (!warnings) return;
    for (const auto& [c, kv] : keys_.items)
      if (std::find(used_.begin(), used_.end(), c) == used_.end())
        warnings->push_back(fmt::format("{}: unknown key '{}' ignored", where_, kv.first));
  }

 private:
  Keys keys_;
  std::string where_;
  std::vector<std::string> used_;
};

AlgorithmConfig read_algorithm(const json& v, const std::string& where, std::vector<std::string>* warnings) {
  AlgorithmConfig a;
  if (v.is_string()) {  // shorthand: "tuner": "TPE"
    a.name = v.get<std::string>();
    return a;
  }
  if (!v.is_object()) throw InputError(where, fmt::format("must be an object {{name, classArgs}}, not {}", type_name(v)));
  Reader r(v, where);
  const auto name = r.str("name");
  if (!name || name->empty()) throw InputError(where + ": name", "is required (e.g. \"Anneal\")");
  a.name = *name;
  if (const json* ca = r.get("classargs"); ca && !ca->is_null()) {
    if (!ca->is_object()) throw InputError(r.at("classargs"), fmt::format("must be an object, not {}", type_name(*ca)));
    a.class_args = *ca;
  }
  r.warn_unknown(warnings);
  return a;
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  const std::filesystem::path path(p);
  auto out = (path.is_absolute() ? path : base / path).lexically_normal();
  if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();  // "dir/" -> "dir"
  return out;
}

BuiltinTrial read_builtin(const json& v, const std::string& where, const std::filesystem::path& base,
                          std::vector<std::string>* warnings) {
  if (!v.is_object()) throw InputError(where, fmt::format("must be an object, not {}", type_name(v)));
  Reader r(v, where);
  BuiltinTrial b;
  const auto cfg = r.str("spikelinetrain");
  if (!cfg) throw InputError(where + ": spikeline_train", "is required (the path of a `spikeline train` config)");
  b.train_config = resolve(base, *cfg);
  if (!std::filesystem::exists(b.train_config))
    throw InputError(r.at("spikelinetrain"), "file not found: " + b.train_config.string());
  if (const json* m = r.get("map"); m && !m->is_null()) {
    if (!m->is_object()) throw InputError(r.at("map"), "must be an object {parameter: config.key.path}");
    for (const auto& [param, key] : m->items()) {
      if (!key.is_string() || key.get<std::string>().empty())
        throw InputError(r.at("map") + "." + param, "must be a dotted config key (e.g. model.neuron.tau_mem)");
      b.map.emplace_back(param, key.get<std::string>());
    }
  }
  if (const json* s = r.get("set"); s && !s->is_null()) {
    if (!s->is_object()) throw InputError(r.at("set"), "must be an object {config.key.path: value}");
    b.set = *s;
  }
  r.warn_unknown(warnings);
  return b;
}

std::string json_text(const json& v) { return v.dump(); }

}  // namespace

double parse_duration(const json& value, const std::string& where) {
  double seconds = 0.0;
  if (value.is_number()) {
    seconds = value.get<double>();
  } else if (value.is_string()) {
    const std::string s = value.get<std::string>();
    static const std::map<char, double> kUnit = {{'s', 1.0}, {'m', 60.0}, {'h', 3600.0}, {'d', 86400.0}};
    const auto unit = s.empty() ? kUnit.end() : kUnit.find(static_cast<char>(std::tolower(s.back())));
    if (unit == kUnit.end())
      throw InputError(where, "'" + s + "' is not a duration: a number with unit s, m, h or d (e.g. \"72h\")");
    const std::string number = s.substr(0, s.size() - 1);
    std::size_t used = 0;
    try {
      seconds = std::stod(number, &used) * unit->second;
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != number.size())
      throw InputError(where, "'" + s + "' is not a duration: a number with unit s, m, h or d (e.g. \"72h\")");
  } else {
    throw InputError(where, fmt::format("must be a duration such as \"72h\", not {}", type_name(value)));
  }
  if (!(seconds > 0.0) || !std::isfinite(seconds)) throw InputError(where, "must be a positive duration");
  return std::ceil(seconds);
}

std::string ExperimentConfig::optimize_mode() const {
  const auto it = tuner.class_args.find("optimize_mode");
  return it != tuner.class_args.end() && it->is_string() ? it->get<std::string>() : "maximize";
}

ExperimentConfig experiment_config_from_json(const json& doc, const std::string& source,
                                             const std::filesystem::path& base_dir,
                                             std::vector<std::string>* warnings) {
  if (!doc.is_object()) throw InputError(source, "an experiment config must be an object");
  const std::filesystem::path base = std::filesystem::absolute(base_dir.empty() ? "." : base_dir);
  Reader r(doc, source);
  ExperimentConfig c;
  // No tuner: the thesis's run_nni_hpo.py format, with that launcher's hard-coded settings.
  const bool thesis = r.get("tuner") == nullptr;

  c.name = r.str("experimentname").value_or("");
  c.trial_command = r.str("trialcommand").value_or("");
  if (const json* t = r.get("trial"); t && !t->is_null()) c.builtin = read_builtin(*t, r.at("trial"), base, warnings);
  if (c.trial_command.empty() && !c.builtin)
    throw InputError(source, "trialCommand (or a built-in trial: {\"trial\": {\"spikeline_train\": ...}}) is required");
  if (!c.trial_command.empty() && c.builtin)
    throw InputError(source, "give either trialCommand or trial, not both");

  // The thesis launcher ran from its code folder with trial_code_directory=".": the current
  // directory. NNI's own config files resolve relative paths against the file's folder.
  const auto code = r.str("trialcodedirectory").value_or(".");
  c.code_dir = resolve(thesis ? std::filesystem::current_path() : base, code);

  const json* space = r.get("searchspace");
  const auto space_file = r.str("searchspacefile");
  if (space && !space->is_null() && space_file) throw InputError(source, "give either searchSpace or searchSpaceFile, not both");
  if (space_file) {
    const auto path = resolve(base, *space_file);
    if (!std::filesystem::exists(path)) throw InputError(r.at("searchspacefile"), "file not found: " + path.string());
    if (path.extension() == ".yaml" || path.extension() == ".yml") {
      c.search_space = io::document_from_yaml(read_file_text(path), path.string());
    } else {
      c.search_space = io::document_from_json(read_file_text(path), path.string());
    }
    if (!c.search_space.is_object())
      throw InputError(path.string(), "a search space must be an object {name: {_type, _value}}");
  } else if (space && !space->is_null()) {
    if (!space->is_object())
      throw InputError(r.at("searchspace"), fmt::format("must be an object {{name: {{_type, _value}}}}, not {}", type_name(*space)));
    c.search_space = *space;
  } else {
    throw InputError(source, "searchSpace (or searchSpaceFile) is required");
  }

  c.concurrency = static_cast<int>(r.integer("trialconcurrency", 1).value_or(1));
  c.max_trial_number = r.integer("maxtrialnumber", 1).value_or(-1);
  c.max_duration_s = r.duration("maxexperimentduration").value_or(thesis ? 72.0 * 3600.0 : -1.0);
  c.max_trial_duration_s = r.duration("maxtrialduration").value_or(-1.0);
  c.seed = static_cast<std::uint64_t>(r.integer("seed", 0).value_or(0));
  c.max_retries = static_cast<int>(r.integer("maxretries", 0).value_or(1));
  if (const auto wd = r.str("experimentworkingdirectory")) c.working_dir = resolve(base, *wd);

  const auto start_step = r.integer("assessorstartstep", 0);
  if (thesis) {
    c.tuner = {"Anneal", ojson{{"optimize_mode", "maximize"}}};
  } else {
    c.tuner = read_algorithm(*r.get("tuner"), r.at("tuner"), warnings);
  }
  if (const json* a = r.get("assessor"); a && !a->is_null()) {
    c.assessor = read_algorithm(*a, r.at("assessor"), warnings);
  } else if (thesis) {
    c.assessor = AlgorithmConfig{"Medianstop", ojson{{"optimize_mode", "maximize"}}};
  }
  if (start_step) {
    if (!c.assessor) throw InputError(r.at("assessorstartstep"), "needs an assessor");
    if (!c.assessor->class_args.contains("start_step")) c.assessor->class_args["start_step"] = *start_step;
  }
  if (const json* ts = r.get("trainingservice"); ts && !ts->is_null()) {
    if (!ts->is_object()) throw InputError(r.at("trainingservice"), "must be an object {platform: local}");
    Reader t(*ts, r.at("trainingservice"));
    c.platform = t.str("platform").value_or("local");
    if (c.platform == "slurm") {  // checked here, kept whole for the Slurm executor
      (void)slurm_config_from_json(*ts, r.at("trainingservice"));
      c.training_service = *ts;
    } else {
      if (c.platform != "local")
        throw InputError(t.at("platform"), "'" + c.platform + "' is not supported (local or slurm)");
      (void)t.get("useactivegpu");  // no GPU scheduling: trials see every GPU, as in the thesis
      t.warn_unknown(warnings);
    }
  }
  if (const json* g = r.get("trialgpunumber"); g && !g->is_null() && warnings)
    warnings->push_back(source + ": trialGpuNumber ignored: Spikeline does no GPU scheduling (trials see every GPU)");
  if (const json* p = r.get("platform"); p && warnings) {  // NNI v1 spelling
    if (!p->is_string() || p->get<std::string>() != "local")
      throw InputError(r.at("platform"), "only 'local' is supported");
  }
  r.warn_unknown(warnings);
  return c;
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path, std::vector<std::string>* warnings) {
  if (!std::filesystem::exists(path)) throw InputError(path.string(), "file not found");
  json doc;
  const auto ext = path.extension();
  if (ext == ".yaml" || ext == ".yml") {
    doc = io::document_from_yaml(read_file_text(path), path.string());  // key order kept
  } else {
    doc = io::document_from_json(read_file_text(path), path.string());
  }
  auto base = path.parent_path();
  if (base.empty()) base = ".";
  return experiment_config_from_json(doc, path.string(), base, warnings);
}

ojson ExperimentConfig::to_json() const {
  ojson j;
  j["experimentName"] = name;
  if (builtin) {
    ojson b;
    b["spikeline_train"] = builtin->train_config.string();
    ojson m = ojson::object();
    for (const auto& [p, k] : builtin->map) m[p] = k;
    b["map"] = m;
    b["set"] = builtin->set;
    j["trial"] = b;
  } else {
    j["trialCommand"] = trial_command;
  }
  j["trialCodeDirectory"] = code_dir.string();
  j["searchSpace"] = search_space;
  j["trialConcurrency"] = concurrency;
  if (max_trial_number > 0) j["maxTrialNumber"] = max_trial_number;
  if (max_duration_s > 0) j["maxExperimentDuration"] = fmt::format("{}s", static_cast<std::int64_t>(max_duration_s));
  if (max_trial_duration_s > 0) j["maxTrialDuration"] = fmt::format("{}s", static_cast<std::int64_t>(max_trial_duration_s));
  j["tuner"] = {{"name", tuner.name}, {"classArgs", tuner.class_args}};
  if (assessor) j["assessor"] = {{"name", assessor->name}, {"classArgs", assessor->class_args}};
  if (!working_dir.empty()) j["experimentWorkingDirectory"] = working_dir.string();
  j["trainingService"] = platform == "slurm" ? training_service : ojson{{"platform", platform}};
  j["seed"] = seed;
  j["maxRetries"] = max_retries;
  return j;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') out += "'\\''";
    else out += ch;
  }
  return out + "'";
}

std::string builtin_trial_command(const BuiltinTrial& trial, const std::filesystem::path& exe,
                                  const Parameters& parameters, const std::filesystem::path& trial_dir) {
  std::string cmd = shell_quote(exe.string()) + " train --config " + shell_quote(trial.train_config.string());
  for (const auto& [key, value] : trial.set.items()) cmd += " --set " + shell_quote(key + "=" + json_text(value));
  for (const auto& [name, value] : parameters.items()) {
    std::string key = name;
    for (const auto& [p, k] : trial.map)
      if (p == name) key = k;
    // A nested choice gives {"_name": ...}: the chosen name is the value.
    const auto& v = value.is_object() && value.contains("_name") ? value["_name"] : value;
    cmd += " --set " + shell_quote(key + "=" + dump_python_json(v));
  }
  cmd += " --out " + shell_quote((trial_dir / "checkpoint").string()) + " --quiet";
  return cmd;
}

}  // namespace spikeline::hpo
