// Training end to end in the library: a network learns a task that needs its hidden layer, and
// the run is reproducible by seed and independent of the number of threads.
#include <gtest/gtest.h>

#include "spikeline/core/rng.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::train {
namespace {

// Two classes of spike rasters that differ in which half of the channels fires more often.
LabelledSet make_task(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  LabelledSet s;
  s.x = FloatArray(Shape{n, 20, 8});
  s.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.y[i] = static_cast<int>(rng.below(2));
    for (std::size_t t = 0; t < 20; ++t)
      for (std::size_t c = 0; c < 8; ++c) {
        const bool hot = (c < 4) == (s.y[i] == 0);
        s.x[(i * 20 + t) * 8 + c] = rng.uniform() < (hot ? 0.4 : 0.1) ? 1.0f : 0.0f;
      }
  }
  return s;
}

snn::Network small_net(std::uint64_t seed) {
  snn::NeuronParams np;
  np.tau_mem = 0.081f;  // the thesis's neurons
  np.tau_syn = 0.077f;
  np.dt = 0.05f;
  // StepPWL passes no gradient while a neuron's membrane stays below threshold - 0.5, so a freshly
  // initialised net whose output layer is silent for half the samples cannot start learning them;
  // PeriodicExponential's surrogate is non-zero everywhere.
  np.spike_fn = snn::SpikeFn::PeriodicExponential;
  Rng rng(seed);
  return snn::make_architecture("ff_simple", 8, 32, 2, np, rng);
}

TEST(Trainer, LearnsASeparableTask) {
  const LabelledSet train = make_task(256, 1), val = make_task(128, 2);
  snn::Network net = small_net(3);
  TrainOptions o;
  o.epochs = 15;
  o.batch_size = 32;
  o.adam.lr = 1e-2;
  o.progress = false;
  const TrainResult r = fit(net, train, val, o);
  ASSERT_EQ(r.epochs.size(), 15u);
  EXPECT_LT(r.epochs.back().loss, r.epochs.front().loss);
  EXPECT_GE(r.best_val_acc, 0.9);
  // The kept model is the best one: evaluating it reproduces the best accuracy.
  snn::Network best = r.best;
  snn::Engine engine(best);
  EXPECT_DOUBLE_EQ(accuracy(predict(engine, val.x), val.y), r.best_val_acc);
}

TEST(Trainer, SameSeedSameResultWhateverTheThreadCount) {
  const LabelledSet train = make_task(96, 4), val = make_task(32, 5);
  std::vector<double> losses;
  for (int threads : {1, 2}) {
    snn::Network net = small_net(6);
    TrainOptions o;
    o.epochs = 3;
    o.batch_size = 32;
    o.threads = threads;
    o.micro_batch = 8;
    o.progress = false;
    losses.push_back(fit(net, train, val, o).epochs.back().loss);
  }
  EXPECT_EQ(losses[0], losses[1]);
}

}  // namespace
}  // namespace spikeline::train
