#pragma once
// HTML pieces that the chip deployment reports (Xylo, Dynap-SE2) share: the page head, the summary
// rows naming checkpoint and data, notes, and the float-model-vs-chip accuracy figures and tables.
#include <array>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "spikeline/train/run.hpp"

namespace spikeline::pipeline {

// The page up to the chip's own summary rows: head (with the deployment reports' stylesheet), the
// heading, and the summary table opened with rows "checkpoint" and "data" (file, split, sample count)
// from report.json's fields.
std::string deploy_report_start(const nlohmann::json& report, std::string_view title, std::string_view heading);

// One paragraph per entry of report.json's "notes".
std::string deploy_notes(const nlohmann::json& report);

// How the accuracy sections name the float model's and the chip's side.
struct AccuracyLabels {
  const char* bars_title;                // "validation accuracy"
  std::array<const char*, 2> bar_names;  // float, chip
  double bar_name_dy;                    // px from a bar's foot down to its name
  const char* bars_caption;
  const char* chip;                      // the chip's confusion matrix title
  const char* chip_confusion_caption;
  const char* chip_table_title;          // its classification table's caption
};

// Sections "Accuracy" (bars, then the confusion matrices of float model and chip) and
// "Classification report" (per-class precision, recall, F1 and support of both).
std::string accuracy_sections(const train::Evaluation& float_eval, const train::Evaluation& chip_eval,
                              const AccuracyLabels& labels);

}  // namespace spikeline::pipeline
