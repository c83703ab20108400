#include "spikeline/hw/dynapse2/mapper.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"

namespace spikeline::hw::dynapse2 {

namespace {

constexpr const char* kSpecFormat = "spikeline-dynapse2-spec";
constexpr const char* kQuantizedFormat = "spikeline-dynapse2-quantized-spec";

// The currents Rockpool clusters (its DynapseNeurons current_dict), spec key = simulator name.
struct ClusteredCurrent {
  const char* name;
  double CoreCurrents::*core;
  std::vector<double> DynapSimParams::*neuron;
};
constexpr ClusteredCurrent kCurrents[] = {
    {"Idc", &CoreCurrents::Idc, &DynapSimParams::Idc},
    {"If_nmda", &CoreCurrents::If_nmda, &DynapSimParams::If_nmda},
    {"Igain_ahp", &CoreCurrents::Igain_ahp, &DynapSimParams::Igain_ahp},
    {"Igain_mem", &CoreCurrents::Igain_mem, &DynapSimParams::Igain_mem},
    {"Igain_syn", &CoreCurrents::Igain_syn, &DynapSimParams::Igain_syn},
    {"Ipulse_ahp", &CoreCurrents::Ipulse_ahp, &DynapSimParams::Ipulse_ahp},
    {"Ipulse", &CoreCurrents::Ipulse, &DynapSimParams::Ipulse},
    {"Iref", &CoreCurrents::Iref, &DynapSimParams::Iref},
    {"Ispkthr", &CoreCurrents::Ispkthr, &DynapSimParams::Ispkthr},
    {"Itau_ahp", &CoreCurrents::Itau_ahp, &DynapSimParams::Itau_ahp},
    {"Itau_mem", &CoreCurrents::Itau_mem, &DynapSimParams::Itau_mem},
    {"Itau_syn", &CoreCurrents::Itau_syn, &DynapSimParams::Itau_syn},
    {"Iw_ahp", &CoreCurrents::Iw_ahp, &DynapSimParams::Iw_ahp},
};

std::string str(std::size_t v) { return std::to_string(v); }

// ---- checks ------------------------------------------------------------------------------------

void check_net(const DynapseNet& net) {
  const auto n = static_cast<std::size_t>(net.n);
  if (net.n < 1) throw InputError("dynapse2 network", "n must be >= 1");
  if (net.sim.n != net.n) throw InputError("dynapse2 network", "sim.n differs from n");
  if (net.w_in.size() != static_cast<std::size_t>(net.n_in) * n)
    throw InputError("dynapse2 network", "w_in: expected " + str(static_cast<std::size_t>(net.n_in) * n) + " values");
  if (net.sim.w_rec.size() != n * n) throw InputError("dynapse2 network", "w_rec: expected " + str(n * n) + " values");
  for (const ClusteredCurrent& c : kCurrents) {
    const std::vector<double>& v = net.sim.*c.neuron;
    if (v.size() != n) throw InputError("dynapse2 network", std::string(c.name) + ": expected " + str(n) + " values");
    for (std::size_t i = 0; i < n; ++i)
      if (!(v[i] >= 0.0) || !std::isfinite(v[i]))  // Rockpool: "property should be non-negative!"
        throw InputError("dynapse2 network", std::string(c.name) + " of neuron " + str(i) + " is " +
                                                 std::to_string(v[i]) + ": currents must be finite and >= 0");
  }
}

void check_spec(const Spec& s, const std::string& where) {
  if (s.n_neuron < 1 || s.n_in < 0 || s.n_cluster < 1) throw InputError(where, "spec sizes must be positive");
  const auto n = static_cast<std::size_t>(s.n_neuron);
  if (s.core_map.size() != n) throw InputError(where, "core_map: expected " + str(n) + " entries");
  for (std::size_t i = 0; i < n; ++i)
    if (s.core_map[i] < 0 || s.core_map[i] >= s.n_cluster)
      throw InputError(where, "core_map[" + str(i) + "] = " + std::to_string(s.core_map[i]) + " is outside 0.." +
                                  std::to_string(s.n_cluster - 1));
  if (s.weights_in.rows != s.n_in || s.weights_in.cols != s.n_neuron ||
      s.weights_in.v.size() != static_cast<std::size_t>(s.n_in) * n)
    throw InputError(where, "weights_in: expected [" + std::to_string(s.n_in) + ", " + str(n) + "]");
  if (s.weights_rec.rows != s.n_neuron || s.weights_rec.cols != s.n_neuron || s.weights_rec.v.size() != n * n)
    throw InputError(where, "weights_rec: expected [" + str(n) + ", " + str(n) + "]");
  if (s.cores.size() != static_cast<std::size_t>(s.n_cluster))
    throw InputError(where, "expected " + std::to_string(s.n_cluster) + " per-core current sets");
  if (!(s.Iscale > 0.0) || !std::isfinite(s.Iscale)) throw InputError(where, "Iscale must be > 0");
}

// ---- JSON helpers ------------------------------------------------------------------------------

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "expected a JSON object");
  const auto it = j.find(key);
  if (it == j.end()) throw InputError(where, std::string("field '") + key + "' is missing");
  return *it;
}

double number_of(const nlohmann::json& v, const std::string& what, const std::string& where) {
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw InputError(where, "field '" + what + "': expected a finite number");
  return v.get<double>();
}

int int_field(const nlohmann::json& j, const char* key, int min, const std::string& where) {
  const nlohmann::json& v = field(j, key, where);
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > 1'000'000'000)
    throw InputError(where, std::string("field '") + key + "': expected an integer >= " + std::to_string(min));
  return v.get<int>();
}

std::vector<double> number_list(const nlohmann::json& v, const std::string& key, std::size_t n,
                                const std::string& where) {
  if (!v.is_array() || v.size() != n) throw InputError(where, "field '" + key + "': expected a list of " + str(n));
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = number_of(v[i], key + "[" + str(i) + "]", where);
  return out;
}

template <class T>
nlohmann::json matrix_json(const Mat<T>& m) {
  nlohmann::json out = nlohmann::json::array();
  for (int r = 0; r < m.rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < m.cols; ++c) row.push_back(m(r, c));
    out.push_back(std::move(row));
  }
  return out;
}

// A [rows, cols] matrix; `null` reads as zeros when allow_null (an absent recurrent block).
Matrix read_matrix(const nlohmann::json& j, const char* key, int rows, int cols, bool allow_null,
                   const std::string& where) {
  const nlohmann::json& v = field(j, key, where);
  Matrix m{rows, cols, std::vector<double>(static_cast<std::size_t>(rows) * cols, 0.0)};
  if (allow_null && v.is_null()) return m;
  const std::string shape = "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers";
  if (!v.is_array() || v.size() != static_cast<std::size_t>(rows))
    throw InputError(where, std::string("field '") + key + "': " + shape);
  for (int r = 0; r < rows; ++r) {
    const auto& row = v[static_cast<std::size_t>(r)];
    if (!row.is_array() || row.size() != static_cast<std::size_t>(cols))
      throw InputError(where, std::string("field '") + key + "' row " + std::to_string(r) + ": " + shape);
    for (int c = 0; c < cols; ++c)
      m(r, c) = number_of(row[static_cast<std::size_t>(c)],
                          std::string(key) + "[" + std::to_string(r) + "][" + std::to_string(c) + "]", where);
  }
  return m;
}

IntMatrix to_int_matrix(const Matrix& m, const char* key, int lo, int hi, const std::string& where) {
  IntMatrix out{m.rows, m.cols, std::vector<int>(m.v.size(), 0)};
  for (std::size_t i = 0; i < m.v.size(); ++i) {
    const double v = m.v[i];
    if (v != std::floor(v) || v < lo || v > hi)
      throw InputError(where, std::string("field '") + key + "' entry " + str(i) + " = " + std::to_string(v) +
                                  ": expected an integer " + std::to_string(lo) + ".." + std::to_string(hi));
    out.v[i] = static_cast<int>(v);
  }
  return out;
}

void check_read_header(const nlohmann::json& j, const char* format, const std::string& where) {
  const nlohmann::json& f = field(j, "format", where);
  if (f != format) throw InputError(where, std::string("field 'format' must be \"") + format + "\"");
  if (field(j, "version", where) != 1) throw InputError(where, "field 'version' must be 1");
}

// Columns of cluster c kept, all others zero (Rockpool's per-cluster subset).
Matrix cluster_columns(const Matrix& w, const std::vector<int>& core_map, int c) {
  Matrix out{w.rows, w.cols, std::vector<double>(w.v.size(), 0.0)};
  for (int r = 0; r < w.rows; ++r)
    for (int col = 0; col < w.cols; ++col)
      if (core_map[static_cast<std::size_t>(col)] == c) out(r, col) = w(r, col);
  return out;
}

void merge_cluster(IntMatrix& into, const IntMatrix& from, const std::vector<int>& core_map, int c) {
  for (int r = 0; r < into.rows; ++r)
    for (int col = 0; col < into.cols; ++col)
      if (core_map[static_cast<std::size_t>(col)] == c) into(r, col) = from(r, col);
}

Matrix realised(const IntMatrix& masks, const Matrix& sign, const QuantizedSpec& q) {
  Matrix out{masks.rows, masks.cols, std::vector<double>(masks.v.size(), 0.0)};
  for (int r = 0; r < masks.rows; ++r)
    for (int c = 0; c < masks.cols; ++c) {
      const auto& Iw = q.Iw[static_cast<std::size_t>(q.spec.core_map[static_cast<std::size_t>(c)])];
      double sum = 0.0;  // k ascending, as restore_weights
      for (int k = 0; k < kWeightBits; ++k)
        if ((masks(r, c) >> k) & 1) sum += Iw[k];
      out(r, c) = sign(r, c) * sum / q.spec.Iscale;
    }
  return out;
}

void check_quantized(const QuantizedSpec& q, const std::string& where) {
  const Spec& s = q.spec;
  const auto same_shape = [](const auto& a, const Matrix& b) { return a.rows == b.rows && a.cols == b.cols; };
  if (!same_shape(q.masks_in, s.weights_in) || !same_shape(q.sign_in, s.weights_in) ||
      !same_shape(q.masks_rec, s.weights_rec) || !same_shape(q.sign_rec, s.weights_rec))
    throw InputError(where, "mask/sign matrices must have the shapes of weights_in/weights_rec");
  const auto nc = static_cast<std::size_t>(s.n_cluster);
  if (q.Iw.size() != nc || q.quantization_loss.size() != nc || q.steps.size() != nc)
    throw InputError(where, "Iw_0..3, quantization_loss and steps need one value per cluster");
  const auto consistent = [&](const IntMatrix& m, const Matrix& sign, const Matrix& w, const char* key) {
    for (std::size_t i = 0; i < w.v.size(); ++i) {
      const double want = w.v[i] > 0.0 ? 1.0 : (w.v[i] < 0.0 ? -1.0 : 0.0);
      if (sign.v[i] != want)
        throw InputError(where, std::string("field 'sign_") + key + "' entry " + str(i) +
                                    " differs from the sign of the spec's weight");
      if (m.v[i] != 0 && w.v[i] == 0.0)
        throw InputError(where, std::string("field 'weights_") + key + "' entry " + str(i) +
                                    " has a mask where the spec's weight is zero");
    }
  };
  consistent(q.masks_in, q.sign_in, s.weights_in, "in");
  consistent(q.masks_rec, q.sign_rec, s.weights_rec, "rec");
}

}  // namespace

// ---- mapper ------------------------------------------------------------------------------------

std::vector<int> greedy_core_map(int n, int n_cluster) {
  SPIKELINE_ASSERT(n >= 1 && n_cluster >= 1 && n_cluster <= n);
  // numpy: n // np.floor(N / n_cluster), float-valued.
  const double per_cluster = std::floor(static_cast<double>(n) / n_cluster);
  std::vector<int> map(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) map[static_cast<std::size_t>(i)] = static_cast<int>(std::floor(i / per_cluster));
  return map;
}

Spec map_network(const DynapseNet& net, int n_cluster) {
  check_net(net);
  const int n = net.n;
  const int min_cluster = n / kNeuronsPerCore + 1;
  if (n_cluster == 0) n_cluster = min_cluster;
  if (n_cluster < min_cluster)
    throw InputError("n_cluster", "at least " + std::to_string(min_cluster) + " clusters are needed for " +
                                      std::to_string(n) + " neurons, got " + std::to_string(n_cluster));
  if (n_cluster > n)
    throw InputError("n_cluster", std::to_string(n_cluster) + " clusters exceed the " + std::to_string(n) + " neurons");

  Spec spec;
  spec.n_in = net.n_in;
  spec.n_neuron = n;
  spec.core_map = greedy_core_map(n, n_cluster);
  spec.n_cluster = *std::max_element(spec.core_map.begin(), spec.core_map.end()) + 1;
  spec.weights_in = {net.n_in, n, net.w_in};
  spec.weights_rec = {n, n, net.sim.w_rec};
  spec.Iscale = net.sim.Iscale;
  spec.dt = net.sim.dt;
  spec.unclustered = net.sim;

  spec.cores.assign(static_cast<std::size_t>(spec.n_cluster), CoreCurrents{});
  std::vector<int> count(static_cast<std::size_t>(spec.n_cluster), 0);
  for (int i = 0; i < n; ++i) ++count[static_cast<std::size_t>(spec.core_map[static_cast<std::size_t>(i)])];
  for (const ClusteredCurrent& cur : kCurrents) {
    const std::vector<double>& v = net.sim.*cur.neuron;
    std::vector<double> sum(static_cast<std::size_t>(spec.n_cluster), 0.0);
    for (int i = 0; i < n; ++i) sum[static_cast<std::size_t>(spec.core_map[static_cast<std::size_t>(i)])] += v[i];
    for (int c = 0; c < spec.n_cluster; ++c)
      spec.cores[static_cast<std::size_t>(c)].*cur.core =
          sum[static_cast<std::size_t>(c)] / count[static_cast<std::size_t>(c)];
  }
  return spec;
}

bool has_recurrent_weights(const Spec& spec) {
  return std::any_of(spec.weights_rec.v.begin(), spec.weights_rec.v.end(), [](double w) { return w != 0.0; });
}

// ---- quantisation ------------------------------------------------------------------------------

QuantizedSpec quantize_spec(const Spec& spec, const AutoencoderOptions& options) {
  check_spec(spec, "spec");
  validate_autoencoder_options(options);
  QuantizedSpec q;
  q.spec = spec;
  q.sign_in = sign_of(spec.weights_in);
  q.sign_rec = sign_of(spec.weights_rec);
  q.masks_in = {spec.weights_in.rows, spec.weights_in.cols, std::vector<int>(spec.weights_in.v.size(), 0)};
  q.masks_rec = {spec.weights_rec.rows, spec.weights_rec.cols, std::vector<int>(spec.weights_rec.v.size(), 0)};
  Rng root(options.seed);
  for (int c = 0; c < spec.n_cluster; ++c) {
    Rng rng = root.split();
    const Matrix w_in = cluster_columns(spec.weights_in, spec.core_map, c);
    const Matrix w_rec = cluster_columns(spec.weights_rec, spec.core_map, c);
    const ClusterQuantization r = learn_weights(w_in, w_rec, spec.Iscale, options, rng);
    const MaskPair masks = reshape_masks(r.masks, w_in, w_rec);
    merge_cluster(q.masks_in, masks.in, spec.core_map, c);
    merge_cluster(q.masks_rec, masks.rec, spec.core_map, c);
    q.Iw.push_back(r.Iw);
    q.quantization_loss.push_back(r.loss);
    q.steps.push_back(r.steps);
  }
  return q;
}

Matrix realised_weights_in(const QuantizedSpec& q) { return realised(q.masks_in, q.sign_in, q); }
Matrix realised_weights_rec(const QuantizedSpec& q) { return realised(q.masks_rec, q.sign_rec, q); }

// ---- JSON --------------------------------------------------------------------------------------

nlohmann::json to_json(const Spec& spec) {
  nlohmann::json j = nlohmann::json::object();
  j["format"] = kSpecFormat;
  j["version"] = 1;
  j["n_in"] = spec.n_in;
  j["n_neuron"] = spec.n_neuron;
  j["n_cluster"] = spec.n_cluster;
  j["core_map"] = spec.core_map;
  j["Iscale"] = spec.Iscale;
  j["dt"] = spec.dt;
  j["weights_in"] = matrix_json(spec.weights_in);
  j["weights_rec"] = has_recurrent_weights(spec) ? matrix_json(spec.weights_rec) : nlohmann::json(nullptr);
  for (const ClusteredCurrent& cur : kCurrents) {
    nlohmann::json list = nlohmann::json::array();
    for (const CoreCurrents& core : spec.cores) list.push_back(core.*cur.core);
    j[cur.name] = std::move(list);
  }
  nlohmann::json un = nlohmann::json::object();
  un["n"] = spec.unclustered.n;
  for (const DynapSimVector& v : dynapsim_vectors()) un[std::string(v.name)] = spec.unclustered.*v.member;
  j["unclustered"] = std::move(un);
  return j;
}

Spec spec_from_json(const nlohmann::json& j, const std::string& where) {
  check_read_header(j, kSpecFormat, where);
  Spec s;
  s.n_in = int_field(j, "n_in", 0, where);
  s.n_neuron = int_field(j, "n_neuron", 1, where);
  s.n_cluster = int_field(j, "n_cluster", 1, where);
  const auto n = static_cast<std::size_t>(s.n_neuron), nc = static_cast<std::size_t>(s.n_cluster);
  const std::vector<double> core_map = number_list(field(j, "core_map", where), "core_map", n, where);
  for (std::size_t i = 0; i < n; ++i) {
    if (core_map[i] != std::floor(core_map[i]) || core_map[i] < 0 || core_map[i] >= s.n_cluster)
      throw InputError(where, "field 'core_map' entry " + str(i) + ": expected a cluster 0.." +
                                  std::to_string(s.n_cluster - 1));
    s.core_map.push_back(static_cast<int>(core_map[i]));
  }
  s.Iscale = number_of(field(j, "Iscale", where), "Iscale", where);
  s.dt = number_of(field(j, "dt", where), "dt", where);
  if (!(s.dt > 0.0)) throw InputError(where, "field 'dt' must be > 0");
  s.weights_in = read_matrix(j, "weights_in", s.n_in, s.n_neuron, false, where);
  s.weights_rec = read_matrix(j, "weights_rec", s.n_neuron, s.n_neuron, true, where);
  s.cores.assign(nc, CoreCurrents{});
  for (const ClusteredCurrent& cur : kCurrents) {
    const std::vector<double> v = number_list(field(j, cur.name, where), cur.name, nc, where);
    for (std::size_t c = 0; c < nc; ++c) {
      if (v[c] < 0.0) throw InputError(where, std::string("field '") + cur.name + "' is negative");
      s.cores[c].*cur.core = v[c];
    }
  }
  const nlohmann::json& un = field(j, "unclustered", where);
  if (!un.is_object() || !un.contains("n") || un.at("n") != s.n_neuron)
    throw InputError(where, "field 'unclustered': expected an object with n = n_neuron");
  for (const char* key : {"Iscale", "dt", "w_rec"})
    if (un.contains(key)) throw InputError(where, std::string("field 'unclustered." + std::string(key)) + "' is not allowed (top level)");
  s.unclustered = dynapsim_params_from_json(un, where + " (unclustered)");
  s.unclustered.Iscale = s.Iscale;
  s.unclustered.dt = s.dt;
  s.unclustered.w_rec = s.weights_rec.v;
  check_spec(s, where);
  return s;
}

nlohmann::json to_json(const QuantizedSpec& q) {
  const bool rec = has_recurrent_weights(q.spec);
  nlohmann::json j = nlohmann::json::object();
  j["format"] = kQuantizedFormat;
  j["version"] = 1;
  j["spec"] = to_json(q.spec);
  j["weights_in"] = matrix_json(q.masks_in);
  j["sign_in"] = matrix_json(q.sign_in);
  j["weights_rec"] = rec ? matrix_json(q.masks_rec) : nlohmann::json(nullptr);
  j["sign_rec"] = rec ? matrix_json(q.sign_rec) : nlohmann::json(nullptr);
  for (int k = 0; k < kWeightBits; ++k) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& Iw : q.Iw) list.push_back(Iw[static_cast<std::size_t>(k)]);
    j["Iw_" + std::to_string(k)] = std::move(list);
  }
  j["quantization_loss"] = q.quantization_loss;
  j["steps"] = q.steps;
  return j;
}

QuantizedSpec quantized_spec_from_json(const nlohmann::json& j, const std::string& where) {
  check_read_header(j, kQuantizedFormat, where);
  QuantizedSpec q;
  q.spec = spec_from_json(field(j, "spec", where), where + " (spec)");
  const Spec& s = q.spec;
  q.masks_in = to_int_matrix(read_matrix(j, "weights_in", s.n_in, s.n_neuron, false, where), "weights_in", 0,
                             (1 << kWeightBits) - 1, where);
  q.sign_in = read_matrix(j, "sign_in", s.n_in, s.n_neuron, false, where);
  q.masks_rec = to_int_matrix(read_matrix(j, "weights_rec", s.n_neuron, s.n_neuron, true, where), "weights_rec", 0,
                              (1 << kWeightBits) - 1, where);
  q.sign_rec = read_matrix(j, "sign_rec", s.n_neuron, s.n_neuron, true, where);
  const auto nc = static_cast<std::size_t>(s.n_cluster);
  q.Iw.assign(nc, {});
  for (int k = 0; k < kWeightBits; ++k) {
    const std::string key = "Iw_" + std::to_string(k);
    const std::vector<double> v = number_list(field(j, key.c_str(), where), key, nc, where);
    for (std::size_t c = 0; c < nc; ++c) q.Iw[c][static_cast<std::size_t>(k)] = v[c];
  }
  q.quantization_loss = number_list(field(j, "quantization_loss", where), "quantization_loss", nc, where);
  for (double v : number_list(field(j, "steps", where), "steps", nc, where)) {
    if (v < 0 || v != std::floor(v)) throw InputError(where, "field 'steps': expected non-negative integers");
    q.steps.push_back(static_cast<std::int64_t>(v));
  }
  check_quantized(q, where);
  return q;
}

}  // namespace spikeline::hw::dynapse2
