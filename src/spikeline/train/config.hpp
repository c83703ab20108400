#pragma once
// A training run described by a config file (JSON or YAML; every key: docs/config.md). Parsing is strict:
// an unknown key or a value of the wrong type is an InputError naming the file and the key path
// ("run.json: optim.lr: must be > 0"). Flags override keys by editing the parsed document before
// it is read (apply_override), so a flag is checked exactly like the key it replaces.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::train {

struct DataConfig {
  std::filesystem::path file;        // spikes .npz (or windows .npz when `encoder` is set)
  std::vector<std::string> classes;  // activity names or letters; empty: all of the file's classes
  std::string task;                  // or a task name ("2CB") looked up in `tasks_file`
  std::filesystem::path tasks_file;  // thesis defined_tasks.json: name -> NeHAR class indices
  nlohmann::json encoder;            // null: the file holds spikes; else {"type": "phase4", ...}
};

struct NeuronConfig {
  double tau_mem = 0.081, tau_syn = 0.077;  // seconds (the thesis's searched values)
  double threshold = 1.0, bias = 0.0;
  double dt = 0.0;  // seconds; 0: the data's time step
  std::string spike_fn = "step_pwl";  // step_pwl | periodic_exponential
};

struct ModelConfig {
  std::string architecture = "ff_deep_deep_res";  // one of the six, or "layers"
  nlohmann::json layers;  // a spikeline-network "layers" list when architecture == "layers"
  int hidden = 256;
  NeuronConfig neuron;
  std::string target = "none";  // none | xylo (checks the chip's size limits) | dynapse2 (docs/dynapse2_training.md)
};

struct OptimConfig {
  std::string loss = "cross_entropy";
  std::string optimiser = "adam";
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  std::string schedule = "constant";  // constant | exponential
  double gamma = 1.0;                 // ExponentialLR factor per epoch
};

struct PruneConfig {
  int max_fan_out = 0;  // 0: off; the thesis: 63 (Xylo's limit)
  int every = 10;       // epochs; pruning runs before epochs 0, every, 2 every, ...
};

struct EarlyStopConfig {
  int window = 0;           // 0: off; else stop when |loss[e] - loss[e - window]| < min_delta
  double min_delta = 1e-5;
};

// Dynap-SE2 training (model.target "dynapse2"; docs/dynapse2_training.md). Defaults: the thesis.
struct DynamicMismatchConfig {
  bool enabled = false;
  double percent = 0.30, sigma_rule = 3.0;  // re-drawn weight mismatch, sigma = percent / sigma_rule
  int every = 100, after = 0;               // before epochs after, after + every, ... (0-based)
  bool thesis_no_effect = false;            // draw but discard, as the thesis code effectively did
};
struct Dynapse2Config {
  double dt = 1e-3;           // simulation step (s); data dt * time_scale must equal it
  double time_scale = 0.02;   // sample time multiplier (thesis: 2 s samples -> 40 ms)
  double Iscale = 1e-8;       // A per unit weight
  double tau_mem = 0.045, tau_syn = 0.076;  // s; Itau_mem, Itau_syn by the thesis's get_itau
  double percent_mismatch = 0.05, sigma_rule = 3.0;  // frozen mismatch at construction (0: off)
  std::string precision = "float32";                 // float32 | float64 (training arithmetic)
  std::string adam_step = "iteration";               // iteration | epoch (thesis quirk)
  DynamicMismatchConfig dynamic_mismatch;
};

struct TrainConfig {
  DataConfig data;
  ModelConfig model;
  OptimConfig optim;
  int batch_size = 1024;
  int epochs = 1500;
  std::uint64_t seed = 0;
  int threads = 2;
  int micro_batch = 32;
  PruneConfig prune;
  EarlyStopConfig early_stop;
  Dynapse2Config dynapse2;  // read and written only with model.target "dynapse2"
};

// Reads a parsed config; `source` names the file in errors. Relative data paths are resolved
// against `base_dir` (the config's folder).
TrainConfig config_from_json(const nlohmann::json& doc, const std::string& source,
                             const std::filesystem::path& base_dir = {});
// Every key, with defaults filled in: the resolved config saved with a run (reads back equal).
nlohmann::json config_to_json(const TrainConfig& config);
// The parsed file: .yaml/.yml as YAML (converted to the same JSON document), anything else as JSON.
nlohmann::json read_config_document(const std::filesystem::path& path);
// YAML text as a JSON document; InputError "<source>:<line>:<column>" on malformed YAML.
nlohmann::json config_document_from_yaml(std::string_view text, const std::string& source);
TrainConfig load_config(const std::filesystem::path& path);

// "optim.lr=0.01": sets the key at a dotted path; the value is read as JSON when it parses
// (numbers, true, lists) and as a string otherwise. InputError on a malformed assignment.
void apply_override(nlohmann::json& doc, std::string_view assignment);

// The thesis's tasks file maps task names to class indices in the NeHAR order; this gives the
// activity names. InputError naming the file when the task is unknown.
std::vector<std::string> task_classes(const std::filesystem::path& tasks_file, std::string_view task);

}  // namespace spikeline::train
