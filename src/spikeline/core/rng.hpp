#pragma once
// Deterministic random numbers. Every random choice in Spikeline takes a seed from its config;
// generators are values passed by reference, never globals.
#include <cmath>
#include <cstdint>

namespace spikeline {

// xoshiro256** seeded through splitmix64: fast, small state, good statistical quality.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) noexcept {
    for (auto& s : state_) s = splitmix64(seed);
  }
  std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 24 bits (exactly representable floats).
  float uniform_float() noexcept { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  // Uniform in [0, 1) with 53 bits.
  double uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform_float(); }
  // Uniform integer in [0, n) (n > 0), unbiased by rejection.
  std::uint64_t below(std::uint64_t n) noexcept {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }
  double normal() noexcept {  // Box-Muller; one draw per call keeps the stream simple.
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // A generator for a sub-stream (e.g. per layer or per trial) that does not disturb this one's
  // sequence more than one draw.
  Rng split() noexcept { return Rng(next_u64()); }

 private:
  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace spikeline
