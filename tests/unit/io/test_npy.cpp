// Tests for NumPy .npy/.npz reading and writing: round trips of every dtype, golden files written
// by real NumPy (tests/data/npy, made by make.py there), and malformed inputs that must raise
// InputError with a message naming the file, the member and what was expected.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::io {
namespace {

using Bytes = std::vector<std::uint8_t>;

// ------------------------------------------------------------------------------------------------
// Helpers

std::filesystem::path golden_path(const std::string& name) {
  return std::filesystem::path(SPIKELINE_SOURCE_DIR) / "tests" / "data" / "npy" / name;
}

Bytes golden(const std::string& name) { return read_file_bytes(golden_path(name)); }

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("spikeline_npy_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Runs `fn`, which must throw InputError, and returns its message ("" after a test failure).
template <class Fn>
std::string input_error(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
  return "";
}

::testing::AssertionResult has_substr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

std::string npy_error(const Bytes& bytes, const std::string& name = "x.npy") {
  return input_error([&] { parse_npy(bytes, name); });
}

std::string npz_error(const Bytes& bytes, const std::string& name = "x.npz") {
  return input_error([&] { parse_npz(bytes, name); });
}

// A version-1.0 .npy file with the given header dict text (unpadded) followed by `data`.
Bytes npy_with_header(const std::string& dict, const Bytes& data = {}, int major = 1) {
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const std::string header = dict + "\n";
  const std::size_t n = header.size();
  out.push_back(static_cast<std::uint8_t>(n & 0xff));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  if (major != 1) {
    out.push_back(0);
    out.push_back(0);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(v & 0xff);
  b.push_back(v >> 8);
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}
std::uint32_t crc32_of(const Bytes& data) {  // bitwise CRC-32 (ZIP), independent of zlib
  std::uint32_t crc = 0xffffffff;
  for (const std::uint8_t byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

struct RawMember {
  std::string name;
  Bytes data;
  std::uint32_t local_offset_override = 0xffffffff;  // to forge overlapping members
};

// A minimal stored ZIP archive, independent of the code under test, for forging bad archives.
Bytes stored_zip(const std::vector<RawMember>& members) {
  Bytes out;
  std::vector<std::uint32_t> offsets;
  for (const auto& m : members) {
    offsets.push_back(static_cast<std::uint32_t>(out.size()));
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc32_of(m.data));
    put32(out, static_cast<std::uint32_t>(m.data.size()));
    put32(out, static_cast<std::uint32_t>(m.data.size()));
    put16(out, static_cast<std::uint16_t>(m.name.size()));
    put16(out, 0);
    out.insert(out.end(), m.name.begin(), m.name.end());
    out.insert(out.end(), m.data.begin(), m.data.end());
  }
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    put32(out, 0x02014b50);
    put16(out, 20);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc32_of(m.data));
    put32(out, static_cast<std::uint32_t>(m.data.size()));
    put32(out, static_cast<std::uint32_t>(m.data.size()));
    put16(out, static_cast<std::uint16_t>(m.name.size()));
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put32(out, 0);
    put32(out, m.local_offset_override != 0xffffffff ? m.local_offset_override : offsets[i]);
    out.insert(out.end(), m.name.begin(), m.name.end());
  }
  const auto cd_size = static_cast<std::uint32_t>(out.size() - cd_offset);
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint16_t>(members.size()));
  put16(out, static_cast<std::uint16_t>(members.size()));
  put32(out, cd_size);
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

// Offsets of every occurrence of a 4-byte little-endian signature.
std::vector<std::size_t> find_signature(const Bytes& b, std::uint32_t sig) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i + 4 <= b.size(); ++i) {
    std::uint32_t v;
    std::memcpy(&v, &b[i], 4);
    if (v == sig) at.push_back(i);
  }
  return at;
}

NpyArray f32_array(const Shape& shape) {
  std::vector<float> v(shape_size(shape));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * static_cast<float>(i) - 1.0f;
  return NpyArray::from<float>(shape, v);
}

// The values make.py writes for each dtype, as C++.
template <class T>
std::vector<T> golden_values() {
  if constexpr (std::is_same_v<T, bool>) {
    return {true, false, true, false, false, true};
  } else if constexpr (std::is_floating_point_v<T>) {
    const T inf = std::numeric_limits<T>::infinity();
    return {T(0), T(-1.5), T(0.1), T(1e30), inf, -inf};
  } else if constexpr (std::is_signed_v<T>) {
    return {std::numeric_limits<T>::min(), T(-1), T(0), T(1), T(2), std::numeric_limits<T>::max()};
  } else {
    return {T(0), T(1), T(2), T(3), T(4), std::numeric_limits<T>::max()};
  }
}

// ------------------------------------------------------------------------------------------------
// Round trips of every dtype

template <class T>
class NpyTypedTest : public ::testing::Test {};
using AllTypes =
    ::testing::Types<float, double, std::int8_t, std::int16_t, std::int32_t, std::int64_t,
                     std::uint8_t, std::uint16_t, std::uint32_t, std::uint64_t, bool>;
TYPED_TEST_SUITE(NpyTypedTest, AllTypes);

template <class T>
std::vector<T> sample_values(std::size_t n) {
  const std::vector<T> pool = golden_values<T>();
  std::vector<T> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(pool[i % pool.size()]);
  return v;
}

TYPED_TEST(NpyTypedTest, RoundTripsSeveralShapes) {
  using T = TypeParam;
  for (const Shape& shape :
       {Shape{}, Shape{0}, Shape{7}, Shape{2, 3}, Shape{2, 0, 4}, Shape{1, 2, 3, 4}, Shape{3, 1}}) {
    SCOPED_TRACE("shape " + shape_to_string(shape));
    const auto values = sample_values<T>(shape_size(shape));
    // std::vector<bool> has no contiguous storage; copy into a plain array for the span.
    std::unique_ptr<T[]> storage(new T[values.size() + 1]);
    std::copy(values.begin(), values.end(), storage.get());
    const NpyArray a = NpyArray::from<T>(shape, std::span<const T>(storage.get(), values.size()));
    EXPECT_EQ(a.bytes.size(), values.size() * dtype_size(a.dtype));

    const NpyArray b = parse_npy(serialize_npy(a), "mem.npy");
    EXPECT_EQ(b.dtype, a.dtype);
    EXPECT_EQ(b.shape, shape);
    EXPECT_EQ(b.bytes, a.bytes);
    EXPECT_EQ(b.size(), values.size());
  }
}

TYPED_TEST(NpyTypedTest, MatchesNumpyGoldenFileByteForByte) {
  using T = TypeParam;
  const auto values = golden_values<T>();
  std::unique_ptr<T[]> storage(new T[values.size()]);
  std::copy(values.begin(), values.end(), storage.get());
  const NpyArray expected = NpyArray::from<T>({2, 3}, std::span<const T>(storage.get(), 6));
  const std::string file = dtype_name(expected.dtype) + "_2x3.npy";

  const Bytes numpy_bytes = golden(file);
  const NpyArray read = parse_npy(numpy_bytes, file);
  EXPECT_EQ(read.dtype, expected.dtype);
  EXPECT_EQ(read.shape, (Shape{2, 3}));
  EXPECT_EQ(read.bytes, expected.bytes);
  // Our writer reproduces NumPy's header, padding included.
  EXPECT_EQ(serialize_npy(read), numpy_bytes);
}

TEST(Npy, DtypeNamesAndSizes) {
  EXPECT_EQ(dtype_name(DType::f32), "f4");
  EXPECT_EQ(dtype_name(DType::u16), "u2");
  EXPECT_EQ(dtype_name(DType::b1), "b1");
  EXPECT_EQ(dtype_size(DType::f64), 8u);
  EXPECT_EQ(dtype_size(DType::i16), 2u);
  EXPECT_EQ(dtype_size(DType::b1), 1u);
}

TEST(Npy, FileRoundTripIsAtomicAndReadable) {
  TempDir dir;
  const NpyArray a = f32_array({3, 4});
  write_npy(dir / "a.npy", a);
  const NpyArray b = read_npy(dir / "a.npy");
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.to_float(), a.to_float());
  // No temporary files left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir / "")) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(Npy, FloatArrayHelpers) {
  const Array<float> a({2, 2}, std::vector<float>{1, 2, 3, 4});
  const NpyArray n = NpyArray::from(a);
  EXPECT_EQ(n.dtype, DType::f32);
  const Array<float> back = parse_npy(serialize_npy(n), "m").to_float_array();
  EXPECT_EQ(back.shape, a.shape);
  EXPECT_EQ(back.data, a.data);
}

TEST(Npy, LongHeaderSwitchesToVersion2) {
  const Shape shape(25000, 1);  // "1, " x 25000 > 65535 bytes of header
  const NpyArray a = NpyArray::from<std::uint8_t>(shape, std::vector<std::uint8_t>{42});
  const Bytes bytes = serialize_npy(a);
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ((bytes.size() - 1) % 64, 0u);  // data (one byte) starts 64-byte aligned
  const NpyArray b = parse_npy(bytes, "long.npy");
  EXPECT_EQ(b.shape, shape);
  EXPECT_EQ(b.bytes, a.bytes);
}

TEST(Npy, SmallHeaderIsVersion1AndAligned) {
  const Bytes bytes = serialize_npy(f32_array({2, 3}));
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ((bytes.size() - 24) % 64, 0u);
}

// ------------------------------------------------------------------------------------------------
// Conversions

TEST(NpyConvert, EveryDtypeToDoubleFloatAndInt64) {
  const std::vector<std::int16_t> v = {-3, 0, 7};
  const NpyArray a = NpyArray::from<std::int16_t>({3}, v);
  EXPECT_EQ(a.to_double(), (std::vector<double>{-3, 0, 7}));
  EXPECT_EQ(a.to_float(), (std::vector<float>{-3, 0, 7}));
  EXPECT_EQ(a.to_int64(), (std::vector<std::int64_t>{-3, 0, 7}));

  const std::vector<double> d = {1.75, -2.5, 1e300};
  const NpyArray b = NpyArray::from<double>({3}, d);
  EXPECT_EQ(b.to_double(), d);
  EXPECT_EQ(b.to_float()[0], 1.75f);
  EXPECT_TRUE(std::isinf(b.to_float()[2]));

  const std::vector<std::uint64_t> u = {0, 1ull << 53};
  EXPECT_EQ(NpyArray::from<std::uint64_t>({2}, u).to_int64(),
            (std::vector<std::int64_t>{0, std::int64_t{1} << 53}));
}

TEST(NpyConvert, Int64TruncatesFloatsTowardZero) {
  const std::vector<float> v = {1.9f, -1.9f, 0.0f};
  EXPECT_EQ(NpyArray::from<float>({3}, v).to_int64(), (std::vector<std::int64_t>{1, -1, 0}));
}

TEST(NpyConvert, Int64RejectsUnrepresentableValues) {
  const std::vector<double> nan = {0.0, std::nan("")};
  EXPECT_TRUE(
      has_substr(input_error([&] { NpyArray::from<double>({2}, nan).to_int64(); }), "element 1"));
  const std::vector<float> big = {1e19f};
  EXPECT_TRUE(has_substr(input_error([&] { NpyArray::from<float>({1}, big).to_int64(); }),
                         "not representable as int64"));
  const std::vector<std::uint64_t> huge = {std::numeric_limits<std::uint64_t>::max()};
  EXPECT_TRUE(has_substr(input_error([&] { NpyArray::from<std::uint64_t>({1}, huge).to_int64(); }),
                         "not representable as int64"));
}

TEST(NpyConvert, BoolsBecomeZeroOrOne) {
  const bool v[] = {true, false, true};
  const NpyArray a = NpyArray::from<bool>({3}, std::span<const bool>(v, 3));
  EXPECT_EQ(a.to_float(), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(a.to_int64(), (std::vector<std::int64_t>{1, 0, 1}));
  // NumPy treats any non-zero byte as True; reading normalises it to 1.
  const NpyArray b = parse_npy(
      npy_with_header("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}", {0, 7}), "b.npy");
  EXPECT_EQ(b.bytes, (Bytes{0, 1}));
}

TEST(NpyConvert, InconsistentArrayIsAnError) {
  NpyArray a = f32_array({2, 2});
  a.bytes.pop_back();
  EXPECT_THROW(a.to_float(), Error);
  EXPECT_THROW(serialize_npy(a), Error);
}

// ------------------------------------------------------------------------------------------------
// Files written by NumPy

TEST(NpyGolden, BigEndianIsSwappedToLittleEndian) {
  for (const std::string code : {"f8", "i4", "u2"}) {
    SCOPED_TRACE(code);
    const NpyArray little = parse_npy(golden(code + "_2x3.npy"), "le");
    const NpyArray big = parse_npy(golden("be_" + code + "_2x3.npy"), "be");
    EXPECT_EQ(big.dtype, little.dtype);
    EXPECT_EQ(big.shape, little.shape);
    EXPECT_EQ(big.bytes, little.bytes);
  }
  EXPECT_EQ(parse_npy(golden("be_i4_2x3.npy"), "be").to_int64(),
            (std::vector<std::int64_t>{INT32_MIN, -1, 0, 1, 2, INT32_MAX}));
}

TEST(NpyGolden, ScalarEmptyAndVector) {
  const NpyArray scalar = read_npy(golden_path("scalar_f8.npy"));
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.to_double(), (std::vector<double>{3.5}));

  const NpyArray empty = read_npy(golden_path("empty_f4_0x3.npy"));
  EXPECT_EQ(empty.shape, (Shape{0, 3}));
  EXPECT_TRUE(empty.bytes.empty());

  const NpyArray vec = read_npy(golden_path("vec_i8.npy"));
  EXPECT_EQ(vec.shape, (Shape{5}));
  EXPECT_EQ(vec.to_int64(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(NpyGolden, FormatVersions2And3) {
  const NpyArray v1 = parse_npy(golden("f4_2x3.npy"), "v1");
  for (const std::string file : {"v2_f4_2x3.npy", "v3_f4_2x3.npy"}) {
    const NpyArray v = read_npy(golden_path(file));
    EXPECT_EQ(v.shape, v1.shape) << file;
    EXPECT_EQ(v.bytes, v1.bytes) << file;
  }
}

TEST(NpyGolden, UnsupportedNumpyFilesAreRejectedClearly) {
  EXPECT_TRUE(has_substr(input_error([] { read_npy(golden_path("fortran_f8_2x3.npy")); }),
                         "fortran_f8_2x3.npy: Fortran order not supported"));
  EXPECT_TRUE(has_substr(input_error([] { read_npy(golden_path("object.npy")); }),
                         "object arrays (descr '|O') are not supported"));
  EXPECT_TRUE(has_substr(input_error([] { read_npy(golden_path("complex_c8.npy")); }),
                         "unsupported dtype '<c8'"));
}

TEST(NpzGolden, StoredDeflatedAndZip64Archives) {
  for (const std::string file : {"savez_stored.npz", "savez_deflated.npz", "zip64.npz"}) {
    SCOPED_TRACE(file);
    const Npz npz = read_npz(golden_path(file));
    EXPECT_EQ(npz.source, golden_path(file).string());
    std::vector<std::string> names;
    for (const auto& member : npz.members()) names.push_back(member.first);
    if (file == "zip64.npz") {
      EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
    } else {
      EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "arr_0"}));
      EXPECT_EQ(npz.at("arr_0").dtype, DType::u16);
      EXPECT_EQ(npz.at("arr_0").bytes, parse_npy(golden("u2_2x3.npy"), "u2").bytes);
    }
    EXPECT_EQ(npz.at("a").bytes, parse_npy(golden("f4_2x3.npy"), "f4").bytes);
    EXPECT_EQ(npz.at("b").to_int64(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(npz.at("c").bytes, parse_npy(golden("b1_2x3.npy"), "b1").bytes);
  }
}

// ------------------------------------------------------------------------------------------------
// Header dict variants that must be accepted

TEST(NpyHeader, AcceptsLiberalSpellings) {
  const Bytes four_floats(16, 0);
  const struct {
    const char* dict;
    Shape shape;
  } cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", {4}},
      {"{'shape': (4,), 'descr': '<f4', 'fortran_order': False}", {4}},
      {"{ 'fortran_order' :False ,'shape':( 2 , 2 ) ,'descr':'<f4' , }   ", {2, 2}},
      {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (4,)}", {4}},
      {"{'descr': '<f4',\n 'fortran_order': False,\t'shape': (2L, 2L)}", {2, 2}},
      {"{'descr': '=f4', 'fortran_order': False, 'shape': (1, 4, 1,)}", {1, 4, 1}},
      {"{'descr': 'f4', 'fortran_order': False, 'shape': (4,), 'extra': [1, (2, 3), {'k': None}]}",
       {4}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dict);
    const NpyArray a = parse_npy(npy_with_header(c.dict, four_floats), "ok.npy");
    EXPECT_EQ(a.dtype, DType::f32);
    EXPECT_EQ(a.shape, c.shape);
  }
  const NpyArray scalar =
      parse_npy(npy_with_header("{'descr':'<i2','fortran_order':False,'shape':()}", {5, 0}), "s");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.to_int64(), (std::vector<std::int64_t>{5}));
  const NpyArray boolean =
      parse_npy(npy_with_header("{'descr':'?','fortran_order':False,'shape':(1,)}", {1}), "b");
  EXPECT_EQ(boolean.dtype, DType::b1);
  const NpyArray big =
      parse_npy(npy_with_header("{'descr':'>i8','fortran_order':False,'shape':(1,)}",
                                {0, 0, 0, 0, 0, 0, 1, 2}),
                "big");
  EXPECT_EQ(big.to_int64(), (std::vector<std::int64_t>{258}));
}

TEST(NpyHeader, FortranOrderFalseWithVersion2Length) {
  const NpyArray a = parse_npy(
      npy_with_header("{'descr':'|u1','fortran_order':False,'shape':(3,)}", {1, 2, 3}, 2), "v2");
  EXPECT_EQ(a.to_int64(), (std::vector<std::int64_t>{1, 2, 3}));
}

// ------------------------------------------------------------------------------------------------
// Malformed .npy input

TEST(NpyMalformed, BadMagic) {
  Bytes b = serialize_npy(f32_array({2}));
  b[1] = 'X';
  EXPECT_TRUE(has_substr(npy_error(b), "x.npy: not a .npy file: bad magic"));
  EXPECT_TRUE(has_substr(npy_error({}), "truncated header: expected at least 10 bytes, found 0"));
  EXPECT_TRUE(has_substr(npy_error(to_bytes("PK\x03\x04")), "bad magic"));
}

TEST(NpyMalformed, TruncatedHeader) {
  const Bytes b = serialize_npy(f32_array({2}));
  EXPECT_TRUE(has_substr(npy_error(Bytes(b.begin(), b.begin() + 7)),
                         "x.npy: truncated header: expected at least 10 bytes, found 7"));
  EXPECT_TRUE(has_substr(npy_error(Bytes(b.begin(), b.begin() + 9)), "truncated header"));
  EXPECT_TRUE(has_substr(npy_error(Bytes(b.begin(), b.begin() + 40)),
                         "truncated header: expected 128 bytes, found 40"));
}

TEST(NpyMalformed, TruncatedAndExcessData) {
  Bytes b = serialize_npy(f32_array({2, 3}));
  b.resize(b.size() - 4);
  EXPECT_TRUE(has_substr(npy_error(b), "x.npy: truncated data: expected 24 bytes, found 20"));
  b.resize(b.size() + 8);
  EXPECT_TRUE(has_substr(npy_error(b), "4 unexpected bytes after the array data"));
}

TEST(NpyMalformed, UnsupportedVersion) {
  Bytes b = serialize_npy(f32_array({2}));
  b[6] = 4;
  EXPECT_TRUE(has_substr(npy_error(b), "unsupported .npy format version 4.0"));
  b[6] = 1;
  b[7] = 1;
  EXPECT_TRUE(has_substr(npy_error(b), "version 1.1"));
}

TEST(NpyMalformed, BadHeaderDicts) {
  const struct {
    std::string dict;
    std::string message;
  } cases[] = {
      {"", "expected '{' starting the header dict"},
      {"['descr']", "expected '{'"},
      {"{'descr' '<f4'}", "expected ':' after key 'descr'"},
      {"{'descr': '<f4", "expected closing '"},
      {"{'descr': '<f4' 'shape': ()}", "expected ',' or '}'"},
      {"{descr: '<f4'}", "expected a quoted key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "expected end of header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "found end of header"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': ()}", "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': ()}", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': ()}",
       "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 3}", "'shape' must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", "'shape' must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", "'shape' must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ('3',)}", "must contain integers"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", "negative dimension -1"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
       "an integer below 2^64"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': ()}",
       "'fortran_order' must be True or False"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': ()}", "expected True, False, None"},
      {"{'descr': 4, 'fortran_order': False, 'shape': ()}", "'descr' must be a string"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}", "structured dtypes"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", "Fortran order not supported"},
      {"{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "object arrays"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype '<f2'"},
      {"{'descr': '<U5', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype '<U5'"},
      {"{'descr': '', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype ''"},
      {"{'x': " + std::string(100, '(') + "}", "at most 16 levels of nesting"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dict);
    const std::string message = npy_error(npy_with_header(c.dict, Bytes(64, 0)));
    EXPECT_TRUE(has_substr(message, "x.npy: "));
    EXPECT_TRUE(has_substr(message, c.message));
  }
}

TEST(NpyMalformed, AbsurdShapesFailBeforeAllocating) {
  // 8 * 10^12 bytes declared, none present: must fail on the length check, not on allocation.
  EXPECT_TRUE(has_substr(
      npy_error(npy_with_header("{'descr':'<f8','fortran_order':False,'shape':(1000000,1000000)}")),
      "truncated data: expected 8000000000000 bytes, found 0"));
  EXPECT_TRUE(has_substr(
      npy_error(npy_with_header(
          "{'descr':'<f8','fortran_order':False,'shape':(4294967296,4294967296,4294967296)}")),
      "is too large (size overflows)"));
  // A zero dimension makes the array empty however large the others are.
  const NpyArray empty = parse_npy(
      npy_with_header("{'descr':'<f8','fortran_order':False,'shape':(18446744073709551615,0)}"),
      "e");
  EXPECT_EQ(empty.size(), 0u);
}

TEST(NpyMalformed, ErrorsAreInputErrorsNamingTheFile) {
  try {
    read_npy(golden_path("fortran_f8_2x3.npy"));
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), golden_path("fortran_f8_2x3.npy").string());
  }
}

// ------------------------------------------------------------------------------------------------
// .npz round trips and the Npz container

Npz sample_npz() {
  Npz npz;
  npz.add("weights", f32_array({3, 4}));
  npz.add("labels", NpyArray::from<std::int64_t>({3}, std::vector<std::int64_t>{7, -8, 9}));
  npz.add("scalar", NpyArray::from<double>({}, std::vector<double>{2.5}));
  npz.add("empty", NpyArray::from<std::uint8_t>({0, 5}, std::vector<std::uint8_t>{}));
  npz.add("large", NpyArray::from<float>({1000}, std::vector<float>(1000, 1.0f)));
  return npz;
}

void expect_same_members(const Npz& a, const Npz& b) {
  ASSERT_EQ(a.members().size(), b.members().size());
  for (std::size_t i = 0; i < a.members().size(); ++i) {
    const auto& [name_a, array_a] = a.members()[i];
    const auto& [name_b, array_b] = b.members()[i];
    EXPECT_EQ(name_a, name_b);
    EXPECT_EQ(array_a.dtype, array_b.dtype) << name_a;
    EXPECT_EQ(array_a.shape, array_b.shape) << name_a;
    EXPECT_EQ(array_a.bytes, array_b.bytes) << name_a;
  }
}

TEST(Npz, DeflatedRoundTrip) {
  const Npz npz = sample_npz();
  const Bytes bytes = serialize_npz(npz);
  EXPECT_EQ(bytes[8], 8);  // first local header: method 8 (deflate)
  const Bytes stored = serialize_npz(npz, false);
  EXPECT_LT(bytes.size(), stored.size());
  const Npz back = parse_npz(bytes, "mem.npz");
  EXPECT_EQ(back.source, "mem.npz");
  expect_same_members(npz, back);
}

TEST(Npz, StoredRoundTrip) {
  const Npz npz = sample_npz();
  const Bytes bytes = serialize_npz(npz, false);
  EXPECT_EQ(bytes[8], 0);  // method 0 (stored)
  expect_same_members(npz, parse_npz(bytes, "mem.npz"));
}

TEST(Npz, FileRoundTripAndEmptyArchive) {
  TempDir dir;
  const Npz npz = sample_npz();
  write_npz(dir / "a.npz", npz);
  const Npz back = read_npz(dir / "a.npz");
  EXPECT_EQ(back.source, (dir / "a.npz").string());
  expect_same_members(npz, back);

  write_npz(dir / "empty.npz", Npz{}, false);
  EXPECT_TRUE(read_npz(dir / "empty.npz").members().empty());
}

TEST(Npz, AddReplacesAndKeepsOrder) {
  Npz npz;
  npz.add("a", f32_array({1}));
  npz.add("b", f32_array({2}));
  npz.add("a", f32_array({3}));
  ASSERT_EQ(npz.members().size(), 2u);
  EXPECT_EQ(npz.members()[0].first, "a");
  EXPECT_EQ(npz.at("a").shape, (Shape{3}));
  EXPECT_TRUE(npz.contains("b"));
  EXPECT_FALSE(npz.contains("c"));
}

TEST(Npz, MissingMemberNamesArchiveAndListsMembers) {
  const Npz npz = parse_npz(serialize_npz(sample_npz()), "model.npz");
  const std::string message = input_error([&] { npz.at("bias"); });
  EXPECT_TRUE(has_substr(message, "model.npz: no member 'bias'"));
  EXPECT_TRUE(has_substr(message, "'weights', 'labels', 'scalar', 'empty', 'large'"));
  EXPECT_TRUE(
      has_substr(input_error([] { Npz{}.at("x"); }), "npz: no member 'x' (the archive is empty)"));
}

TEST(Npz, NonAsciiMemberNames) {
  Npz npz;
  npz.add("gewicht_\xc3\xa4", f32_array({2}));
  const Npz back = parse_npz(serialize_npz(npz), "u.npz");
  EXPECT_TRUE(back.contains("gewicht_\xc3\xa4"));
}

TEST(Npz, EmptyMemberNameRoundTrips) {
  Npz npz;
  npz.add("", f32_array({2}));
  EXPECT_TRUE(parse_npz(serialize_npz(npz), "e.npz").contains(""));
}

TEST(Npz, ForgedStoredArchiveIsReadable) {
  const Bytes npy = serialize_npy(f32_array({2}));
  const Npz npz = parse_npz(stored_zip({{"arr_0.npy", npy}, {"dir/w.npy", npy}}), "f.npz");
  EXPECT_TRUE(npz.contains("arr_0"));
  EXPECT_TRUE(npz.contains("dir/w"));
}

// ------------------------------------------------------------------------------------------------
// Malformed .npz input

TEST(NpzMalformed, NotAZipArchive) {
  EXPECT_TRUE(has_substr(npz_error({}), "x.npz: not a zip archive (.npz)"));
  EXPECT_TRUE(
      has_substr(npz_error(to_bytes(std::string(100, 'z'))), "no end-of-central-directory record"));
  EXPECT_TRUE(has_substr(npz_error(serialize_npy(f32_array({2}))), "this is a .npy file"));
}

TEST(NpzMalformed, TruncatedArchive) {
  const Bytes full = serialize_npz(sample_npz());
  for (const std::size_t keep :
       {full.size() - 1, full.size() - 30, full.size() / 2, std::size_t{10}}) {
    SCOPED_TRACE(keep);
    EXPECT_TRUE(has_substr(npz_error(Bytes(full.begin(), full.begin() + keep)), "x.npz: "));
  }
  // Dropping bytes from the front shifts every offset.
  EXPECT_TRUE(has_substr(npz_error(Bytes(full.begin() + 5, full.end())), "x.npz"));
}

TEST(NpzMalformed, CrcMismatch) {
  Bytes b = serialize_npz(sample_npz(), false);
  b[200] ^= 0x01;  // inside the first member's data
  EXPECT_TRUE(has_substr(npz_error(b), "x.npz: member 'weights': CRC mismatch: expected 0x"));
}

TEST(NpzMalformed, CorruptDeflateStream) {
  Bytes b = serialize_npz(sample_npz());
  for (std::size_t i = 60; i < 70; ++i) b[i] ^= 0x5a;
  EXPECT_TRUE(has_substr(npz_error(b), "x.npz: member 'weights': "));
}

TEST(NpzMalformed, MemberWithTruncatedNpyData) {
  Bytes npy = serialize_npy(f32_array({30, 40}));
  npy.resize(npy.size() - 4800 + 12);
  EXPECT_EQ(npz_error(stored_zip({{"arr_0.npy", npy}})),
            "x.npz: member 'arr_0': truncated data: expected 4800 bytes, found 12");
}

TEST(NpzMalformed, MemberThatIsNotNpy) {
  EXPECT_TRUE(has_substr(npz_error(stored_zip({{"readme.txt", to_bytes("hello")}})),
                         "x.npz: member 'readme.txt': not a .npy file"));
  EXPECT_TRUE(has_substr(npz_error(stored_zip({{"a.npy", to_bytes("hello")}})),
                         "x.npz: member 'a': not a .npy file: bad magic"));
}

TEST(NpzMalformed, LocalHeaderNameDiffersFromDirectory) {
  Bytes b = stored_zip({{"a.npy", serialize_npy(f32_array({2}))}});
  b[30] = 'b';  // the name in the local header
  EXPECT_TRUE(
      has_substr(npz_error(b), "local header names 'b.npy', the central directory 'a.npy'"));
}

TEST(NpzMalformed, DuplicateAndOverlappingMembers) {
  const Bytes npy = serialize_npy(f32_array({2}));
  EXPECT_TRUE(has_substr(npz_error(stored_zip({{"a.npy", npy}, {"a.npy", npy}})),
                         "member 'a': duplicate member"));
  // Two directory entries pointing at one local header: the classic overlapping zip bomb.
  EXPECT_TRUE(has_substr(npz_error(stored_zip({{"a.npy", npy}, {"a.npy", npy, 0}})), "overlap"));
}

TEST(NpzMalformed, UnsupportedMethodAndEncryption) {
  const Bytes good = stored_zip({{"a.npy", serialize_npy(f32_array({2}))}});
  const auto local = find_signature(good, 0x04034b50).front();
  const auto central = find_signature(good, 0x02014b50).front();

  Bytes method = good;
  method[local + 8] = 12;
  method[central + 10] = 12;  // bzip2
  EXPECT_TRUE(
      has_substr(npz_error(method), "x.npz: member 'a': unsupported compression method 12"));

  Bytes encrypted = good;
  encrypted[central + 8] |= 1;
  EXPECT_TRUE(has_substr(npz_error(encrypted), "encrypted zip members are not supported"));
}

TEST(NpzMalformed, BadDirectoryFields) {
  const Bytes good = stored_zip({{"a.npy", serialize_npy(f32_array({2}))}});
  const auto end = find_signature(good, 0x06054b50).back();
  const auto central = find_signature(good, 0x02014b50).front();

  Bytes count = good;
  count[end + 10] = count[end + 8] = 200;  // 200 entries in a 55-byte directory
  EXPECT_TRUE(has_substr(npz_error(count), "cannot fit in a central directory"));

  Bytes offset = good;
  offset[end + 19] = 0x7f;  // directory offset far beyond the end
  EXPECT_TRUE(has_substr(npz_error(offset), "lies outside the archive"));

  Bytes local = good;
  local[central + 42] = 3;  // local header offset points into the middle of a header
  EXPECT_TRUE(has_substr(npz_error(local), "bad local header signature"));

  Bytes sizes = good;
  sizes[central + 24] ^=
      0x01;  // uncompressed size differs from compressed size for a stored member
  EXPECT_TRUE(has_substr(npz_error(sizes), "stored member has compressed size"));

  Bytes zip64 = good;
  for (int i = 0; i < 4; ++i) zip64[central + 20 + i] = 0xff;  // saturated, but no ZIP64 extra
  EXPECT_TRUE(has_substr(npz_error(zip64), "no ZIP64 extra field"));

  Bytes disk = good;
  disk[end + 4] = 1;
  EXPECT_TRUE(has_substr(npz_error(disk), "multi-disk"));
}

TEST(NpzMalformed, DeflateSizeMismatch) {
  Bytes b = serialize_npz(sample_npz());
  const auto central = find_signature(b, 0x02014b50).front();
  b[central + 24] += 1;  // declared uncompressed size one larger than the stream
  EXPECT_TRUE(has_substr(npz_error(b), "member 'weights': decompressed size"));
  b[central + 24] -= 2;  // one smaller
  EXPECT_TRUE(has_substr(npz_error(b), "declared size"));
}

TEST(NpzMalformed, DeclaredSizesAreNotTrusted) {
  Npz npz;
  npz.add("big", NpyArray::from<float>({100000}, std::vector<float>(100000, 0.0f)));
  const Bytes good = serialize_npz(npz);
  const auto central = find_signature(good, 0x02014b50).front();

  Bytes small = good;  // declares 1000 bytes, inflates to 400128: stop at the first 64 KiB chunk
  small[central + 24] = 0xe8;
  small[central + 25] = 0x03;
  small[central + 26] = small[central + 27] = 0;
  EXPECT_TRUE(has_substr(npz_error(small), "expands beyond the declared size of 1000 bytes"));

  Bytes huge = good;  // declares 4 GiB - 2: must not be allocated up front
  huge[central + 24] = 0xfe;
  huge[central + 25] = huge[central + 26] = huge[central + 27] = 0xff;
  EXPECT_TRUE(has_substr(npz_error(huge), "differs from the declared size 4294967294"));
}

}  // namespace
}  // namespace spikeline::io
