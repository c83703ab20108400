#pragma once
// Each domain registers its subcommands here; a subcommand only parses flags and calls the library.
#include <CLI/CLI.hpp>

namespace spikeline::cli {

void add_net_commands(CLI::App& app);    // net run, net grad, net info
void add_bench_commands(CLI::App& app);  // bench train
void add_train_commands(CLI::App& app);  // demo (train on built-in data)
void add_fit_commands(CLI::App& app);    // train, evaluate (from a config)
void add_data_commands(CLI::App& app);   // data prepare, synth, encode, info, plot
void add_tasks_commands(CLI::App& app);  // tasks distances, search, plot-kde, plot-distances
void add_xylo_commands(CLI::App& app);   // xylo map, quantize, validate, sim
void add_dynapse2_commands(CLI::App& app);  // dynapse2 codec, sim
void add_hpo_commands(CLI::App& app);       // hpo run, resume, stop, list, status, best, export, report, params
void add_dashboard_commands(CLI::App& app);  // dashboard (serve experiments read-only)
void add_pipeline_commands(CLI::App& app);   // pipeline (every stage from one config)

}  // namespace spikeline::cli
