// Every fast kernel against its plain reference twin, over many sizes and densities.
// Tolerance: the reference accumulates in double; the fast kernels in float32 over at most n_in
// (or rows) terms of magnitude <= 2, so |error| <= n * eps32 * sum|terms| ~ 1e-4 for these sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/kernels.hpp"

namespace spikeline::snn::kernels {
namespace {

std::vector<float> random_sparse(Rng& rng, std::size_t n, double density, bool counts) {
  std::vector<float> v(n, 0.0f);
  for (auto& x : v)
    if (rng.uniform() < density) x = counts ? static_cast<float>(1 + rng.below(3)) : rng.uniform(-1, 1);
  return v;
}
std::vector<float> random_dense(Rng& rng, std::size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1, 1);
  return v;
}
void expect_near_all(const std::vector<float>& a, const std::vector<float>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << "at " << i;
}

struct Case {
  int rows, n_in, n_out;
  double density;
};

class KernelTest : public ::testing::TestWithParam<Case> {};

TEST_P(KernelTest, FastKernelsMatchReferences) {
  const Case c = GetParam();
  Rng rng(c.rows * 131 + c.n_in * 7 + c.n_out);
  for (bool counts : {true, false}) {
    const auto x = random_sparse(rng, static_cast<std::size_t>(c.rows) * c.n_in, c.density, counts);
    const auto w = random_dense(rng, static_cast<std::size_t>(c.n_in) * c.n_out);
    const auto bias = random_dense(rng, c.n_out);
    const auto dy = random_dense(rng, static_cast<std::size_t>(c.rows) * c.n_out);
    Csr ev;
    to_csr(x.data(), c.rows, c.n_in, ev);
    std::size_t nnz = 0;
    for (float v : x) nnz += v != 0.0f;
    ASSERT_EQ(ev.nnz(), nnz);

    std::vector<float> fast(static_cast<std::size_t>(c.rows) * c.n_out, 7.0f), ref = fast;
    events_matmul(ev, w.data(), c.n_out, bias.data(), fast.data());
    dense_matmul_ref(x.data(), c.rows, c.n_in, w.data(), c.n_out, bias.data(), ref.data());
    expect_near_all(fast, ref, 1e-4);
    events_matmul(ev, w.data(), c.n_out, nullptr, fast.data());
    dense_matmul_ref(x.data(), c.rows, c.n_in, w.data(), c.n_out, nullptr, ref.data());
    expect_near_all(fast, ref, 1e-4);

    std::vector<float> dw(static_cast<std::size_t>(c.n_in) * c.n_out, 0.5f), dw_ref = dw;
    Csr by_column;
    transpose_events(ev, c.n_in, by_column);
    ASSERT_EQ(by_column.nnz(), nnz);
    events_weight_grad(by_column, dy.data(), c.n_out, dw.data());
    dense_weight_grad_ref(x.data(), c.rows, c.n_in, dy.data(), c.n_out, dw_ref.data());
    expect_near_all(dw, dw_ref, 1e-3);

    std::vector<float> dx(static_cast<std::size_t>(c.rows) * c.n_in, 0.25f), dx_ref = dx;
    dense_input_grad(dy.data(), c.rows, w.data(), c.n_in, c.n_out, dx.data());
    dense_input_grad_ref(dy.data(), c.rows, w.data(), c.n_in, c.n_out, dx_ref.data());
    expect_near_all(dx, dx_ref, 1e-4);

    // Masked: only listed entries change, and they equal the dense result.
    std::vector<float> masked(static_cast<std::size_t>(c.rows) * c.n_in, 0.25f);
    masked_input_grad(ev, dy.data(), w.data(), c.n_in, c.n_out, masked.data());
    for (std::size_t i = 0; i < masked.size(); ++i)
      ASSERT_NEAR(masked[i], x[i] != 0.0f ? dx_ref[i] : 0.25f, 1e-4) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, KernelTest,
                         ::testing::Values(Case{1, 1, 1, 1.0}, Case{3, 5, 7, 0.5}, Case{17, 12, 33, 0.1},
                                           Case{40, 64, 64, 0.1}, Case{8, 256, 256, 0.1},
                                           Case{5, 100, 3, 0.9}, Case{9, 31, 257, 0.0},
                                           Case{64, 257, 129, 0.3}));

TEST(CsrUnion, IsTheSetUnionPerRow) {
  Rng rng(5);
  const int rows = 20, n = 50;
  const auto a = random_sparse(rng, rows * n, 0.2, true), b = random_sparse(rng, rows * n, 0.2, true);
  Csr ca, cb, u;
  to_csr(a.data(), rows, n, ca);
  to_csr(b.data(), rows, n, cb);
  const Csr* masks[] = {&ca, &cb};
  std::vector<std::uint8_t> scratch;
  csr_union(masks, 2, n, u, scratch);
  std::size_t k = 0;
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i)
      if (a[r * n + i] != 0 || b[r * n + i] != 0) {
        ASSERT_LT(static_cast<int>(k), u.row_ptr[r + 1]);
        EXPECT_EQ(u.index[k++], i);
      }
  EXPECT_EQ(k, u.nnz());
}

}  // namespace
}  // namespace spikeline::snn::kernels
