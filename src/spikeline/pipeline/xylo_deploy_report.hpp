#pragma once
// The HTML report of a deployment bundle: one self-contained page, figures as inline SVG.
#include <string>

#include <nlohmann/json.hpp>

#include "spikeline/hw/xylo/cycles.hpp"
#include "spikeline/hw/xylo/sim.hpp"
#include "spikeline/hw/xylo/spec.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::hw::xylo {

struct DeployReportData {
  const nlohmann::json& report;          // report.json's figures
  const train::Evaluation& float_eval;
  const train::Evaluation& quant_eval;
  const IntSpec& config;
  const SimRecord& sample;               // every record of the report's sample
};

std::string render_deploy_report(const DeployReportData& d);

}  // namespace spikeline::hw::xylo
