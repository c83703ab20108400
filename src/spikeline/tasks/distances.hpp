#pragma once
// Class distance matrices of a windows data set (thesis SUMMARY.md section 1), by metric:
//  - dtw: per class the element-wise median over its windows [T][D]; distance = DTW of the medians
//    (or, mode `pairs`, the mean DTW over all pairs of the two classes' windows, up to
//    `max_samples` evenly spaced windows per class).
//  - kld: per class and dim a Gaussian KDE of all the dim's values on a grid; distance = sum over
//    dims of KL(p || q) + KL(q || p) of the grid densities (scipy `entropy`).
// Matrices are symmetric with a zero diagonal; +inf is a valid distance (written as null in JSON).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/core/array.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/tasks/dtw.hpp"
#include "spikeline/tasks/kde.hpp"

namespace spikeline::tasks {

enum class Metric { dtw, kld };
std::string_view metric_name(Metric m);
Metric metric_from_name(std::string_view name);  // InputError on unknown name

enum class DtwMode { median, pairs };
std::string_view dtw_mode_name(DtwMode m);
DtwMode dtw_mode_from_name(std::string_view name);

struct DistanceOptions {
  Metric metric = Metric::kld;
  int split = data::kTrain;  // windows the classes are described by (the thesis: train)
  // dtw
  DtwOptions dtw;
  DtwMode dtw_mode = DtwMode::median;
  std::size_t max_samples = 100;  // pairs mode: windows per class
  // kld
  KdeOptions kde;
  Grid grid;
  // Added to every grid density before KL (0: scipy semantics, where a density that underflows
  // to 0 against a positive one gives +inf; e.g. 1e-12 keeps narrow, clean data finite).
  double kl_floor = 0.0;
  std::filesystem::path cache_dir;  // KDE cache folder; empty: no cache
  int threads = 1;
  bool progress = false;
};

struct DistanceMatrix {
  std::vector<data::ClassInfo> classes;
  std::vector<double> values;  // [n][n] row-major
  Metric metric = Metric::kld;
  nlohmann::json parameters = nlohmann::json::object();
  std::size_t size() const { return classes.size(); }
  double at(std::size_t i, std::size_t j) const { return values[i * classes.size() + j]; }
};

// What happened while computing (for the CLI's summary).
struct DistanceReport {
  std::filesystem::path cache_file;  // empty when no cache was used
  bool cache_hit = false;
  double seconds = 0;
};

// Indices of the classes named (by name or WISDM letter) in `classes`; InputError naming `where`.
std::vector<std::size_t> resolve_classes(std::span<const data::ClassInfo> classes,
                                         std::span<const std::string> names, const std::string& where);

// Per-class element-wise median (numpy.median: mean of the two middle values for even counts) of
// the windows x [n][T][D] with labels y: [n_classes][T][D]. InputError for a class without windows.
Array<float> class_medians(const data::LabelledSplit<float>& split, std::size_t n_classes,
                           std::span<const data::ClassInfo> classes = {});

// Per-class, per-dim KDEs of a split: [n_classes][D][grid.points] double, classes in `which` order.
Array<double> class_kdes(const data::LabelledSplit<float>& split, std::span<const data::ClassInfo> classes,
                         std::span<const std::size_t> which, const Grid& grid, const KdeOptions& kde,
                         int threads, bool progress = false);

// The whole matrix over `which` classes of `data` (empty: all).
DistanceMatrix class_distances(const data::WindowDataset& data, const DistanceOptions& options,
                               std::span<const std::size_t> which = {}, DistanceReport* report = nullptr);

// Key of the KDE cache: a 64-bit hash of the split's windows and labels and every KDE parameter.
std::uint64_t kde_cache_key(const data::LabelledSplit<float>& split, std::span<const data::ClassInfo> classes,
                            std::span<const std::size_t> which, const Grid& grid, const KdeOptions& kde);

// JSON: {"format": "spikeline.distances", "metric", "classes": [names], "letters": [..],
// "matrix": [[..]], "parameters": {..}}; +inf as null.
nlohmann::json distances_to_json(const DistanceMatrix& m);
DistanceMatrix distances_from_json(const nlohmann::json& j, const std::string& where);
void write_distances(const std::filesystem::path& path, const DistanceMatrix& m);
DistanceMatrix read_distances(const std::filesystem::path& path);

}  // namespace spikeline::tasks
