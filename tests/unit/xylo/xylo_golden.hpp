#pragma once
// Loader for ../shared/golden/xylo_*.json: the float network, and the expected arrays.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "spikeline/snn/network.hpp"

namespace spikeline::test {

inline const char* const kXyloGoldens[] = {
    "golden/xylo_rec_simple_seed0.json", "golden/xylo_ff_deep_deep_res_seed1.json",
    "golden/xylo_rec_simple_dashbump_seed4.json", "golden/xylo_ff_deep_deep_res_dt1ms_seed7.json"};

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void flatten_numbers(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array())
    for (const auto& e : j) flatten_numbers(e, out);
  else
    out.push_back(j.get<double>());
}
inline std::vector<double> flat(const nlohmann::json& j) {
  std::vector<double> v;
  flatten_numbers(j, v);
  return v;
}

// Golden layer names are parameter paths ("2_TorchResidual.0_LinearTorch.weight"): keep the layer.
inline std::string layer_name(std::string name) {
  if (auto p = name.rfind(".weight"); p != std::string::npos && p + 7 == name.size()) name.resize(p);
  if (auto d = name.rfind('.'); d != std::string::npos) name = name.substr(d + 1);
  return name;
}

inline std::vector<snn::Layer> xylo_golden_layers(const nlohmann::json& layers, const nlohmann::json& np) {
  std::vector<snn::Layer> out;
  for (const auto& l : layers) {
    snn::Layer layer;
    layer.name = layer_name(l.at("name").get<std::string>());
    const auto type = l.at("type").get<std::string>();
    if (type == "Linear") {
      snn::Linear lin;
      lin.n_in = l.at("shape")[0].get<int>();
      lin.n_out = l.at("shape")[1].get<int>();
      for (double v : flat(l.at("weight"))) lin.weight.push_back(static_cast<float>(v));
      layer.op = lin;
    } else if (type == "LIF") {
      snn::LIF lif;
      lif.n = l.at("n").get<int>();
      lif.tau_mem = {np.at("tau_mem").get<float>()};
      lif.tau_syn = {np.at("tau_syn").get<float>()};
      lif.threshold = {np.at("threshold").get<float>()};
      lif.bias = {np.at("bias").get<float>()};
      lif.dt = np.at("dt").get<float>();
      lif.has_rec = l.at("has_rec").get<bool>();
      if (lif.has_rec)
        for (double v : flat(l.at("w_rec"))) lif.w_rec.push_back(static_cast<float>(v));
      layer.op = lif;
    } else {
      snn::Residual res;
      res.body = xylo_golden_layers(l.at("body"), np);
      layer.op = std::move(res);
    }
    out.push_back(std::move(layer));
  }
  return out;
}

inline snn::Network xylo_golden_network(const nlohmann::json& g) {
  snn::Network net;
  net.layers = xylo_golden_layers(g.at("layers"), g.at("neuron_params"));
  return net;
}

}  // namespace spikeline::test
