#pragma once
// Optimisers over flat parameter lists. Adam follows torch.optim.Adam (PyTorch 1.13, single-tensor
// path) operation by operation: scalars in double as Python computes them, tensors in float32.
#include <cstdint>
#include <span>
#include <vector>

#include "spikeline/snn/network.hpp"

namespace spikeline::train {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2 added to the gradient, as torch's Adam (not AdamW)
};

// Everything Adam carries between steps (for checkpoints and --resume).
struct AdamState {
  std::int64_t step = 0;
  std::vector<std::vector<float>> exp_avg, exp_avg_sq;  // per parameter; empty before the first step
};

class Adam {
 public:
  explicit Adam(AdamOptions options = {}) : options_(options) {}
  // One update of `params` with `grads` (same order and sizes). State is created on first use.
  void step(std::vector<snn::ParamRef>& params, const std::vector<std::vector<float>>& grads);
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  std::int64_t steps() const { return step_; }
  AdamState state() const { return {step_, exp_avg_, exp_avg_sq_}; }
  void set_state(AdamState s) {
    step_ = s.step;
    exp_avg_ = std::move(s.exp_avg);
    exp_avg_sq_ = std::move(s.exp_avg_sq);
  }

 private:
  AdamOptions options_;
  std::int64_t step_ = 0;
  std::vector<std::vector<float>> exp_avg_, exp_avg_sq_;
};

// torch.optim.lr_scheduler.ExponentialLR: lr(epoch) = lr0 * gamma^epoch.
inline double exponential_lr(double lr0, double gamma, int epoch) {
  double lr = lr0;
  for (int e = 0; e < epoch; ++e) lr *= gamma;
  return lr;
}

}  // namespace spikeline::train
