#pragma once
// Numeric kernels of the spiking engine. Every fast kernel has a plain reference twin (suffix
// _ref) and a test comparing the two (tests/unit/snn/test_kernels.cpp).
//
// Layouts (all row-major, contiguous):
//   activations  [rows][n]      rows = T * B (time-major inside a micro-batch: row = t * B + b)
//   weights      [n_in][n_out]  (y = x W), so row i of W is the fan-out of input i
//   events       CSR over rows: row_ptr[rows + 1], index[nnz] (column), value[nnz] (count/value)
// Spike rasters are sparse (hidden layers spike ~10 % of the time), so products with them are
// event-driven: the cost is proportional to the number of events, not to rows * n_in.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace spikeline::snn::kernels {

namespace simd {
// Explicit SIMD through GCC/Clang vector extensions: portable (the compiler lowers the width to
// whatever the target has) and free of the reassociation that auto-vectorised reductions need.
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#else
constexpr int kLanes = 8;
#endif
typedef float vfloat __attribute__((vector_size(kLanes * sizeof(float))));
inline vfloat load(const float* p) {
  vfloat v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vfloat v) { std::memcpy(p, &v, sizeof v); }

// y[0:n] += a * x[0:n]
inline void axpy(float a, const float* __restrict x, float* __restrict y, int n) {
  int j = 0;
  const vfloat va = vfloat{} + a;
  for (; j + kLanes <= n; j += kLanes) store(y + j, load(y + j) + va * load(x + j));
  for (; j < n; ++j) y[j] += a * x[j];
}
inline void axpy_one(const float* __restrict x, float* __restrict y, int n) {
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) store(y + j, load(y + j) + load(x + j));
  for (; j < n; ++j) y[j] += x[j];
}
inline float dot(const float* __restrict a, const float* __restrict b, int n) {
  vfloat s0{}, s1{}, s2{}, s3{};
  int j = 0;
  for (; j + 4 * kLanes <= n; j += 4 * kLanes) {
    s0 += load(a + j) * load(b + j);
    s1 += load(a + j + kLanes) * load(b + j + kLanes);
    s2 += load(a + j + 2 * kLanes) * load(b + j + 2 * kLanes);
    s3 += load(a + j + 3 * kLanes) * load(b + j + 3 * kLanes);
  }
  for (; j + kLanes <= n; j += kLanes) s0 += load(a + j) * load(b + j);
  const vfloat s = (s0 + s1) + (s2 + s3);
  float total = 0.0f;
  for (int k = 0; k < kLanes; ++k) total += s[k];
  for (; j < n; ++j) total += a[j] * b[j];
  return total;
}
}  // namespace simd

using simd::axpy;
using simd::axpy_one;
using simd::dot;

// Compressed sparse rows of a [rows][n] matrix. Entries of row r are [row_ptr[r], row_ptr[r+1]);
// index/value may be longer than nnz(): they keep their capacity between calls, so refilling a
// Csr of the same size allocates nothing.
struct Csr {
  std::vector<std::int32_t> row_ptr;
  std::vector<std::int32_t> index;
  std::vector<float> value;  // unused (empty) for masks
  std::vector<std::int32_t> scratch;  // work space of transpose_events
  int rows() const { return row_ptr.empty() ? 0 : static_cast<int>(row_ptr.size()) - 1; }
  std::size_t nnz() const { return row_ptr.empty() ? 0 : static_cast<std::size_t>(row_ptr.back()); }
  // Makes room for `extra` more entries after the first `used` ones.
  void ensure(std::size_t used, std::size_t extra, bool with_values) {
    if (index.size() < used + extra) index.resize(std::max(used + extra, index.size() * 2));
    if (with_values && value.size() < index.size()) value.resize(index.size());
  }
};

// A 0/1 pattern over [rows][n] (e.g. where a surrogate gradient is non-zero), one bit per entry,
// 64 entries a word, every row starting on a fresh word. Unions are word-wise ORs and listing the
// set entries costs one ctz per entry plus one test per word, instead of one test per entry.
struct BitMask {
  int rows = 0, n = 0, words = 0;  // words per row
  std::vector<std::uint64_t> bits;
  // Contents are unspecified afterwards (callers overwrite every word).
  void resize(int new_rows, int new_n) {
    rows = new_rows;
    n = new_n;
    words = (new_n + 63) / 64;
    bits.resize(static_cast<std::size_t>(rows) * words);
  }
  std::uint64_t* row(int r) { return bits.data() + static_cast<std::size_t>(r) * words; }
  const std::uint64_t* row(int r) const { return bits.data() + static_cast<std::size_t>(r) * words; }
  bool test(int r, int i) const { return (row(r)[i >> 6] >> (i & 63)) & 1u; }
  std::size_t count() const {
    std::size_t c = 0;
    for (std::uint64_t w : bits) c += static_cast<std::size_t>(std::popcount(w));
    return c;
  }
};

// Writes the positions of the set bits of one mask row (ascending) to idx; returns how many.
inline int bit_indices(const std::uint64_t* row, int words, std::int32_t* idx) {
  int k = 0;
  for (int w = 0; w < words; ++w)
    for (std::uint64_t bits = row[w]; bits != 0; bits &= bits - 1)
      idx[k++] = w * 64 + std::countr_zero(bits);
  return k;
}

// out = a | b (same shape); out may alias a or b.
void bitmask_or(const BitMask& a, const BitMask& b, BitMask& out);

// CSR of the non-zero entries of dense[rows][n].
void to_csr(const float* dense, int rows, int n, Csr& out);
void to_csr_ref(const float* dense, int rows, int n, Csr& out);

// out[r][:] = sum_{(i, v) in events row r} v * w[i][:]  (+ bias[:] if bias != nullptr).
// Overwrites out[rows][n_out].
void events_matmul(const Csr& events, const float* w, int n_out, const float* bias, float* out);
void dense_matmul_ref(const float* x, int rows, int n_in, const float* w, int n_out,
                      const float* bias, float* out);

// One row of events_matmul: out[:] = sum_{k < count} value[k] * w[index[k]][:] (overwrites out).
void events_row_matmul(const std::int32_t* index, const float* value, int count, const float* w,
                       int n_out, float* out);

// out[idx[k]] += dot(g[:], w[idx[k]][:]) for k < count (several dot products share each load of g).
void gathered_dots(const float* g, const float* w, int n_out, const std::int32_t* idx, int count,
                   float* out);

// The same events by column: for input i, the rows r with x[r][i] != 0 (a transposition).
void transpose_events(const Csr& events, int n_in, Csr& by_column);

// dw[i][:] += sum_{rows r} x[r][i] * dy[r][:], with x given as events by column
// (transpose_events), so each row of dw is accumulated in registers.
void events_weight_grad(const Csr& by_column, const float* dy, int n_out, float* dw);
void dense_weight_grad_ref(const float* x, int rows, int n_in, const float* dy, int n_out,
                           float* dw);

// dx[r][i] += dot(dy[r][:], w[i][:]) for the (r, i) set in `mask` (other entries untouched):
// the input gradient is only needed where a downstream surrogate is non-zero. `scratch` holds
// one row of indices (resized here once).
void masked_input_grad(const BitMask& mask, const float* dy, const float* w, int n_in, int n_out,
                       float* dx, std::vector<std::int32_t>& scratch);
// dx[r][:] (+)= dy[r][:] W^T for all entries, from the transposed weights wt [n_out][n_in]
// (transpose_weights): a GEMM that vectorises over the inputs, so it needs no horizontal sums and
// suits few outputs (n_out < one vector) or dense masks. Overwrites dx when `overwrite`.
void transpose_weights(const float* w, int n_in, int n_out, std::vector<float>& wt);
void dense_input_grad(const float* dy, int rows, const float* wt, int n_in, int n_out, float* dx,
                      bool overwrite);
// Reference of both: dx[r][i] += dy[r][:] . w[i][:] (w not transposed).
void dense_input_grad_ref(const float* dy, int rows, const float* w, int n_in, int n_out,
                          float* dx);

// Adds a + b element-wise into out (n values).
void add(const float* a, const float* b, float* out, std::size_t n);
void accumulate(const float* src, float* dst, std::size_t n);  // dst += src

}  // namespace spikeline::snn::kernels
