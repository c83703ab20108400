#pragma once
// A small learnable spike set for end-to-end tests: class k makes channel group k (channels
// 4k..4k+3) fire with probability `p_high`, every other channel with 0.1.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"

namespace spikeline::test {

struct SpikeSetShape {
  std::size_t steps = 16, channels = 8;
  std::array<std::size_t, 3> sizes{192, 64, 64};  // train, val, test
  double p_high = 0.4;
  std::uint64_t seed = 11;
};

inline void write_separable_spike_set(const std::filesystem::path& path,
                                      const std::vector<data::ClassInfo>& classes,
                                      const SpikeSetShape& shape = {}) {
  data::SpikeSet set;
  set.classes = classes;
  set.info.dt = 0.05;
  Rng rng(shape.seed);
  const std::size_t T = shape.steps, C = shape.channels;
  for (int s = 0; s < 3; ++s) {
    auto& split = set.splits[s];
    split.x = Array<std::uint8_t>(Shape{shape.sizes[s], T, C});
    for (std::size_t i = 0; i < shape.sizes[s]; ++i) {
      const int y = static_cast<int>(rng.below(classes.size()));
      split.y.push_back(y);
      for (std::size_t t = 0; t < T; ++t)
        for (std::size_t c = 0; c < C; ++c)
          split.x[(i * T + t) * C + c] =
              rng.uniform() < (c / 4 == static_cast<std::size_t>(y) ? shape.p_high : 0.1);
    }
  }
  set.info.channels.assign(C, "ch");
  data::write_spikes(path, set);
}

}  // namespace spikeline::test
