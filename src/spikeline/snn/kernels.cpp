#include "spikeline/snn/kernels.hpp"

#include <algorithm>
#include <cstring>

namespace spikeline::snn::kernels {

void to_csr(const float* dense, int rows, int n, Csr& out) {
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


void events_matmul(const Csr& events, const float* w, int n_out, const float* bias, float* out) {
  using simd::vfloat, simd::load, simd::store, simd::kLanes;
  constexpr int kBlock = 8 * kLanes;  // output columns held in registers
  const int rows = events.rows();
  const int blocked = n_out - n_out % kBlock;
  for (int r = 0; r < rows; ++r) {
    float* __restrict y = out + static_cast<std::size_t>(r) * n_out;
    const int e0 = events.row_ptr[r], e1 = events.row_ptr[r + 1];
    for (int j0 = 0; j0 < blocked; j0 += kBlock) {
      vfloat acc[8];
      for (int k = 0; k < 8; ++k) acc[k] = bias ? load(bias + j0 + k * kLanes) : vfloat{};
      for (int e = e0; e < e1; ++e) {
        const float* wi = w + static_cast<std::size_t>(events.index[e]) * n_out + j0;
        const float v = events.value[e];
        if (v == 1.0f) {
          for (int k = 0; k < 8; ++k) acc[k] += load(wi + k * kLanes);
        } else {
          for (int k = 0; k < 8; ++k) acc[k] += v * load(wi + k * kLanes);
        }
      }
      for (int k = 0; k < 8; ++k) store(y + j0 + k * kLanes, acc[k]);
    }
    if (blocked == n_out) continue;
    const int rest = n_out - blocked;
    if (bias)
      std::memcpy(y + blocked, bias + blocked, sizeof(float) * rest);
    else
      std::memset(y + blocked, 0, sizeof(float) * rest);
    for (int e = e0; e < e1; ++e)
      axpy(events.value[e], w + static_cast<std::size_t>(events.index[e]) * n_out + blocked,
           y + blocked, rest);
  }
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
  using simd::vfloat, simd::load, simd::store, simd::kLanes;
  constexpr int kBlock = 8 * kLanes;
  const int n_in = by_column.rows();
  const int blocked = n_out - n_out % kBlock;
  for (int i = 0; i < n_in; ++i) {
    const int e0 = by_column.row_ptr[i], e1 = by_column.row_ptr[i + 1];
    if (e0 == e1) continue;
    float* __restrict dwi = dw + static_cast<std::size_t>(i) * n_out;
    for (int j0 = 0; j0 < blocked; j0 += kBlock) {
      vfloat acc[8];
      for (int k = 0; k < 8; ++k) acc[k] = load(dwi + j0 + k * kLanes);
      for (int e = e0; e < e1; ++e) {
        const float* g = dy + static_cast<std::size_t>(by_column.index[e]) * n_out + j0;
        const float v = by_column.value[e];
        if (v == 1.0f) {
          for (int k = 0; k < 8; ++k) acc[k] += load(g + k * kLanes);
        } else {
          for (int k = 0; k < 8; ++k) acc[k] += v * load(g + k * kLanes);
        }
      }
      for (int k = 0; k < 8; ++k) store(dwi + j0 + k * kLanes, acc[k]);
    }
    if (blocked == n_out) continue;
    for (int e = e0; e < e1; ++e)
      axpy(by_column.value[e], dy + static_cast<std::size_t>(by_column.index[e]) * n_out + blocked,
           dwi + blocked, n_out - blocked);
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
// out[idx[k]] += dot(g, w[idx[k]][:]) for k < count; four dot products at a time share each
// load of g.
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
  {
    const int e1 = count;
    const std::int32_t* index = idx;
    for (; e + 4 <= e1; e += 4) {
      const float* w0 = w + static_cast<std::size_t>(index[e]) * n_out;
      const float* w1 = w + static_cast<std::size_t>(index[e + 1]) * n_out;
      const float* w2 = w + static_cast<std::size_t>(index[e + 2]) * n_out;
      const float* w3 = w + static_cast<std::size_t>(index[e + 3]) * n_out;
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
      out[index[e]] += s0;
      out[index[e + 1]] += s1;
      out[index[e + 2]] += s2;
      out[index[e + 3]] += s3;
    }
    for (; e < e1; ++e) {
      const int i = index[e];
      out[i] += dot(g, w + static_cast<std::size_t>(i) * n_out, n_out);
    }
  }
}
}  // namespace

void masked_input_grad(const Csr& mask, const float* dy, const float* w, int n_in, int n_out,
                       float* dx) {
  const int rows = mask.rows();
  for (int r = 0; r < rows; ++r)
    input_grad_row(dy + static_cast<std::size_t>(r) * n_out, w, n_out,
                   mask.index.data() + mask.row_ptr[r], mask.row_ptr[r + 1] - mask.row_ptr[r],
                   dx + static_cast<std::size_t>(r) * n_in);
}

void dense_input_grad(const float* dy, int rows, const float* w, int n_in, int n_out, float* dx) {
  std::vector<std::int32_t> all(n_in);
  for (int i = 0; i < n_in; ++i) all[i] = i;
  for (int r = 0; r < rows; ++r)
    input_grad_row(dy + static_cast<std::size_t>(r) * n_out, w, n_out, all.data(), n_in,
                   dx + static_cast<std::size_t>(r) * n_in);
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

void csr_union(const Csr* const* masks, int count, int n, Csr& out,
               std::vector<std::uint8_t>& scratch) {
  const int rows = masks[0]->rows();
  scratch.assign(static_cast<std::size_t>(n), 0);
  out.row_ptr.resize(static_cast<std::size_t>(rows) + 1);
  out.row_ptr[0] = 0;
  std::size_t k = 0;
  for (int r = 0; r < rows; ++r) {
    for (int m = 0; m < count; ++m)
      for (int e = masks[m]->row_ptr[r]; e < masks[m]->row_ptr[r + 1]; ++e)
        scratch[masks[m]->index[e]] = 1;
    out.ensure(k, n, false);
    std::int32_t* idx = out.index.data();
    for (int i = 0; i < n; ++i) {
      idx[k] = i;
      k += scratch[i];
      scratch[i] = 0;
    }
    out.row_ptr[r + 1] = static_cast<std::int32_t>(k);
  }
}

void add(const float* a, const float* b, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void accumulate(const float* src, float* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace spikeline::snn::kernels
