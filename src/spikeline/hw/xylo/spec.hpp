#pragma once
// A Xylo specification: the arrays Rockpool's mapper returns (float) and the quantised ones
// (integer), with Rockpool's key names so the JSON can be fed to config_from_specification(**spec).
//
// Layouts (row-major): weights_in [n_in][n_hid][n_syn], weights_rec [n_hid][n_hid][n_syn]
// (row = source hidden id, column = target), weights_out [n_hid][n_out]. In JSON the synapse axis
// is written only when n_syn == 2, as Rockpool does.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikeline::hw::xylo {

template <class T>
struct Spec {
  int n_in = 0, n_hid = 0, n_out = 0, n_syn = 1;
  std::vector<T> weights_in, weights_rec, weights_out;
  std::vector<T> dash_mem, dash_syn, dash_syn_2, threshold, bias;  // [n_hid]
  std::vector<T> dash_mem_out, dash_syn_out, threshold_out, bias_out;  // [n_out]
  std::vector<std::vector<int>> aliases;  // [n_hid]: hidden targets that copy this neuron's events
  int weight_shift_in = 0, weight_shift_rec = 0, weight_shift_out = 0;
  double dt = 0.0;

  T& w_in(int c, int j, int s = 0) { return weights_in[(std::size_t(c) * n_hid + j) * n_syn + s]; }
  T w_in(int c, int j, int s = 0) const { return weights_in[(std::size_t(c) * n_hid + j) * n_syn + s]; }
  T& w_rec(int i, int j, int s = 0) { return weights_rec[(std::size_t(i) * n_hid + j) * n_syn + s]; }
  T w_rec(int i, int j, int s = 0) const { return weights_rec[(std::size_t(i) * n_hid + j) * n_syn + s]; }
  T& w_out(int i, int o) { return weights_out[std::size_t(i) * n_out + o]; }
  T w_out(int i, int o) const { return weights_out[std::size_t(i) * n_out + o]; }

  // Zero-filled arrays of the right sizes; dash_syn_2 = 0, no aliases, dt left as is.
  void resize(int inputs, int hidden, int outputs, int synapses = 1);
};

// Float values are float32 numbers held exactly in doubles (as the mapper produces them).
using FloatSpec = Spec<double>;
// Quantised values, unclipped (global_quantize does not clip); validate() checks the ranges.
using IntSpec = Spec<std::int64_t>;

// JSON with Rockpool's keys plus "format" ("spikeline-xylo-spec" / "spikeline-xylo-config") and
// "chip" ("syns61201"). Readers accept Rockpool's dict without those two keys; errors name the
// source and the field (and index). IntSpec readers require integral values.
nlohmann::json to_json(const FloatSpec& spec);
nlohmann::json to_json(const IntSpec& spec);
FloatSpec float_spec_from_json(const nlohmann::json& j, const std::string& source);
IntSpec int_spec_from_json(const nlohmann::json& j, const std::string& source);

FloatSpec read_float_spec(const std::filesystem::path& path);
IntSpec read_int_spec(const std::filesystem::path& path);
void write_spec(const std::filesystem::path& path, const FloatSpec& spec);  // atomic
void write_spec(const std::filesystem::path& path, const IntSpec& spec);    // atomic

}  // namespace spikeline::hw::xylo
