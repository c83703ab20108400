#pragma once
// Spike rasters: the encoded data set that training reads (docs/data.md, "spikes file").
//
// File: an .npz with train_x, val_x, test_x (uint8 spike counts [n][T'][C], time-major within a
// sample) and train_y, val_y, test_y (int64 class indices [n]), plus a JSON sidecar (same name,
// .json) with the classes, the encoder and its parameters, the time step and the windows' provenance.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/data/windows.hpp"

namespace spikeline::data {

struct SpikesInfo {
  nlohmann::json encoder = nlohmann::json::object();  // {"type": "phase", ...parameters}
  std::vector<std::string> channels;                  // one name per channel, e.g. "acc_x:band0"
  double dt = 0.05;                    // seconds per raster step (after time scaling)
  double sample_time_modifier = 1.0;   // the thesis's time scaling (0.02 for Dynap-SE2)
  double sample_period = 0.05;         // seconds per input sample before scaling (1 / 20 Hz)
  nlohmann::json windows = nlohmann::json::object();  // sidecar of the windows file encoded
};

struct SpikeSet {
  std::vector<ClassInfo> classes;
  std::array<LabelledSplit<std::uint8_t>, 3> splits;  // kTrain, kVal, kTest
  SpikesInfo info;
  std::size_t steps() const;     // T'
  std::size_t channels() const;  // C
};

nlohmann::json spikes_sidecar(const SpikeSet& set);
void write_spikes(const std::filesystem::path& path, const SpikeSet& set);  // atomic
SpikeSet read_spikes(const std::filesystem::path& path);

}  // namespace spikeline::data
