#include "spikeline/hw/dynapse2/weights.hpp"

#include <string>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::dynapse2 {

namespace {
void check_stack(const Matrix& w_in, const Matrix& w_rec) {
  if (w_in.cols != w_rec.cols)
    throw InputError("weights", "w_in has " + std::to_string(w_in.cols) + " columns, w_rec " +
                                    std::to_string(w_rec.cols) + ": they must match");
}
}  // namespace

std::vector<double> flatten_weights(const Matrix& w_in, const Matrix& w_rec) {
  check_stack(w_in, w_rec);
  std::vector<double> out;
  for (const Matrix* m : {&w_in, &w_rec})
    for (double x : m->v)
      if (x != 0.0) out.push_back(x < 0.0 ? -x : x);
  return out;
}

Matrix sign_of(const Matrix& w) {
  Matrix s{w.rows, w.cols, std::vector<double>(w.v.size(), 0.0)};
  for (std::size_t i = 0; i < w.v.size(); ++i) s.v[i] = w.v[i] > 0.0 ? 1.0 : (w.v[i] < 0.0 ? -1.0 : 0.0);
  return s;
}

std::array<std::vector<int>, kWeightBits> int_to_bits(std::span<const int> masks) {
  std::array<std::vector<int>, kWeightBits> bits;
  for (auto& b : bits) b.resize(masks.size());
  for (std::size_t i = 0; i < masks.size(); ++i) {
    if (masks[i] < 0 || masks[i] >= (1 << kWeightBits))
      throw InputError("weight mask", "element " + std::to_string(i) + " = " + std::to_string(masks[i]) +
                                          ": masks must be 0..15");
    for (int k = 0; k < kWeightBits; ++k) bits[k][i] = (masks[i] >> k) & 1;
  }
  return bits;
}

std::vector<int> bits_to_int(const std::array<std::vector<int>, kWeightBits>& bits) {
  std::vector<int> out(bits[0].size(), 0);
  for (int k = 0; k < kWeightBits; ++k)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] |= (bits[k][i] != 0 ? 1 : 0) << k;
  return out;
}

MaskPair reshape_masks(std::span<const int> flat_masks, const Matrix& w_in, const Matrix& w_rec) {
  check_stack(w_in, w_rec);
  MaskPair out{{w_in.rows, w_in.cols, std::vector<int>(w_in.v.size(), 0)},
               {w_rec.rows, w_rec.cols, std::vector<int>(w_rec.v.size(), 0)}};
  std::size_t next = 0;
  const auto place = [&](const Matrix& w, IntMatrix& q) {
    for (std::size_t i = 0; i < w.v.size(); ++i) {
      if (w.v[i] == 0.0) continue;
      if (next >= flat_masks.size())
        throw InputError("weight mask", "fewer masks (" + std::to_string(flat_masks.size()) +
                                            ") than non-zero weights");
      q.v[i] = flat_masks[next++];
    }
  };
  place(w_in, out.in);
  place(w_rec, out.rec);
  if (next != flat_masks.size())
    throw InputError("weight mask", "more masks (" + std::to_string(flat_masks.size()) + ") than non-zero weights (" +
                                        std::to_string(next) + ")");
  return out;
}

Matrix restore_weights(const IntMatrix& masks, const Matrix& sign, const std::array<double, kWeightBits>& Iw) {
  if (masks.rows != sign.rows || masks.cols != sign.cols) throw InputError("weights", "mask and sign shapes differ");
  Matrix out{masks.rows, masks.cols, std::vector<double>(masks.v.size(), 0.0)};
  for (std::size_t i = 0; i < masks.v.size(); ++i) {
    double sum = 0.0;  // k ascending, as the bit-mask dot product
    for (int k = 0; k < kWeightBits; ++k)
      if ((masks.v[i] >> k) & 1) sum += Iw[k];
    out.v[i] = sign.v[i] * sum;
  }
  return out;
}

}  // namespace spikeline::hw::dynapse2
