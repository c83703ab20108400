// Every fast kernel against its plain reference twin, over many sizes and densities.
// Tolerance: the reference accumulates in double; the fast kernels in float32 over at most n_in
// (or rows) terms of magnitude <= 2, so |error| <= n * eps32 * sum|terms| ~ 1e-4 for these sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "spikeline/core/rng.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/kernels.hpp"
#include "spikeline/snn/lif.hpp"

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
    Csr ev, ev_ref;
    to_csr(x.data(), c.rows, c.n_in, ev);
    to_csr_ref(x.data(), c.rows, c.n_in, ev_ref);
    std::size_t nnz = 0;
    for (float v : x) nnz += v != 0.0f;
    ASSERT_EQ(ev.nnz(), nnz);
    ASSERT_EQ(ev.row_ptr, ev_ref.row_ptr);
    for (std::size_t e = 0; e < nnz; ++e) {
      ASSERT_EQ(ev.index[e], ev_ref.index[e]) << e;
      ASSERT_EQ(ev.value[e], ev_ref.value[e]) << e;
    }

    std::vector<float> fast(static_cast<std::size_t>(c.rows) * c.n_out, 7.0f), ref = fast;
    events_matmul(ev, w.data(), c.n_out, bias.data(), fast.data());
    dense_matmul_ref(x.data(), c.rows, c.n_in, w.data(), c.n_out, bias.data(), ref.data());
    expect_near_all(fast, ref, 1e-4);
    events_matmul(ev, w.data(), c.n_out, nullptr, fast.data());
    dense_matmul_ref(x.data(), c.rows, c.n_in, w.data(), c.n_out, nullptr, ref.data());
    expect_near_all(fast, ref, 1e-4);

    // One row at a time (the recurrent input of a LIF step), empty rows included.
    std::vector<float> row_out(c.n_out, 3.0f);
    for (int r = 0; r < c.rows; ++r) {
      const int e0 = ev.row_ptr[r];
      events_row_matmul(ev.index.data() + e0, ev.value.data() + e0, ev.row_ptr[r + 1] - e0,
                        w.data(), c.n_out, row_out.data());
      for (int j = 0; j < c.n_out; ++j)
        ASSERT_NEAR(row_out[j], ref[static_cast<std::size_t>(r) * c.n_out + j], 1e-4) << r << "," << j;
    }

    std::vector<float> dw(static_cast<std::size_t>(c.n_in) * c.n_out, 0.5f), dw_ref = dw;
    Csr by_column;
    transpose_events(ev, c.n_in, by_column);
    ASSERT_EQ(by_column.nnz(), nnz);
    events_weight_grad(by_column, dy.data(), c.n_out, dw.data());
    dense_weight_grad_ref(x.data(), c.rows, c.n_in, dy.data(), c.n_out, dw_ref.data());
    expect_near_all(dw, dw_ref, 1e-3);

    std::vector<float> dx(static_cast<std::size_t>(c.rows) * c.n_in, 0.25f), dx_ref = dx;
    std::vector<float> wt;
    transpose_weights(w.data(), c.n_in, c.n_out, wt);
    dense_input_grad(dy.data(), c.rows, wt.data(), c.n_in, c.n_out, dx.data(), false);
    dense_input_grad_ref(dy.data(), c.rows, w.data(), c.n_in, c.n_out, dx_ref.data());
    expect_near_all(dx, dx_ref, 1e-4);
    // Overwriting equals adding to zeros.
    std::vector<float> dx_over(dx.size(), 1e30f), dx_zero(dx.size(), 0.0f);
    dense_input_grad(dy.data(), c.rows, wt.data(), c.n_in, c.n_out, dx_over.data(), true);
    dense_input_grad_ref(dy.data(), c.rows, w.data(), c.n_in, c.n_out, dx_zero.data());
    expect_near_all(dx_over, dx_zero, 1e-4);

    // Masked: only entries set in the mask change, and they equal the dense result.
    BitMask mask;
    mask.resize(c.rows, c.n_in);
    std::fill(mask.bits.begin(), mask.bits.end(), 0);
    for (int r = 0; r < c.rows; ++r)
      for (int i = 0; i < c.n_in; ++i)
        if (x[static_cast<std::size_t>(r) * c.n_in + i] != 0.0f) mask.row(r)[i >> 6] |= std::uint64_t{1} << (i & 63);
    ASSERT_EQ(mask.count(), nnz);
    std::vector<float> masked(static_cast<std::size_t>(c.rows) * c.n_in, 0.25f);
    std::vector<std::int32_t> scratch;
    masked_input_grad(mask, dy.data(), w.data(), c.n_in, c.n_out, masked.data(), scratch);
    for (std::size_t i = 0; i < masked.size(); ++i)
      ASSERT_NEAR(masked[i], x[i] != 0.0f ? dx_ref[i] : 0.25f, 1e-4) << i;
    // The same through gathered_dots, row by row from the CSR indices.
    std::vector<float> gathered(masked.size(), 0.25f);
    for (int r = 0; r < c.rows; ++r)
      gathered_dots(dy.data() + static_cast<std::size_t>(r) * c.n_out, w.data(), c.n_out,
                    ev.index.data() + ev.row_ptr[r], ev.row_ptr[r + 1] - ev.row_ptr[r],
                    gathered.data() + static_cast<std::size_t>(r) * c.n_in);
    expect_near_all(gathered, masked, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, KernelTest,
                         ::testing::Values(Case{1, 1, 1, 1.0}, Case{3, 5, 7, 0.5}, Case{17, 12, 33, 0.1},
                                           Case{40, 64, 64, 0.1}, Case{8, 256, 256, 0.1},
                                           Case{5, 100, 3, 0.9}, Case{9, 31, 257, 0.0},
                                           Case{64, 257, 129, 0.3}, Case{6, 256, 7, 0.5},
                                           Case{7, 19, 16, 1.0}, Case{11, 64, 15, 0.2},
                                           Case{13, 65, 8, 0.7}, Case{4, 300, 40, 0.05}));

BitMask random_mask(Rng& rng, int rows, int n, double density) {
  BitMask m;
  m.resize(rows, n);
  std::fill(m.bits.begin(), m.bits.end(), 0);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i)
      if (rng.uniform() < density) m.row(r)[i >> 6] |= std::uint64_t{1} << (i & 63);
  return m;
}

TEST(BitMask, OrIsTheSetUnionAndIndicesListSetBits) {
  Rng rng(5);
  for (int n : {1, 7, 50, 64, 65, 128, 200, 256}) {
    const int rows = 9;
    const BitMask a = random_mask(rng, rows, n, 0.2), b = random_mask(rng, rows, n, 0.3);
    BitMask u;
    bitmask_or(a, b, u);
    BitMask in_place = a;
    bitmask_or(in_place, b, in_place);
    EXPECT_EQ(u.bits, in_place.bits);
    std::vector<std::int32_t> idx(static_cast<std::size_t>(u.words) * 64);
    std::size_t total = 0;
    for (int r = 0; r < rows; ++r) {
      const int count = bit_indices(u.row(r), u.words, idx.data());
      int k = 0;
      for (int i = 0; i < n; ++i)
        if (a.test(r, i) || b.test(r, i)) {
          ASSERT_LT(k, count);
          EXPECT_EQ(idx[k++], i);
        }
      EXPECT_EQ(k, count);
      total += static_cast<std::size_t>(count);
    }
    EXPECT_EQ(total, u.count());
  }
}

TEST(BitMask, EmptyRowsListNothing) {
  BitMask m;
  m.resize(3, 100);
  std::fill(m.bits.begin(), m.bits.end(), 0);
  std::int32_t idx[128];
  EXPECT_EQ(bit_indices(m.row(1), m.words, idx), 0);
  EXPECT_EQ(m.count(), 0u);
}

// lif_backward has two ways to form the recurrent weight gradient: per step (when it adds to
// grad_in) and as one event-driven product after the scan (when it overwrites grad_in). Both must
// agree, and the window bits of lif_forward must be exactly where the surrogate is non-zero.
TEST(LifKernels, OverwriteAndAccumulatePathsAgree) {
  for (int n : {7, 64, 100}) {
    const int T = 6, B = 3;
    Rng rng(n);
    LIF layer;
    layer.n = n;
    layer.tau_mem = {0.08f};
    layer.tau_syn = {0.07f};
    layer.threshold = {1.0f};
    layer.bias = {0.0f};
    layer.dt = 0.05f;
    layer.has_rec = true;
    layer.w_rec = random_dense(rng, static_cast<std::size_t>(n) * n);
    const LoweredLif p = lower_lif(layer);
    const std::size_t size = static_cast<std::size_t>(T) * B * n;
    std::vector<float> in = random_dense(rng, size);
    for (auto& v : in) v *= 3.0f;
    LifState state;
    state.resize(B, n);
    std::vector<float> spikes(size), v_pre(size);
    BitMask window;
    lif_forward(p, in.data(), T, B, state, spikes.data(), v_pre.data(), &window, {}, nullptr);
    for (int r = 0; r < T * B; ++r)
      for (int j = 0; j < n; ++j)
        ASSERT_EQ(window.test(r, j),
                  surrogate_grad(p.spike_fn, v_pre[static_cast<std::size_t>(r) * n + j], 1.0f,
                                 p.window, p.max_spikes) != 0.0f);
    const std::vector<float> gs = random_dense(rng, size);
    std::vector<float> gs_a = gs, gs_b = gs, gin_a(size, 1e30f), gin_b(size, 0.0f);
    std::vector<float> gw_a(static_cast<std::size_t>(n) * n, 0.5f), gw_b = gw_a, sv, sa;
    lif_backward(p, T, B, v_pre.data(), spikes.data(), nullptr, window, gs_a.data(), gin_a.data(),
                 true, gw_a.data(), sv, sa);
    lif_backward(p, T, B, v_pre.data(), spikes.data(), nullptr, window, gs_b.data(), gin_b.data(),
                 false, gw_b.data(), sv, sa);
    expect_near_all(gin_a, gin_b, 1e-5);
    expect_near_all(gw_a, gw_b, 1e-4);
  }
}

// Results must not depend on how the batch is cut into micro-batches (the window masks, CSR
// events, residual gradient swaps and overwrite-first buffers are all per micro-batch): outputs
// agree exactly, gradients up to summation order. T = 90 exercises long scans.
TEST(EngineKernels, ResultsDoNotDependOnMicroBatch) {
  for (const char* arch : {"ff_deep_deep_res", "rec_simple"}) {
    SCOPED_TRACE(arch);
    Rng rng(3);
    NeuronParams np;
    np.tau_mem = 0.081f;
    np.tau_syn = 0.077f;
    np.dt = 0.05f;
    const Network net = make_architecture(arch, 5, 40, 3, np, rng);
    const int batch = 6, T = 90;
    FloatArray x(Shape{batch, T, 5});
    x.data = random_sparse(rng, x.size(), 0.3, true);
    const std::vector<int> labels{0, 1, 2, 0, 1, 2};
    Engine blocked(net, {1, 6, false, 0}), single(net, {1, 1, false, 0});
    EXPECT_EQ(blocked.forward(x).data, single.forward(x).data);
    std::vector<std::vector<float>> g_blocked, g_single;
    const auto r_blocked = blocked.loss_and_grad_ce(x, labels, g_blocked);
    const auto r_single = single.loss_and_grad_ce(x, labels, g_single);
    EXPECT_NEAR(r_blocked.loss, r_single.loss, 1e-9);
    ASSERT_EQ(g_blocked.size(), g_single.size());
    for (std::size_t k = 0; k < g_blocked.size(); ++k)  // sums of up to ~500 terms of size ~1
      for (std::size_t i = 0; i < g_blocked[k].size(); ++i)
        ASSERT_NEAR(g_blocked[k][i], g_single[k][i], 1e-5 * std::max(1.0f, std::fabs(g_single[k][i])))
            << k << "," << i;
  }
}

}  // namespace
}  // namespace spikeline::snn::kernels
