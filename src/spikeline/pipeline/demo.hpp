#pragma once
// The main job on built-in data, end to end: synthetic wrist-IMU recordings -> windows (split by
// subject) -> spike encoding -> a spiking network trained with BPTT -> test accuracy, with every
// intermediate file kept in one output folder. Each stage is also its own CLI command.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::pipeline {

struct DemoOptions {
  std::filesystem::path out = "demo-output";
  int subjects = 20;
  std::uint64_t seed = 1;
  // Any encoder of `spikeline data encode`. delta (up/down threshold crossings) keeps the
  // amplitude information the synthetic classes differ by; phase4 is the thesis's encoding, slower
  // to learn from on these data (docs/data.md).
  std::string encoder = "delta";
  std::string architecture = "ff_deep_deep_res";
  int hidden = 64;
  int epochs = 20;
  int batch_size = 128;
  double lr = 3e-3;
  float tau_mem = 0.081f, tau_syn = 0.077f;  // the thesis's searched values
  int threads = 2;
  bool progress = true;
};

struct DemoResult {
  std::vector<std::string> classes;
  std::size_t train = 0, val = 0, test = 0;  // windows per split
  double best_val_accuracy = 0.0;
  double test_accuracy = 0.0;
  int best_epoch = 0;
  double train_seconds = 0.0;
  nlohmann::json report;  // everything above plus per-epoch curves, written to report.json
};

// Runs every stage; `log` receives one human-readable line per stage.
DemoResult run_demo(const DemoOptions& options, const std::function<void(const std::string&)>& log);

}  // namespace spikeline::pipeline
