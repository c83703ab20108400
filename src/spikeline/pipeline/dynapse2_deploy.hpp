#pragma once
// `spikeline dynapse2 deploy` and the shared steps of `dynapse2 tune` (docs/dynapse2.md): a
// Dynap-SE2 training checkpoint mapped (Rockpool's mapper), scaled by the stored tuning factors,
// quantised (autoencoder), turned into a chip configuration, checked against the chip's limits,
// rebuilt from the configuration and simulated on a data split; written as a bundle:
//
//   config.json   the chip configuration (hw/dynapse2/chip_config.hpp)
//   spec.json     the quantised specification it was built from
//   report.html   self-contained report (inline SVG)
//   report.json   the report's figures
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/factors.hpp"
#include "spikeline/hw/dynapse2/mapper.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::hw::dynapse2 {

// Spec -> factors -> quantised spec -> chip configuration -> the network it realises.
struct Configured {
  QuantizedSpec quantized;
  ChipConfig config;
  DynapseNet net;                     // rebuilt from `config` (what the chip runs)
  std::vector<std::string> problems;  // violations of the chip's limits (empty: valid)
};
Configured configure(const Spec& spec, const ActivityFactors& factors, const AutoencoderOptions& autoencoder);

// The result of `dynapse2 tune`, stored in the checkpoint as dynapse2_tuning.json (ours) and
// dynapse2_qtuning_metadata (the thesis's file: {"params", "val_accuracy_after_tuning"}).
struct TuningRecord {
  ActivityFactors factors;
  std::string split = "val";
  double accuracy = 0.0;          // configured + tuned, on `split`
  double untuned_accuracy = 0.0;  // all factors 1
  double float_accuracy = 0.0;    // the checkpoint's model
  bool kept_untuned = false;       // no trial beat factors 1, so they were kept
  double best_trial_accuracy = 0.0;  // the search's best trial, kept or not
  int trials = 0;
  std::uint64_t seed = 0;  // tuner and autoencoder seed
  std::string tuner;
};
inline constexpr const char* kTuningFile = "dynapse2_tuning.json";
inline constexpr const char* kThesisTuningFile = "dynapse2_qtuning_metadata";
// std::nullopt when the checkpoint has no dynapse2_tuning.json; InputError naming the file when malformed.
std::optional<TuningRecord> read_tuning(const std::filesystem::path& dir, int n_neurons);
void write_tuning(const std::filesystem::path& dir, const TuningRecord& record, int n_classes,
                  const nlohmann::json& history);

using train::pick_split;

struct DeployOptions {
  std::filesystem::path checkpoint, out, data;  // data: empty = the checkpoint config's data.file
  std::string split = "val";
  bool use_tuning = true;
  int threads = 2;
  std::uint64_t seed = 0;  // autoencoder initialisation
};
struct DeployResult {
  nlohmann::json report;           // what report.json holds
  std::vector<std::string> notes;  // for the console
};
// InputError when the configuration breaks the chip's limits (every violation listed).
DeployResult deploy(const DeployOptions& options);

}  // namespace spikeline::hw::dynapse2
