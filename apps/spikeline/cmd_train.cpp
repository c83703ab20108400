#include "commands.hpp"

namespace spikeline::cli {
void add_train_commands(CLI::App&) {}
}  // namespace spikeline::cli
