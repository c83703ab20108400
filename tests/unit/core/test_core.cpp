#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "spikeline/core/array.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/rng.hpp"

namespace spikeline {
namespace {

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(Rng, UniformAndBelowStayInRange) {
  Rng r(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float u = r.uniform_float();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    ASSERT_LT(r.below(7), 7u);
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);  // 5 sigma of the mean of 1e5 uniforms is ~0.0046
}

TEST(ParallelFor, RunsEveryTaskOnceAndRethrows) {
  for (int threads : {1, 2, 5}) {
    std::vector<std::atomic<int>> hits(37);
    parallel_for(hits.size(), threads, [&](std::size_t t, int) { hits[t]++; });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    EXPECT_THROW(parallel_for(10, threads, [](std::size_t t, int) {
                   if (t == 3) throw std::runtime_error("boom");
                 }),
                 std::runtime_error);
  }
}

TEST(AtomicWrite, ReplacesWholeFileAndLeavesNoTemporaries) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("spikeline_test_atomic_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto file = dir / "sub" / "out.txt";
  write_file_atomic(file, std::string_view("first version, longer"));
  write_file_atomic(file, std::string_view("second"));
  EXPECT_EQ(read_file_text(file), "second");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) (void)e, ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(read_file_bytes(dir / "missing"), IoError);
  std::filesystem::remove_all(dir);
}

TEST(Array, ShapeAndSize) {
  FloatArray a(Shape{2, 3, 4}, 1.5f);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(shape_to_string(a.shape), "[2, 3, 4]");
  EXPECT_EQ(shape_size({}), 1u);
}

}  // namespace
}  // namespace spikeline
