#include "spikeline/pipeline/pipeline_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/search.hpp"
#include "spikeline/train/config.hpp"

namespace spikeline::pipeline {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Keys whose value is free-form (checked by the stage that reads it, not against the defaults).
const std::set<std::string> kFreeForm = {"encode.encoder", "hpo.search_space", "hpo.map",  "hpo.tuner",
                                         "hpo.assessor",   "quantize.search_space", "quantize.tuner",
                                         "train"};
// Keys holding file or directory paths.
const std::vector<std::string> kPathKeys = {"data.wisdm", "data.tasks_file", "data.windows", "encode.spikes",
                                            "train.checkpoint", "quantize.tuning"};

std::string type_name(const json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a mapping";
  return "null";
}

bool same_kind(const json& def, const json& v) {
  if (def.is_null()) return true;
  if (def.is_number_integer()) return v.is_number_integer();
  if (def.is_number()) return v.is_number();
  return def.type() == v.type();
}

// Writes `user` onto `base` (a copy of the defaults), checking keys and types.
// `patch` (--set edits): free-form values are merged key by key instead of replaced.
void merge_into(json& base, const json& user, const std::string& path, const std::string& source, bool patch = false) {
  if (!user.is_object()) throw InputError(source + (path.empty() ? "" : ": " + path), "must be a mapping");
  for (const auto& [key, value] : user.items()) {
    const std::string where = path.empty() ? key : path + "." + key;
    if (!base.contains(key)) {
      std::string known;
      for (const auto& [k, _] : base.items()) known += (known.empty() ? "" : ", ") + k;
      throw InputError(source + ": " + where, "unknown key (known here: " + known + ")");
    }
    json& slot = base[key];
    if (kFreeForm.count(where)) {
      if (patch && slot.is_object() && value.is_object()) slot.merge_patch(value);
      else slot = value;
    } else if (slot.is_object() && value.is_object()) {
      merge_into(slot, value, where, source, patch);
    } else if (!same_kind(slot, value)) {
      throw InputError(source + ": " + where, "must be " + type_name(slot) + ", got " + type_name(value));
    } else {
      slot = value;
    }
  }
}

json* find_path(json& doc, const std::string& dotted) {
  json* node = &doc;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const auto dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

void absolutise(json& doc, const std::string& key, const fs::path& base) {
  json* v = find_path(doc, key);
  if (!v || !v->is_string() || v->get<std::string>().empty()) return;
  const fs::path p = v->get<std::string>();
  if (p.is_relative()) *v = fs::absolute(base / p).lexically_normal().string();
}

void require(bool ok, const std::string& source, const std::string& key, const std::string& what) {
  if (!ok) throw InputError(source + ": " + key, what);
}

void check_one_of(const json& doc, const std::string& source, const std::string& key,
                  std::initializer_list<std::string_view> allowed) {
  const json* v = find_path(const_cast<json&>(doc), key);
  const std::string s = v->get<std::string>();
  std::string list;
  for (auto a : allowed) {
    if (s == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw InputError(source + ": " + key, "'" + s + "' is not one of " + list);
}

void check_positive(const json& doc, const std::string& source, const std::string& key) {
  const json* v = find_path(const_cast<json&>(doc), key);
  require(v->get<double>() > 0, source, key, "must be > 0");
}

// The train section as a `spikeline train` document (data set by the pipeline), checked by the
// training config's own reader; returns the resolved form (every key).
json resolve_train(const json& section, const std::string& source, Chip chip) {
  json doc = section;
  const json enabled = doc.value("enabled", json(true));
  require(enabled.is_boolean(), source, "train.enabled", "must be a boolean");
  const json checkpoint = doc.value("checkpoint", json(""));
  require(checkpoint.is_string(), source, "train.checkpoint", "must be a path (a spikeline train checkpoint directory)");
  doc.erase("enabled");
  doc.erase("checkpoint");
  if (doc.contains("data"))
    throw InputError(source + ": train.data", "is set by the pipeline (use the data and tasks sections)");
  doc["data"] = {{"file", "spikes.npz"}};
  if (!doc.contains("model") || !doc["model"].is_object()) doc["model"] = json::object();
  doc["model"]["target"] = std::string(chip_name(chip));
  json resolved = train::config_to_json(train::config_from_json(doc, source + ": train"));
  resolved.erase("data");
  resolved["enabled"] = enabled;
  resolved["checkpoint"] = checkpoint;
  return resolved;
}

void check_hpo(const json& h, const std::string& source) {
  require(h.at("trials").get<int>() >= 1, source, "hpo.trials", "must be >= 1");
  require(h.at("epochs").get<int>() >= 1, source, "hpo.epochs", "must be >= 1");
  require(h.at("concurrency").get<int>() >= 1, source, "hpo.concurrency", "must be >= 1");
  require(h.at("trial_threads").get<int>() >= 1, source, "hpo.trial_threads", "must be >= 1");
  require(h.at("search_space").is_object() && !h.at("search_space").empty(), source, "hpo.search_space",
          "must be a non-empty mapping of NNI search-space entries");
  require(h.at("map").is_object(), source, "hpo.map", "must map search-space parameters to train config keys");
  for (const auto& [param, key] : h.at("map").items())
    require(key.is_string() && !key.get<std::string>().empty(), source, "hpo.map." + param,
            "must be a dotted train config key (e.g. model.hidden)");
  for (const auto& [param, _] : h.at("search_space").items())
    require(h.at("map").contains(param), source, "hpo.map",
            "has no entry for search-space parameter '" + param + "' (which train config key does it set?)");
  require(h.at("tuner").is_object() && h.at("tuner").contains("name"), source, "hpo.tuner",
          "must be {name: ..., classArgs: {...}}");
  require(h.at("assessor").is_null() || (h.at("assessor").is_object() && h.at("assessor").contains("name")),
          source, "hpo.assessor", "must be null or {name: ..., classArgs: {...}}");
}

}  // namespace

std::string_view stage_name(Stage s) { return kStageNames[static_cast<std::size_t>(s)]; }

Stage stage_from_name(std::string_view name, const std::string& where) {
  for (std::size_t i = 0; i < kStageCount; ++i)
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  std::string list;
  for (auto n : kStageNames) list += (list.empty() ? "" : ", ") + std::string(n);
  throw InputError(where, "unknown stage '" + std::string(name) + "' (stages: " + list + ")");
}

std::string_view chip_name(Chip c) { return c == Chip::xylo ? "xylo" : "dynapse2"; }

bool PipelineConfig::enabled(Stage s) const { return section(s).at("enabled").get<bool>(); }

json default_config() {
  json search_space = {
      {"n_population", {{"_type", "choice"}, {"_value", {16, 32, 64, 128, 256}}}},
      {"tau_syn", {{"_type", "qloguniform"}, {"_value", {0.02, 0.2, 0.001}}}},
      {"tau_mem", {{"_type", "qloguniform"}, {"_value", {0.02, 0.2, 0.001}}}},
  };
  json map = {{"n_population", "model.hidden"},
              {"tau_syn", "model.neuron.tau_syn"},
              {"tau_mem", "model.neuron.tau_mem"},
              {"architecture", "model.architecture"}};
  return {
      {"name", "pipeline"},
      {"chip", "xylo"},
      {"seed", 1},
      {"threads", 2},
      {"data",
       {{"enabled", true},
        {"windows", ""},
        {"source", "synthetic"},
        {"wisdm", ""},
        {"synthetic", {{"subjects", 8}, {"seconds", 60.0}, {"activities", "ABCDEFGQ"}, {"difficulty", 1.0}}},
        {"classes", json::array()},
        {"task", ""},
        {"tasks_file", ""},
        {"split", "subject"},
        {"split_seed", 42},
        {"fractions", {0.6, 0.2, 0.2}},
        {"window", 40},
        {"stride", 20},
        {"normalise", "none"}}},
      {"encode", {{"enabled", true}, {"spikes", ""}, {"encoder", {{"type", "phase4"}}}, {"modifier", 1.0}, {"dt", 0.0}}},
      {"tasks",
       {{"enabled", false}, {"metric", "kld"}, {"k", 2}, {"order", "best"}, {"rank", 1}, {"kl_floor", 1e-12}}},
      {"hpo",
       {{"enabled", true},
        {"trials", 8},
        {"epochs", 5},
        {"concurrency", 1},
        {"trial_threads", 1},
        {"max_duration", ""},
        {"tuner", {{"name", "Anneal"}, {"classArgs", {{"optimize_mode", "maximize"}}}}},
        {"assessor", nullptr},
        {"search_space", search_space},
        {"map", map}}},
      {"train", json::object()},
      {"qat",
       {{"enabled", false},
        {"epochs", 10},
        {"lr", 1e-4},
        {"method", "global"},
        {"match_decay", true},
        {"fake_quant", true}}},
      {"quantize",
       {{"enabled", true},
        {"tuning", ""},
        {"search_space", nullptr},
        {"trials", 200},
        {"tuner", {{"name", "Anneal"}, {"classArgs", {{"optimize_mode", "maximize"}}}}},
        {"split", "val"},
        {"method", "global"}}},
      {"deploy", {{"enabled", true}, {"split", "test"}}},
  };
}

PipelineConfig resolve_config(const json& user, const std::string& source, const fs::path& base_dir,
                              const std::vector<std::string>& sets, const fs::path& cwd) {
  PipelineConfig c;
  c.source = source;
  c.doc = default_config();
  merge_into(c.doc, user.is_null() ? json::object() : user, "", source);
  for (const auto& key : kPathKeys) absolutise(c.doc, key, base_dir);
  // --set edits: applied to a copy of the user's keys so that they are checked like file keys.
  if (!sets.empty()) {
    json edits = json::object();
    for (const auto& s : sets) train::apply_override(edits, s);
    merge_into(c.doc, edits, "", "--set", true);
    for (const auto& s : sets) {
      const std::string key = s.substr(0, s.find('='));
      if (std::find(kPathKeys.begin(), kPathKeys.end(), key) != kPathKeys.end()) absolutise(c.doc, key, cwd);
    }
  }
  const json& d = c.doc;
  check_one_of(d, source, "chip", {"xylo", "dynapse2"});
  c.chip = d["chip"] == "xylo" ? Chip::xylo : Chip::dynapse2;
  require(d["threads"].get<int>() >= 1, source, "threads", "must be >= 1");

  // data
  check_one_of(d, source, "data.source", {"synthetic", "wisdm"});
  data::split_method_from_name(d["data"]["split"].get<std::string>());
  check_one_of(d, source, "data.split", {"thesis", "stratified", "subject"});
  check_one_of(d, source, "data.normalise", {"none", "zscore"});
  require(d["data"]["fractions"].size() == 3, source, "data.fractions", "must be three numbers: train, val, test");
  require(d["data"]["window"].get<int>() >= 1, source, "data.window", "must be >= 1");
  require(d["data"]["stride"].get<int>() >= 1, source, "data.stride", "must be >= 1");
  require(d["data"]["synthetic"]["subjects"].get<int>() >= 5, source, "data.synthetic.subjects",
          "must be >= 5 (a subject split needs whole subjects for train, val and test)");
  check_positive(d, source, "data.synthetic.seconds");
  for (const auto& cls : d["data"]["classes"])
    require(cls.is_string(), source, "data.classes", "must be a list of activity names or letters");
  require(d["data"]["task"].get<std::string>().empty() || d["data"]["classes"].empty(), source, "data.task",
          "and data.classes are exclusive: name a task or list classes");
  require(d["data"]["task"].get<std::string>().empty() || !d["data"]["tasks_file"].get<std::string>().empty(), source,
          "data.tasks_file", "is required with data.task (a tasks JSON: task name -> NeHAR class indices)");
  if (!d["data"]["enabled"].get<bool>())
    require(!d["data"]["windows"].get<std::string>().empty(), source, "data.windows",
            "is required when the data stage is disabled (an existing windows .npz)");
  // encode
  if (d["encode"]["enabled"].get<bool>()) {
    require(d["encode"]["encoder"].is_object() && d["encode"]["encoder"].contains("type"), source, "encode.encoder",
            "must be an encoder mapping with a type (docs/data.md), e.g. {type: phase4}");
  } else {
    require(!d["encode"]["spikes"].get<std::string>().empty(), source, "encode.spikes",
            "is required when the encode stage is disabled (an existing spikes .npz)");
  }
  check_positive(d, source, "encode.modifier");
  // tasks
  tasks::metric_from_name(d["tasks"]["metric"].get<std::string>());
  check_one_of(d, source, "tasks.metric", {"kld", "dtw"});
  check_one_of(d, source, "tasks.order", {"best", "worst"});
  require(d["tasks"]["k"].get<int>() >= 2, source, "tasks.k", "must be >= 2");
  require(d["tasks"]["rank"].get<int>() >= 1, source, "tasks.rank", "must be >= 1");
  require(!(d["tasks"]["enabled"].get<bool>() && !d["data"]["task"].get<std::string>().empty()), source,
          "tasks.enabled", "conflicts with data.task: the task stage chooses the classes itself");
  // hpo
  check_hpo(d["hpo"], source);
  if (!d["hpo"]["max_duration"].get<std::string>().empty())
    hpo::parse_duration(d["hpo"]["max_duration"], source + ": hpo.max_duration");
  // train (the training config reader names its own keys)
  require(d["train"].is_object(), source, "train", "must be a mapping (a spikeline train config, docs/config.md)");
  c.doc["train"] = resolve_train(d["train"], source, c.chip);
  {
    const bool training = c.enabled(Stage::train);
    const bool given = !c.doc["train"]["checkpoint"].get<std::string>().empty();
    require(!(training && given), source, "train.checkpoint",
            "is what a disabled train stage stands for: set train.enabled: false to start from an existing checkpoint");
    require(training || given || !(c.enabled(Stage::qat) || c.enabled(Stage::quantize) || c.enabled(Stage::deploy)),
            source, "train.checkpoint",
            "is required when the train stage is disabled and qat, quantize or deploy is enabled (an existing "
            "checkpoint directory of spikeline train)");
    if (given) {
      const fs::path dir = c.doc["train"]["checkpoint"].get<std::string>();
      require(fs::is_regular_file(dir / "config.json"), source, "train.checkpoint",
              dir.string() + " is not a checkpoint directory of spikeline train (no config.json in it)");
    }
  }
  // qat
  require(!(c.doc["qat"]["enabled"].get<bool>() && c.chip != Chip::xylo), source, "qat.enabled",
          "quantisation-aware fine-tuning is for chip xylo only");
  require(c.doc["qat"]["epochs"].get<int>() >= 1, source, "qat.epochs", "must be >= 1");
  check_positive(c.doc, source, "qat.lr");
  check_one_of(c.doc, source, "qat.method", {"global", "channel"});
  // quantize / deploy
  require(c.doc["quantize"]["trials"].get<int>() >= 1, source, "quantize.trials", "must be >= 1");
  check_one_of(c.doc, source, "quantize.split", {"train", "val", "test"});
  check_one_of(c.doc, source, "quantize.method", {"global", "channel"});
  require(c.doc["quantize"]["search_space"].is_null() || c.doc["quantize"]["search_space"].is_object(), source,
          "quantize.search_space", "must be null (the thesis's activity factors) or an NNI search space");
  check_one_of(c.doc, source, "deploy.split", {"train", "val", "test"});
  return c;
}

PipelineConfig load_config(const fs::path& path, const std::vector<std::string>& sets) {
  if (!fs::exists(path)) throw InputError(path.string(), "config file not found");
  const json doc = train::read_config_document(path);
  fs::path base = fs::absolute(path).parent_path();
  return resolve_config(doc, path.string(), base, sets);
}

std::vector<std::string> configured_classes(const PipelineConfig& config) {
  const json& d = config.doc["data"];
  if (!d["task"].get<std::string>().empty())
    return train::task_classes(d["tasks_file"].get<std::string>(), d["task"].get<std::string>());
  return d["classes"].get<std::vector<std::string>>();
}

fs::path wisdm_dir(const PipelineConfig& config) {
  std::string dir = config.doc["data"]["wisdm"].get<std::string>();
  if (dir.empty()) {
    const char* env = std::getenv(kWisdmEnv);
    if (env && *env) dir = fs::absolute(env).string();
  }
  if (dir.empty())
    throw InputError(config.source + ": data.wisdm",
                     std::string("is required for data.source wisdm (the WISDM folder with raw/watch/; or set ") +
                         kWisdmEnv + ", or pass --set data.wisdm=DIR)");
  if (!fs::is_directory(dir)) throw InputError(config.source + ": data.wisdm", dir + " is not a directory");
  return dir;
}

namespace {

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::set<std::string> words = {"true", "false", "null", "yes", "no", "on", "off", "~",
                                              "True", "False", "Null", "Yes", "No", "On", "Off", "NULL"};
  if (words.count(s)) return true;
  if (s.find_first_of(":#{}[],&*!|>'\"%@`\n") != std::string::npos) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '-' || s.front() == '?') return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';  // would read as a number
}

std::string scalar(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    return needs_quotes(s) ? json(s).dump() : s;
  }
  return v.dump();
}

void emit(const json& v, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& [key, value] : v.items()) {
    const std::string k = v.is_array() ? "-" : scalar(json(key)) + ":";
    if ((value.is_object() || value.is_array()) && !value.empty()) {
      out += pad + k + "\n";
      emit(value, indent + 2, out);
    } else {
      out += pad + k + " " + (value.is_object() ? "{}" : value.is_array() ? "[]" : scalar(value)) + "\n";
    }
  }
}

}  // namespace

std::string to_yaml(const json& doc) {
  std::string out;
  emit(doc, 0, out);
  return out;
}

}  // namespace spikeline::pipeline
