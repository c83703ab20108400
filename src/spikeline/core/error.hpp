#pragma once
// Two tiers of errors (see docs/architecture.md):
//  - SPIKELINE_ASSERT: a broken internal invariant; aborts with a message.
//  - spikeline::Error and subclasses: bad user input or environment; carries where it happened
//    (file, line, field) so the CLI can print one clear line and exit non-zero.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

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
