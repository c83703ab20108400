// The thesis's task definition (SUMMARY.md section 1) rerun on the real WISDM watch data in
// ../shared/data/wisdm: KLD and DTW class distances of the 18 classes, then the rank of each thesis
// task among all k-combinations. docs/tasks.md ("Results on WISDM") explains the outcome.
//
// TasksFullData reads all 46 subjects (about 4 s in Release on 2 cores); under AddressSanitizer it
// reads 4 subjects and checks only the structure of the results.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "spikeline/data/windows.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/search.hpp"
#include "support/shared.hpp"

using namespace spikeline;
using namespace spikeline::tasks;


namespace {

constexpr bool kAllSubjects = !test::kUnderSanitizer;

// The thesis's tasks (defined_tasks.json decoded through the NeHAR order, DATA.md section 4.3).
struct ThesisTask {
  const char* name;
  const char* letters;
};
constexpr ThesisTask kThesisTasks[] = {{"2CB", "PF"},      {"3CB", "PFJ"},     {"4CB", "BPFJ"},    {"7CB", "BPOFJHK"},
                                       {"2CW", "AC"},      {"3CW", "ACM"},     {"4CW", "JLIK"},    {"7CW", "GSJHLIK"}};

// 1-based rank of the class set `letters` among all k-combinations in `order` (ties: lexicographic).
std::size_t rank_of(const DistanceMatrix& m, const std::string& letters, SearchOrder order) {
  std::vector<std::size_t> want;
  for (char l : letters)
    for (std::size_t c = 0; c < m.size(); ++c)
      if (m.classes[c].letter == l) want.push_back(c);
  std::sort(want.begin(), want.end());
  const auto all = search_tasks(m, want.size(), order, 1u << 20);
  for (std::size_t r = 0; r < all.size(); ++r)
    if (all[r].classes == want) return r + 1;
  return 0;
}

std::string letters_of(const DistanceMatrix& m, const TaskCandidate& c) {
  std::string s;
  for (std::size_t i : c.classes) s += m.classes[i].letter;
  return s;
}

class TasksFullData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = spikeline::test::shared_dir() / "data/wisdm";
    if (!std::filesystem::exists(dir / "raw")) return;
    data::PrepareOptions o;
    o.wisdm_dir = dir;
    o.split.method = data::SplitMethod::thesis;  // random per window, 60/20/20, seed 42 (as the thesis)
    o.threads = 2;
    if (!kAllSubjects) o.subjects = {1600, 1616, 1642, 1649};
    data_ = new data::WindowDataset(data::prepare_wisdm(o));
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  static const data::WindowDataset* data_;
};
const data::WindowDataset* TasksFullData::data_ = nullptr;

}  // namespace

TEST_F(TasksFullData, ThesisTasksAmongBestAndWorst) {
  SPIKELINE_REQUIRE_SHARED(wisdm, "data/wisdm/raw");
  ASSERT_NE(data_, nullptr);
  ASSERT_EQ(data_->classes.size(), 18u);
  DistanceOptions o;
  o.threads = 2;
  std::map<std::string, DistanceMatrix> matrices;
  o.metric = Metric::kld;
  matrices["kld"] = class_distances(*data_, o);
  o.metric = Metric::dtw;
  matrices["dtw"] = class_distances(*data_, o);

  for (const auto& [metric, m] : matrices) {
    ASSERT_EQ(m.size(), 18u);
    for (std::size_t i = 0; i < 18; ++i)
      for (std::size_t j = 0; j < 18; ++j) {
        EXPECT_EQ(m.at(i, j), m.at(j, i));
        if (i != j) EXPECT_GT(m.at(i, j), 0.0) << metric << " " << i << " " << j;
      }
    // The record the docs quote: the top 5 per k and order, and the thesis tasks' ranks.
    for (std::size_t k : {2u, 3u, 4u, 7u})
      for (auto order : {SearchOrder::best, SearchOrder::worst}) {
        std::printf("[%s] %zuC%s top 5:", metric.c_str(), k, order == SearchOrder::best ? "B" : "W");
        for (const auto& c : search_tasks(m, k, order, 5)) std::printf(" %s", letters_of(m, c).c_str());
        std::printf("\n");
      }
    for (const auto& t : kThesisTasks) {
      const auto order = t.name[2] == 'B' ? SearchOrder::best : SearchOrder::worst;
      std::printf("[%s] thesis %s (%s): rank %zu\n", metric.c_str(), t.name, t.letters, rank_of(m, t.letters, order));
    }
  }
  if (!kAllSubjects) return;  // ranks on 4 subjects say nothing
  // KLD (the thesis's metric) finds every thesis task among the top 5 it reports, 7 of 8 at rank 1;
  // 2CW (walking, stairs) is third, after (sandwich, chips) and (stairs, kicking).
  std::size_t first = 0;
  for (const auto& t : kThesisTasks) {
    const auto order = t.name[2] == 'B' ? SearchOrder::best : SearchOrder::worst;
    const std::size_t r = rank_of(matrices["kld"], t.letters, order);
    EXPECT_GE(r, 1u) << t.name;
    EXPECT_LE(r, 5u) << t.name;
    first += r == 1;
  }
  EXPECT_GE(first, 7u);
  // DTW of the median windows does not reproduce the best-separable tasks (2CB is rank 65), only
  // the worst ones (3CW rank 1, 4CW rank 2): see docs/tasks.md for why.
  EXPECT_EQ(rank_of(matrices["dtw"], "ACM", SearchOrder::worst), 1u);
  EXPECT_GT(rank_of(matrices["dtw"], "PF", SearchOrder::best), 5u);
}
