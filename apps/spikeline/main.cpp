// spikeline: from wearable-sensor data to a validated neuromorphic-chip configuration.
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"
#include "spikeline/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Spikeline: wearable-sensor data to spiking networks to neuromorphic hardware"};
  app.set_version_flag("--version", "spikeline 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  spikeline::cli::add_train_commands(app);
  spikeline::cli::add_fit_commands(app);
  spikeline::cli::add_data_commands(app);
  spikeline::cli::add_tasks_commands(app);
  spikeline::cli::add_net_commands(app);
  spikeline::cli::add_bench_commands(app);
  spikeline::cli::add_xylo_commands(app);
  spikeline::cli::add_dynapse2_commands(app);
  spikeline::cli::add_hpo_commands(app);
  spikeline::cli::add_dashboard_commands(app);
  spikeline::cli::add_pipeline_commands(app);
  // CLI11 reports a mistyped command as "A subcommand is required"; name it and list the commands.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || sub->check_name(argv[1]);
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "spikeline: unknown command '%s' (commands: %s; see spikeline --help)\n", argv[1],
                   names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is bad usage: exit code 2.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const spikeline::InputError& e) {
    std::fprintf(stderr, "spikeline: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spikeline: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
