#include "spikeline/hw/dynapse2/bias.hpp"

#include <cmath>
#include <string>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

std::span<const BiasParam> bias_params() {
  return {detail::kBiasParams, static_cast<std::size_t>(detail::kNumBiasParams)};
}

const BiasParam* find_bias_param(std::string_view name) {
  for (const BiasParam& p : bias_params())
    if (p.device_name == name || (!p.sim_name.empty() && p.sim_name == name)) return &p;
  return nullptr;
}

double bias_table(Transistor type, int coarse, int fine) {
  return type == Transistor::N ? detail::kParamgenN[coarse][fine] : detail::kParamgenP[coarse][fine];
}

CoarseFine encode_current(const BiasParam& p, double current_A) {
  if (!std::isfinite(current_A) || current_A < 0.0)
    throw InputError(std::string(p.device_name), "current must be finite and >= 0, got " + std::to_string(current_A));
  CoarseFine best;
  double best_err = INFINITY;
  for (int c = 0; c < kCoarseLevels; ++c) {
    // Strict '<' keeps the first minimum, as numpy's argmin does (fine first, then coarse).
    for (int f = 0; f < kFineLevels; ++f) {
      const double err = std::fabs(bias_table(p.type, c, f) * p.scale_factor - current_A);
      if (err < best_err) {
        best_err = err;
        best = {c, f};
      }
    }
  }
  return best;
}

double decode_current(const BiasParam& p, CoarseFine cf) {
  if (cf.coarse < 0 || cf.coarse >= kCoarseLevels || cf.fine < 0 || cf.fine >= kFineLevels)
    throw InputError(std::string(p.device_name), "coarse must be 0..5 and fine 0..255, got (" +
                                                     std::to_string(cf.coarse) + ", " + std::to_string(cf.fine) + ")");
  return bias_table(p.type, cf.coarse, cf.fine) * p.scale_factor;
}

}  // namespace spikeline::hw::dynapse2
