#pragma once
// The HTML report of a Dynap-SE2 deployment bundle: one self-contained page, figures as inline SVG.
#include <string>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::hw::dynapse2 {

struct DeployReportData {
  const nlohmann::json& report;  // report.json's figures
  const train::Evaluation& float_eval;
  const train::Evaluation& chip_eval;
  const ChipConfig& config;
  const DynapSimRecord<float>& float_sample;  // the report's sample through the float model
  const DynapSimRecord<float>& chip_sample;   // ... and through the network rebuilt from the configuration
};

std::string render_deploy_report(const DeployReportData& d);

}  // namespace spikeline::hw::dynapse2
