#pragma once
// Runs the real spikeline binary for end-to-end tests and captures its exit code and output.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/shared.hpp"

namespace spikeline::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as given (quote paths yourself if they contain spaces).
inline CliResult run_cli(const std::string& args, const std::filesystem::path& workdir) {
  std::filesystem::create_directories(workdir);
  const auto out = workdir / "stdout.txt", err = workdir / "stderr.txt";
  const std::string cmd = "'" + cli_path().string() + "' " + args + " </dev/null >'" + out.string() +
                          "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The command's stdout as JSON; a test failure (and an empty object) when it is not JSON.
inline nlohmann::json parse_stdout_json(const CliResult& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << r.out << "\n" << r.err;
    return nlohmann::json::object();
  }
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// A fresh scratch folder per test under the system temp directory. The process id keeps tests
// that ctest runs in parallel (one process each) out of each other's way.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("spikeline_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace spikeline::test
