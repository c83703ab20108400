#pragma once
// NumPy .npy and .npz files (format version 1.0/2.0/3.0 read, 1.0 written; C order only).
// Supported dtypes: float32, float64, int8..int64, uint8..uint64, bool; little- or big-endian on
// read, little-endian on write. .npz archives may be stored or deflated; written deflated by default.
// Errors on malformed input throw spikeline::InputError naming the file (and the member of an
// archive) and what was expected.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "spikeline/core/array.hpp"

namespace spikeline::io {

enum class DType { f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, b1 };

std::size_t dtype_size(DType t);
std::string dtype_name(DType t);  // NumPy descr without byte order, e.g. "f4", "i8", "b1"

// A typed array as stored in a .npy file: raw little-endian bytes in C order.
struct NpyArray {
  DType dtype = DType::f32;
  Shape shape;
  std::vector<std::uint8_t> bytes;  // shape_size(shape) * dtype_size(dtype) bytes

  std::size_t size() const { return shape_size(shape); }

  // Element-wise numeric conversion (bool -> 0/1).
  std::vector<float> to_float() const;
  std::vector<double> to_double() const;
  std::vector<std::int64_t> to_int64() const;
  Array<float> to_float_array() const { return Array<float>(shape, to_float()); }

  template <class T>
  static NpyArray from(const Shape& shape, std::span<const T> values);  // T: any supported type
  static NpyArray from(const Array<float>& a) { return from<float>(a.shape, a.span()); }
};

// Parsing from memory (also the fuzz entry points). `name` is used in error messages.
NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& name);
std::vector<std::uint8_t> serialize_npy(const NpyArray& array);

NpyArray read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& array);  // atomic

// An .npz archive: named arrays in file order. Names have no ".npy" suffix.
class Npz {
 public:
  void add(std::string name, NpyArray array);  // replaces an existing member of that name
  bool contains(const std::string& name) const;
  const NpyArray& at(const std::string& name) const;  // InputError naming the missing member
  const std::vector<std::pair<std::string, NpyArray>>& members() const { return members_; }
  std::string source;  // file it was read from (for error messages); empty if built in memory

 private:
  std::vector<std::pair<std::string, NpyArray>> members_;
};

Npz parse_npz(std::span<const std::uint8_t> bytes, const std::string& name);
std::vector<std::uint8_t> serialize_npz(const Npz& npz, bool compress = true);
Npz read_npz(const std::filesystem::path& path);
void write_npz(const std::filesystem::path& path, const Npz& npz, bool compress = true);  // atomic

}  // namespace spikeline::io
