#include "spikeline/train/optim.hpp"

#include <cmath>

#include "spikeline/core/error.hpp"

namespace spikeline::train {

void Adam::step(std::vector<snn::ParamRef>& params, const std::vector<std::vector<float>>& grads) {
  SPIKELINE_ASSERT(params.size() == grads.size());
  if (exp_avg_.size() != params.size()) {
    exp_avg_.assign(params.size(), {});
    exp_avg_sq_.assign(params.size(), {});
    for (std::size_t p = 0; p < params.size(); ++p) {
      exp_avg_[p].assign(params[p].values->size(), 0.0f);
      exp_avg_sq_[p].assign(params[p].values->size(), 0.0f);
    }
  }
  ++step_;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  const float step_size = static_cast<float>(options_.lr / bias_correction1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float b1 = static_cast<float>(options_.beta1), one_b1 = static_cast<float>(1.0 - options_.beta1);
  const float b2 = static_cast<float>(options_.beta2), one_b2 = static_cast<float>(1.0 - options_.beta2);
  const float eps = static_cast<float>(options_.eps);
  const float wd = static_cast<float>(options_.weight_decay);
  for (std::size_t p = 0; p < params.size(); ++p) {
    float* __restrict w = params[p].values->data();
    const float* __restrict g = grads[p].data();
    float* __restrict m = exp_avg_[p].data();
    float* __restrict v = exp_avg_sq_[p].data();
    const std::size_t n = params[p].values->size();
    SPIKELINE_ASSERT(grads[p].size() == n);
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = wd != 0.0f ? g[i] + wd * w[i] : g[i];
      m[i] = m[i] * b1 + one_b1 * gi;
      v[i] = v[i] * b2 + one_b2 * gi * gi;
      const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      w[i] += -step_size * (m[i] / denom);
    }
  }
}

}  // namespace spikeline::train
