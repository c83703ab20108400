#pragma once
// Two tiers of errors (see docs/architecture.md):
//  - SPIKELINE_ASSERT: a broken internal invariant; aborts with a message.
//  - spikeline::Error and subclasses: bad user input or environment; carries where it happened
//    (file, line, field) so the CLI can print one clear line and exit non-zero.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikeline {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed or inconsistent input: a file, a field of a config, a command-line value.
class InputError : public Error {
 public:
  InputError(std::string where, const std::string& what)
      : Error(where.empty() ? what : where + ": " + what), where_(std::move(where)) {}
  const std::string& where() const noexcept { return where_; }

 private:
  std::string where_;
};

// A configuration beyond a device's limits: the count, then up to 20 violations, one per line.
inline InputError limit_violations(std::string where, const std::vector<std::string>& problems,
                                   const std::string& device) {
  std::string msg = std::to_string(problems.size()) + " violation(s) of the " + device + " limits:";
  for (std::size_t i = 0; i < problems.size() && i < 20; ++i) msg += "\n  " + problems[i];
  if (problems.size() > 20) msg += "\n  ...";
  return InputError(std::move(where), msg);
}

// Failure of the operating system (open, write, rename).
class IoError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "spikeline: internal error: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

}  // namespace spikeline

#define SPIKELINE_ASSERT(cond) \
  ((cond) ? (void)0 : ::spikeline::assert_fail(#cond, __FILE__, __LINE__))
