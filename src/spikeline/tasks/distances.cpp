#include "spikeline/tasks/distances.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/progress.hpp"
#include "spikeline/io/npy.hpp"
#include "spikeline/tasks/kl.hpp"

namespace spikeline::tasks {

namespace {

using nlohmann::json;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string label(const data::ClassInfo& c) { return c.name.empty() ? std::string(1, c.letter) : c.name; }

// Window indices of each class in a split.
std::vector<std::vector<std::size_t>> indices_by_class(std::span<const std::int32_t> y, std::size_t n_classes) {
  std::vector<std::vector<std::size_t>> by(n_classes);
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] >= 0 && static_cast<std::size_t>(y[i]) < n_classes) by[static_cast<std::size_t>(y[i])].push_back(i);
  return by;
}

void check_split(const data::LabelledSplit<float>& split) {
  if (split.x.ndim() != 3 || split.x.dim(0) != split.size())
    throw InputError("windows", "expected x [n][T][D] with one label per window, got x " +
                                    shape_to_string(split.x.shape));
}

// A 64-bit multiply-xor hash over bytes, 8 at a time (not cryptographic: it keys a cache).
struct Hasher {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL;
  void mix(std::uint64_t w) {
    h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
  }
  void bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, c + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, c + i, n - i);
    mix(tail ^ (static_cast<std::uint64_t>(n) << 56));
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
};

}  // namespace

std::string_view metric_name(Metric m) { return m == Metric::dtw ? "dtw" : "kld"; }
Metric metric_from_name(std::string_view name) {
  if (name == "dtw") return Metric::dtw;
  if (name == "kld") return Metric::kld;
  throw InputError("metric", "unknown metric '" + std::string(name) + "' (dtw, kld)");
}
std::string_view dtw_mode_name(DtwMode m) { return m == DtwMode::median ? "median" : "pairs"; }
DtwMode dtw_mode_from_name(std::string_view name) {
  if (name == "median") return DtwMode::median;
  if (name == "pairs") return DtwMode::pairs;
  throw InputError("dtw mode", "unknown mode '" + std::string(name) + "' (median, pairs)");
}

std::vector<std::size_t> resolve_classes(std::span<const data::ClassInfo> classes,
                                         std::span<const std::string> names, const std::string& where) {
  std::vector<std::size_t> out;
  for (const auto& n : names) {
    std::size_t found = classes.size();
    for (std::size_t k = 0; k < classes.size(); ++k) {
      const bool letter = n.size() == 1 && classes[k].letter && std::toupper(static_cast<unsigned char>(n[0])) == classes[k].letter;
      if (classes[k].name == n || letter) found = k;
    }
    if (found == classes.size()) {  // WISDM short names ("dribbling", "pasta") by their letter
      try {
        const char l = data::activity_letter(n);
        for (std::size_t k = 0; k < classes.size(); ++k)
          if (classes[k].letter == l) found = k;
      } catch (const InputError&) {
      }
    }
    if (found == classes.size()) {
      std::string known;
      for (const auto& c : classes) known += (known.empty() ? "" : ", ") + label(c);
      throw InputError(where, "unknown class '" + n + "' (known: " + known + ")");
    }
    if (std::find(out.begin(), out.end(), found) != out.end())
      throw InputError(where, "class '" + n + "' named twice");
    out.push_back(found);
  }
  return out;
}

Array<float> class_medians(const data::LabelledSplit<float>& split, std::size_t n_classes,
                           std::span<const data::ClassInfo> classes) {
  check_split(split);
  const std::size_t T = split.x.dim(1), D = split.x.dim(2), TD = T * D;
  const auto by = indices_by_class(split.y, n_classes);
  Array<float> med({n_classes, T, D});
  std::vector<float> column;
  for (std::size_t c = 0; c < n_classes; ++c) {
    const auto& idx = by[c];
    if (idx.empty())
      throw InputError(c < classes.size() ? "class " + label(classes[c]) : "class " + std::to_string(c),
                       "has no windows in the split");
    column.resize(idx.size());
    const std::size_t mid = idx.size() / 2;
    for (std::size_t e = 0; e < TD; ++e) {
      for (std::size_t i = 0; i < idx.size(); ++i) column[i] = split.x[idx[i] * TD + e];
      std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid), column.end());
      double m = column[mid];
      if (idx.size() % 2 == 0)  // the lower middle is the largest of the lower half
        m = 0.5 * (m + *std::max_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid)));
      med[c * TD + e] = static_cast<float>(m);
    }
  }
  return med;
}

Array<double> class_kdes(const data::LabelledSplit<float>& split, std::span<const data::ClassInfo> classes,
                         std::span<const std::size_t> which, const Grid& grid, const KdeOptions& kde,
                         int threads, bool progress) {
  check_split(split);
  const std::size_t T = split.x.dim(1), D = split.x.dim(2);
  const auto by = indices_by_class(split.y, classes.size());
  Array<double> out({which.size(), D, grid.points});
  ProgressBar bar("KDEs", which.size() * D, progress);
  std::vector<std::size_t> done(1, 0);
  std::vector<std::vector<float>> values(static_cast<std::size_t>(std::max(1, threads)));
  std::mutex mutex;
  parallel_for(which.size() * D, threads, [&](std::size_t task, int worker) {
    const std::size_t c = which[task / D], d = task % D;
    const std::string where = "class " + label(classes[c]) + ", dim " + std::to_string(d);
    auto& v = values[static_cast<std::size_t>(worker)];
    v.clear();
    for (std::size_t i : by[c])
      for (std::size_t t = 0; t < T; ++t) v.push_back(split.x[(i * T + t) * D + d]);
    if (v.empty()) throw InputError("class " + label(classes[c]), "has no windows in the split");
    const auto density = kde_on_grid(v, grid, kde, where);
    std::copy(density.begin(), density.end(), out.ptr() + task * grid.points);
    std::lock_guard lock(mutex);
    bar.update(++done[0]);
  });
  bar.finish();
  return out;
}

std::uint64_t kde_cache_key(const data::LabelledSplit<float>& split, std::span<const data::ClassInfo> classes,
                            std::span<const std::size_t> which, const Grid& grid, const KdeOptions& kde) {
  Hasher h;
  h.text("spikeline.kde.v1");
  for (std::size_t s : split.x.shape) h.mix(s);
  h.bytes(split.x.ptr(), split.x.size() * sizeof(float));
  h.bytes(split.y.data(), split.y.size() * sizeof(std::int32_t));
  for (std::size_t c : which) h.text(label(classes[c]));
  h.text(fmt::format("{} {} {} {:a} {:a} {:a} {}", classes.size(), which.size(), bandwidth_rule_name(kde.rule),
                     kde.bandwidth, kde.tolerance, grid.lo, grid.hi));
  h.mix(grid.points);
  return h.h;
}

DistanceMatrix class_distances(const data::WindowDataset& data, const DistanceOptions& o,
                               std::span<const std::size_t> which_in, DistanceReport* report) {
  const auto start = std::chrono::steady_clock::now();
  if (o.split < 0 || o.split > 2) throw InputError("split", "must be train, val or test");
  const auto& split = data.splits[static_cast<std::size_t>(o.split)];
  check_split(split);
  std::vector<std::size_t> which(which_in.begin(), which_in.end());
  if (which.empty()) {
    which.resize(data.classes.size());
    std::iota(which.begin(), which.end(), std::size_t{0});
  }
  const std::size_t n = which.size(), T = split.x.dim(1), D = split.x.dim(2);
  DistanceMatrix m;
  m.metric = o.metric;
  for (std::size_t c : which) m.classes.push_back(data.classes.at(c));
  m.values.assign(n * n, 0.0);
  m.parameters = {{"split", std::string(data::kSplitNames[static_cast<std::size_t>(o.split)])}};
  DistanceReport local;
  DistanceReport& rep = report ? *report : local;

  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) pairs.emplace_back(a, b);
  std::vector<double> pair_value(pairs.size());

  if (o.metric == Metric::dtw) {
    m.parameters["window"] = o.dtw.window;
    m.parameters["mode"] = std::string(dtw_mode_name(o.dtw_mode));
    std::vector<DtwScratch> scratch(static_cast<std::size_t>(std::max(1, o.threads)));
    if (o.dtw_mode == DtwMode::median) {
      const Array<float> all = class_medians(split, data.classes.size(), data.classes);
      const std::size_t TD = T * D;
      parallel_for(pairs.size(), o.threads, [&](std::size_t p, int worker) {
        const auto [a, b] = pairs[p];
        pair_value[p] = dtw_distance({all.ptr() + which[a] * TD, TD}, T, {all.ptr() + which[b] * TD, TD}, T, D,
                                     o.dtw, scratch[static_cast<std::size_t>(worker)]);
      });
    } else {
      if (o.max_samples == 0) throw InputError("max samples", "must be at least 1");
      m.parameters["max_samples"] = o.max_samples;
      const auto by = indices_by_class(split.y, data.classes.size());
      // Evenly spaced windows (deterministic, and spread over the subjects of the class).
      std::vector<std::vector<std::size_t>> chosen(n);
      for (std::size_t a = 0; a < n; ++a) {
        const auto& idx = by[which[a]];
        if (idx.empty()) throw InputError("class " + label(m.classes[a]), "has no windows in the split");
        const std::size_t k = std::min(o.max_samples, idx.size());
        for (std::size_t s = 0; s < k; ++s) chosen[a].push_back(idx[s * idx.size() / k]);
      }
      const std::size_t TD = T * D;
      ProgressBar bar("DTW pairs", pairs.size(), o.progress);
      std::mutex mutex;
      std::size_t done = 0;
      parallel_for(pairs.size(), o.threads, [&](std::size_t p, int worker) {
        const auto [a, b] = pairs[p];
        double sum = 0;
        for (std::size_t i : chosen[a])
          for (std::size_t j : chosen[b])
            sum += dtw_distance({split.x.ptr() + i * TD, TD}, T, {split.x.ptr() + j * TD, TD}, T, D, o.dtw,
                                scratch[static_cast<std::size_t>(worker)]);
        pair_value[p] = sum / static_cast<double>(chosen[a].size() * chosen[b].size());
        std::lock_guard lock(mutex);
        bar.update(++done);
      });
      bar.finish();
    }
  } else {
    m.parameters["bandwidth_rule"] = std::string(bandwidth_rule_name(o.kde.rule));
    if (o.kde.rule == BandwidthRule::fixed || o.kde.rule == BandwidthRule::factor)
      m.parameters["bandwidth"] = o.kde.bandwidth;
    m.parameters["grid"] = {{"lo", o.grid.lo}, {"hi", o.grid.hi}, {"points", o.grid.points}};
    m.parameters["kde_tolerance"] = o.kde.tolerance;
    if (!(o.kl_floor >= 0) || !std::isfinite(o.kl_floor)) throw InputError("kl floor", "must be >= 0");
    if (o.kl_floor > 0) m.parameters["kl_floor"] = o.kl_floor;
    Array<double> kdes;
    if (!o.cache_dir.empty()) {
      rep.cache_file = o.cache_dir / fmt::format("kde-{:016x}.npy", kde_cache_key(split, data.classes, which, o.grid, o.kde));
      if (std::filesystem::exists(rep.cache_file)) {
        try {
          const io::NpyArray a = io::read_npy(rep.cache_file);
          if (a.dtype == io::DType::f64 && a.shape == Shape{n, D, o.grid.points}) {
            kdes = Array<double>(a.shape, a.to_double());
            rep.cache_hit = true;
          }
        } catch (const Error&) {
          // A damaged cache file is recomputed and overwritten below.
        }
      }
    }
    if (!rep.cache_hit) {
      kdes = class_kdes(split, data.classes, which, o.grid, o.kde, o.threads, o.progress);
      if (!rep.cache_file.empty()) {
        std::filesystem::create_directories(o.cache_dir);
        io::write_npy(rep.cache_file, io::NpyArray::from<double>(kdes.shape, kdes.span()));
      }
    }
    const std::size_t G = o.grid.points;
    if (o.kl_floor > 0)
      for (double& v : kdes.data) v += o.kl_floor;
    parallel_for(pairs.size(), o.threads, [&](std::size_t p, int) {
      const auto [a, b] = pairs[p];
      double sum = 0;
      for (std::size_t d = 0; d < D; ++d)
        sum += symmetric_kl({kdes.ptr() + (a * D + d) * G, G}, {kdes.ptr() + (b * D + d) * G, G},
                            "KL of " + label(m.classes[a]) + " and " + label(m.classes[b]));
      pair_value[p] = sum;
    });
  }
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto [a, b] = pairs[p];
    m.values[a * n + b] = m.values[b * n + a] = pair_value[p];
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

json distances_to_json(const DistanceMatrix& m) {
  json classes = json::array(), letters = json::array(), matrix = json::array();
  for (const auto& c : m.classes) {
    classes.push_back(c.name);
    letters.push_back(c.letter ? std::string(1, c.letter) : std::string());
  }
  for (std::size_t i = 0; i < m.size(); ++i) {
    json row = json::array();
    for (std::size_t j = 0; j < m.size(); ++j) {
      const double v = m.at(i, j);
      row.push_back(std::isfinite(v) ? json(v) : json(nullptr));  // JSON has no inf
    }
    matrix.push_back(std::move(row));
  }
  return {{"format", "spikeline.distances"}, {"metric", std::string(metric_name(m.metric))},
          {"classes", classes},              {"letters", letters},
          {"matrix", matrix},                {"parameters", m.parameters}};
}

DistanceMatrix distances_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "not a JSON object");
  for (const char* key : {"classes", "matrix", "metric"})
    if (!j.contains(key)) throw InputError(where + ": " + key, "missing");
  DistanceMatrix m;
  try {
    m.metric = metric_from_name(j.at("metric").get<std::string>());
  } catch (const json::exception&) {
    throw InputError(where + ": metric", "expected a string");
  } catch (const InputError& e) {
    throw InputError(where + ": metric", e.what());
  }
  const json& classes = j.at("classes");
  if (!classes.is_array() || classes.empty()) throw InputError(where + ": classes", "expected a non-empty array of names");
  const json letters = j.value("letters", json::array());
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (!classes[k].is_string()) throw InputError(where + ": classes[" + std::to_string(k) + "]", "expected a string");
    data::ClassInfo c;
    c.name = classes[k].get<std::string>();
    if (letters.is_array() && k < letters.size() && letters[k].is_string() && letters[k].get<std::string>().size() == 1)
      c.letter = letters[k].get<std::string>()[0];
    m.classes.push_back(c);
  }
  const std::size_t n = m.classes.size();
  const json& matrix = j.at("matrix");
  if (!matrix.is_array() || matrix.size() != n)
    throw InputError(where + ": matrix", "expected " + std::to_string(n) + " rows (one per class)");
  m.values.resize(n * n);
  for (std::size_t r = 0; r < n; ++r) {
    const std::string field = where + ": matrix[" + std::to_string(r) + "]";
    if (!matrix[r].is_array() || matrix[r].size() != n)
      throw InputError(field, "expected " + std::to_string(n) + " values");
    for (std::size_t c = 0; c < n; ++c) {
      const json& v = matrix[r][c];
      double x;
      if (v.is_null()) x = kInf;
      else if (v.is_number()) x = v.get<double>();
      else throw InputError(field + "[" + std::to_string(c) + "]", "expected a number or null (+inf)");
      if (std::isnan(x) || x < 0) throw InputError(field + "[" + std::to_string(c) + "]", "distances must be >= 0");
      m.values[r * n + c] = x;
    }
  }
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < r; ++c)
      if (m.values[r * n + c] != m.values[c * n + r])
        throw InputError(where + ": matrix", "not symmetric at [" + std::to_string(r) + "][" + std::to_string(c) + "]");
  m.parameters = j.value("parameters", json::object());
  return m;
}

void write_distances(const std::filesystem::path& path, const DistanceMatrix& m) {
  write_file_atomic(path, distances_to_json(m).dump(2) + "\n");
}

DistanceMatrix read_distances(const std::filesystem::path& path) {
  json j;
  try {
    j = json::parse(read_file_text(path));
  } catch (const json::exception& e) {
    throw InputError(path.string(), std::string("invalid JSON: ") + e.what());
  }
  return distances_from_json(j, path.string());
}

}  // namespace spikeline::tasks
