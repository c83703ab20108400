#include "spikeline/hw/dynapse2/model.hpp"

#include <cmath>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

constexpr const char* kFormat = "spikeline-dynapse2-model";

nlohmann::json matrix_json(const std::vector<double>& m, int rows, int cols) {
  nlohmann::json out = nlohmann::json::array();
  for (int r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < cols; ++c) row.push_back(m[static_cast<std::size_t>(r) * cols + c]);
    out.push_back(std::move(row));
  }
  return out;
}

nlohmann::json sim_json(const DynapSimParams& p) {
  nlohmann::json j = nlohmann::json::object();
  j["n"] = p.n;
  j["Iscale"] = p.Iscale;
  j["dt"] = p.dt;
  for (const DynapSimVector& v : dynapsim_vectors()) j[std::string(v.name)] = p.*v.member;
  j["w_rec"] = matrix_json(p.w_rec, p.n, p.n);
  return j;
}

void require_finite(const std::vector<double>& v, const std::string& where, const std::string& field) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw InputError(where, "field '" + field + "' value " + std::to_string(i) + " is not finite");
}

int positive_int(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j.at(key).is_number_integer() || j.at(key).get<int>() < 1)
    throw InputError(where, std::string("field '") + key + "' (integer >= 1) is required");
  return j.at(key).get<int>();
}

}  // namespace

nlohmann::json to_json(const DynapseNet& net) {
  nlohmann::json j = nlohmann::json::object();
  j["format"] = kFormat;
  j["version"] = 1;
  j["n_in"] = net.n_in;
  j["n"] = net.n;
  j["w_in"] = matrix_json(net.w_in, net.n_in, net.n);
  j["sim"] = sim_json(net.sim);
  return j;
}

DynapseNet dynapse_net_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "expected a JSON object");
  if (!j.contains("format") || j.at("format") != kFormat)
    throw InputError(where, std::string("field 'format' must be \"") + kFormat + "\"");
  if (!j.contains("version") || j.at("version") != 1) throw InputError(where, "field 'version' must be 1");
  DynapseNet net;
  net.n_in = positive_int(j, "n_in", where);
  net.n = positive_int(j, "n", where);
  if (!j.contains("w_in") || !j.at("w_in").is_array() || j.at("w_in").size() != static_cast<std::size_t>(net.n_in))
    throw InputError(where, "field 'w_in': expected " + std::to_string(net.n_in) + " rows");
  net.w_in.reserve(static_cast<std::size_t>(net.n_in) * net.n);
  for (int r = 0; r < net.n_in; ++r) {
    const auto& row = j.at("w_in")[static_cast<std::size_t>(r)];
    if (!row.is_array() || row.size() != static_cast<std::size_t>(net.n))
      throw InputError(where, "field 'w_in' row " + std::to_string(r) + ": expected " + std::to_string(net.n) +
                                  " values");
    for (const auto& v : row) {
      if (!v.is_number()) throw InputError(where, "field 'w_in' row " + std::to_string(r) + ": expected numbers");
      net.w_in.push_back(v.get<double>());
    }
  }
  require_finite(net.w_in, where, "w_in");
  if (!j.contains("sim")) throw InputError(where, "field 'sim' is required");
  net.sim = dynapsim_params_from_json(j.at("sim"), where + ": sim");
  if (net.sim.n != net.n)
    throw InputError(where, "field 'sim.n' (" + std::to_string(net.sim.n) + ") differs from 'n' (" +
                                std::to_string(net.n) + ")");
  for (const DynapSimVector& v : dynapsim_vectors())
    require_finite(net.sim.*v.member, where + ": sim", std::string(v.name));
  require_finite(net.sim.w_rec, where + ": sim", "w_rec");
  require_finite({net.sim.Iscale, net.sim.dt}, where + ": sim", "Iscale/dt");
  return net;
}

DynapseNet read_dynapse_net(const std::filesystem::path& file) {
  const std::string text = read_file_text(file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), std::string("invalid JSON: ") + e.what());
  }
  return dynapse_net_from_json(j, file.string());
}

void write_dynapse_net(const std::filesystem::path& file, const DynapseNet& net) {
  // 17 significant digits (nlohmann's default) round-trip doubles exactly.
  write_file_atomic(file, to_json(net).dump(1) + "\n");
}

template <class T>
DynapSimRecord<T> run_dynapse_net(const DynapseNet& net, const std::vector<T>& x, int steps) {
  const std::vector<T> w(net.w_in.begin(), net.w_in.end());
  return dynapsim_forward<T>(net.sim, weighted_input<T>(x, w, steps, net.n_in, net.n), steps);
}

template DynapSimRecord<float> run_dynapse_net<float>(const DynapseNet&, const std::vector<float>&, int);
template DynapSimRecord<double> run_dynapse_net<double>(const DynapseNet&, const std::vector<double>&, int);

}  // namespace spikeline::hw::dynapse2
