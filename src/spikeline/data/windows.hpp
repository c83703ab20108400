#pragma once
// Windows cut from joined recordings, class selection, train/val/test splits, normalisation, and
// the windows file: an .npz in the thesis layout plus a JSON sidecar (docs/data.md).
//
// Layouts: window arrays are float32 [n][T][D] row-major (D = 6: acc x, y, z, gyro x, y, z);
// labels are class indices into WindowDataset::classes.
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/core/array.hpp"
#include "spikeline/data/wisdm.hpp"

namespace spikeline::data {

// A class of a data set: always named by its activity, never by a bare index.
struct ClassInfo {
  char letter = 0;   // WISDM letter ('A'..'S'); 0 for classes of other origin
  std::string name;  // "walking"
  bool operator==(const ClassInfo&) const = default;
};

enum class ClassOrder {
  letter,  // alphabetical by WISDM letter (default)
  nehar,   // the thesis's index order A B C D E M P O F Q R G S J H L I K (for its scripts)
  given,   // the order in which the classes were named
};
std::string_view class_order_name(ClassOrder order);
ClassOrder class_order_from_name(std::string_view name);  // InputError on unknown name

// Classes chosen by letters or names (empty: all 18), ordered by `order`. InputError on an unknown
// or repeated class.
std::vector<ClassInfo> select_classes(std::span<const std::string> names_or_letters,
                                      ClassOrder order = ClassOrder::letter);

struct WindowOptions {
  int length = 40;  // samples per window (2 s at 20 Hz)
  int stride = 20;  // samples between window starts (50 % overlap, as in the thesis)
  // When > 0, recordings are cut at intervals longer than this many seconds and windows never
  // span such a gap. 0 (default, as the thesis): windows are cut on the sample index only.
  double split_at_gaps_s = 0.0;
};

// Windows of one recording of `samples` samples: (samples - length) / stride + 1, or 0.
std::size_t window_count(std::size_t samples, int length, int stride);

// All windows before splitting: x [n][length][6], label and subject per window. Windows are in
// recording order (subject, then activity letter), then by start. Recordings of activities not in
// `classes` are skipped.
struct Windows {
  Array<float> x;
  std::vector<std::int32_t> label;
  std::vector<std::int32_t> subject;
  std::size_t size() const { return label.size(); }
};
Windows cut_windows(std::span<const Recording> recordings, std::span<const ClassInfo> classes,
                    const WindowOptions& options);

enum class SplitMethod {
  thesis,      // random per window (the thesis: overlapping windows leak between splits)
  stratified,  // random per window within each class
  subject,     // whole subjects held out for validation and test (default, the honest measure)
};
std::string_view split_method_name(SplitMethod m);
SplitMethod split_method_from_name(std::string_view name);  // InputError on unknown name

enum SplitIndex : int { kTrain = 0, kVal = 1, kTest = 2 };
inline constexpr std::array<std::string_view, 3> kSplitNames{"train", "val", "test"};

struct SplitOptions {
  SplitMethod method = SplitMethod::subject;
  std::uint64_t seed = 42;
  std::array<double, 3> fractions{0.6, 0.2, 0.2};  // train, val, test (of windows or subjects)
  // For SplitMethod::subject: explicit held-out subjects (both empty: drawn with `seed`).
  std::vector<int> val_subjects, test_subjects;
};

struct SplitAssignment {
  std::array<std::vector<std::size_t>, 3> index;  // window indices per split, ascending
  std::array<std::vector<int>, 3> subjects;       // subjects with windows in each split, ascending
};
// Sizes follow scikit-learn's train_test_split applied twice (as the thesis did):
// n_train = floor(f_train * n), n_test = ceil(rest * f_test / (f_val + f_test)), n_val = the rest.
SplitAssignment split_windows(std::span<const std::int32_t> labels,
                              std::span<const std::int32_t> subjects, std::size_t n_classes,
                              const SplitOptions& options);

// Per-dimension z-score, fitted on the training windows only.
struct Normalisation {
  bool enabled = false;
  std::vector<float> mean, std;  // [D]
};
Normalisation fit_zscore(const Array<float>& x);  // x [n][T][D]; std 0 is stored as 1
void apply_normalisation(const Normalisation& norm, Array<float>& x);

// One split of a data set: x [n][T][C] and class indices.
template <class T>
struct LabelledSplit {
  Array<T> x;
  std::vector<std::int32_t> y;
  std::size_t size() const { return y.size(); }
};

struct WindowsInfo {
  int window = 40, stride = 20;
  double sample_rate_hz = 20.0;
  std::vector<std::string> dims{"acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"};
  ClassOrder class_order = ClassOrder::letter;
  SplitOptions split;                        // method, seed, fractions
  std::array<std::vector<int>, 3> subjects;  // per split
  Normalisation normalisation;
  nlohmann::json source = nlohmann::json::object();  // where the windows came from (free form)
};

struct WindowDataset {
  std::vector<ClassInfo> classes;
  std::array<LabelledSplit<float>, 3> splits;  // kTrain, kVal, kTest
  WindowsInfo info;
};

// Cuts, splits and (optionally) normalises.
WindowDataset make_window_dataset(std::span<const Recording> recordings,
                                  std::vector<ClassInfo> classes, const WindowOptions& window,
                                  const SplitOptions& split, bool zscore,
                                  ClassOrder class_order = ClassOrder::letter);

// The sidecar of "dir/name.npz" is "dir/name.json".
std::filesystem::path sidecar_path(const std::filesystem::path& npz_path);

// Writes arr_0..arr_5 = train_x, val_x, test_x, train_y, val_y, test_y (x float32 [n][T][D], y
// float32 one-hot [n][classes]) and the sidecar, both atomically. Stored uncompressed by default
// (as numpy.savez; deflating 150k windows costs seconds and saves only half the size).
void write_windows(const std::filesystem::path& path, const WindowDataset& data, bool compress = false);
// Reads a windows file. Without a sidecar (e.g. the thesis's own file) classes of an 18-class file
// are taken to be in the NeHAR order; other class counts get names "class_<i>".
WindowDataset read_windows(const std::filesystem::path& path);

nlohmann::json windows_sidecar(const WindowDataset& data);
// Counts per class (in class order) of labels.
std::vector<std::size_t> class_counts(std::span<const std::int32_t> labels, std::size_t n_classes);

// Everything `spikeline data prepare` does short of writing.
struct PrepareOptions {
  std::filesystem::path wisdm_dir;
  std::vector<std::string> classes;  // names or letters; empty: all
  ClassOrder class_order = ClassOrder::letter;
  WindowOptions window;
  SplitOptions split;
  bool zscore = false;
  std::vector<int> subjects;  // empty: all with both sensors
  JoinMode join = JoinMode::nearest;
  double join_tolerance_s = 1.0;
  int threads = 2;
  bool progress = false;
};
WindowDataset prepare_wisdm(const PrepareOptions& options, LoadReport* report = nullptr);

}  // namespace spikeline::data
