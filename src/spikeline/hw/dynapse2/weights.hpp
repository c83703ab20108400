#pragma once
// Dynap-SE2 weight handling (Rockpool 2.7 WeightHandler, shared docs dynapse2.md §6): the non-zero
// |weights| flattened row-major over vstack(w_in, w_rec), 4-bit masks (bit k selects Iw_k) and
// the deployed weights sign * sum_k bit_k * Iw_k.
#include <array>
#include <span>
#include <vector>

namespace spikeline::hw::dynapse2 {

inline constexpr int kWeightBits = 4;

// Row-major dense matrix.
template <class T>
struct Mat {
  int rows = 0;
  int cols = 0;
  std::vector<T> v;
  T& operator()(int r, int c) { return v[static_cast<std::size_t>(r) * cols + c]; }
  const T& operator()(int r, int c) const { return v[static_cast<std::size_t>(r) * cols + c]; }
};
using Matrix = Mat<double>;
using IntMatrix = Mat<int>;

// |w| of every non-zero entry of vstack(w_in, w_rec), row-major. Throws InputError when the
// column counts differ.
std::vector<double> flatten_weights(const Matrix& w_in, const Matrix& w_rec);

// sign(w) elementwise: -1, 0 or +1.
Matrix sign_of(const Matrix& w);

// bits[k][i] = bit k of masks[i] (masks 0..15; throws InputError outside).
std::array<std::vector<int>, kWeightBits> int_to_bits(std::span<const int> masks);
// masks[i] = sum_k bits[k][i] << k.
std::vector<int> bits_to_int(const std::array<std::vector<int>, kWeightBits>& bits);

// Puts flat masks back at the non-zero positions of w_in / w_rec (zeros elsewhere).
struct MaskPair {
  IntMatrix in;
  IntMatrix rec;
};
MaskPair reshape_masks(std::span<const int> flat_masks, const Matrix& w_in, const Matrix& w_rec);

// sign * sum_k bit_k(mask) * Iw[k], elementwise (amperes).
Matrix restore_weights(const IntMatrix& masks, const Matrix& sign, const std::array<double, kWeightBits>& Iw);

}  // namespace spikeline::hw::dynapse2
