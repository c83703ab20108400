#include "spikeline/data/windows.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::data {

namespace {

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// Sizes of train, val, test for n items (see split_windows).
std::array<std::size_t, 3> split_sizes(std::size_t n, const std::array<double, 3>& f) {
  const auto n_train = static_cast<std::size_t>(std::floor(f[0] * static_cast<double>(n) + 1e-9));
  const std::size_t rest = n - std::min(n, n_train);
  const double held = f[1] + f[2];
  const auto n_test =
      held > 0 ? std::min(rest, static_cast<std::size_t>(std::ceil(static_cast<double>(rest) * f[2] / held - 1e-9)))
               : std::size_t{0};
  return {n - rest, rest - n_test, n_test};
}

void check_fractions(const std::array<double, 3>& f) {
  for (double v : f)
    if (!(v >= 0.0 && v <= 1.0)) throw InputError("split fractions", "each must lie in [0, 1]");
  if (std::abs(f[0] + f[1] + f[2] - 1.0) > 1e-6)
    throw InputError("split fractions", "must add up to 1 (train, val, test)");
}

std::vector<float> one_hot(std::span<const std::int32_t> y, std::size_t n_classes) {
  std::vector<float> out(y.size() * n_classes, 0.0f);
  for (std::size_t i = 0; i < y.size(); ++i) out[i * n_classes + static_cast<std::size_t>(y[i])] = 1.0f;
  return out;
}

// Class indices from a one-hot [n][k] or an integer [n] label array.
std::vector<std::int32_t> labels_from(const io::NpyArray& a, std::size_t& n_classes,
                                      const std::string& where) {
  std::vector<std::int32_t> y;
  if (a.shape.size() == 2) {
    const auto v = a.to_float();
    const std::size_t n = a.shape[0], k = a.shape[1];
    n_classes = std::max(n_classes, k);
    y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = &v[i * k];
      y[i] = static_cast<std::int32_t>(std::max_element(row, row + k) - row);
    }
  } else if (a.shape.size() == 1) {
    for (std::int64_t v : a.to_int64()) {
      if (v < 0 || v > 1'000'000) throw InputError(where, "label out of range: " + std::to_string(v));
      y.push_back(static_cast<std::int32_t>(v));
      n_classes = std::max<std::size_t>(n_classes, static_cast<std::size_t>(v) + 1);
    }
  } else {
    throw InputError(where, "labels must be one-hot [n, classes] or indices [n], got shape " +
                                shape_to_string(a.shape));
  }
  return y;
}

}  // namespace

std::string_view class_order_name(ClassOrder order) {
  switch (order) {
    case ClassOrder::letter: return "letter";
    case ClassOrder::nehar: return "nehar";
    case ClassOrder::given: return "given";
  }
  return "letter";
}

ClassOrder class_order_from_name(std::string_view name) {
  if (name == "letter") return ClassOrder::letter;
  if (name == "nehar" || name == "thesis") return ClassOrder::nehar;
  if (name == "given") return ClassOrder::given;
  throw InputError("class order '" + std::string(name) + "'", "expected letter, nehar or given");
}

std::vector<ClassInfo> select_classes(std::span<const std::string> names_or_letters, ClassOrder order) {
  std::string letters;
  if (names_or_letters.empty()) {
    for (const auto& a : wisdm_activities()) letters += a.letter;
  } else {
    for (const auto& n : names_or_letters) {
      const char l = activity_letter(n);
      if (letters.find(l) != std::string::npos)
        throw InputError("class '" + n + "'", "named twice");
      letters += l;
    }
  }
  auto rank_in = [](std::string_view ordering, char l) { return ordering.find(l); };
  if (order == ClassOrder::letter) {
    std::sort(letters.begin(), letters.end());
  } else if (order == ClassOrder::nehar) {
    std::sort(letters.begin(), letters.end(),
              [&](char a, char b) { return rank_in(nehar_letter_order(), a) < rank_in(nehar_letter_order(), b); });
  }
  std::vector<ClassInfo> classes;
  for (char l : letters) classes.push_back({l, std::string(activity_name(l))});
  return classes;
}

std::size_t window_count(std::size_t samples, int length, int stride) {
  if (length <= 0 || stride <= 0 || samples < static_cast<std::size_t>(length)) return 0;
  return (samples - static_cast<std::size_t>(length)) / static_cast<std::size_t>(stride) + 1;
}

Windows cut_windows(std::span<const Recording> recordings, std::span<const ClassInfo> classes,
                    const WindowOptions& options) {
  if (options.length <= 0) throw InputError("window", "length must be positive");
  if (options.stride <= 0) throw InputError("stride", "must be positive");
  constexpr std::size_t D = 6;
  const auto T = static_cast<std::size_t>(options.length);

  // Runs [begin, end) of samples that windows may span.
  struct Run {
    const Recording* rec;
    std::int32_t label;
    std::size_t begin, end;
  };
  std::vector<Run> runs;
  std::size_t total = 0;
  for (const auto& rec : recordings) {
    auto it = std::find_if(classes.begin(), classes.end(),
                           [&](const ClassInfo& c) { return c.letter == rec.activity; });
    if (it == classes.end()) continue;
    const auto label = static_cast<std::int32_t>(it - classes.begin());
    std::size_t begin = 0;
    auto close_run = [&](std::size_t end) {
      runs.push_back({&rec, label, begin, end});
      total += window_count(end - begin, options.length, options.stride);
      begin = end;
    };
    if (options.split_at_gaps_s > 0) {
      const double limit_ns = options.split_at_gaps_s * 1e9;
      for (std::size_t i = 1; i < rec.size(); ++i)
        if (static_cast<double>(rec.timestamp[i] - rec.timestamp[i - 1]) > limit_ns) close_run(i);
    }
    close_run(rec.size());
  }

  Windows w;
  w.x = Array<float>({total, T, D});
  w.label.reserve(total);
  w.subject.reserve(total);
  float* out = w.x.ptr();
  for (const auto& run : runs) {
    const std::size_t n = window_count(run.end - run.begin, options.length, options.stride);
    for (std::size_t k = 0; k < n; ++k) {
      const float* src = run.rec->values.data() + (run.begin + k * options.stride) * D;
      out = std::copy(src, src + T * D, out);
      w.label.push_back(run.label);
      w.subject.push_back(run.rec->subject);
    }
  }
  return w;
}

std::string_view split_method_name(SplitMethod m) {
  switch (m) {
    case SplitMethod::thesis: return "thesis";
    case SplitMethod::stratified: return "stratified";
    case SplitMethod::subject: return "subject";
  }
  return "subject";
}

SplitMethod split_method_from_name(std::string_view name) {
  if (name == "thesis" || name == "random") return SplitMethod::thesis;
  if (name == "stratified") return SplitMethod::stratified;
  if (name == "subject") return SplitMethod::subject;
  throw InputError("split '" + std::string(name) + "'", "expected thesis, stratified or subject");
}

SplitAssignment split_windows(std::span<const std::int32_t> labels,
                              std::span<const std::int32_t> subjects, std::size_t n_classes,
                              const SplitOptions& options) {
  check_fractions(options.fractions);
  SPIKELINE_ASSERT(labels.size() == subjects.size());
  SplitAssignment out;
  Rng rng(options.seed);
  const std::size_t n = labels.size();

  auto assign_random = [&](std::vector<std::size_t> items) {
    shuffle(items, rng);
    const auto sizes = split_sizes(items.size(), options.fractions);
    auto it = items.begin();
    for (int s = 0; s < 3; ++s) {
      out.index[s].insert(out.index[s].end(), it, it + static_cast<std::ptrdiff_t>(sizes[s]));
      it += static_cast<std::ptrdiff_t>(sizes[s]);
    }
  };

  switch (options.method) {
    case SplitMethod::thesis: {
      std::vector<std::size_t> all(n);
      std::iota(all.begin(), all.end(), std::size_t{0});
      assign_random(std::move(all));
      break;
    }
    case SplitMethod::stratified: {
      std::vector<std::vector<std::size_t>> by_class(n_classes);
      for (std::size_t i = 0; i < n; ++i) by_class.at(static_cast<std::size_t>(labels[i])).push_back(i);
      for (auto& members : by_class) assign_random(std::move(members));
      break;
    }
    case SplitMethod::subject: {
      const std::set<int> present(subjects.begin(), subjects.end());
      std::map<int, int> split_of;  // subject -> split
      if (!options.val_subjects.empty() || !options.test_subjects.empty()) {
        for (int s : present) split_of[s] = kTrain;
        for (int which : {kVal, kTest}) {
          for (int s : which == kVal ? options.val_subjects : options.test_subjects) {
            if (!present.count(s))
              throw InputError("subject " + std::to_string(s), "held out but has no windows");
            if (split_of[s] != kTrain)
              throw InputError("subject " + std::to_string(s), "held out for both val and test");
            split_of[s] = which;
          }
        }
      } else {
        if (present.size() < 3)
          throw InputError("split subject",
                           "needs at least 3 subjects, found " + std::to_string(present.size()) +
                               " (use --split thesis or stratified)");
        std::vector<int> order(present.begin(), present.end());
        shuffle(order, rng);
        const double S = static_cast<double>(order.size());
        auto held = [&](double f) {
          return f > 0 ? std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(f * S))) : 0;
        };
        std::size_t n_val = held(options.fractions[1]), n_test = held(options.fractions[2]);
        while (n_val + n_test >= order.size()) {  // keep at least one training subject
          if (n_val >= n_test && n_val > 0) --n_val;
          else --n_test;
        }
        for (std::size_t i = 0; i < order.size(); ++i)
          split_of[order[i]] = i < n_val ? kVal : i < n_val + n_test ? kTest : kTrain;
      }
      for (std::size_t i = 0; i < n; ++i) out.index[split_of.at(subjects[i])].push_back(i);
      break;
    }
  }
  for (int s = 0; s < 3; ++s) {
    std::sort(out.index[s].begin(), out.index[s].end());
    std::set<int> subj;
    for (std::size_t i : out.index[s]) subj.insert(subjects[i]);
    out.subjects[s].assign(subj.begin(), subj.end());
  }
  return out;
}

Normalisation fit_zscore(const Array<float>& x) {
  Normalisation norm;
  norm.enabled = true;
  const std::size_t D = x.ndim() == 3 ? x.dim(2) : 0;
  std::vector<double> sum(D, 0.0), sq(D, 0.0);
  const std::size_t rows = D ? x.size() / D : 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t d = 0; d < D; ++d) {
      const double v = x[r * D + d];
      sum[d] += v;
      sq[d] += v * v;
    }
  for (std::size_t d = 0; d < D; ++d) {
    const double mean = rows ? sum[d] / static_cast<double>(rows) : 0.0;
    const double var = rows ? std::max(0.0, sq[d] / static_cast<double>(rows) - mean * mean) : 0.0;
    const double sd = std::sqrt(var);
    norm.mean.push_back(static_cast<float>(mean));
    norm.std.push_back(sd > 1e-12 ? static_cast<float>(sd) : 1.0f);
  }
  return norm;
}

void apply_normalisation(const Normalisation& norm, Array<float>& x) {
  if (!norm.enabled) return;
  const std::size_t D = norm.mean.size();
  SPIKELINE_ASSERT(x.ndim() == 3 && x.dim(2) == D);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t d = i % D;
    x[i] = (x[i] - norm.mean[d]) / norm.std[d];
  }
}

WindowDataset make_window_dataset(std::span<const Recording> recordings,
                                  std::vector<ClassInfo> classes, const WindowOptions& window,
                                  const SplitOptions& split, bool zscore, ClassOrder class_order) {
  if (classes.empty()) throw InputError("classes", "no class selected");
  Windows all = cut_windows(recordings, classes, window);
  if (all.size() == 0)
    throw InputError("windows", "no window could be cut (recordings shorter than " +
                                    std::to_string(window.length) + " samples, or no selected class present)");
  const SplitAssignment assignment = split_windows(all.label, all.subject, classes.size(), split);

  WindowDataset data;
  data.classes = std::move(classes);
  const std::size_t T = all.x.dim(1), D = all.x.dim(2), stride = T * D;
  for (int s = 0; s < 3; ++s) {
    const auto& idx = assignment.index[s];
    auto& out = data.splits[s];
    out.x = Array<float>({idx.size(), T, D});
    out.y.reserve(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) {
      std::copy_n(all.x.ptr() + idx[k] * stride, stride, out.x.ptr() + k * stride);
      out.y.push_back(all.label[idx[k]]);
    }
  }
  data.info.window = window.length;
  data.info.stride = window.stride;
  data.info.class_order = class_order;
  data.info.split = split;
  data.info.subjects = assignment.subjects;
  if (zscore) {
    data.info.normalisation = fit_zscore(data.splits[kTrain].x);
    for (auto& s : data.splits) apply_normalisation(data.info.normalisation, s.x);
  }
  return data;
}

std::filesystem::path sidecar_path(const std::filesystem::path& npz_path) {
  auto p = npz_path;
  return p.replace_extension(".json");
}

std::vector<std::size_t> class_counts(std::span<const std::int32_t> labels, std::size_t n_classes) {
  std::vector<std::size_t> counts(n_classes, 0);
  for (auto y : labels)
    if (y >= 0 && static_cast<std::size_t>(y) < n_classes) ++counts[static_cast<std::size_t>(y)];
  return counts;
}

nlohmann::json windows_sidecar(const WindowDataset& data) {
  using nlohmann::json;
  const auto& info = data.info;
  json classes = json::array();
  for (std::size_t i = 0; i < data.classes.size(); ++i)
    classes.push_back({{"index", i},
                       {"letter", data.classes[i].letter ? std::string(1, data.classes[i].letter) : ""},
                       {"name", data.classes[i].name}});
  json counts = json::object(), subjects = json::object(), sizes = json::object();
  for (int s = 0; s < 3; ++s) {
    const auto c = class_counts(data.splits[s].y, data.classes.size());
    json per_class = json::object();
    for (std::size_t k = 0; k < c.size(); ++k) per_class[data.classes[k].name] = c[k];
    const std::string name(kSplitNames[s]);
    counts[name] = per_class;
    sizes[name] = data.splits[s].size();
    subjects[name] = info.subjects[s];
  }
  json norm = {{"method", info.normalisation.enabled ? "zscore" : "none"}};
  if (info.normalisation.enabled) {
    norm["fitted_on"] = "train";
    norm["mean"] = info.normalisation.mean;
    norm["std"] = info.normalisation.std;
  }
  json split = {{"method", split_method_name(info.split.method)},
                {"seed", info.split.seed},
                {"fractions", info.split.fractions},
                {"subjects", subjects}};
  return json{
      {"format", "spikeline.windows"},
      {"version", 1},
      {"arrays",
       {{"arr_0", "train_x"}, {"arr_1", "val_x"}, {"arr_2", "test_x"},
        {"arr_3", "train_y"}, {"arr_4", "val_y"}, {"arr_5", "test_y"}}},
      {"x", "float32 [n, window, dims]"},
      {"y", "float32 one-hot [n, classes]"},
      {"classes", classes},
      {"class_order", class_order_name(info.class_order)},
      {"window", info.window},
      {"stride", info.stride},
      {"sample_rate_hz", info.sample_rate_hz},
      {"dims", info.dims},
      {"split", split},
      {"sizes", sizes},
      {"counts", counts},
      {"normalisation", norm},
      {"source", info.source},
  };
}

void write_windows(const std::filesystem::path& path, const WindowDataset& data, bool compress) {
  io::Npz npz;
  const std::size_t k = data.classes.size();
  for (int s = 0; s < 3; ++s) npz.add("arr_" + std::to_string(s), io::NpyArray::from(data.splits[s].x));
  for (int s = 0; s < 3; ++s) {
    const auto& y = data.splits[s].y;
    const auto oh = one_hot(y, k);
    npz.add("arr_" + std::to_string(3 + s), io::NpyArray::from<float>({y.size(), k}, oh));
  }
  io::write_npz(path, npz, compress);
  write_file_atomic(sidecar_path(path), windows_sidecar(data).dump(2) + "\n");
}

namespace {

std::vector<ClassInfo> classes_from_json(const nlohmann::json& j, const std::string& where) {
  std::vector<ClassInfo> classes;
  if (!j.contains("classes") || !j["classes"].is_array())
    throw InputError(where, "sidecar has no 'classes' list");
  for (const auto& c : j["classes"]) {
    ClassInfo info;
    if (c.is_string()) {
      info.name = c.get<std::string>();
    } else {
      info.name = c.value("name", "");
      const std::string letter = c.value("letter", "");
      info.letter = letter.size() == 1 ? letter[0] : 0;
    }
    classes.push_back(std::move(info));
  }
  return classes;
}

}  // namespace

WindowDataset read_windows(const std::filesystem::path& path) {
  const io::Npz npz = io::read_npz(path);
  const std::string where = path.string();
  WindowDataset data;
  std::size_t n_classes = 0;
  for (int s = 0; s < 3; ++s) {
    const std::string xname = "arr_" + std::to_string(s), yname = "arr_" + std::to_string(3 + s);
    const auto& xa = npz.at(xname);
    if (xa.shape.size() != 3)
      throw InputError(where + ":" + xname, "expected x of shape [n, T, D], got " + shape_to_string(xa.shape));
    data.splits[s].x = xa.to_float_array();
    data.splits[s].y = labels_from(npz.at(yname), n_classes, where + ":" + yname);
    if (data.splits[s].y.size() != xa.shape[0])
      throw InputError(where + ":" + yname, "has " + std::to_string(data.splits[s].y.size()) +
                                                " labels for " + std::to_string(xa.shape[0]) + " windows");
  }
  const auto side = sidecar_path(path);
  if (std::filesystem::exists(side)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file_text(side));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(side.string(), std::string("invalid JSON: ") + e.what());
    }
    try {
      data.classes = classes_from_json(j, side.string());
      auto& info = data.info;
      info.window = j.value("window", static_cast<int>(data.splits[0].x.dim(1)));
      info.stride = j.value("stride", info.window);
      info.sample_rate_hz = j.value("sample_rate_hz", 20.0);
      if (j.contains("dims")) info.dims = j["dims"].get<std::vector<std::string>>();
      info.class_order = class_order_from_name(j.value("class_order", "letter"));
      if (j.contains("split")) {
        const auto& sp = j["split"];
        info.split.method = split_method_from_name(sp.value("method", "subject"));
        info.split.seed = sp.value("seed", std::uint64_t{0});
        if (sp.contains("fractions")) info.split.fractions = sp["fractions"].get<std::array<double, 3>>();
        if (sp.contains("subjects"))
          for (int s = 0; s < 3; ++s)
            info.subjects[s] = sp["subjects"].value(std::string(kSplitNames[s]), std::vector<int>{});
      }
      if (j.contains("normalisation") && j["normalisation"].value("method", "none") == "zscore") {
        info.normalisation.enabled = true;
        info.normalisation.mean = j["normalisation"]["mean"].get<std::vector<float>>();
        info.normalisation.std = j["normalisation"]["std"].get<std::vector<float>>();
      }
      info.source = j.value("source", nlohmann::json::object());
    } catch (const nlohmann::json::exception& e) {
      throw InputError(side.string(), std::string("unexpected sidecar content: ") + e.what());
    }
    if (data.classes.size() < n_classes)
      throw InputError(side.string(), "lists " + std::to_string(data.classes.size()) +
                                          " classes but the labels have " + std::to_string(n_classes));
  } else if (n_classes == nehar_letter_order().size()) {
    // The thesis's own file: its indices follow the NeHAR order (docs/data.md).
    for (char l : nehar_letter_order()) data.classes.push_back({l, std::string(activity_name(l))});
    data.info.class_order = ClassOrder::nehar;
    data.info.split.method = SplitMethod::thesis;
    data.info.source = {{"kind", "npz without sidecar"}, {"assumed_class_order", "nehar"}};
  } else {
    for (std::size_t i = 0; i < n_classes; ++i) data.classes.push_back({0, "class_" + std::to_string(i)});
    data.info.source = {{"kind", "npz without sidecar"}};
  }
  if (data.splits[0].x.ndim() == 3) {
    data.info.window = static_cast<int>(data.splits[0].x.dim(1));
    if (data.info.dims.size() != data.splits[0].x.dim(2)) {
      data.info.dims.clear();
      for (std::size_t d = 0; d < data.splits[0].x.dim(2); ++d) data.info.dims.push_back("dim_" + std::to_string(d));
    }
  }
  return data;
}

WindowDataset prepare_wisdm(const PrepareOptions& options, LoadReport* report) {
  std::vector<ClassInfo> classes = select_classes(options.classes, options.class_order);
  LoadOptions load;
  for (const auto& c : classes) load.activities.push_back(c.letter);
  load.subjects = options.subjects;
  load.join = options.join;
  load.join_tolerance_s = options.join_tolerance_s;
  load.threads = options.threads;
  load.progress = options.progress;
  if (options.window.split_at_gaps_s > 0) load.gap_seconds = options.window.split_at_gaps_s;
  WisdmData raw = load_wisdm(options.wisdm_dir, load);
  // Classes without a single recording: an error when asked for by name, dropped otherwise (a
  // folder may hold fewer activities, e.g. the synthetic set).
  std::string present;
  for (const auto& rec : raw.recordings)
    if (present.find(rec.activity) == std::string::npos) present += rec.activity;
  std::vector<ClassInfo> found;
  for (auto& c : classes) {
    if (present.find(c.letter) != std::string::npos) {
      found.push_back(std::move(c));
    } else if (!options.classes.empty()) {
      throw InputError(options.wisdm_dir.string(),
                       "class " + std::string(1, c.letter) + " (" + c.name + ") has no recording with both sensors");
    }
  }
  classes = std::move(found);
  WindowDataset data = make_window_dataset(raw.recordings, std::move(classes), options.window,
                                           options.split, options.zscore, options.class_order);
  data.info.source = {{"kind", "wisdm"},
                      {"dir", options.wisdm_dir.string()},
                      {"subjects", raw.report.subjects},
                      {"accel_only", raw.report.accel_only},
                      {"gyro_only", raw.report.gyro_only},
                      {"join", join_mode_name(options.join)},
                      {"join_tolerance_s", options.join_tolerance_s},
                      {"joined_samples", raw.report.joined_samples},
                      {"inexact_pairs", raw.report.inexact_pairs},
                      {"unmatched_accel", raw.report.unmatched_accel},
                      {"unmatched_gyro", raw.report.unmatched_gyro},
                      {"gaps", raw.report.gaps},
                      {"split_at_gaps_s", options.window.split_at_gaps_s}};
  if (report) *report = std::move(raw.report);
  return data;
}

}  // namespace spikeline::data
