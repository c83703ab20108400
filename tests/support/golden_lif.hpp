#pragma once
// Loader for the Rockpool LIF golden files (../shared/golden/lif_*.json): the network they were
// made with, the input and every expected value, as Spikeline types.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <span>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "spikeline/core/array.hpp"
#include "spikeline/snn/network.hpp"

namespace spikeline::test {

inline void flatten_into(const nlohmann::json& j, std::vector<float>& out, Shape& shape, std::size_t depth = 0) {
  if (j.is_array()) {
    if (shape.size() <= depth) shape.push_back(j.size());
    for (const auto& e : j) flatten_into(e, out, shape, depth + 1);
  } else {
    out.push_back(j.get<float>());
  }
}

inline FloatArray to_array(const nlohmann::json& j) {
  FloatArray a;
  flatten_into(j, a.data, a.shape);
  return a;
}

struct LifGolden {
  nlohmann::json raw;
  snn::Network net;
  FloatArray input, outputs, second_call_outputs;
  std::vector<int> labels;
  double loss = 0;
  std::map<std::string, FloatArray> grads, records, state;
};

inline std::vector<snn::Layer> golden_layers(const nlohmann::json& layers, const nlohmann::json& lp) {
  std::vector<snn::Layer> out;
  for (const auto& l : layers) {
    snn::Layer layer;
    std::string name = l.at("name").get<std::string>();
    const auto dot = name.rfind('.');
    const auto type = l.at("type").get<std::string>();
    if (type == "Linear") {
      // golden names are parameter paths ("2_TorchResidual.0_LinearTorch.weight"); keep the last
      // layer component.
      name = name.substr(0, name.rfind(".weight"));
      name = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
      snn::Linear lin;
      FloatArray w = to_array(l.at("weight"));
      lin.n_in = static_cast<int>(w.dim(0));
      lin.n_out = static_cast<int>(w.dim(1));
      lin.weight = w.data;
      layer.op = lin;
    } else if (type == "LIF") {
      name = dot == std::string::npos ? name : name.substr(dot + 1);
      snn::LIF lif;
      lif.n = l.at("n").get<int>();
      lif.tau_mem = {lp.at("tau_mem").get<float>()};
      lif.tau_syn = {lp.at("tau_syn").get<float>()};
      lif.threshold = {lp.at("threshold").get<float>()};
      lif.bias = {lp.at("bias").get<float>()};
      lif.dt = lp.at("dt").get<float>();
      lif.learning_window = lp.at("learning_window").get<float>();
      lif.max_spikes_per_dt = lp.at("max_spikes_per_dt").get<float>();
      lif.spike_fn = snn::spike_fn_from_name(lp.at("surrogate").get<std::string>());
      lif.has_rec = l.at("has_rec").get<bool>();
      if (lif.has_rec) lif.w_rec = to_array(l.at("w_rec")).data;
      layer.op = lif;
    } else {
      name = dot == std::string::npos ? name : name.substr(dot + 1);
      snn::Residual res;
      res.body = golden_layers(l.at("body"), lp);
      layer.op = std::move(res);
    }
    layer.name = name;
    out.push_back(std::move(layer));
  }
  return out;
}

// Element-wise |got - want| <= rtol |want| + atol; reports at most five offending entries.
inline void expect_close(std::span<const float> got, const FloatArray& want, double rtol,
                         double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < got.size() && bad < 5; ++i)
    if (!(std::fabs(got[i] - want[i]) <= rtol * std::fabs(want[i]) + atol)) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++bad;
    }
}

// The gradient tolerance floor: a fraction of the largest |gradient| of the parameter (argued in
// tests/unit/snn/test_engine_golden.cpp).
inline double max_abs(const FloatArray& a) {
  double m = 0.0;
  for (float v : a.data) m = std::max(m, static_cast<double>(std::fabs(v)));
  return m;
}

inline LifGolden load_lif_golden(const std::filesystem::path& path) {
  LifGolden g;
  std::ifstream in(path);
  g.raw = nlohmann::json::parse(in);
  g.net.layers = golden_layers(g.raw.at("layers"), g.raw.at("conventions").at("lif_params"));
  g.input = to_array(g.raw.at("input"));
  g.outputs = to_array(g.raw.at("outputs"));
  g.second_call_outputs = to_array(g.raw.at("second_call_outputs"));
  g.labels = g.raw.at("labels").get<std::vector<int>>();
  g.loss = g.raw.at("loss").get<double>();
  for (const auto& [k, v] : g.raw.at("grads").items()) g.grads[k] = to_array(v);
  for (const auto& [k, v] : g.raw.at("records").items()) g.records[k] = to_array(v);
  for (const auto& [k, v] : g.raw.at("module_state_after_call_batch0_only").items()) g.state[k] = to_array(v);
  return g;
}

}  // namespace spikeline::test
