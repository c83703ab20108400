#pragma once
// The network a chip configuration realises (Rockpool 2.7 dynapsim_net_from_config, shared docs
// dynapse2.md §8), so that accuracy after quantisation is measured on what the chip would run.
#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/model.hpp"

namespace spikeline::hw::dynapse2 {

// Every per-neuron current is its core's decoded (coarse, fine) current. The synaptic Itau_syn /
// Igain_syn are the average of the four dendrite types' currents weighted by the sum of the integer
// weight masks arriving on each (AMPA and GABA here); a neuron without synapses takes the AMPA
// values (Rockpool 2.7 would give it 0, which DynapSim clips to Io). Idc is the decoded SOIF_DC_P
// where the DC latch is on, else 0. Weights: sign(dendrite) * sum_k bit_k Iw_k(neuron's core) /
// Iscale, summed over CAM entries with the same tag; input tags map to w_in rows, neuron tags to
// w_rec rows. Capacitances, Io, kappa, Ut and Vth are Rockpool's default layout (the chip's
// physics). InputError when a CAM tag names no input channel or neuron.
DynapseNet net_from_config(const ChipConfig& config);

}  // namespace spikeline::hw::dynapse2
