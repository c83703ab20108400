// spikeline tasks distances | search | plot-kde | plot-distances: which classes make a task.
// Subcommands parse flags and call the library (spikeline/tasks).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/plots.hpp"
#include "spikeline/tasks/search.hpp"

namespace spikeline::cli {

namespace {

using nlohmann::json;

int split_from_name(const std::string& name) {
  for (int s = 0; s < 3; ++s)
    if (data::kSplitNames[static_cast<std::size_t>(s)] == name) return s;
  throw InputError("--split " + name, "expected train, val or test");
}

// Default cache folder: $XDG_CACHE_HOME/spikeline or ~/.cache/spikeline (none without either).
std::filesystem::path default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "spikeline";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "spikeline";
  return {};
}

// Flags shared by the commands that estimate densities.
struct KdeArgs {
  double bandwidth = 0.5, grid_min = -20, grid_max = 20, tolerance = 1e-5;
  std::size_t grid = 1000;
  std::string rule = "fixed";
  tasks::KdeOptions options() const {
    tasks::KdeOptions o;
    o.rule = tasks::bandwidth_rule_from_name(rule);
    o.bandwidth = bandwidth;
    o.tolerance = tolerance;
    return o;
  }
  tasks::Grid to_grid() const { return {grid_min, grid_max, grid}; }
};

void add_kde_flags(CLI::App* cmd, KdeArgs& k) {
  cmd->add_option("--bandwidth", k.bandwidth,
                  "KDE bandwidth: the kernel's standard deviation for --bandwidth-rule fixed (the thesis: 0.5), the factor "
                  "times the data's std for --bandwidth-rule factor (scipy's bw_method=<scalar>)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--bandwidth-rule", k.rule, "fixed, factor, scott or silverman (scipy gaussian_kde semantics)")
      ->capture_default_str()->check(CLI::IsMember({"fixed", "factor", "scott", "silverman"}));
  cmd->add_option("--grid", k.grid, "KDE grid points (numpy.linspace over [--grid-min, --grid-max])")
      ->capture_default_str()->check(CLI::Range(2, 1000000));
  cmd->add_option("--grid-min", k.grid_min, "Lowest grid value")->capture_default_str();
  cmd->add_option("--grid-max", k.grid_max, "Highest grid value")->capture_default_str();
  cmd->add_option("--kde-tolerance", k.tolerance,
                  "Binned KDE: largest error relative to the kernel peak (docs/tasks.md gives the bound)")
      ->capture_default_str()->check(CLI::Range(1e-12, 0.1));
}

// ---- tasks distances ------------------------------------------------------------------------

struct DistancesArgs {
  std::string data, out, metric = "kld", split = "train", dtw_mode = "median", cache_dir, format = "console";
  std::vector<std::string> classes;
  KdeArgs kde;
  double kl_floor = 0;
  int window = 0, threads = std::max(1, ExecContext::hardware_threads());
  std::size_t max_samples = 100;
  bool no_cache = false, quiet = false;
};

void print_matrix(const tasks::DistanceMatrix& m) {
  std::size_t w = 6;
  for (const auto& c : m.classes) w = std::max(w, c.name.size());
  std::printf("  %-*s", static_cast<int>(w), "");
  for (std::size_t j = 0; j < m.size(); ++j) std::printf(" %8.8s", m.classes[j].name.c_str());
  std::printf("\n");
  for (std::size_t i = 0; i < m.size(); ++i) {
    std::printf("  %-*s", static_cast<int>(w), m.classes[i].name.c_str());
    for (std::size_t j = 0; j < m.size(); ++j) std::printf(" %8.3g", m.at(i, j));
    std::printf("\n");
  }
}

void run_distances(const DistancesArgs& a) {
  const data::WindowDataset ds = data::read_windows(a.data);
  tasks::DistanceOptions o;
  o.metric = tasks::metric_from_name(a.metric);
  o.split = split_from_name(a.split);
  o.dtw.window = a.window;
  o.dtw_mode = tasks::dtw_mode_from_name(a.dtw_mode);
  o.max_samples = a.max_samples;
  o.kde = a.kde.options();
  o.grid = a.kde.to_grid();
  o.kl_floor = a.kl_floor;
  if (!a.no_cache) o.cache_dir = a.cache_dir.empty() ? default_cache_dir() : std::filesystem::path(a.cache_dir);
  o.threads = a.threads;
  o.progress = !a.quiet;
  const auto which = tasks::resolve_classes(ds.classes, a.classes, "--classes");
  tasks::DistanceReport report;
  tasks::DistanceMatrix m = tasks::class_distances(ds, o, which, &report);
  m.parameters["data"] = a.data;
  tasks::write_distances(a.out, m);
  if (a.format == "json") {
    json j = tasks::distances_to_json(m);
    j["out"] = a.out;
    j["seconds"] = report.seconds;
    j["cache"] = {{"file", report.cache_file.string()}, {"hit", report.cache_hit}};
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s distances of %zu classes (%s split of %s) in %.2f s\n", a.metric.c_str(), m.size(), a.split.c_str(),
              a.data.c_str(), report.seconds);
  if (!report.cache_file.empty())
    std::printf("  KDE cache %s: %s\n", report.cache_hit ? "hit" : "written", report.cache_file.c_str());
  print_matrix(m);
  std::printf("wrote %s\n", a.out.c_str());
}

// ---- tasks search ---------------------------------------------------------------------------

struct SearchArgs {
  std::string distances, out, order = "best", format = "console";
  std::vector<std::size_t> k{2};
  std::size_t top = 5;
};

void run_search(const SearchArgs& a) {
  const tasks::DistanceMatrix m = tasks::read_distances(a.distances);
  std::vector<tasks::SearchOrder> orders;
  if (a.order == "both") orders = {tasks::SearchOrder::best, tasks::SearchOrder::worst};
  else orders = {tasks::search_order_from_name(a.order)};
  std::vector<tasks::Task> all;
  for (std::size_t k : a.k)
    for (auto order : orders) {
      const auto found = tasks::search_tasks(m, k, order, a.top);
      const auto named = tasks::name_tasks(found, k, order);
      all.insert(all.end(), named.begin(), named.end());
    }
  json j = tasks::tasks_to_json(m, all);
  j["distances"] = a.distances;
  if (!a.out.empty()) write_file_atomic(a.out, j.dump(2) + "\n");
  if (a.format == "json") {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s distances of %zu classes from %s\n", tasks::metric_name(m.metric).data(), m.size(), a.distances.c_str());
  for (const auto& t : all) {
    std::string names;
    for (std::size_t c : t.candidate.classes) names += (names.empty() ? "" : ", ") + m.classes[c].name;
    std::printf("  %-8s score %10.4g  %s\n", t.name.c_str(), t.candidate.score, names.c_str());
  }
  if (!a.out.empty()) std::printf("wrote %s\n", a.out.c_str());
}

// ---- tasks plot-kde -------------------------------------------------------------------------

struct PlotKdeArgs {
  std::string data, out, split = "train", title;
  std::vector<std::string> classes;
  KdeArgs kde;
  int threads = std::max(1, ExecContext::hardware_threads());
};

void run_plot_kde(const PlotKdeArgs& a) {
  const data::WindowDataset ds = data::read_windows(a.data);
  const auto which = tasks::resolve_classes(ds.classes, a.classes, "--classes");
  const auto& split = ds.splits[static_cast<std::size_t>(split_from_name(a.split))];
  const tasks::Grid grid = a.kde.to_grid();
  const Array<double> kdes = tasks::class_kdes(split, ds.classes, which, grid, a.kde.options(), a.threads);
  std::vector<std::string> names;
  for (std::size_t c : which) names.push_back(ds.classes[c].name);
  std::string title = a.title;
  if (title.empty()) {
    title = "KDE of the " + a.split + " windows: ";
    for (std::size_t i = 0; i < names.size(); ++i) title += (i ? ", " : "") + names[i];
  }
  tasks::plot_class_kdes(kdes, grid, names, ds.info.dims, title).save(a.out);
  std::printf("wrote %s\n", a.out.c_str());
}

// ---- tasks plot-distances -------------------------------------------------------------------

struct PlotDistancesArgs {
  std::string distances, out, title;
};

void run_plot_distances(const PlotDistancesArgs& a) {
  const tasks::DistanceMatrix m = tasks::read_distances(a.distances);
  const std::string title = a.title.empty() ? std::string(tasks::metric_name(m.metric)) + " class distances" : a.title;
  tasks::plot_distance_heatmap(m, title).save(a.out);
  std::printf("wrote %s\n", a.out.c_str());
}

}  // namespace

void add_tasks_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("tasks", "Task definition: class distances (DTW, KDE + KL), k-class task search, KDE plots");
  cmd->require_subcommand(1);

  auto da = std::make_shared<DistancesArgs>();
  auto* dist = cmd->add_subcommand(
      "distances", "Distance matrix over all class pairs of a windows file, written as JSON (classes, matrix, metric, parameters)");
  dist->add_option("--data", da->data, "Windows .npz (from data prepare)")->required()->check(CLI::ExistingFile);
  dist->add_option("--out", da->out, "Output distances .json")->required();
  dist->add_option("--metric", da->metric,
                   "dtw: DTW of the classes' element-wise median windows; kld: sum over dims of the symmetric KL "
                   "divergence of per-class KDEs")
      ->capture_default_str()->check(CLI::IsMember({"dtw", "kld"}));
  dist->add_option("--split", da->split, "Windows describing the classes: train (the thesis), val or test")
      ->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
  dist->add_option("--classes", da->classes, "Only these classes, by name or letter, comma-separated (default: all)")->delimiter(',');
  dist->add_option("--window", da->window, "dtw: Sakoe-Chiba window (0: none; 1: diagonal only, as dtaidistance)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  dist->add_option("--dtw-mode", da->dtw_mode,
                   "dtw: median (DTW of the median windows, the thesis) or pairs (mean DTW over all window pairs of the two classes)")
      ->capture_default_str()->check(CLI::IsMember({"median", "pairs"}));
  dist->add_option("--max-samples", da->max_samples, "dtw pairs: at most this many evenly spaced windows per class")
      ->capture_default_str()->check(CLI::PositiveNumber);
  add_kde_flags(dist, da->kde);
  dist->add_option("--kl-floor", da->kl_floor,
                   "kld: added to every grid density before KL (0: scipy semantics, where a density that underflows to 0 "
                   "against a positive one gives inf, written as null)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  dist->add_option("--cache-dir", da->cache_dir,
                   "kld: folder of the KDE cache, keyed by a hash of the windows and the KDE parameters "
                   "(default: $XDG_CACHE_HOME/spikeline or ~/.cache/spikeline)");
  dist->add_flag("--no-cache", da->no_cache, "kld: neither read nor write the KDE cache");
  dist->add_option("--threads", da->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  dist->add_option("--format", da->format, "Summary output: console or json")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  dist->add_flag("--quiet,-q", da->quiet, "No progress bar");
  dist->callback([da] { run_distances(*da); });

  auto sa = std::make_shared<SearchArgs>();
  auto* search = cmd->add_subcommand(
      "search", "Score every k-combination of classes by the sum of its pairwise distances; keep the top most (best) or "
                "least (worst) separable as named tasks (2CB, 4CW, ...)");
  search->add_option("--distances", sa->distances, "Distances .json (from tasks distances)")->required()->check(CLI::ExistingFile);
  search->add_option("-k", sa->k, "Classes per task; several values comma-separated (e.g. 2,3,4,7)")
      ->delimiter(',')->capture_default_str()->check(CLI::PositiveNumber);
  search->add_option("--order", sa->order, "best (most separable first), worst (least separable first) or both")
      ->capture_default_str()->check(CLI::IsMember({"best", "worst", "both"}));
  search->add_option("--top", sa->top, "Combinations kept per k and order")->capture_default_str()->check(CLI::PositiveNumber);
  search->add_option("--out", sa->out, "Output tasks .json (tasks by name, with activity names)");
  search->add_option("--format", sa->format, "Output: console or json")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  search->callback([sa] { run_search(*sa); });

  auto ka = std::make_shared<PlotKdeArgs>();
  auto* pk = cmd->add_subcommand(
      "plot-kde", "The thesis's KDE figure: rows x/y/z, columns accelerometer/gyroscope, one filled density per class");
  pk->add_option("--data", ka->data, "Windows .npz (from data prepare)")->required()->check(CLI::ExistingFile);
  pk->add_option("--classes", ka->classes, "Classes by name or letter, comma-separated")->required()->delimiter(',');
  pk->add_option("--out", ka->out, "Output image: .svg or .png")->required();
  pk->add_option("--split", ka->split, "Windows to estimate from: train, val or test")
      ->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
  pk->add_option("--title", ka->title, "Figure title (default: the classes)");
  add_kde_flags(pk, ka->kde);
  pk->add_option("--threads", ka->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  pk->callback([ka] { run_plot_kde(*ka); });

  auto pa = std::make_shared<PlotDistancesArgs>();
  auto* pd = cmd->add_subcommand("plot-distances", "Heatmap of a distance matrix with class names");
  pd->add_option("distances", pa->distances, "Distances .json (from tasks distances)")->required()->check(CLI::ExistingFile);
  pd->add_option("--out", pa->out, "Output image: .svg or .png")->required();
  pd->add_option("--title", pa->title, "Figure title (default: the metric)");
  pd->callback([pa] { run_plot_distances(*pa); });
}

}  // namespace spikeline::cli
