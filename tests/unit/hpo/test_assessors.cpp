// Medianstop and ASHA decisions on crafted histories, against decisions computed by hand from
// the rules in hpo.md 2.5 (Medianstop) and docs/hpo_algorithms.md (ASHA).
#include <gtest/gtest.h>

#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/assessor.hpp"

namespace spikeline::hpo {
namespace {

using H = std::vector<double>;

std::unique_ptr<Assessor> medianstop(const char* mode, int start_step) {
  return make_assessor("Medianstop", {{"optimize_mode", mode}, {"start_step", start_step}}, "assessor");
}

// Completed history used by the Medianstop tables (dyadic values: running averages are exact):
//   A succeeded [0.5, 0.75, 1.0]         running averages [0.5, 0.625, 0.75]
//   B succeeded [0.125, 0.375]           running averages [0.125, 0.25]
//   C FAILED    [1.0, 1.0, 1.0]          never votes
//   D succeeded [0.25, 0.5, 0.75, 1.0]   running averages [0.25, 0.375, 0.5, 0.625]
//   E succeeded [0.0]                    fewer than start_step (2) reports: can never vote
void feed(Assessor& a) {
  a.trial_end("A", true, H{0.5, 0.75, 1.0});
  a.trial_end("B", true, H{0.125, 0.375});
  a.trial_end("C", false, H{1.0, 1.0, 1.0});
  a.trial_end("D", true, H{0.25, 0.5, 0.75, 1.0});
  a.trial_end("E", true, H{0.0});
}

struct Row {
  H history;
  Verdict verdict;
  const char* why;
};

TEST(Medianstop, MaximizeTable) {
  auto a = medianstop("maximize", 2);
  feed(*a);
  const Row rows[] = {
      {{0.0}, Verdict::Good, "t=1 < start_step: never judged"},
      // t=2: voters A 0.625, B 0.25, D 0.375 -> [0.25, 0.375, 0.625], lower median index 1 = 0.375.
      {{0.0, 0.25}, Verdict::Bad, "best 0.25 < 0.375"},
      {{0.375, 0.0}, Verdict::Good, "best-so-far 0.375 == median: strict comparison"},
      {{0.0, 0.5}, Verdict::Good, "0.5 > 0.375"},
      // t=3: voters A 0.75, D 0.5 (C failed) -> [0.5, 0.75], lower median index 0 = 0.5.
      {{0.1, 0.2, 0.45}, Verdict::Bad, "0.45 < 0.5"},
      {{0.5, 0.2, 0.1}, Verdict::Good, "best-so-far, not the last value: 0.5 == 0.5"},
      // t=4: only D votes (0.625): one completed trial is enough.
      {{0.1, 0.1, 0.1, 0.6}, Verdict::Bad, "0.6 < 0.625"},
      {{0.1, 0.1, 0.1, 0.625}, Verdict::Good, "0.625 == 0.625"},
      // t=5: nobody reached 5 reports.
      {{0.0, 0.0, 0.0, 0.0, 0.0}, Verdict::Good, "no voters"},
  };
  for (const auto& r : rows) EXPECT_EQ(a->assess("X", r.history), r.verdict) << r.why;
}

TEST(Medianstop, MinimizeUsesUpperMedian) {
  auto a = medianstop("minimize", 2);
  feed(*a);
  // t=3: [0.5, 0.75], upper median index 1 = 0.75; BAD iff best (min) > 0.75.
  EXPECT_EQ(a->assess("X", H{0.9, 0.8, 0.74}), Verdict::Good);
  EXPECT_EQ(a->assess("X", H{0.9, 0.8, 0.75}), Verdict::Good);
  EXPECT_EQ(a->assess("X", H{0.9, 0.8, 0.76}), Verdict::Bad);
  // t=2: [0.25, 0.375, 0.625], index 1 = 0.375.
  EXPECT_EQ(a->assess("X", H{0.4, 0.5}), Verdict::Bad);
  EXPECT_EQ(a->assess("X", H{0.375, 0.5}), Verdict::Good);
}

TEST(Medianstop, NoCompletedTrialsMeansGood) {
  auto a = medianstop("maximize", 0);
  EXPECT_EQ(a->assess("X", H{-100.0}), Verdict::Good);
  a->trial_end("F", false, H{1.0, 1.0});  // failed: does not vote
  EXPECT_EQ(a->assess("X", H{-100.0}), Verdict::Good);
  a->trial_end("G", true, H{1.0, 1.0});
  EXPECT_EQ(a->assess("X", H{-100.0}), Verdict::Bad);
}

TEST(Medianstop, StartStepDefersAndDefaultsMatchNni) {
  auto a = make_assessor("medianstop", nlohmann::json::object(), "assessor");  // maximize, start_step 0
  a->trial_end("A", true, H{1.0});
  EXPECT_EQ(a->assess("X", H{0.5}), Verdict::Bad);
  auto b = medianstop("maximize", 3);
  b->trial_end("A", true, H{1.0, 1.0, 1.0});
  EXPECT_EQ(b->assess("X", H{0.0, 0.0}), Verdict::Good);
  EXPECT_EQ(b->assess("X", H{0.0, 0.0, 0.0}), Verdict::Bad);
}

TEST(Assessors, ClassArgsAreValidated) {
  EXPECT_THROW((void)make_assessor("Medianstop", {{"start_step", -1}}, "a"), InputError);
  EXPECT_THROW((void)make_assessor("Medianstop", {{"start_step", 10000}}, "a"), InputError);
  EXPECT_THROW((void)make_assessor("Medianstop", {{"optimize_mode", "up"}}, "a"), InputError);
  EXPECT_THROW((void)make_assessor("Medianstop", {{"epoch_num", 3}}, "a"), InputError);
  EXPECT_THROW((void)make_assessor("Curvefitting", nlohmann::json::object(), "a"), InputError);
  EXPECT_THROW((void)make_assessor("ASHA", {{"reduction_factor", 1}}, "a"), InputError);
  EXPECT_THROW((void)make_assessor("ASHA", {{"min_resource", 4}, {"max_resource", 4}}, "a"), InputError);
  try {
    (void)make_assessor("Medianstop", {{"start_stp", 3}}, "cfg.json: assessor");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json: assessor: start_stp: unknown class argument"), std::string::npos)
        << e.what();
  }
}

// ASHA, eta = 3, min_resource = 1: rungs at 1, 3, 9 reports. At a rung with n recorded trials a
// trial continues iff its value there is within the best max(1, n / 3).
TEST(Asha, MaximizeRungDecisions) {
  auto a = make_assessor("ASHA", {{"optimize_mode", "maximize"}}, "assessor");
  EXPECT_EQ(a->assess("T1", H{0.5}), Verdict::Good);   // n=1 keep 1: [0.5]
  EXPECT_EQ(a->assess("T2", H{0.4}), Verdict::Bad);    // n=2 keep 1: best 0.5
  EXPECT_EQ(a->assess("T3", H{0.6}), Verdict::Good);   // n=3 keep 1: best 0.6
  EXPECT_EQ(a->assess("T4", H{0.55}), Verdict::Bad);   // n=4 keep 1: 0.6
  EXPECT_EQ(a->assess("T5", H{0.3}), Verdict::Bad);    // n=5 keep 1
  EXPECT_EQ(a->assess("T6", H{0.55}), Verdict::Good);  // n=6 keep 2: [0.6, 0.55, 0.55, ...] tie continues
  EXPECT_EQ(a->assess("T1", H{0.5, 0.0}), Verdict::Good);  // 2 reports: not a rung
  EXPECT_EQ(a->assess("T1", H{0.5, 0.0, 0.7}), Verdict::Good);   // rung 1 (3 reports), n=1
  EXPECT_EQ(a->assess("T3", H{0.6, 0.0, 0.65}), Verdict::Bad);   // rung 1, n=2 keep 1: 0.7
  EXPECT_EQ(a->assess("T6", H{0.55, 0.1, 0.8}), Verdict::Good);  // rung 1, n=3 keep 1: 0.8
  EXPECT_EQ(a->assess("T6", H(8, 0.1)), Verdict::Good);           // 8 reports: not a rung
}

TEST(Asha, MinimizeMinResourceAndMaxResource) {
  auto a = make_assessor("ASHA", {{"optimize_mode", "minimize"}, {"min_resource", 2}, {"reduction_factor", 2},
                                  {"max_resource", 8}},
                         "assessor");
  // Rungs at 2 and 4 reports (8 = max_resource is not a rung).
  EXPECT_EQ(a->assess("T1", H{9.0}), Verdict::Good);        // 1 report: no rung
  EXPECT_EQ(a->assess("T1", H{9.0, 1.0}), Verdict::Good);   // rung 0, n=1
  EXPECT_EQ(a->assess("T2", H{0.0, 2.0}), Verdict::Bad);    // value at the rung is 2.0 > 1.0
  EXPECT_EQ(a->assess("T3", H{0.0, 0.5}), Verdict::Good);   // n=3 keep 1: best 0.5
  EXPECT_EQ(a->assess("T4", H{0.0, 1.0}), Verdict::Good);   // n=4 keep 2: [0.5, 1.0, 1.0, 2.0]
  EXPECT_EQ(a->assess("T1", H(4, 3.0)), Verdict::Good);     // rung 1, n=1
  EXPECT_EQ(a->assess("T3", H(4, 3.5)), Verdict::Bad);      // rung 1, n=2 keep 1
  EXPECT_EQ(a->assess("T3", H(8, 100.0)), Verdict::Good);   // max_resource: no rung
}

TEST(Asha, TrialEndRebuildsRungs) {
  auto a = make_assessor("asha", nlohmann::json::object(), "assessor");
  a->trial_end("T1", true, H{0.5, 0.1, 0.9});
  a->trial_end("T2", false, H{0.6});
  a->trial_end("T3", true, H{0.7});
  // Rung 0 holds [0.5, 0.6, 0.7] (failed trials compete too); n=4 keep 1.
  EXPECT_EQ(a->assess("T4", H{0.65}), Verdict::Bad);
  EXPECT_EQ(a->assess("T5", H{0.71}), Verdict::Good);
  // Rung 1 holds T1's 0.9.
  EXPECT_EQ(a->assess("T5", H{0.71, 0.0, 0.8}), Verdict::Bad);
}

}  // namespace
}  // namespace spikeline::hpo
