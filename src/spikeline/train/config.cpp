#include "spikeline/train/config.hpp"

#include <set>


#include "spikeline/core/error.hpp"
#include "spikeline/io/document.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/data/wisdm.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::train {

using nlohmann::json;

namespace {

// A JSON object being read: every key taken is remembered, so leftovers are reported as unknown.
class Section {
 public:
  Section(const json& obj, std::string source, std::string path)
      : obj_(obj), source_(std::move(source)), path_(std::move(path)) {
    if (!obj_.is_object()) fail(path_.empty() ? "the config" : path_, "must be an object");
  }
  ~Section() noexcept(false) {
    if (std::uncaught_exceptions()) return;
    for (const auto& [key, value] : obj_.items())
      if (!taken_.count(key)) fail(at(key), "unknown key (see docs/config.md)");
  }
  const json* find(const std::string& key) {
    taken_.insert(key);
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  Section sub(const std::string& key) {
    static const json empty = json::object();
    const json* v = find(key);
    return Section(v ? *v : empty, source_, at(key));
  }
  template <class T>
  void get(const std::string& key, T& out) {
    const json* v = find(key);
    if (!v) return;
    try {
      if constexpr (std::is_same_v<T, std::string>) {
        if (!v->is_string()) fail(at(key), "must be a string");
      } else if constexpr (std::is_same_v<T, bool>) {
        if (!v->is_boolean()) fail(at(key), "must be true or false");
      } else if constexpr (std::is_integral_v<T>) {
        if (!v->is_number_integer()) fail(at(key), "must be an integer");
        if (std::is_unsigned_v<T> && v->is_number_integer() && v->get<std::int64_t>() < 0 &&
            !v->is_number_unsigned())
          fail(at(key), "must be >= 0");
      } else if constexpr (std::is_floating_point_v<T>) {
        if (!v->is_number()) fail(at(key), "must be a number");
      }
      out = v->get<T>();
    } catch (const json::exception&) {
      fail(at(key), "has the wrong type");
    }
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw InputError(source_ + ": " + where, what);
  }

 private:
  const json& obj_;
  std::string source_, path_;
  std::set<std::string> taken_;
};

void require(bool ok, const std::string& source, const std::string& key, const std::string& what) {
  if (!ok) throw InputError(source + ": " + key, what);
}

void read_dynapse2(Section& root, TrainConfig& c, const std::string& source) {
  Section s = root.sub("dynapse2");
  auto& d = c.dynapse2;
  s.get("dt", d.dt);
  s.get("time_scale", d.time_scale);
  s.get("Iscale", d.Iscale);
  s.get("tau_mem", d.tau_mem);
  s.get("tau_syn", d.tau_syn);
  s.get("percent_mismatch", d.percent_mismatch);
  s.get("sigma_rule", d.sigma_rule);
  s.get("precision", d.precision);
  s.get("adam_step", d.adam_step);
  {
    Section m = s.sub("dynamic_mismatch");
    auto& dm = d.dynamic_mismatch;
    m.get("enabled", dm.enabled);
    m.get("percent", dm.percent);
    m.get("sigma_rule", dm.sigma_rule);
    m.get("every", dm.every);
    m.get("after", dm.after);
    m.get("thesis_no_effect", dm.thesis_no_effect);
    require(dm.percent >= 0, source, "dynapse2.dynamic_mismatch.percent", "must be >= 0");
    require(dm.sigma_rule > 0, source, "dynapse2.dynamic_mismatch.sigma_rule", "must be > 0");
    require(dm.every >= 1, source, "dynapse2.dynamic_mismatch.every", "must be >= 1");
    require(dm.after >= 0, source, "dynapse2.dynamic_mismatch.after", "must be >= 0");
  }
  require(d.dt > 0, source, "dynapse2.dt", "must be > 0");
  require(d.time_scale > 0, source, "dynapse2.time_scale", "must be > 0");
  require(d.Iscale > 0, source, "dynapse2.Iscale", "must be > 0");
  require(d.tau_mem > 0, source, "dynapse2.tau_mem", "must be > 0");
  require(d.tau_syn > 0, source, "dynapse2.tau_syn", "must be > 0");
  require(d.percent_mismatch >= 0, source, "dynapse2.percent_mismatch", "must be >= 0 (0: off)");
  require(d.sigma_rule > 0, source, "dynapse2.sigma_rule", "must be > 0");
  require(d.precision == "float32" || d.precision == "float64", source, "dynapse2.precision",
          "must be float32 or float64");
  require(d.adam_step == "iteration" || d.adam_step == "epoch", source, "dynapse2.adam_step",
          "must be iteration or epoch");
}

}  // namespace

TrainConfig config_from_json(const json& doc, const std::string& source,
                             const std::filesystem::path& base_dir) {
  TrainConfig c;
  {
    Section root(doc, source, "");
    {
      Section d = root.sub("data");
      std::string file;
      d.get("file", file);
      c.data.file = file;
      if (!file.empty() && c.data.file.is_relative() && !base_dir.empty()) c.data.file = std::filesystem::absolute(base_dir / file).lexically_normal();
      if (const json* v = d.find("classes")) {
        if (!v->is_array()) d.fail(d.at("classes"), "must be a list of activity names");
        for (const auto& e : *v) {
          if (!e.is_string()) d.fail(d.at("classes"), "must be a list of activity names");
          c.data.classes.push_back(e.get<std::string>());
        }
      }
      d.get("task", c.data.task);
      std::string tasks;
      d.get("tasks_file", tasks);
      c.data.tasks_file = tasks;
      if (!tasks.empty() && c.data.tasks_file.is_relative() && !base_dir.empty())
        c.data.tasks_file = std::filesystem::absolute(base_dir / tasks).lexically_normal();
      if (const json* v = d.find("encoder")) {
        if (v->is_string()) c.data.encoder = json{{"type", *v}};
        else if (v->is_object()) c.data.encoder = *v;
        else d.fail(d.at("encoder"), "must be an encoder name or an object {\"type\": ...}");
      }
      require(!c.data.file.empty(), source, "data.file", "is required");
      require(c.data.task.empty() || c.data.classes.empty(), source, "data.task",
              "give either data.task or data.classes, not both");
      require(c.data.task.empty() || !c.data.tasks_file.empty(), source, "data.tasks_file",
              "is required with data.task");
    }
    {
      Section m = root.sub("model");
      m.get("architecture", c.model.architecture);
      if (const json* v = m.find("layers")) c.model.layers = *v;
      m.get("hidden", c.model.hidden);
      m.get("target", c.model.target);
      Section n = m.sub("neuron");
      n.get("tau_mem", c.model.neuron.tau_mem);
      n.get("tau_syn", c.model.neuron.tau_syn);
      n.get("threshold", c.model.neuron.threshold);
      n.get("bias", c.model.neuron.bias);
      n.get("dt", c.model.neuron.dt);
      n.get("spike_fn", c.model.neuron.spike_fn);
      const auto names = snn::architecture_names();
      const bool known = std::find(names.begin(), names.end(), c.model.architecture) != names.end();
      require(known || c.model.architecture == "layers", source, "model.architecture",
              "'" + c.model.architecture + "' is not one of ff_simple, ff_deep, ff_deep_res, "
              "ff_deep_deep_res, rec_simple, rec_deep, layers");
      require(c.model.architecture != "layers" || c.model.layers.is_array(), source, "model.layers",
              "must be a list of layers when model.architecture is \"layers\"");
      require(c.model.layers.is_null() || c.model.architecture == "layers", source, "model.layers",
              "needs model.architecture \"layers\"");
      require(c.model.hidden >= 1 && c.model.hidden <= 65536, source, "model.hidden", "must be in 1..65536");
      require(c.model.target == "none" || c.model.target == "xylo" || c.model.target == "dynapse2", source,
              "model.target", "must be none, xylo or dynapse2");
      require(c.model.neuron.tau_mem > 0, source, "model.neuron.tau_mem", "must be > 0");
      require(c.model.neuron.tau_syn > 0, source, "model.neuron.tau_syn", "must be > 0");
      require(c.model.neuron.threshold > 0, source, "model.neuron.threshold", "must be > 0");
      require(c.model.neuron.dt >= 0, source, "model.neuron.dt", "must be >= 0 (0: the data's)");
      require(c.model.neuron.spike_fn == "step_pwl" || c.model.neuron.spike_fn == "periodic_exponential",
              source, "model.neuron.spike_fn", "must be step_pwl or periodic_exponential");
    }
    {
      Section o = root.sub("optim");
      if (c.model.target == "dynapse2") c.optim.loss = "mse";  // the thesis's Dynap-SE2 loss
      o.get("loss", c.optim.loss);
      o.get("optimiser", c.optim.optimiser);
      o.get("lr", c.optim.lr);
      o.get("beta1", c.optim.beta1);
      o.get("beta2", c.optim.beta2);
      o.get("eps", c.optim.eps);
      o.get("weight_decay", c.optim.weight_decay);
      o.get("schedule", c.optim.schedule);
      o.get("gamma", c.optim.gamma);
      if (c.model.target == "dynapse2")
        require(c.optim.loss == "mse", source, "optim.loss", "must be mse with model.target dynapse2");
      else
        require(c.optim.loss == "cross_entropy", source, "optim.loss", "must be cross_entropy");
      require(c.optim.optimiser == "adam", source, "optim.optimiser", "must be adam");
      require(c.optim.lr > 0, source, "optim.lr", "must be > 0");
      require(c.optim.beta1 >= 0 && c.optim.beta1 < 1, source, "optim.beta1", "must be in [0, 1)");
      require(c.optim.beta2 >= 0 && c.optim.beta2 < 1, source, "optim.beta2", "must be in [0, 1)");
      require(c.optim.eps > 0, source, "optim.eps", "must be > 0");
      require(c.optim.weight_decay >= 0, source, "optim.weight_decay", "must be >= 0");
      require(c.optim.schedule == "constant" || c.optim.schedule == "exponential", source,
              "optim.schedule", "must be constant or exponential");
      require(c.optim.gamma > 0 && c.optim.gamma <= 1, source, "optim.gamma", "must be in (0, 1]");
    }
    root.get("batch_size", c.batch_size);
    root.get("epochs", c.epochs);
    root.get("seed", c.seed);
    root.get("threads", c.threads);
    root.get("micro_batch", c.micro_batch);
    require(c.batch_size >= 1, source, "batch_size", "must be >= 1");
    require(c.epochs >= 1, source, "epochs", "must be >= 1");
    require(c.threads >= 1 && c.threads <= 256, source, "threads", "must be in 1..256");
    require(c.micro_batch >= 1, source, "micro_batch", "must be >= 1");
    {
      Section p = root.sub("prune");
      p.get("max_fan_out", c.prune.max_fan_out);
      p.get("every", c.prune.every);
      require(c.prune.max_fan_out >= 0, source, "prune.max_fan_out", "must be >= 0 (0: off)");
      require(c.prune.every >= 1, source, "prune.every", "must be >= 1");
    }
    read_dynapse2(root, c, source);
    {
      Section e = root.sub("early_stop");
      e.get("window", c.early_stop.window);
      e.get("min_delta", c.early_stop.min_delta);
      require(c.early_stop.window >= 0, source, "early_stop.window", "must be >= 0 (0: off)");
      require(c.early_stop.min_delta >= 0, source, "early_stop.min_delta", "must be >= 0");
    }
  }
  return c;
}

json config_to_json(const TrainConfig& c) {
  json data = {{"file", c.data.file.string()}, {"classes", c.data.classes}, {"task", c.data.task},
               {"tasks_file", c.data.tasks_file.string()}, {"encoder", c.data.encoder}};
  json model = {{"architecture", c.model.architecture},
                {"hidden", c.model.hidden},
                {"target", c.model.target},
                {"neuron", {{"tau_mem", c.model.neuron.tau_mem}, {"tau_syn", c.model.neuron.tau_syn},
                            {"threshold", c.model.neuron.threshold}, {"bias", c.model.neuron.bias},
                            {"dt", c.model.neuron.dt}, {"spike_fn", c.model.neuron.spike_fn}}}};
  if (!c.model.layers.is_null()) model["layers"] = c.model.layers;
  json out = {{"data", data},
          {"model", model},
          {"optim", {{"loss", c.optim.loss}, {"optimiser", c.optim.optimiser}, {"lr", c.optim.lr},
                     {"beta1", c.optim.beta1}, {"beta2", c.optim.beta2}, {"eps", c.optim.eps},
                     {"weight_decay", c.optim.weight_decay}, {"schedule", c.optim.schedule},
                     {"gamma", c.optim.gamma}}},
          {"batch_size", c.batch_size},
          {"epochs", c.epochs},
          {"seed", c.seed},
          {"threads", c.threads},
          {"micro_batch", c.micro_batch},
          {"prune", {{"max_fan_out", c.prune.max_fan_out}, {"every", c.prune.every}}},
          {"early_stop", {{"window", c.early_stop.window}, {"min_delta", c.early_stop.min_delta}}}};
  if (c.model.target == "dynapse2") {
    const auto& d = c.dynapse2;
    const auto& dm = d.dynamic_mismatch;
    out["dynapse2"] = {{"dt", d.dt}, {"time_scale", d.time_scale}, {"Iscale", d.Iscale}, {"tau_mem", d.tau_mem},
                       {"tau_syn", d.tau_syn}, {"percent_mismatch", d.percent_mismatch},
                       {"sigma_rule", d.sigma_rule}, {"precision", d.precision}, {"adam_step", d.adam_step},
                       {"dynamic_mismatch", {{"enabled", dm.enabled}, {"percent", dm.percent},
                                             {"sigma_rule", dm.sigma_rule}, {"every", dm.every},
                                             {"after", dm.after}, {"thesis_no_effect", dm.thesis_no_effect}}}};
  }
  return out;
}

json config_document_from_yaml(std::string_view text, const std::string& source) {
  return json::parse(io::document_from_yaml(text, source).dump());
}

json read_config_document(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".yaml" || ext == ".yml") return config_document_from_yaml(read_file_text(path), path.string());
  return snn::parse_json(read_file_text(path), path.string());
}

TrainConfig load_config(const std::filesystem::path& path) {
  return config_from_json(read_config_document(path), path.string(), path.parent_path());
}

void apply_override(json& doc, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError("--set '" + std::string(assignment) + "'", "expected key.path=value");
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;
  json* node = &doc;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set '" + key + "'", "empty key in the path");
    if (!node->is_object()) {
      if (!node->is_null()) throw InputError("--set '" + key + "'", "'" + part + "' is inside a non-object");
      *node = json::object();
    }
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *node = value;
}

std::vector<std::string> task_classes(const std::filesystem::path& tasks_file, std::string_view task) {
  const json doc = snn::parse_json(read_file_text(tasks_file), tasks_file.string());
  const auto it = doc.find(std::string(task));
  if (!doc.is_object() || it == doc.end())
    throw InputError(tasks_file.string() + ": " + std::string(task), "no such task in the tasks file");
  const std::string_view order = data::nehar_letter_order();
  std::vector<std::string> names;
  for (const auto& index : *it) {
    if (!index.is_number_integer() || index.get<int>() < 0 ||
        index.get<std::size_t>() >= order.size())
      throw InputError(tasks_file.string() + ": " + std::string(task),
                       "class indices must be integers in 0..17 (NeHAR order)");
    names.push_back(std::string(data::find_activity(order[index.get<std::size_t>()])->name));
  }
  return names;
}

}  // namespace spikeline::train
