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

namespace spikeline::train {
namespace {

std::vector<std::vector<float>> weights_of(snn::Network& net) {
  std::vector<std::vector<float>> w;
  for (auto& p : snn::trainable_parameters(net)) w.push_back(*p.values);
  return w;
}

TrainOptions resume_options(int epochs) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.adam.lr = 1e-2;
  o.progress = false;
  o.prune_max_fan_out = 6;  // pruning takes part in the replay too
  o.prune_every = 3;
  return o;
}

// 4 epochs in one go vs 2 epochs, then a resumed 2: identical weights, curves and best model.
TEST(Trainer, ResumeAtAnEpochBoundaryReproducesTheUninterruptedRun) {
  const LabelledSet train = make_task(100, 7), val = make_task(40, 8);
  snn::Network full = small_net(9);
  const TrainResult whole = fit(full, train, val, resume_options(4));
  snn::Network part = small_net(9);
  const TrainResult first = fit(part, train, val, resume_options(2));
  EXPECT_EQ(first.next_epoch, 2);
  const TrainResult rest = fit(part, train, val, resume_options(4), {}, &first);
  EXPECT_EQ(weights_of(part), weights_of(full));
  ASSERT_EQ(rest.epochs.size(), 4u);
  for (int e = 0; e < 4; ++e) EXPECT_EQ(rest.epochs[e].loss, whole.epochs[e].loss);
  EXPECT_EQ(rest.best_val_acc, whole.best_val_acc);
}

// A stop request mid-epoch (as Ctrl-C) ends after the current batch; resuming from there gives
// the same weights as never stopping.
TEST(Trainer, ResumeAfterAStopRequestMidEpochReproducesTheUninterruptedRun) {
  const LabelledSet train = make_task(100, 7), val = make_task(40, 8);
  snn::Network full = small_net(9);
  fit(full, train, val, resume_options(3));
  snn::Network part = small_net(9);
  volatile std::sig_atomic_t stop = 0;
  TrainOptions o = resume_options(3);
  o.stop = &stop;
  // Requested at the end of epoch 1 (index 0): honoured after the first batch of epoch 2.
  const TrainResult stopped = fit(part, train, val, o, [&](const TrainResult&) { stop = 1; });
  EXPECT_EQ(stopped.stop, StopReason::interrupted);
  EXPECT_EQ(stopped.next_epoch, 1);
  EXPECT_EQ(stopped.next_batch, 1u);
  EXPECT_EQ(stopped.epochs.size(), 1u);
  const TrainResult rest = fit(part, train, val, resume_options(3), {}, &stopped);
  EXPECT_EQ(rest.stop, StopReason::finished);
  EXPECT_EQ(weights_of(part), weights_of(full));
}

TEST(Trainer, EarlyStopOnALossPlateau) {
  const LabelledSet train = make_task(64, 1), val = make_task(16, 2);
  snn::Network net = small_net(3);
  TrainOptions o = resume_options(50);
  o.adam.lr = 1e-9;  // nothing moves: the loss is flat from the start
  o.prune_max_fan_out = 0;
  o.early_stop_window = 2;
  o.early_stop_min_delta = 1e-3;
  const TrainResult r = fit(net, train, val, o);
  EXPECT_EQ(r.stop, StopReason::early_stopped);
  EXPECT_EQ(r.epochs.size(), 3u);
}

}  // namespace
}  // namespace spikeline::train
