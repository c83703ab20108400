#pragma once
// Readers for the Dynap-SE2 golden JSON files (../shared/golden/dynapse2_*.json, dynapsim_*.json):
// the file as JSON, nested arrays flattened row-major, and 2-D arrays as dynapse2 matrices.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

#include "spikeline/hw/dynapse2/weights.hpp"

namespace spikeline::test::dynapse2 {

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array())
    for (const auto& e : j) flatten(e, out);
  else
    out.push_back(j.get<double>());
}

// Every number of a (nested) array in row-major order.
inline std::vector<double> flat(const nlohmann::json& j) {
  std::vector<double> v;
  flatten(j, v);
  return v;
}

// A 2-D array (list of equal-length rows) as a matrix.
inline hw::dynapse2::Matrix matrix(const nlohmann::json& j) {
  return {static_cast<int>(j.size()), static_cast<int>(j.at(0).size()), flat(j)};
}

}  // namespace spikeline::test::dynapse2
