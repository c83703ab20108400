#pragma once
// The Dynap-SE2 chip configuration built from a quantised specification (Rockpool 2.7
// config_from_specification + WeightAllocator, shared docs dynapse2.md §7): per core the named
// device parameters as bias-generator (coarse, fine) settings with their decoded currents, per
// neuron its CAM entries (synapses), SRAM entries (destinations) and DC latch, and the input
// channel map (virtual tags). Written as JSON (the configuration file, docs/dynapse2.md).
#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hw/dynapse2/bias.hpp"
#include "spikeline/hw/dynapse2/mapper.hpp"

namespace spikeline::hw::dynapse2 {

// Board geometry (Rockpool lookup/defaults.py).
inline constexpr int kChipsPerBoard = 4;
inline constexpr int kCoresPerChip = 4;
inline constexpr int kCoresPerBoard = kChipsPerBoard * kCoresPerChip;
inline constexpr int kCamPerNeuron = 64;
inline constexpr int kSramPerNeuron = 4;
inline constexpr int kNumTags = 2048;
// Rockpool's monitor destination: hops of -7 route a neuron's events off chip to the FPGA.
inline constexpr int kMonitorHop = -7;

// Simulator names of the 23 per-core device parameters in the configuration, in sim2device order
// (Idc, If_nmda, Igain_ahp, Igain_ampa, ..., Iw_3, Iw_ahp).
const std::vector<std::string>& core_parameter_names();

struct DeviceSetting {
  std::string device_name;  // "SOIF_LEAK_N"
  std::string sim_name;     // "Itau_mem"
  CoarseFine cf;
  double current = 0.0;    // decoded: table[type][coarse][fine] * scale_factor (A)
  double requested = 0.0;  // the specification's current before encoding (A); 0 when read from a file without it
};

struct CoreSetup {
  int cluster = 0;  // index into the specification's clusters; chip = cluster / 4, core = cluster % 4
  int chip() const { return cluster / kCoresPerChip; }
  int core() const { return cluster % kCoresPerChip; }
  std::vector<DeviceSetting> params;  // core_parameter_names() order
  // By simulator or device name; nullptr when absent.
  const DeviceSetting* find(std::string_view name) const;
};

enum class Dendrite { AMPA, GABA };  // excitatory (sign +1) / inhibitory (sign -1)
std::string dendrite_name(Dendrite d);

// One synapse in a neuron's CAM: events with `tag` arrive on `dendrite` with the weight
// sum_k weight[k] * Iw_k of the neuron's core.
struct CamEntry {
  int tag = 0;
  Dendrite dendrite = Dendrite::AMPA;
  std::array<bool, kWeightBits> weight{};  // weight[k] selects Iw_k
  int mask() const;                        // sum_k weight[k] << k
};

// One SRAM entry: a neuron's events go to the cores in `core_mask` of the chip `x_hop`, `y_hop`
// away, carrying `tag`. The monitor entry (hops kMonitorHop) carries the neuron's id.
struct Destination {
  int tag = 0;
  std::array<bool, kCoresPerChip> core_mask{};
  int x_hop = 0, y_hop = 0;
  bool is_monitor() const { return x_hop == kMonitorHop && y_hop == kMonitorHop; }
};

struct NeuronSetup {
  int id = 0;       // neuron index of the network (column of the weight matrices)
  int cluster = 0;  // its core
  int index = 0;    // position among its core's neurons
  int tag = 0;      // tag its events carry to other neurons (recurrent tag)
  bool dc_latch = false;  // DC current (SOIF_DC_P) switched on
  std::vector<CamEntry> cam;
  std::vector<Destination> sram;
};

struct InputChannel {
  int channel = 0;
  int tag = 0;  // virtual tag
  std::vector<Destination> destinations;
};

struct ChipConfig {
  int n_in = 0;
  int n_neuron = 0;
  double Iscale = 1e-8;  // simulation only: weight current of 1.0 (A)
  double dt = 1e-3;      // simulation only (s)
  std::vector<CoreSetup> cores;  // one per cluster, in cluster order
  std::vector<NeuronSetup> neurons;  // in id order
  std::vector<InputChannel> inputs;  // in channel order
};

// The configuration of a quantised specification. Tags as Rockpool's allocator: input channel i
// gets virtual tag i, neuron n the recurrent tag n_in + n. CAM entries per neuron: input synapses
// (channel order), then recurrent ones (source order); dendrite AMPA for sign +1, GABA for -1.
// SRAM per neuron: the monitor entry, then one entry per destination chip of its recurrent
// synapses. DC latch where the core's Idc > 0. The limits are not enforced here (see
// validate_chip_config); InputError for an inconsistent specification or a current that cannot be
// encoded (negative, non-finite), naming the cluster and parameter.
ChipConfig chip_config_from_spec(const QuantizedSpec& q);

// Every violation of the chip's limits, one message each: cores per board, neurons per core, CAM
// entries per neuron, SRAM entries per neuron, tags (n_in + 2 n <= 2048 as Rockpool's tag split,
// every tag 0..2047), and CAM tags that name no input channel or neuron. Empty when valid.
std::vector<std::string> validate_chip_config(const ChipConfig& c);

struct ChipResources {
  int cores = 0, neurons = 0, inputs = 0;
  int cam_entries = 0, max_cam = 0;    // synapses (all neurons / busiest neuron)
  int sram_entries = 0, max_sram = 0;  // destinations, monitor entries included
  int tags = 0;                        // distinct tags in use
};
ChipResources count_chip_resources(const ChipConfig& c);

nlohmann::json to_json(const ChipConfig& c);
// InputError naming `where` and the field on a missing key, a wrong type or an out-of-range value.
// The decoded currents are recomputed from (coarse, fine) (the file's "current" is informational,
// so a hand-edited setting takes effect).
ChipConfig chip_config_from_json(const nlohmann::json& j, const std::string& where);
ChipConfig read_chip_config(const std::filesystem::path& file);
void write_chip_config(const std::filesystem::path& file, const ChipConfig& c);  // atomic

}  // namespace spikeline::hw::dynapse2
