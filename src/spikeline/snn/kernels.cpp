#include "spikeline/snn/kernels.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace spikeline::snn::kernels {

void to_csr_ref(const float* dense, int rows, int n, Csr& out) {
  out.row_ptr.resize(static_cast<std::size_t>(rows) + 1);
  out.row_ptr[0] = 0;
  // Branch-free compaction: write every candidate, advance only past non-zeros.
  std::size_t k = 0;
  for (int r = 0; r < rows; ++r) {
    out.ensure(k, n, true);
    const float* row = dense + static_cast<std::size_t>(r) * n;
    std::int32_t* idx = out.index.data();
    float* val = out.value.data();
    for (int i = 0; i < n; ++i) {
      idx[k] = i;
      val[k] = row[i];
      k += row[i] != 0.0f;
    }
    out.row_ptr[r + 1] = static_cast<std::int32_t>(k);
  }
}

#if defined(__AVX512F__)
void to_csr(const float* dense, int rows, int n, Csr& out) {
  // 16 entries per step: compare against zero, compress the non-zero values and their column
  // numbers to the front of a register, store all 16 lanes (ensure() left room) and advance by
  // the count, so the cost is ~n/16 steps per row whatever the density.
  out.row_ptr.resize(static_cast<std::size_t>(rows) + 1);
  out.row_ptr[0] = 0;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  std::size_t k = 0;
  for (int r = 0; r < rows; ++r) {
    out.ensure(k, static_cast<std::size_t>(n) + 16, true);
    const float* row = dense + static_cast<std::size_t>(r) * n;
    std::int32_t* idx = out.index.data();
    float* val = out.value.data();
    for (int i = 0; i < n; i += 16) {
      const __mmask16 valid = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
      const __m512 v = _mm512_maskz_loadu_ps(valid, row + i);
      const __mmask16 nz = _mm512_mask_cmp_ps_mask(valid, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
      const __m512i col = _mm512_add_epi32(lane, _mm512_set1_epi32(i));
      _mm512_storeu_ps(val + k, _mm512_maskz_compress_ps(nz, v));
      _mm512_storeu_si512(idx + k, _mm512_maskz_compress_epi32(nz, col));
      k += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(nz)));
    }
    out.row_ptr[r + 1] = static_cast<std::int32_t>(k);
  }
}
#else
void to_csr(const float* dense, int rows, int n, Csr& out) { to_csr_ref(dense, rows, n, out); }
#endif

void bitmask_or(const BitMask& a, const BitMask& b, BitMask& out) {
  if (&out != &a && &out != &b) out.resize(a.rows, a.n);
  const std::size_t words = a.bits.size();
  for (std::size_t w = 0; w < words; ++w) out.bits[w] = a.bits[w] | b.bits[w];
}

namespace {
// Accumulators held in registers by the event-driven products: 16 vectors where AVX-512 gives 32
// registers (one pass over a row's events covers 256 outputs), else 8.
constexpr int kWideVecs = simd::kLanes == 16 ? 16 : 8;

// acc[0:kVecs*kLanes] (starting from init, or zeros) += sum over events e0..e1 of
// value * rows[index][j0:...]; stored to out. The common unit value skips the multiply.
template <int kVecs>
inline void sum_event_rows(const std::int32_t* index, const float* value, int e0, int e1,
                           const float* rows, int stride, int j0, const float* init, float* out) {
  using simd::vfloat, simd::load, simd::store, simd::kLanes;
  vfloat acc[kVecs];
  for (int k = 0; k < kVecs; ++k) acc[k] = init ? load(init + k * kLanes) : vfloat{};
  for (int e = e0; e < e1; ++e) {
    const float* src = rows + static_cast<std::size_t>(index[e]) * stride + j0;
    const float v = value[e];
    if (v == 1.0f) {
      for (int k = 0; k < kVecs; ++k) acc[k] += load(src + k * kLanes);
    } else {
      for (int k = 0; k < kVecs; ++k) acc[k] += v * load(src + k * kLanes);
    }
  }
  for (int k = 0; k < kVecs; ++k) store(out + k * kLanes, acc[k]);
}

// sum_event_rows for the columns [j0, n_out) left over by the blocks (fewer than 8 vectors, e.g.
// the 7 outputs of a classifier layer): one vector at a time, the last with masked lanes.
void sum_event_rows_tail(const std::int32_t* index, const float* value, int e0, int e1,
                         const float* rows, int stride, int j0, int n_out, const float* init,
                         float* out) {
#if defined(__AVX512F__)
  for (int c = j0; c < n_out; c += 16) {
    const __mmask16 m = n_out - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n_out - c)) - 1);
    __m512 acc = init ? _mm512_maskz_loadu_ps(m, init + (c - j0)) : _mm512_setzero_ps();
    for (int e = e0; e < e1; ++e) {
      const __m512 src = _mm512_maskz_loadu_ps(m, rows + static_cast<std::size_t>(index[e]) * stride + c);
      const float v = value[e];
      acc = _mm512_add_ps(acc, v == 1.0f ? src : _mm512_mul_ps(_mm512_set1_ps(v), src));
    }
    _mm512_mask_storeu_ps(out + (c - j0), m, acc);
  }
#else
  const int rest = n_out - j0;
  if (init != out) {
    if (init)
      std::memcpy(out, init, sizeof(float) * rest);
    else
      std::memset(out, 0, sizeof(float) * rest);
  }
  for (int e = e0; e < e1; ++e)
    axpy(value[e], rows + static_cast<std::size_t>(index[e]) * stride + j0, out, rest);
#endif
}

// Column blocks for sum_event_rows: wide blocks, then 8-vector blocks; returns the first column
// left for a scalar tail.
template <class F>
int for_column_blocks(int n_out, F&& block) {
  constexpr int kWide = kWideVecs * simd::kLanes, kNarrow = 8 * simd::kLanes;
  int j0 = 0;
  for (; j0 + kWide <= n_out; j0 += kWide) block(j0, std::integral_constant<int, kWideVecs>{});
  for (; j0 + kNarrow <= n_out; j0 += kNarrow) block(j0, std::integral_constant<int, 8>{});
  return j0;
}
}  // namespace

void events_matmul(const Csr& events, const float* w, int n_out, const float* bias, float* out) {
  const int rows = events.rows();
  for (int r = 0; r < rows; ++r) {
    float* __restrict y = out + static_cast<std::size_t>(r) * n_out;
    const int e0 = events.row_ptr[r], e1 = events.row_ptr[r + 1];
    const int blocked = for_column_blocks(n_out, [&](int j0, auto vecs) {
      sum_event_rows<decltype(vecs)::value>(events.index.data(), events.value.data(), e0, e1, w,
                                            n_out, j0, bias ? bias + j0 : nullptr, y + j0);
    });
    if (blocked < n_out)
      sum_event_rows_tail(events.index.data(), events.value.data(), e0, e1, w, n_out, blocked,
                          n_out, bias ? bias + blocked : nullptr, y + blocked);
  }
}

void events_row_matmul(const std::int32_t* index, const float* value, int count, const float* w,
                       int n_out, float* out) {
  const int blocked = for_column_blocks(n_out, [&](int j0, auto vecs) {
    sum_event_rows<decltype(vecs)::value>(index, value, 0, count, w, n_out, j0, nullptr, out + j0);
  });
  if (blocked < n_out)
    sum_event_rows_tail(index, value, 0, count, w, n_out, blocked, n_out, nullptr, out + blocked);
}

void dense_matmul_ref(const float* x, int rows, int n_in, const float* w, int n_out,
                      const float* bias, float* out) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < n_out; ++j) {
      double s = bias ? bias[j] : 0.0;
      for (int i = 0; i < n_in; ++i)
        s += static_cast<double>(x[static_cast<std::size_t>(r) * n_in + i]) *
             w[static_cast<std::size_t>(i) * n_out + j];
      out[static_cast<std::size_t>(r) * n_out + j] = static_cast<float>(s);
    }
}

void transpose_events(const Csr& events, int n_in, Csr& by_column) {
  const std::size_t nnz = events.nnz();
  by_column.row_ptr.assign(static_cast<std::size_t>(n_in) + 1, 0);
  by_column.ensure(0, nnz, true);
  for (std::size_t e = 0; e < nnz; ++e) ++by_column.row_ptr[events.index[e] + 1];
  for (int i = 0; i < n_in; ++i) by_column.row_ptr[i + 1] += by_column.row_ptr[i];
  // Counting sort; rows stay in increasing order within each column.
  std::vector<std::int32_t>& fill = by_column.scratch;
  fill.assign(by_column.row_ptr.begin(), by_column.row_ptr.end() - 1);
  const int rows = events.rows();
  for (int r = 0; r < rows; ++r)
    for (int e = events.row_ptr[r]; e < events.row_ptr[r + 1]; ++e) {
      const std::int32_t slot = fill[events.index[e]]++;
      by_column.index[slot] = r;
      by_column.value[slot] = events.value[e];
    }
}

void events_weight_grad(const Csr& by_column, const float* dy, int n_out, float* dw) {
  const int n_in = by_column.rows();
  for (int i = 0; i < n_in; ++i) {
    const int e0 = by_column.row_ptr[i], e1 = by_column.row_ptr[i + 1];
    if (e0 == e1) continue;
    float* __restrict dwi = dw + static_cast<std::size_t>(i) * n_out;
    const int blocked = for_column_blocks(n_out, [&](int j0, auto vecs) {
      sum_event_rows<decltype(vecs)::value>(by_column.index.data(), by_column.value.data(), e0,
                                            e1, dy, n_out, j0, dwi + j0, dwi + j0);
    });
    if (blocked < n_out)
      sum_event_rows_tail(by_column.index.data(), by_column.value.data(), e0, e1, dy, n_out,
                          blocked, n_out, dwi + blocked, dwi + blocked);
  }
}

void dense_weight_grad_ref(const float* x, int rows, int n_in, const float* dy, int n_out,
                           float* dw) {
  for (int i = 0; i < n_in; ++i)
    for (int j = 0; j < n_out; ++j) {
      double s = 0;
      for (int r = 0; r < rows; ++r)
        s += static_cast<double>(x[static_cast<std::size_t>(r) * n_in + i]) *
             dy[static_cast<std::size_t>(r) * n_out + j];
      dw[static_cast<std::size_t>(i) * n_out + j] += static_cast<float>(s);
    }
}

namespace {
#if defined(__AVX512F__)
// The eight sums of eight 16-lane accumulators, by a transposing tree (shuffles of 128-bit
// quarters, then within quarters): ~3 instructions per sum instead of ~8 for separate reductions.
inline void hsum8(const __m512 a[8], float out[8]) {
  // permutex2var picks lanes of (x, y) with 0-15 = x, 16-31 = y.
  const __m512i lo_halves = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __m512i hi_halves = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  const __m512i even_q = _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  const __m512i odd_q = _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  __m512 s[4];
  for (int k = 0; k < 4; ++k)  // halves of a pair, added: 8 partials of each
    s[k] = _mm512_add_ps(_mm512_permutex2var_ps(a[2 * k], lo_halves, a[2 * k + 1]),
                         _mm512_permutex2var_ps(a[2 * k], hi_halves, a[2 * k + 1]));
  // Quarter q of t[h] holds 4 partials of accumulator 4h + q.
  const __m512 t0 = _mm512_add_ps(_mm512_permutex2var_ps(s[0], even_q, s[1]),
                                  _mm512_permutex2var_ps(s[0], odd_q, s[1]));
  const __m512 t1 = _mm512_add_ps(_mm512_permutex2var_ps(s[2], even_q, s[3]),
                                  _mm512_permutex2var_ps(s[2], odd_q, s[3]));
  const __m512 v = _mm512_add_ps(_mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 u = _mm512_add_ps(_mm512_shuffle_ps(v, v, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(v, v, _MM_SHUFFLE(3, 1, 3, 1)));
  // Lane 4q: the sum of accumulator q; lane 4q + 1: of accumulator 4 + q.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, u);
  for (int q = 0; q < 4; ++q) {
    out[q] = lanes[4 * q];
    out[4 + q] = lanes[4 * q + 1];
  }
}

// out[idx[k]] += dot(g, w[idx[k]][:]) for k < m <= K: K dot products at once sharing each load
// of g. Missing ones (m < K) repeat the last index and their results are dropped; the tail of
// n_out is loaded with zeroed lanes (adding 0 * 0 changes no sum).
template <int K>
void input_grad_group(const float* __restrict g, const float* w, int n_out, const std::int32_t* idx,
                      int m, float* __restrict out) {
  const int vec_end = n_out - n_out % 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n_out - vec_end)) - 1);
  const float* wr[K];
  for (int k = 0; k < K; ++k) wr[k] = w + static_cast<std::size_t>(idx[std::min(k, m - 1)]) * n_out;
  __m512 acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = _mm512_setzero_ps();
  for (int j = 0; j < vec_end; j += 16) {
    const __m512 gj = _mm512_loadu_ps(g + j);
    for (int k = 0; k < K; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(gj, _mm512_loadu_ps(wr[k] + j)));
  }
  if (tail) {
    const __m512 gj = _mm512_maskz_loadu_ps(tail, g + vec_end);
    for (int k = 0; k < K; ++k)
      acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(gj, _mm512_maskz_loadu_ps(tail, wr[k] + vec_end)));
  }
  float sums[8];
  hsum8(acc, sums);
  for (int k = 0; k < m; ++k) out[idx[k]] += sums[k];
}

// out[idx[k]] += dot(g, w[idx[k]][:]) for k < count, in groups of eight (a last group of at most
// four takes the narrower kernel).
void input_grad_row(const float* __restrict g, const float* w, int n_out, const std::int32_t* idx,
                    int count, float* __restrict out) {
  for (int e = 0; e < count; e += 8) {
    const int m = std::min(8, count - e);
    if (m <= 4)
      input_grad_group<4>(g, w, n_out, idx + e, m, out);
    else
      input_grad_group<8>(g, w, n_out, idx + e, m, out);
  }
}
#else
// Portable version: four dot products at a time share each load of g.
void input_grad_row(const float* __restrict g, const float* w, int n_out, const std::int32_t* idx,
                    int count, float* __restrict out) {
  using simd::vfloat, simd::load, simd::kLanes;
  const int vec_end = n_out - n_out % kLanes;
  auto hsum = [](vfloat v) {
    float s = 0.0f;
    for (int k = 0; k < kLanes; ++k) s += v[k];
    return s;
  };
  int e = 0;
  for (; e + 4 <= count; e += 4) {
    const float* w0 = w + static_cast<std::size_t>(idx[e]) * n_out;
    const float* w1 = w + static_cast<std::size_t>(idx[e + 1]) * n_out;
    const float* w2 = w + static_cast<std::size_t>(idx[e + 2]) * n_out;
    const float* w3 = w + static_cast<std::size_t>(idx[e + 3]) * n_out;
    vfloat a0{}, a1{}, a2{}, a3{};
    int j = 0;
    for (; j < vec_end; j += kLanes) {
      const vfloat gj = load(g + j);
      a0 += gj * load(w0 + j);
      a1 += gj * load(w1 + j);
      a2 += gj * load(w2 + j);
      a3 += gj * load(w3 + j);
    }
    float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (; j < n_out; ++j) {
      s0 += g[j] * w0[j];
      s1 += g[j] * w1[j];
      s2 += g[j] * w2[j];
      s3 += g[j] * w3[j];
    }
    out[idx[e]] += s0;
    out[idx[e + 1]] += s1;
    out[idx[e + 2]] += s2;
    out[idx[e + 3]] += s3;
  }
  for (; e < count; ++e) out[idx[e]] += dot(g, w + static_cast<std::size_t>(idx[e]) * n_out, n_out);
}
#endif
}  // namespace

void gathered_dots(const float* g, const float* w, int n_out, const std::int32_t* idx, int count,
                   float* out) {
  input_grad_row(g, w, n_out, idx, count, out);
}

void masked_input_grad(const BitMask& mask, const float* dy, const float* w, int n_in, int n_out,
                       float* dx, std::vector<std::int32_t>& scratch) {
  // Row by row, so each row of dy is loaded from L1 for all its dot products. (Blocking over
  // inputs to keep 32 weight rows in L1, or over rows to share each weight row among 32 rows of
  // dy, measured no faster on the reference workload: docs/performance.md.)
  scratch.resize(static_cast<std::size_t>(mask.words) * 64);
  for (int r = 0; r < mask.rows; ++r) {
    const int count = bit_indices(mask.row(r), mask.words, scratch.data());
    if (count > 0)
      input_grad_row(dy + static_cast<std::size_t>(r) * n_out, w, n_out, scratch.data(), count,
                     dx + static_cast<std::size_t>(r) * n_in);
  }
}

void transpose_weights(const float* w, int n_in, int n_out, std::vector<float>& wt) {
  wt.resize(static_cast<std::size_t>(n_in) * n_out);
  for (int i = 0; i < n_in; ++i)
    for (int j = 0; j < n_out; ++j)
      wt[static_cast<std::size_t>(j) * n_in + i] = w[static_cast<std::size_t>(i) * n_out + j];
}

namespace {
// dx[r0 + q][i0 : i0 + 2 * kLanes] (+)= sum_j dy[r0 + q][j] * wt[j][i0 : ...] for q < R: R rows
// times two vectors of accumulators, each wt load shared by R rows and each broadcast of dy by
// two vectors.
template <int R>
void input_grad_block(const float* dy, const float* wt, int n_in, int n_out, int i0, float* dx,
                      bool overwrite) {
  using simd::vfloat, simd::load, simd::store, simd::kLanes;
  vfloat acc[R][2];
  for (int q = 0; q < R; ++q)
    for (int h = 0; h < 2; ++h)
      acc[q][h] = overwrite ? vfloat{} : load(dx + static_cast<std::size_t>(q) * n_in + i0 + h * kLanes);
  for (int j = 0; j < n_out; ++j) {
    const float* wj = wt + static_cast<std::size_t>(j) * n_in + i0;
    const vfloat w0 = load(wj), w1 = load(wj + kLanes);
    for (int q = 0; q < R; ++q) {
      const vfloat d = vfloat{} + dy[static_cast<std::size_t>(q) * n_out + j];
      acc[q][0] += d * w0;
      acc[q][1] += d * w1;
    }
  }
  for (int q = 0; q < R; ++q)
    for (int h = 0; h < 2; ++h) store(dx + static_cast<std::size_t>(q) * n_in + i0 + h * kLanes, acc[q][h]);
}

// The columns [i0, n_in) left over by the blocks, one row, scalar.
void input_grad_tail(const float* dy, const float* wt, int n_in, int n_out, int i0, float* dx,
                     bool overwrite) {
  for (int i = i0; i < n_in; ++i) {
    float s = overwrite ? 0.0f : dx[i];
    for (int j = 0; j < n_out; ++j) s += dy[j] * wt[static_cast<std::size_t>(j) * n_in + i];
    dx[i] = s;
  }
}
}  // namespace

void dense_input_grad(const float* dy, int rows, const float* wt, int n_in, int n_out, float* dx,
                      bool overwrite) {
  constexpr int kRows = 4;
  const int blocked = n_in - n_in % (2 * simd::kLanes);
  int r = 0;
  for (; r + kRows <= rows; r += kRows) {
    const float* d = dy + static_cast<std::size_t>(r) * n_out;
    float* x = dx + static_cast<std::size_t>(r) * n_in;
    for (int i0 = 0; i0 < blocked; i0 += 2 * simd::kLanes)
      input_grad_block<kRows>(d, wt, n_in, n_out, i0, x, overwrite);
    for (int q = 0; q < kRows; ++q)
      input_grad_tail(d + static_cast<std::size_t>(q) * n_out, wt, n_in, n_out, blocked,
                      x + static_cast<std::size_t>(q) * n_in, overwrite);
  }
  for (; r < rows; ++r) {
    const float* d = dy + static_cast<std::size_t>(r) * n_out;
    float* x = dx + static_cast<std::size_t>(r) * n_in;
    for (int i0 = 0; i0 < blocked; i0 += 2 * simd::kLanes)
      input_grad_block<1>(d, wt, n_in, n_out, i0, x, overwrite);
    input_grad_tail(d, wt, n_in, n_out, blocked, x, overwrite);
  }
}

void dense_input_grad_ref(const float* dy, int rows, const float* w, int n_in, int n_out,
                          float* dx) {
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n_in; ++i) {
      double s = 0;
      for (int j = 0; j < n_out; ++j)
        s += static_cast<double>(dy[static_cast<std::size_t>(r) * n_out + j]) *
             w[static_cast<std::size_t>(i) * n_out + j];
      dx[static_cast<std::size_t>(r) * n_in + i] += static_cast<float>(s);
    }
}

void add(const float* a, const float* b, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void accumulate(const float* src, float* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace spikeline::snn::kernels
