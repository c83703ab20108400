#pragma once
// Signs during training that a run is going nowhere, cheap enough to check after every epoch.
#include <span>

#include "spikeline/train/trainer.hpp"

namespace spikeline::train {

// The cross-entropy of predicting, for every sample, the class frequencies of `labels`: the loss of
// a network whose outputs carry no information about its input (ln k for k balanced classes). 0 for
// no labels.
double prior_cross_entropy(std::span<const int> labels, int n_classes);

// True when each of the last `window` epochs' training loss lies within `tolerance` (relative) of
// `prior_loss`: the outputs have carried no information about the input for that long. The usual
// cause in these networks is a readout fallen silent (constant logits), from which the step
// surrogate's gradient, zero far below threshold, does not recover. Networks that learn slowly pass
// through this band in a few epochs (WISDM 4CW: 1 epoch, 7CW: 3), hence a window of 10.
bool stuck_at_prior(std::span<const EpochReport> epochs, double prior_loss, int window = 10, double tolerance = 0.01);

}  // namespace spikeline::train
