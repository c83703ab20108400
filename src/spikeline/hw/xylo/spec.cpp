#include "spikeline/hw/xylo/spec.hpp"

#include <charconv>
#include <cmath>
#include <type_traits>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::hw::xylo {

template <class T>
void Spec<T>::resize(int inputs, int hidden, int outputs, int synapses) {
  n_in = inputs;
  n_hid = hidden;
  n_out = outputs;
  n_syn = synapses;
  weights_in.assign(std::size_t(n_in) * n_hid * n_syn, T{});
  weights_rec.assign(std::size_t(n_hid) * n_hid * n_syn, T{});
  weights_out.assign(std::size_t(n_hid) * n_out, T{});
  for (auto* v : {&dash_mem, &dash_syn, &dash_syn_2, &threshold, &bias}) v->assign(n_hid, T{});
  for (auto* v : {&dash_mem_out, &dash_syn_out, &threshold_out, &bias_out}) v->assign(n_out, T{});
  aliases.assign(n_hid, {});
}
template struct Spec<double>;
template struct Spec<std::int64_t>;

namespace {

constexpr const char* kFloatFormat = "spikeline-xylo-spec";
constexpr const char* kIntFormat = "spikeline-xylo-config";

// dt is a float32 in the network; write its shortest float32 spelling (0.05, not 0.0500000007).
double shortest_float32(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
  double out = 0.0;
  std::from_chars(buf, res.ptr, out);
  return out;
}

template <class T>
nlohmann::json matrix(const std::vector<T>& v, int rows, int cols, int syn) {
  nlohmann::json m = nlohmann::json::array();
  for (int r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < cols; ++c) {
      const std::size_t base = (std::size_t(r) * cols + c) * syn;
      if (syn == 1) {
        row.push_back(v[base]);
      } else {
        nlohmann::json cell = nlohmann::json::array();
        for (int s = 0; s < syn; ++s) cell.push_back(v[base + s]);
        row.push_back(cell);
      }
    }
    m.push_back(row);
  }
  return m;
}

template <class T>
nlohmann::json spec_json(const Spec<T>& s, const char* format) {
  nlohmann::json j;
  j["format"] = format;
  j["chip"] = "syns61201";
  j["weights_in"] = matrix(s.weights_in, s.n_in, s.n_hid, s.n_syn);
  j["weights_rec"] = matrix(s.weights_rec, s.n_hid, s.n_hid, s.n_syn);
  j["weights_out"] = matrix(s.weights_out, s.n_hid, s.n_out, 1);
  j["dash_mem"] = s.dash_mem;
  j["dash_mem_out"] = s.dash_mem_out;
  j["dash_syn"] = s.dash_syn;
  j["dash_syn_2"] = s.dash_syn_2;
  j["dash_syn_out"] = s.dash_syn_out;
  j["threshold"] = s.threshold;
  j["threshold_out"] = s.threshold_out;
  j["bias"] = s.bias;
  j["bias_out"] = s.bias_out;
  j["aliases"] = s.aliases;
  j["dt"] = shortest_float32(s.dt);
  j["weight_shift_in"] = s.weight_shift_in;
  j["weight_shift_rec"] = s.weight_shift_rec;
  j["weight_shift_out"] = s.weight_shift_out;
  return j;
}

template <class T>
T number(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number()) throw InputError(where, "expected a number, got " + v.dump());
  if constexpr (std::is_integral_v<T>) {
    if (v.is_number_integer()) return v.get<T>();
    const double d = v.get<double>();
    if (std::nearbyint(d) != d || std::fabs(d) > 9.0e15)
      throw InputError(where, "expected an integer, got " + v.dump());
    return static_cast<T>(d);
  } else {
    return v.get<T>();
  }
}

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) throw InputError(source, std::string("missing key '") + key + "'");
  return j.at(key);
}

// A [rows][cols] or [rows][cols][syn] array; rows/cols/syn are discovered or checked.
template <class T>
std::vector<T> read_matrix(const nlohmann::json& j, const char* key, const std::string& source, int& rows,
                           int& cols, int* syn) {
  const auto& m = field(j, key, source);
  const std::string where = source + ": " + key;
  if (!m.is_array()) throw InputError(where, "expected a 2-D array");
  rows = static_cast<int>(m.size());
  cols = -1;
  int depth_syn = 0;
  std::vector<T> out;
  for (int r = 0; r < rows; ++r) {
    const auto& row = m[r];
    if (!row.is_array()) throw InputError(where + "[" + std::to_string(r) + "]", "expected an array");
    if (cols < 0) cols = static_cast<int>(row.size());
    if (static_cast<int>(row.size()) != cols)
      throw InputError(where + "[" + std::to_string(r) + "]", "expected " + std::to_string(cols) + " columns");
    for (int c = 0; c < cols; ++c) {
      const std::string at = where + "[" + std::to_string(r) + "][" + std::to_string(c) + "]";
      const auto& cell = row[c];
      if (cell.is_array()) {
        if (!syn) throw InputError(at, "expected a number (this array is 2-D)");
        if (depth_syn == 0) depth_syn = static_cast<int>(cell.size());
        if (static_cast<int>(cell.size()) != depth_syn || depth_syn < 1 || depth_syn > 2)
          throw InputError(at, "expected 1 or 2 synapses, consistently");
        for (int s = 0; s < depth_syn; ++s) out.push_back(number<T>(cell[s], at + "[" + std::to_string(s) + "]"));
      } else {
        if (depth_syn > 0) throw InputError(at, "mixed 2-D and 3-D entries");
        depth_syn = -1;
        out.push_back(number<T>(cell, at));
      }
    }
  }
  if (cols < 0) cols = 0;
  if (syn) *syn = depth_syn > 0 ? depth_syn : 1;
  return out;
}

template <class T>
std::vector<T> read_vector(const nlohmann::json& j, const char* key, const std::string& source, int size,
                           bool optional = false) {
  if (optional && !j.contains(key)) return std::vector<T>(size, T{});
  const auto& v = field(j, key, source);
  const std::string where = source + ": " + key;
  if (!v.is_array() || static_cast<int>(v.size()) != size)
    throw InputError(where, "expected an array of " + std::to_string(size) + " numbers");
  std::vector<T> out;
  for (int i = 0; i < size; ++i) out.push_back(number<T>(v[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

int read_int(const nlohmann::json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) return 0;
  return static_cast<int>(number<std::int64_t>(j.at(key), source + ": " + key));
}

template <class T>
Spec<T> spec_from_json(const nlohmann::json& j, const std::string& source, const char* format) {
  if (!j.is_object()) throw InputError(source, "expected a JSON object");
  if (j.contains("format") && j.at("format") != format)
    throw InputError(source + ": format", std::string("expected \"") + format + "\", got " + j.at("format").dump());
  Spec<T> s;
  int n_in = 0, n_hid = 0, n_syn = 1, rows = 0, cols = 0, syn_rec = 1, n_out = 0;
  s.weights_in = read_matrix<T>(j, "weights_in", source, n_in, n_hid, &n_syn);
  s.weights_rec = read_matrix<T>(j, "weights_rec", source, rows, cols, &syn_rec);
  if (rows == 0 && cols == 0) {  // absent recurrence written as []
    s.weights_rec.assign(std::size_t(n_hid) * n_hid * n_syn, T{});
    rows = cols = n_hid;
    syn_rec = n_syn;
  }
  if (rows != n_hid || cols != n_hid || syn_rec != n_syn)
    throw InputError(source + ": weights_rec", "expected [" + std::to_string(n_hid) + ", " + std::to_string(n_hid) +
                                                  (n_syn == 2 ? ", 2]" : "]") + " to match weights_in");
  s.weights_out = read_matrix<T>(j, "weights_out", source, rows, n_out, nullptr);
  if (rows != n_hid)
    throw InputError(source + ": weights_out", "expected " + std::to_string(n_hid) + " rows (hidden neurons)");
  s.n_in = n_in;
  s.n_hid = n_hid;
  s.n_out = n_out;
  s.n_syn = n_syn;
  s.dash_mem = read_vector<T>(j, "dash_mem", source, n_hid);
  s.dash_syn = read_vector<T>(j, "dash_syn", source, n_hid);
  s.dash_syn_2 = read_vector<T>(j, "dash_syn_2", source, n_hid, true);
  s.threshold = read_vector<T>(j, "threshold", source, n_hid);
  s.bias = read_vector<T>(j, j.contains("bias_hidden") ? "bias_hidden" : "bias", source, n_hid, true);
  s.dash_mem_out = read_vector<T>(j, "dash_mem_out", source, n_out);
  s.dash_syn_out = read_vector<T>(j, "dash_syn_out", source, n_out);
  s.threshold_out = read_vector<T>(j, "threshold_out", source, n_out);
  s.bias_out = read_vector<T>(j, "bias_out", source, n_out, true);
  s.aliases.assign(n_hid, {});
  if (j.contains("aliases") && !j.at("aliases").is_null()) {
    const auto& a = j.at("aliases");
    if (!a.is_array() || static_cast<int>(a.size()) != n_hid)
      throw InputError(source + ": aliases", "expected a list of " + std::to_string(n_hid) + " lists");
    for (int i = 0; i < n_hid; ++i) {
      const std::string at = source + ": aliases[" + std::to_string(i) + "]";
      if (!a[i].is_array()) throw InputError(at, "expected a list of hidden ids");
      for (const auto& t : a[i]) s.aliases[i].push_back(static_cast<int>(number<std::int64_t>(t, at)));
    }
  }
  s.weight_shift_in = read_int(j, "weight_shift_in", source);
  s.weight_shift_rec = read_int(j, "weight_shift_rec", source);
  s.weight_shift_out = read_int(j, "weight_shift_out", source);
  s.dt = j.contains("dt") ? number<double>(j.at("dt"), source + ": dt") : 0.0;
  return s;
}

nlohmann::json parse_file(const std::filesystem::path& path) {
  const std::string text = read_file_text(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string(), std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace

nlohmann::json to_json(const FloatSpec& spec) { return spec_json(spec, kFloatFormat); }
nlohmann::json to_json(const IntSpec& spec) { return spec_json(spec, kIntFormat); }

FloatSpec float_spec_from_json(const nlohmann::json& j, const std::string& source) {
  return spec_from_json<double>(j, source, kFloatFormat);
}
IntSpec int_spec_from_json(const nlohmann::json& j, const std::string& source) {
  return spec_from_json<std::int64_t>(j, source, kIntFormat);
}

FloatSpec read_float_spec(const std::filesystem::path& path) {
  return float_spec_from_json(parse_file(path), path.string());
}
IntSpec read_int_spec(const std::filesystem::path& path) {
  return int_spec_from_json(parse_file(path), path.string());
}
void write_spec(const std::filesystem::path& path, const FloatSpec& spec) {
  write_file_atomic(path, to_json(spec).dump(1) + "\n");
}
void write_spec(const std::filesystem::path& path, const IntSpec& spec) {
  write_file_atomic(path, to_json(spec).dump(1) + "\n");
}

}  // namespace spikeline::hw::xylo
