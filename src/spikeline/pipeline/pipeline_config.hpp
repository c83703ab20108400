#pragma once
// The config of `spikeline pipeline` (docs/pipeline.md): one YAML/JSON document with a section per
// stage. Loading merges the file onto the defaults below (an unknown key or a value of the wrong
// type is an InputError naming the file and the key path), applies `--set key=value` edits, checks
// every value, and resolves relative paths (against the config's folder for keys in the file,
// against the current directory for keys given with --set). The result is the resolved document
// saved in the run directory and hashed into the stage stamps.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::pipeline {

enum class Stage : int { data, encode, tasks, hpo, train, qat, quantize, deploy };
inline constexpr std::array<std::string_view, 8> kStageNames{"data",  "encode", "tasks",    "hpo",
                                                             "train", "qat",    "quantize", "deploy"};
inline constexpr std::size_t kStageCount = kStageNames.size();
std::string_view stage_name(Stage s);
// InputError naming `where` for an unknown name (the message lists the stages).
Stage stage_from_name(std::string_view name, const std::string& where);

enum class Chip { xylo, dynapse2 };
std::string_view chip_name(Chip c);

// Environment variable consulted when data.wisdm is empty.
inline constexpr const char* kWisdmEnv = "SPIKELINE_WISDM";

struct PipelineConfig {
  nlohmann::json doc;          // resolved: every key, defaults filled in, paths absolute
  std::string source;          // the config file, for errors
  Chip chip = Chip::xylo;
  const nlohmann::json& section(Stage s) const { return doc.at(std::string(stage_name(s))); }
  bool enabled(Stage s) const;  // the section's `enabled` (train and deploy have one too)
};

// The default document: every key the config may hold.
nlohmann::json default_config();

// `doc`: the parsed file; `base_dir`: its folder; `sets`: key=value edits (paths relative to `cwd`).
PipelineConfig resolve_config(const nlohmann::json& doc, const std::string& source,
                              const std::filesystem::path& base_dir, const std::vector<std::string>& sets,
                              const std::filesystem::path& cwd = std::filesystem::current_path());
// Reads a .yaml/.yml or .json file, then resolve_config.
PipelineConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& sets = {});

// The classes the data stage prepares: data.classes, or those of data.task in data.tasks_file,
// or empty (all the source's classes).
std::vector<std::string> configured_classes(const PipelineConfig& config);

// The data's WISDM directory: data.wisdm, else $SPIKELINE_WISDM; InputError naming data.wisdm.
std::filesystem::path wisdm_dir(const PipelineConfig& config);

// A JSON document as YAML text (block style; strings quoted when YAML would read them otherwise).
std::string to_yaml(const nlohmann::json& doc);

}  // namespace spikeline::pipeline
