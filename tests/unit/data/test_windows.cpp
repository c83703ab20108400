// Windows, class selection, splits, normalisation and the windows file.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/io/npy.hpp"

namespace fs = std::filesystem;
using namespace spikeline;
using namespace spikeline::data;

namespace {

// A recording of n samples whose value at (sample k, dim d) is 10 k + d; timestamps 50 ms apart.
Recording ramp(int subject, char activity, std::size_t n) {
  Recording r;
  r.subject = subject;
  r.activity = activity;
  for (std::size_t k = 0; k < n; ++k) {
    r.timestamp.push_back(static_cast<std::int64_t>(k) * 50'000'000);
    for (int d = 0; d < 6; ++d) r.values.push_back(static_cast<float>(10 * k + d));
  }
  return r;
}

SplitOptions split_of(SplitMethod method, std::uint64_t seed, std::array<double, 3> fractions = {0.6, 0.2, 0.2}) {
  SplitOptions o;
  o.method = method;
  o.seed = seed;
  o.fractions = fractions;
  return o;
}

std::vector<ClassInfo> classes_of(std::string letters) {
  std::vector<ClassInfo> out;
  for (char l : letters) out.push_back({l, std::string(activity_name(l))});
  return out;
}

}  // namespace

TEST(Windows, CountPerRecording) {
  EXPECT_EQ(window_count(100, 40, 20), 4u);  // starts 0, 20, 40, 60
  EXPECT_EQ(window_count(39, 40, 20), 0u);
  EXPECT_EQ(window_count(40, 40, 20), 1u);
  EXPECT_EQ(window_count(59, 40, 20), 1u);
  EXPECT_EQ(window_count(60, 40, 20), 2u);
  EXPECT_EQ(window_count(3605, 40, 20), 179u);
  EXPECT_EQ(window_count(3605, 40, 40), 90u);
}

TEST(Windows, CutWithinEachRecordingInOrder) {
  const std::vector<Recording> recs{ramp(1600, 'A', 100), ramp(1600, 'B', 60), ramp(1601, 'C', 100)};
  const Windows w = cut_windows(recs, classes_of("BA"), {40, 20, 0.0});  // C not selected
  ASSERT_EQ(w.size(), 4u + 2u);
  EXPECT_EQ(w.x.shape, (Shape{6, 40, 6}));
  EXPECT_EQ(w.label, (std::vector<std::int32_t>{1, 1, 1, 1, 0, 0}));  // A is class 1 in "BA"
  EXPECT_EQ(w.subject, (std::vector<std::int32_t>(6, 1600)));
  // Window 2 of A starts at sample 40: element (t, d) = 10 (40 + t) + d.
  const float* w2 = w.x.ptr() + 2 * 40 * 6;
  EXPECT_EQ(w2[0], 400.0f);
  EXPECT_EQ(w2[39 * 6 + 5], 10.0f * 79 + 5);
  // First window of B: samples 0..39 of the B recording.
  EXPECT_EQ(w.x.ptr()[4 * 240 + 6], 10.0f);
}

TEST(Windows, OptionallySplitAtGaps) {
  Recording r = ramp(1600, 'A', 100);
  for (std::size_t k = 50; k < 100; ++k) r.timestamp[k] += 3'000'000'000;  // a 3 s gap before sample 50
  const std::vector<Recording> recs{r};
  EXPECT_EQ(cut_windows(recs, classes_of("A"), {40, 20, 0.0}).size(), 4u);  // as the thesis: ignore
  EXPECT_EQ(cut_windows(recs, classes_of("A"), {40, 20, 1.0}).size(), 2u);  // [0,50) and [50,100)
  EXPECT_EQ(cut_windows(recs, classes_of("A"), {40, 20, 5.0}).size(), 4u);
}

TEST(Classes, SelectByLetterOrNameInThreeOrders) {
  const std::vector<std::string> names{"P", "typing", "walking"};
  auto letters = [](const std::vector<ClassInfo>& c) {
    std::string s;
    for (const auto& x : c) s += x.letter;
    return s;
  };
  EXPECT_EQ(letters(select_classes(names, ClassOrder::letter)), "AFP");
  EXPECT_EQ(letters(select_classes(names, ClassOrder::nehar)), "APF");  // NeHAR: ... M P O F ...
  EXPECT_EQ(letters(select_classes(names, ClassOrder::given)), "PFA");
  EXPECT_EQ(select_classes({}, ClassOrder::letter).size(), 18u);
  EXPECT_EQ(letters(select_classes({}, ClassOrder::nehar)), "ABCDEMPOFQRGSJHLIK");
  EXPECT_EQ(select_classes(names)[0].name, "walking");
  const std::vector<std::string> twice{"A", "walking"};
  EXPECT_THROW(select_classes(twice), InputError);
  EXPECT_EQ(class_order_from_name("nehar"), ClassOrder::nehar);
  EXPECT_THROW(class_order_from_name("random"), InputError);
}

TEST(Splits, ThesisSizesFollowTrainTestSplitTwice) {
  for (std::size_t n : {10u, 11u, 101u}) {
    std::vector<std::int32_t> labels(n, 0), subjects(n, 1);
    const auto a = split_windows(labels, subjects, 1, split_of(SplitMethod::thesis, 42));
    const std::size_t train = n * 6 / 10, rest = n - train, test = (rest + 1) / 2;
    EXPECT_EQ(a.index[kTrain].size(), train) << n;
    EXPECT_EQ(a.index[kTest].size(), test) << n;
    EXPECT_EQ(a.index[kVal].size(), rest - test) << n;
    std::set<std::size_t> all;
    for (const auto& idx : a.index) all.insert(idx.begin(), idx.end());
    EXPECT_EQ(all.size(), n);  // disjoint and complete
  }
}

TEST(Splits, SeededAndDeterministic) {
  std::vector<std::int32_t> labels(200), subjects(200, 1);
  for (std::size_t i = 0; i < 200; ++i) labels[i] = static_cast<std::int32_t>(i % 4);
  const auto a = split_windows(labels, subjects, 4, split_of(SplitMethod::thesis, 7));
  const auto b = split_windows(labels, subjects, 4, split_of(SplitMethod::thesis, 7));
  const auto c = split_windows(labels, subjects, 4, split_of(SplitMethod::thesis, 8));
  EXPECT_EQ(a.index, b.index);
  EXPECT_NE(a.index, c.index);
}

TEST(Splits, StratifiedKeepsClassProportions) {
  std::vector<std::int32_t> labels, subjects;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 10 * (k + 1); ++i) {
      labels.push_back(k);
      subjects.push_back(1);
    }
  const auto a = split_windows(labels, subjects, 3, split_of(SplitMethod::stratified, 1));
  for (int s = 0; s < 3; ++s) {
    std::vector<std::size_t> per(3, 0);
    for (std::size_t i : a.index[s]) ++per[static_cast<std::size_t>(labels[i])];
    for (int k = 0; k < 3; ++k) EXPECT_EQ(per[k], (s == kTrain ? 6u : 2u) * (k + 1)) << s << " " << k;
  }
}

TEST(Splits, SubjectHoldsOutWholeSubjects) {
  std::vector<std::int32_t> labels, subjects;
  for (int s = 0; s < 10; ++s)
    for (int i = 0; i < 5; ++i) {
      labels.push_back(i % 2);
      subjects.push_back(1600 + s);
    }
  const auto a = split_windows(labels, subjects, 2, split_of(SplitMethod::subject, 3));
  EXPECT_EQ(a.subjects[kTrain].size(), 6u);
  EXPECT_EQ(a.subjects[kVal].size(), 2u);
  EXPECT_EQ(a.subjects[kTest].size(), 2u);
  std::set<int> seen;
  for (const auto& s : a.subjects) {
    for (int x : s) EXPECT_TRUE(seen.insert(x).second) << "subject " << x << " in two splits";
  }
  for (int s = 0; s < 3; ++s)
    for (std::size_t i : a.index[s])
      EXPECT_TRUE(std::count(a.subjects[s].begin(), a.subjects[s].end(), subjects[i]));

  SplitOptions explicit_subjects = split_of(SplitMethod::subject, 0);
  explicit_subjects.val_subjects = {1603};
  explicit_subjects.test_subjects = {1600, 1609};
  const auto b = split_windows(labels, subjects, 2, explicit_subjects);
  EXPECT_EQ(b.subjects[kVal], std::vector<int>{1603});
  EXPECT_EQ(b.subjects[kTest], (std::vector<int>{1600, 1609}));
  EXPECT_EQ(b.index[kTrain].size(), 35u);

  explicit_subjects.val_subjects = {1700};
  EXPECT_THROW(split_windows(labels, subjects, 2, explicit_subjects), InputError);
  explicit_subjects.val_subjects = {1600};
  EXPECT_THROW(split_windows(labels, subjects, 2, explicit_subjects), InputError);
  const std::vector<std::int32_t> two_subjects{1600, 1601}, two_labels{0, 0};
  EXPECT_THROW(split_windows(two_labels, two_subjects, 1, split_of(SplitMethod::subject, 0)), InputError);
  EXPECT_THROW(split_windows(labels, subjects, 2, split_of(SplitMethod::thesis, 0, {0.5, 0.2, 0.2})), InputError);
}

TEST(Normalisation, ZScoreFittedOnGivenWindows) {
  // Two windows of T = 2, D = 2: dim 0 values 1, 3, 5, 7 (mean 4, std sqrt(5)); dim 1 constant 2.
  Array<float> x({2, 2, 2}, std::vector<float>{1, 2, 3, 2, 5, 2, 7, 2});
  const Normalisation n = fit_zscore(x);
  ASSERT_EQ(n.mean.size(), 2u);
  EXPECT_FLOAT_EQ(n.mean[0], 4.0f);
  EXPECT_FLOAT_EQ(n.std[0], std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(n.mean[1], 2.0f);
  EXPECT_FLOAT_EQ(n.std[1], 1.0f);  // zero deviation stored as 1
  apply_normalisation(n, x);
  EXPECT_FLOAT_EQ(x[0], -3.0f / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(x[1], 0.0f);
}

TEST(WindowsFile, RoundTripWithSidecar) {
  std::vector<Recording> recs;
  for (int s = 0; s < 5; ++s) {
    recs.push_back(ramp(1600 + s, 'A', 80));
    recs.push_back(ramp(1600 + s, 'P', 100));
  }
  const SplitOptions split = split_of(SplitMethod::subject, 5);
  const WindowDataset ds = make_window_dataset(recs, classes_of("PA"), {40, 20, 0.0}, split, true, ClassOrder::given);
  EXPECT_EQ(ds.splits[kTrain].size() + ds.splits[kVal].size() + ds.splits[kTest].size(), 5u * (3 + 4));
  EXPECT_TRUE(ds.info.normalisation.enabled);

  const fs::path dir = fs::temp_directory_path() / ("spikeline_windows_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "w.npz";
  write_windows(path, ds);
  ASSERT_TRUE(fs::exists(dir / "w.json"));

  // The thesis layout: arr_0..arr_5, x float32 [n, 40, 6], y one-hot float32 [n, 2].
  const io::Npz npz = io::read_npz(path);
  ASSERT_EQ(npz.members().size(), 6u);
  EXPECT_EQ(npz.at("arr_0").dtype, io::DType::f32);
  EXPECT_EQ(npz.at("arr_0").shape, (Shape{ds.splits[kTrain].size(), 40, 6}));
  EXPECT_EQ(npz.at("arr_3").shape, (Shape{ds.splits[kTrain].size(), 2}));
  EXPECT_EQ(npz.at("arr_3").dtype, io::DType::f32);

  const WindowDataset back = read_windows(path);
  EXPECT_EQ(back.classes, ds.classes);
  for (int s = 0; s < 3; ++s) {
    EXPECT_EQ(back.splits[s].y, ds.splits[s].y);
    EXPECT_EQ(back.splits[s].x.data, ds.splits[s].x.data);
    EXPECT_EQ(back.info.subjects[s], ds.info.subjects[s]);
  }
  EXPECT_EQ(back.info.class_order, ClassOrder::given);
  EXPECT_EQ(back.info.split.method, SplitMethod::subject);
  EXPECT_EQ(back.info.split.seed, 5u);
  EXPECT_EQ(back.info.normalisation.mean, ds.info.normalisation.mean);

  const auto side = nlohmann::json::parse(read_file_text(dir / "w.json"));
  EXPECT_EQ(side["format"], "spikeline.windows");
  EXPECT_EQ(side["classes"][0]["name"], "dribbling_basketball");
  EXPECT_EQ(side["classes"][0]["letter"], "P");
  EXPECT_EQ(side["split"]["method"], "subject");
  EXPECT_EQ(side["counts"]["train"]["walking"].get<std::size_t>(),
            class_counts(ds.splits[kTrain].y, 2)[1]);

  // Without a sidecar an 18-class file is read in the thesis's (NeHAR) order.
  io::Npz thesis;
  for (int s = 0; s < 3; ++s) thesis.add("arr_" + std::to_string(s), io::NpyArray::from(Array<float>({1, 40, 6})));
  for (int s = 0; s < 3; ++s) {
    std::vector<float> oh(18, 0.0f);
    oh[6] = 1.0f;
    thesis.add("arr_" + std::to_string(3 + s), io::NpyArray::from<float>({1, 18}, oh));
  }
  io::write_npz(dir / "thesis.npz", thesis);
  const WindowDataset t = read_windows(dir / "thesis.npz");
  ASSERT_EQ(t.classes.size(), 18u);
  EXPECT_EQ(t.classes[t.splits[0].y[0]].name, "dribbling_basketball");
  fs::remove_all(dir);
}
