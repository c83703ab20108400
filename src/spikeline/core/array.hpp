#pragma once
// A dense, C-ordered (row-major) n-dimensional array: the value type exchanged between stages.
// Layout: element (i0, i1, ..., ik) lives at data[((i0 * s1 + i1) * s2 + ...) + ik].
#include <cstddef>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"

namespace spikeline {

using Shape = std::vector<std::size_t>;

inline std::size_t shape_size(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), std::size_t{1}, std::multiplies<>());
}

std::string shape_to_string(const Shape& s);

template <class T>
struct Array {
  Shape shape;
  std::vector<T> data;

  Array() = default;
  explicit Array(Shape s, T fill = T{}) : shape(std::move(s)), data(shape_size(shape), fill) {}
  Array(Shape s, std::vector<T> values) : shape(std::move(s)), data(std::move(values)) {
    SPIKELINE_ASSERT(data.size() == shape_size(shape));
  }

  std::size_t size() const noexcept { return data.size(); }
  std::size_t ndim() const noexcept { return shape.size(); }
  std::size_t dim(std::size_t i) const { return shape.at(i); }
  T* ptr() noexcept { return data.data(); }
  const T* ptr() const noexcept { return data.data(); }
  std::span<T> span() noexcept { return data; }
  std::span<const T> span() const noexcept { return data; }
  T& operator[](std::size_t i) noexcept { return data[i]; }
  const T& operator[](std::size_t i) const noexcept { return data[i]; }
};

using FloatArray = Array<float>;

}  // namespace spikeline
