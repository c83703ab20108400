#pragma once
// Access to ../shared (golden vectors, WISDM data, fixtures), which exists on developer machines and
// in CI but never on a user's machine. Tests that need it call SPIKELINE_REQUIRE_SHARED(path): when
// the path is missing they skip with a visible message, except under CI (CI=true) where they fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace spikeline::test {

// True in sanitizer builds (GCC defines __SANITIZE_ADDRESS__, clang has __has_feature): tests on
// the full real data set read a subset there to keep the run short.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderSanitizer = true;
#else
inline constexpr bool kUnderSanitizer = false;
#endif
#else
inline constexpr bool kUnderSanitizer = false;
#endif

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("SPIKELINE_SHARED")) return env;
  return std::filesystem::path(SPIKELINE_SOURCE_DIR) / ".." / "shared";
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Path of the spikeline CLI binary built alongside the tests.
inline std::filesystem::path cli_path() { return SPIKELINE_CLI_PATH; }

}  // namespace spikeline::test

// Skips (or, under CI, fails) the current test when `relpath` under ../shared is missing, and
// evaluates to the full path otherwise.
#define SPIKELINE_REQUIRE_SHARED(var, relpath)                                                  \
  const std::filesystem::path var = ::spikeline::test::shared_dir() / (relpath);                \
  if (!std::filesystem::exists(var)) {                                                          \
    if (::spikeline::test::running_in_ci()) {                                                   \
      FAIL() << "CI=true but shared file is missing: " << var;                                  \
    } else {                                                                                    \
      GTEST_SKIP() << "SKIPPED: needs ../shared (" << (relpath) << "), absent on this machine"; \
    }                                                                                           \
  }
