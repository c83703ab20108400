#pragma once
// The stages of `spikeline pipeline` (internal to pipeline.cpp): each reads the config and the
// results of the stages before it, writes into its own folder and returns its result (paths of its
// outputs and headline figures), which the run stores in the stage's record.
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "spikeline/pipeline/pipeline_config.hpp"

namespace spikeline::pipeline::detail {

struct StageContext {
  const PipelineConfig& config;
  const nlohmann::json& results;  // stage name -> result of the completed stages before this one
  std::filesystem::path dir;      // the stage's folder (exists)
  bool resume = false;            // an interrupted run of this stage with the same stamp left state
  bool progress = true;
  const volatile std::sig_atomic_t* stop = nullptr;
  std::function<void(const std::string&)> log;
  int threads() const { return config.doc.at("threads").get<int>(); }
};

nlohmann::json run_data(const StageContext& ctx);
nlohmann::json run_encode(const StageContext& ctx);
nlohmann::json run_tasks(const StageContext& ctx);
nlohmann::json run_hpo(const StageContext& ctx);
nlohmann::json run_train(const StageContext& ctx);
nlohmann::json run_qat(const StageContext& ctx);
nlohmann::json run_quantize(const StageContext& ctx);
nlohmann::json run_deploy(const StageContext& ctx);

// The result a disabled data/encode stage stands for (the configured file); {} for other stages.
nlohmann::json disabled_result(const PipelineConfig& config, Stage s);

// The classes training uses: the task stage's choice, else data.classes / data.task, else every
// class of the data (empty list).
std::vector<std::string> chosen_classes(const PipelineConfig& config, const nlohmann::json& results);

// The training config document of the pipeline: the train section with data set and the HPO's best
// parameters written onto their mapped keys.
nlohmann::json training_document(const PipelineConfig& config, const nlohmann::json& results);

}  // namespace spikeline::pipeline::detail
