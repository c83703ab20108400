#pragma once
// A one-line progress bar on stderr for long work. Draws only when stderr is a terminal (or when
// forced), at most ~10 times a second, so it costs nothing in hot loops.
#include <chrono>
#include <cstddef>
#include <string>

namespace spikeline {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::size_t total, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Advances to `done` of `total`; `suffix` is printed after the bar (e.g. "loss 0.31 acc 0.92").
  void update(std::size_t done, const std::string& suffix = {});
  void finish(const std::string& suffix = {});

 private:
  void draw(const std::string& suffix);
  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace spikeline
