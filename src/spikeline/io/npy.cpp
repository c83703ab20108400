// NumPy .npy / .npz reading and writing. Format references:
//   .npy: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   .npz: a ZIP archive (PKWARE APPNOTE 6.3) of NAME.npy members, stored or deflated.
// Everything read from a file is bounds-checked before use, and no buffer is sized from a header
// field until the bytes backing it are known to exist, so hostile inputs cannot make us allocate
// more than a small multiple of their own size.
#include "spikeline/io/npy.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::io {
namespace {

// ------------------------------------------------------------------------------------------------
// Little-endian byte access

template <class T>
T byteswap_value(T v) {
  std::array<std::uint8_t, sizeof(T)> raw;
  std::memcpy(raw.data(), &v, sizeof(T));
  std::reverse(raw.begin(), raw.end());
  std::memcpy(&v, raw.data(), sizeof(T));
  return v;
}

template <class T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) v = byteswap_value(v);
  return v;
}

template <class T>
void store_le(std::uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::big) v = byteswap_value(v);
  std::memcpy(p, &v, sizeof(T));
}

template <class T>
void append_le(std::vector<std::uint8_t>& out, T v) {
  const std::size_t at = out.size();
  out.resize(at + sizeof(T));
  store_le(out.data() + at, v);
}

// Reverses the byte order of every `width`-byte element in place.
void swap_elements(std::span<std::uint8_t> bytes, std::size_t width) {
  for (std::size_t i = 0; i + width <= bytes.size(); i += width)
    std::reverse(bytes.begin() + i, bytes.begin() + i + width);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Printable excerpt of untrusted text for error messages.
std::string excerpt(std::string_view text, std::size_t max_chars = 80) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

// ------------------------------------------------------------------------------------------------
// dtypes

// C++ element types, in the order of the DType enumerators.
using ElementTypes =
    std::tuple<float, double, std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t,
               std::uint16_t, std::uint32_t, std::uint64_t, bool>;

template <class T, std::size_t I = 0>
constexpr DType dtype_of() {
  static_assert(I < std::tuple_size_v<ElementTypes>, "unsupported NpyArray element type");
  if constexpr (std::is_same_v<T, std::tuple_element_t<I, ElementTypes>>) {
    return static_cast<DType>(I);
  } else {
    return dtype_of<T, I + 1>();
  }
}
static_assert(dtype_of<float>() == DType::f32 && dtype_of<std::int8_t>() == DType::i8 &&
              dtype_of<std::uint8_t>() == DType::u8 && dtype_of<bool>() == DType::b1);

// Calls fn(std::type_identity<T>{}) with the C++ type of `t`, so that loops over elements are
// compiled once per type instead of branching per element.
template <class Fn>
decltype(auto) visit_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(std::type_identity<float>{});
    case DType::f64: return fn(std::type_identity<double>{});
    case DType::i8: return fn(std::type_identity<std::int8_t>{});
    case DType::i16: return fn(std::type_identity<std::int16_t>{});
    case DType::i32: return fn(std::type_identity<std::int32_t>{});
    case DType::i64: return fn(std::type_identity<std::int64_t>{});
    case DType::u8: return fn(std::type_identity<std::uint8_t>{});
    case DType::u16: return fn(std::type_identity<std::uint16_t>{});
    case DType::u32: return fn(std::type_identity<std::uint32_t>{});
    case DType::u64: return fn(std::type_identity<std::uint64_t>{});
    case DType::b1: return fn(std::type_identity<bool>{});
  }
  SPIKELINE_ASSERT(false && "invalid DType");
  return fn(std::type_identity<float>{});
}

// Bools are one byte; any non-zero byte counts as true (NumPy's rule).
template <class T>
T load_element(const std::uint8_t* p) {
  if constexpr (std::is_same_v<T, bool>)
    return *p != 0;
  else
    return load_le<T>(p);
}

template <class Out, class In>
Out convert_element(In v, std::size_t index) {
  if constexpr (std::is_same_v<Out, std::int64_t> && std::is_floating_point_v<In>) {
    // Float -> int is undefined behaviour outside the target range, so check first.
    constexpr double limit = 9223372036854775808.0;  // 2^63
    const double d = static_cast<double>(v);
    if (!(d >= -limit && d < limit))
      throw InputError("", "to_int64: element " + std::to_string(index) + " (" + std::to_string(d) +
                               ") is not representable as int64");
    return static_cast<Out>(v);
  } else if constexpr (std::is_same_v<Out, std::int64_t> && std::is_same_v<In, std::uint64_t>) {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw InputError("", "to_int64: element " + std::to_string(index) + " (" + std::to_string(v) +
                               ") is not representable as int64");
    return static_cast<Out>(v);
  } else {
    return static_cast<Out>(v);
  }
}

void check_byte_count(const NpyArray& a, const char* operation) {
  const std::size_t expected = a.size() * dtype_size(a.dtype);
  if (a.bytes.size() != expected)
    throw Error(std::string(operation) + ": NpyArray of shape " + shape_to_string(a.shape) +
                " and dtype " + dtype_name(a.dtype) + " needs " + std::to_string(expected) +
                " bytes but holds " + std::to_string(a.bytes.size()));
}

template <class Out>
std::vector<Out> convert_all(const NpyArray& a, const char* operation) {
  check_byte_count(a, operation);
  const std::size_t n = a.size();
  const std::size_t width = dtype_size(a.dtype);
  std::vector<Out> out(n);
  visit_dtype(a.dtype, [&]<class In>(std::type_identity<In>) {
    const std::uint8_t* p = a.bytes.data();
    for (std::size_t i = 0; i < n; ++i)
      out[i] = convert_element<Out>(load_element<In>(p + i * width), i);
  });
  return out;
}

// ------------------------------------------------------------------------------------------------
// .npy header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed with a small recursive-descent parser for the subset of Python literals NumPy writes.

struct PyValue {
  enum class Kind { string, integer, boolean, none, tuple, list, dict };
  explicit PyValue(Kind k) : kind(k) {}
  Kind kind;
  std::string text;             // string
  std::uint64_t magnitude = 0;  // integer: absolute value
  bool negative = false;        // integer sign
  bool flag = false;            // boolean
  std::vector<PyValue> items;   // tuple, list; dict as key, value, key, value, ...
};

std::string describe(const PyValue& v) {
  switch (v.kind) {
    case PyValue::Kind::string: return "a string";
    case PyValue::Kind::integer: return "an integer";
    case PyValue::Kind::boolean: return "a bool";
    case PyValue::Kind::none: return "None";
    case PyValue::Kind::tuple: return "a tuple";
    case PyValue::Kind::list: return "a list";
    case PyValue::Kind::dict: return "a dict";
  }
  return "a value";
}

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  PyValue parse_dict() {
    skip_space();
    if (peek() != '{') fail("'{' starting the header dict");
    PyValue dict = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("end of header after the dict");
    return dict;
  }

 private:
  static constexpr int kMaxDepth = 16;  // NumPy headers nest 2 levels; fuzzers nest thousands

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  [[noreturn]] void fail(const std::string& expected) const {
    const std::string found =
        at_end() ? "end of header" : "'" + excerpt(text_.substr(pos_, 1)) + "'";
    std::string_view shown = text_;  // without NumPy's padding
    while (!shown.empty() && std::isspace(static_cast<unsigned char>(shown.back())))
      shown.remove_suffix(1);
    throw InputError(where_, "bad header dict: expected " + expected + " at offset " +
                                 std::to_string(pos_) + ", found " + found + " in \"" +
                                 excerpt(shown) + "\"");
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxDepth) fail("at most " + std::to_string(kMaxDepth) + " levels of nesting");
    const char c = peek();
    if (c == '\'' || c == '"') return parse_string();
    if (c == '{') return parse_dict_body(depth);
    if (c == '(') return parse_tuple(depth);
    if (c == '[') {
      PyValue list{PyValue::Kind::list};
      list.items = parse_sequence(']', depth, nullptr);
      return list;
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_integer();
    if (std::isalpha(static_cast<unsigned char>(c))) return parse_name();
    fail("a value");
  }

  PyValue parse_string() {
    const char quote = text_[pos_++];
    PyValue v{PyValue::Kind::string};
    while (!at_end() && peek() != quote) {
      if (peek() == '\\') {
        ++pos_;  // keep the escaped character verbatim; descr strings never need more
        if (at_end()) break;
      }
      v.text += text_[pos_++];
    }
    if (at_end()) fail(std::string("closing ") + quote);
    ++pos_;
    return v;
  }

  PyValue parse_integer() {
    PyValue v{PyValue::Kind::integer};
    if (peek() == '-' || peek() == '+') v.negative = text_[pos_++] == '-';
    if (!(peek() >= '0' && peek() <= '9')) fail("a digit");
    while (peek() >= '0' && peek() <= '9') {
      const unsigned digit = static_cast<unsigned>(text_[pos_] - '0');
      if (v.magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
        fail("an integer below 2^64");
      v.magnitude = v.magnitude * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long suffix, written by old NumPy
    return v;
  }

  PyValue parse_name() {
    const std::size_t start = pos_;
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_') ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    if (name == "True" || name == "False") {
      PyValue v{PyValue::Kind::boolean};
      v.flag = name == "True";
      return v;
    }
    if (name == "None") return PyValue{PyValue::Kind::none};
    pos_ = start;
    fail("True, False, None, a number, a string or a bracket");
  }

  // Items up to `close`, allowing a trailing comma; `saw_comma` reports whether any comma occurred.
  std::vector<PyValue> parse_sequence(char close, int depth, bool* saw_comma) {
    ++pos_;  // opening bracket
    std::vector<PyValue> items;
    skip_space();
    while (peek() != close) {
      items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        if (saw_comma) *saw_comma = true;
        skip_space();
      } else if (peek() != close) {
        fail(std::string("',' or '") + close + "'");
      }
    }
    ++pos_;  // closing bracket
    return items;
  }

  // "(x)" is just x in Python; "()" and "(x,)" are tuples.
  PyValue parse_tuple(int depth) {
    bool saw_comma = false;
    std::vector<PyValue> items = parse_sequence(')', depth, &saw_comma);
    if (items.size() == 1 && !saw_comma) return std::move(items.front());
    PyValue tuple{PyValue::Kind::tuple};
    tuple.items = std::move(items);
    return tuple;
  }

  PyValue parse_dict_body(int depth) {
    ++pos_;  // '{'
    PyValue dict{PyValue::Kind::dict};
    skip_space();
    while (peek() != '}') {
      if (peek() != '\'' && peek() != '"') fail("a quoted key or '}'");
      dict.items.push_back(parse_string());
      skip_space();
      if (peek() != ':') fail("':' after key '" + excerpt(dict.items.back().text) + "'");
      ++pos_;
      skip_space();
      dict.items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("',' or '}'");
      }
    }
    ++pos_;
    return dict;
  }

  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

struct NpyHeader {
  DType dtype = DType::f32;
  bool byte_swapped = false;  // data is big-endian on disk: swap to little-endian
  Shape shape;
};

struct DescrEntry {
  std::string_view code;
  DType dtype;
};
constexpr DescrEntry kDescrTable[] = {
    {"f4", DType::f32}, {"f8", DType::f64}, {"i1", DType::i8}, {"i2", DType::i16},
    {"i4", DType::i32}, {"i8", DType::i64}, {"u1", DType::u8}, {"u2", DType::u16},
    {"u4", DType::u32}, {"u8", DType::u64}, {"b1", DType::b1}, {"?", DType::b1},
};

// descr = optional byte order ('<' little, '>' big, '=' native, '|' not applicable) + type code.
NpyHeader parse_descr(const std::string& descr, const std::string& where) {
  std::string_view code = descr;
  char order = '=';
  if (!code.empty() && std::string_view("<>=|").find(code.front()) != std::string_view::npos) {
    order = code.front();
    code.remove_prefix(1);
  }
  if (!code.empty() && code.front() == 'O')
    throw InputError(where, "object arrays (descr '" + excerpt(descr) +
                                "') are not supported: only numeric dtypes can be read safely, "
                                "without unpickling");
  for (const auto& entry : kDescrTable) {
    if (entry.code != code) continue;
    NpyHeader h;
    h.dtype = entry.dtype;
    // NpyArray holds little-endian bytes whatever the host, so only big-endian files need a swap.
    const bool big = order == '>' || (order != '<' && std::endian::native == std::endian::big);
    h.byte_swapped = big && dtype_size(h.dtype) > 1;
    return h;
  }
  throw InputError(where, "unsupported dtype '" + excerpt(descr) +
                              "' (supported: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, any byte order)");
}

Shape parse_shape(const PyValue& v, const std::string& where) {
  if (v.kind != PyValue::Kind::tuple)
    throw InputError(where,
                     "bad header: 'shape' must be a tuple of integers, found " + describe(v));
  Shape shape;
  for (const auto& dim : v.items) {
    if (dim.kind != PyValue::Kind::integer)
      throw InputError(where, "bad header: 'shape' must contain integers, found " + describe(dim));
    if (dim.negative && dim.magnitude != 0)
      throw InputError(where, "bad header: negative dimension -" + std::to_string(dim.magnitude) +
                                  " in 'shape'");
    if (dim.magnitude > std::numeric_limits<std::size_t>::max())
      throw InputError(where,
                       "bad header: dimension " + std::to_string(dim.magnitude) + " too large");
    shape.push_back(static_cast<std::size_t>(dim.magnitude));
  }
  return shape;
}

NpyHeader interpret_header(const PyValue& dict, const std::string& where) {
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const std::string& key = dict.items[i].text;
    const PyValue** slot = key == "descr"           ? &descr
                           : key == "fortran_order" ? &fortran
                           : key == "shape"         ? &shape
                                                    : nullptr;
    if (!slot) continue;  // NumPy never writes other keys; tolerate them from other writers
    if (*slot) throw InputError(where, "bad header: duplicate key '" + key + "'");
    *slot = &dict.items[i + 1];
  }
  for (const auto& [value, key] :
       {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"}, std::pair{shape, "shape"}})
    if (!value) throw InputError(where, std::string("bad header: missing key '") + key + "'");

  if (descr->kind == PyValue::Kind::list)
    throw InputError(where, "structured dtypes (descr is a list of fields) are not supported");
  if (descr->kind != PyValue::Kind::string)
    throw InputError(where, "bad header: 'descr' must be a string, found " + describe(*descr));
  if (fortran->kind != PyValue::Kind::boolean)
    throw InputError(
        where, "bad header: 'fortran_order' must be True or False, found " + describe(*fortran));
  if (fortran->flag)
    throw InputError(where,
                     "Fortran order not supported (fortran_order is True); save a C-ordered "
                     "array, e.g. np.save(f, np.ascontiguousarray(a))");
  NpyHeader h = parse_descr(descr->text, where);
  h.shape = parse_shape(*shape, where);
  return h;
}

// Element count * item size, or an InputError when that does not fit in memory's address space.
std::size_t checked_data_size(const Shape& shape, std::size_t item_size, const std::string& where) {
  if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
  std::size_t total = item_size;
  for (const std::size_t dim : shape)
    if (__builtin_mul_overflow(total, dim, &total))
      throw InputError(where, "shape " + shape_to_string(shape) + " is too large (size overflows)");
  return total;
}

struct NpyLayout {
  std::string_view header;  // the dict text
  std::size_t data_offset = 0;
};

constexpr std::array<std::uint8_t, 6> kNpyMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};

NpyLayout split_npy(std::span<const std::uint8_t> bytes, const std::string& where) {
  const std::size_t magic_len = std::min(bytes.size(), kNpyMagic.size());
  if (!std::equal(bytes.begin(), bytes.begin() + magic_len, kNpyMagic.begin()))
    throw InputError(where, "not a .npy file: bad magic (expected \"\\x93NUMPY\", found \"" +
                                excerpt({reinterpret_cast<const char*>(bytes.data()), magic_len}) +
                                "\")");
  if (bytes.size() < 8)
    throw InputError(where, "truncated header: expected at least 10 bytes, found " +
                                std::to_string(bytes.size()));
  const int major = bytes[6];
  const int minor = bytes[7];
  if (!(major >= 1 && major <= 3 && minor == 0))
    throw InputError(where, "unsupported .npy format version " + std::to_string(major) + "." +
                                std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  const std::size_t length_size = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + length_size;
  if (bytes.size() < prefix)
    throw InputError(where, "truncated header: expected at least " + std::to_string(prefix) +
                                " bytes, found " + std::to_string(bytes.size()));
  const std::size_t header_len =
      major == 1 ? load_le<std::uint16_t>(&bytes[8]) : load_le<std::uint32_t>(&bytes[8]);
  if (bytes.size() - prefix < header_len)
    throw InputError(where, "truncated header: expected " + std::to_string(prefix + header_len) +
                                " bytes, found " + std::to_string(bytes.size()));
  return {{reinterpret_cast<const char*>(bytes.data() + prefix), header_len}, prefix + header_len};
}

// ------------------------------------------------------------------------------------------------
// .npy writing

std::string shape_repr(const Shape& shape) {  // Python's repr of a tuple
  if (shape.size() == 1) return "(" + std::to_string(shape[0]) + ",)";
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

// Mirrors numpy.lib.format (1.24): sorted keys, spare spaces for growing the first axis in place,
// padding with spaces and a newline so that the data starts at a multiple of 64 bytes.
std::vector<std::uint8_t> npy_preamble(const NpyArray& a) {
  const char order = dtype_size(a.dtype) == 1 ? '|' : '<';
  std::string dict = "{'descr': '" + std::string(1, order) + dtype_name(a.dtype) +
                     "', 'fortran_order': False, 'shape': " + shape_repr(a.shape) + ", }";
  constexpr std::size_t kGrowthAxisMaxDigits = 21;
  if (!a.shape.empty()) {
    const std::size_t digits = std::to_string(a.shape.front()).size();
    dict.append(kGrowthAxisMaxDigits - std::min(digits, kGrowthAxisMaxDigits), ' ');
  }
  constexpr std::size_t kAlign = 64;
  for (const int major : {1, 2}) {
    const std::size_t prefix = major == 1 ? 10 : 12;
    const std::size_t unpadded = dict.size() + 1;  // + '\n'
    const std::size_t header_len = unpadded + kAlign - (prefix + unpadded) % kAlign;
    if (major == 1 && header_len > 0xFFFF) continue;  // too long for a 2-byte length: use 2.0
    std::vector<std::uint8_t> out(kNpyMagic.begin(), kNpyMagic.end());
    out.push_back(static_cast<std::uint8_t>(major));
    out.push_back(0);
    if (major == 1)
      append_le(out, static_cast<std::uint16_t>(header_len));
    else
      append_le(out, static_cast<std::uint32_t>(header_len));
    out.insert(out.end(), dict.begin(), dict.end());
    out.insert(out.end(), header_len - unpadded, ' ');
    out.push_back('\n');
    return out;
  }
  throw Error("serialize_npy: header of " + std::to_string(dict.size()) + " bytes is too long");
}

// ------------------------------------------------------------------------------------------------
// ZIP container (PKWARE APPNOTE 6.3): local headers + data, central directory, end record.

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kMax32 = 0xFFFFFFFF;  // also the "see ZIP64 extra field" marker
constexpr std::uint16_t kMax16 = 0xFFFF;
// Sizes and offsets from this value up need ZIP64 fields when writing (a separate constant so
// that the ZIP64 path can be exercised by lowering it in a scratch build).
constexpr std::uint64_t kZip64Threshold = kMax32;
constexpr std::uint16_t kMethodStored = 0;
constexpr std::uint16_t kMethodDeflated = 8;
constexpr std::uint16_t kFlagEncrypted = 0x0001;
constexpr std::uint16_t kFlagUtf8 = 0x0800;
constexpr std::uint16_t kVersionDefault = 20;  // 2.0: deflate
constexpr std::uint16_t kVersionZip64 = 45;    // 4.5: ZIP64
constexpr std::uint16_t kMadeByUnix = 3 << 8;
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // fixed date: reproducible output
// Deflate cannot expand data by more than ~1032x; used only to bound up-front reservations.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
// zlib counts in 32-bit uInt; feed it slices of at most this many bytes.
constexpr std::size_t kZlibSlice = std::size_t{1} << 30;

// Bounds-checked little-endian reads from an archive; failures name what was being read.
class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> data, const std::string& where)
      : data_(data), where_(where) {}

  std::size_t size() const { return data_.size(); }
  const std::string& where() const { return where_; }

  std::span<const std::uint8_t> bytes(std::uint64_t offset, std::uint64_t n,
                                      std::string_view what) const {
    if (offset > data_.size() || n > data_.size() - offset)
      throw InputError(where_, "truncated " + std::string(what) + ": expected " +
                                   std::to_string(n) + " bytes at offset " +
                                   std::to_string(offset) + ", archive has " +
                                   std::to_string(data_.size()) + " bytes");
    return data_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(n));
  }
  template <class T>
  T read(std::uint64_t offset, std::string_view what) const {
    return load_le<T>(bytes(offset, sizeof(T), what).data());
  }
  std::uint16_t u16(std::uint64_t offset, std::string_view what) const {
    return read<std::uint16_t>(offset, what);
  }
  std::uint32_t u32(std::uint64_t offset, std::string_view what) const {
    return read<std::uint32_t>(offset, what);
  }
  std::uint64_t u64(std::uint64_t offset, std::string_view what) const {
    return read<std::uint64_t>(offset, what);
  }

 private:
  std::span<const std::uint8_t> data_;
  const std::string& where_;
};

struct CentralDirectory {
  std::uint64_t entries = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  std::uint64_t end = 0;  // where the records after the directory start
};

struct ZipMember {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_offset = 0;
  std::uint64_t data_offset = 0;  // from the local header
};

// The end-of-central-directory record sits at the very end, followed only by a comment of at
// most 65535 bytes, so search backwards over that window.
std::size_t find_end_record(const ByteReader& r) {
  if (r.size() < kEndSize)
    throw InputError(r.where(), "not a zip archive (.npz): " + std::to_string(r.size()) +
                                    " bytes is too small for the end-of-central-directory record");
  const std::size_t last = r.size() - kEndSize;
  const std::size_t first = last > kMax16 ? last - kMax16 : 0;
  for (std::size_t pos = last + 1; pos-- > first;) {
    if (r.u32(pos, "end record") != kEndSig) continue;
    if (pos + kEndSize + r.u16(pos + 20, "end record") <= r.size()) return pos;
  }
  const auto head = r.bytes(0, std::min<std::size_t>(r.size(), kNpyMagic.size()), "magic");
  if (std::equal(head.begin(), head.end(), kNpyMagic.begin()))
    throw InputError(r.where(), "not a zip archive (.npz): this is a .npy file");
  throw InputError(r.where(), "not a zip archive (.npz): no end-of-central-directory record found");
}

CentralDirectory locate_central_directory(const ByteReader& r) {
  const std::size_t end = find_end_record(r);
  if (r.u16(end + 4, "end record") != 0 || r.u16(end + 6, "end record") != 0)
    throw InputError(r.where(), "multi-disk (split) zip archives are not supported");
  CentralDirectory cd;
  cd.entries = r.u16(end + 10, "end record");
  cd.size = r.u32(end + 12, "end record");
  cd.offset = r.u32(end + 16, "end record");
  cd.end = end;
  // A ZIP64 locator right before the end record points to the ZIP64 end record, whose 64-bit
  // fields replace the saturated 16/32-bit ones.
  if (end >= kZip64LocatorSize &&
      r.u32(end - kZip64LocatorSize, "ZIP64 locator") == kZip64LocatorSig) {
    const std::uint64_t z64 = r.u64(end - kZip64LocatorSize + 8, "ZIP64 locator");
    if (r.u32(z64, "ZIP64 end record") != kZip64EndSig)
      throw InputError(r.where(), "bad ZIP64 end-of-central-directory record at offset " +
                                      std::to_string(z64) + " (wrong signature)");
    r.bytes(z64, kZip64EndSize, "ZIP64 end record");
    cd.entries = r.u64(z64 + 32, "ZIP64 end record");
    cd.size = r.u64(z64 + 40, "ZIP64 end record");
    cd.offset = r.u64(z64 + 48, "ZIP64 end record");
    cd.end = z64;
  }
  if (cd.offset > cd.end || cd.size > cd.end - cd.offset)
    throw InputError(r.where(), "bad zip archive: central directory (offset " +
                                    std::to_string(cd.offset) + ", " + std::to_string(cd.size) +
                                    " bytes) lies outside the archive");
  if (cd.entries > cd.size / kCentralHeaderSize)
    throw InputError(r.where(), "bad zip archive: " + std::to_string(cd.entries) +
                                    " entries cannot fit in a central directory of " +
                                    std::to_string(cd.size) + " bytes");
  return cd;
}

// Replaces saturated 32-bit fields with their 64-bit values from the ZIP64 extra field; the
// values appear in this fixed order, each only when its 32-bit field is saturated.
void apply_zip64_extra(ZipMember& m, std::span<const std::uint8_t> extra,
                       const std::string& where) {
  std::uint64_t* fields[] = {&m.uncompressed_size, &m.compressed_size, &m.local_offset};
  const bool needed = std::any_of(std::begin(fields), std::end(fields),
                                  [](const std::uint64_t* f) { return *f == kMax32; });
  if (!needed) return;
  for (std::size_t pos = 0; pos + 4 <= extra.size();) {
    const std::uint16_t id = load_le<std::uint16_t>(&extra[pos]);
    const std::size_t len = load_le<std::uint16_t>(&extra[pos + 2]);
    pos += 4;
    if (len > extra.size() - pos) break;
    if (id == kZip64ExtraId) {
      std::size_t at = pos;
      for (std::uint64_t* field : fields) {
        if (*field != kMax32) continue;
        if (at + 8 > pos + len)
          throw InputError(where,
                           "ZIP64 extra field too short for the saturated size/offset fields");
        *field = load_le<std::uint64_t>(&extra[at]);
        at += 8;
      }
      return;
    }
    pos += len;
  }
  throw InputError(where, "size or offset is 0xffffffff but there is no ZIP64 extra field");
}

constexpr std::string_view kNpySuffix = ".npy";

// "archive: member 'NAME'" for error messages, NAME without the ".npy" every member should have.
std::string member_where(const std::string& archive, std::string_view zip_name) {
  if (zip_name.ends_with(kNpySuffix)) zip_name.remove_suffix(kNpySuffix.size());
  return archive + ": member '" + excerpt(zip_name) + "'";
}

std::vector<ZipMember> read_central_directory(const ByteReader& r, const CentralDirectory& cd) {
  std::vector<ZipMember> members;
  members.reserve(static_cast<std::size_t>(cd.entries));  // bounded by cd.size / 46 above
  std::uint64_t pos = cd.offset;
  const std::uint64_t end = cd.offset + cd.size;
  for (std::uint64_t i = 0; i < cd.entries; ++i) {
    const std::string entry = "central directory entry " + std::to_string(i);
    if (end - pos < kCentralHeaderSize)
      throw InputError(r.where(), "truncated central directory: entry " + std::to_string(i) +
                                      " of " + std::to_string(cd.entries) + " is missing");
    if (r.u32(pos, entry) != kCentralHeaderSig)
      throw InputError(r.where(), "bad zip archive: " + entry + " at offset " +
                                      std::to_string(pos) + " has the wrong signature");
    ZipMember m;
    m.flags = r.u16(pos + 8, entry);
    m.method = r.u16(pos + 10, entry);
    m.crc = r.u32(pos + 16, entry);
    m.compressed_size = r.u32(pos + 20, entry);
    m.uncompressed_size = r.u32(pos + 24, entry);
    const std::uint64_t name_len = r.u16(pos + 28, entry);
    const std::uint64_t extra_len = r.u16(pos + 30, entry);
    const std::uint64_t comment_len = r.u16(pos + 32, entry);
    m.local_offset = r.u32(pos + 42, entry);
    const std::uint64_t record_len = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (record_len > end - pos)
      throw InputError(r.where(), "truncated central directory: " + entry + " overruns it");
    const auto name = r.bytes(pos + kCentralHeaderSize, name_len, entry);
    m.name.assign(name.begin(), name.end());
    apply_zip64_extra(m, r.bytes(pos + kCentralHeaderSize + name_len, extra_len, entry),
                      member_where(r.where(), m.name));
    members.push_back(std::move(m));
    pos += record_len;
  }
  return members;
}

// Finds where a member's data starts by reading its local header (whose own size fields may be
// zero or saturated: the central directory's are authoritative).
void locate_member_data(const ByteReader& r, ZipMember& m, const std::string& where) {
  if (r.u32(m.local_offset, "local header") != kLocalHeaderSig)
    throw InputError(where,
                     "bad local header signature at offset " + std::to_string(m.local_offset));
  const std::uint64_t name_len = r.u16(m.local_offset + 26, "local header");
  const std::uint64_t extra_len = r.u16(m.local_offset + 28, "local header");
  const auto raw_name = r.bytes(m.local_offset + kLocalHeaderSize, name_len, "local header");
  const std::string_view name(reinterpret_cast<const char*>(raw_name.data()), raw_name.size());
  if (name != m.name)
    throw InputError(where, "local header names '" + excerpt(name) + "', the central directory '" +
                                excerpt(m.name) + "'");
  m.data_offset = m.local_offset + kLocalHeaderSize + name_len + extra_len;
  if (m.data_offset > r.size() || m.compressed_size > r.size() - m.data_offset)
    throw InputError(where, "truncated member data: expected " + std::to_string(m.compressed_size) +
                                " bytes at offset " + std::to_string(m.data_offset) +
                                ", archive has " + std::to_string(r.size()) + " bytes");
}

// Members whose byte ranges overlap would let a small archive expand into many copies of one
// large member (a "zip bomb"); real archives never overlap.
void check_no_overlap(const std::vector<ZipMember>& members, const std::string& where) {
  std::vector<const ZipMember*> order;
  for (const auto& m : members) order.push_back(&m);
  std::sort(order.begin(), order.end(), [](const ZipMember* a, const ZipMember* b) {
    return a->local_offset < b->local_offset;
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const ZipMember& prev = *order[i - 1];
    if (prev.data_offset + prev.compressed_size > order[i]->local_offset)
      throw InputError(where, "bad zip archive: members '" + excerpt(prev.name) + "' and '" +
                                  excerpt(order[i]->name) + "' overlap");
  }
}

std::uint32_t crc32_of(std::span<const std::uint8_t> data) {
  return static_cast<std::uint32_t>(crc32_z(0, data.data(), data.size()));
}

std::vector<std::uint8_t> inflate_raw(std::span<const std::uint8_t> in, std::uint64_t expected,
                                      const std::string& where) {
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) throw Error(where + ": zlib inflateInit2 failed");
  struct End {
    z_stream* s;
    ~End() { inflateEnd(s); }
  } end{&s};

  // Grow the output as data actually arrives: the declared size is untrusted.
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(std::min(expected, in.size() * kMaxDeflateRatio + 64)));
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  std::size_t fed = 0;
  for (;;) {
    if (s.avail_in == 0 && fed < in.size()) {
      const std::size_t n = std::min(in.size() - fed, kZlibSlice);
      s.next_in = const_cast<Bytef*>(in.data() + fed);
      s.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    const std::size_t old = out.size();
    out.resize(old + kChunk);
    s.next_out = out.data() + old;
    s.avail_out = static_cast<uInt>(kChunk);
    const int rc = inflate(&s, Z_NO_FLUSH);
    out.resize(old + kChunk - s.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && s.avail_in == 0 && fed == in.size())
      throw InputError(where, "truncated deflate data: stream ends after " +
                                  std::to_string(out.size()) + " of " + std::to_string(expected) +
                                  " bytes");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw InputError(where,
                       std::string("corrupt deflate data: ") + (s.msg ? s.msg : "zlib error"));
    if (out.size() > expected)
      throw InputError(where, "deflate data expands beyond the declared size of " +
                                  std::to_string(expected) + " bytes");
  }
  if (out.size() != expected)
    throw InputError(where, "decompressed size " + std::to_string(out.size()) +
                                " differs from the declared size " + std::to_string(expected));
  return out;
}

std::vector<std::uint8_t> deflate_raw(std::span<const std::uint8_t> in) {
  z_stream s{};
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    throw Error("zlib deflateInit2 failed");
  struct End {
    z_stream* s;
    ~End() { deflateEnd(s); }
  } end{&s};
  std::vector<std::uint8_t> out(deflateBound(&s, in.size()));
  std::size_t fed = 0;
  std::size_t produced = 0;
  for (;;) {
    if (s.avail_in == 0 && fed < in.size()) {
      const std::size_t n = std::min(in.size() - fed, kZlibSlice);
      s.next_in = const_cast<Bytef*>(in.data() + fed);
      s.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    if (produced == out.size()) out.resize(out.size() * 2 + 64);
    const std::size_t room = std::min(out.size() - produced, kZlibSlice);
    s.next_out = out.data() + produced;
    s.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&s, fed == in.size() ? Z_FINISH : Z_NO_FLUSH);
    produced += room - s.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw Error("zlib deflate failed");
  }
  out.resize(produced);
  return out;
}

std::vector<std::uint8_t> extract_member(const ByteReader& r, const ZipMember& m,
                                         const std::string& where) {
  if (m.flags & kFlagEncrypted) throw InputError(where, "encrypted zip members are not supported");
  const auto packed = r.bytes(m.data_offset, m.compressed_size, "member data");
  std::vector<std::uint8_t> data;
  if (m.method == kMethodStored) {
    if (m.compressed_size != m.uncompressed_size)
      throw InputError(where, "stored member has compressed size " +
                                  std::to_string(m.compressed_size) + " but uncompressed size " +
                                  std::to_string(m.uncompressed_size));
    data.assign(packed.begin(), packed.end());
  } else if (m.method == kMethodDeflated) {
    data = inflate_raw(packed, m.uncompressed_size, where);
  } else {
    throw InputError(where, "unsupported compression method " + std::to_string(m.method) +
                                " (supported: 0 stored, 8 deflated)");
  }
  const std::uint32_t crc = crc32_of(data);
  if (crc != m.crc)
    throw InputError(where, "CRC mismatch: expected " + hex32(m.crc) + ", computed " + hex32(crc) +
                                " (corrupt archive)");
  return data;
}

// Writes a ZIP archive in memory: members one after the other, then the central directory.
class ZipWriter {
 public:
  void add(const std::string& name, std::span<const std::uint8_t> content, bool compress) {
    if (name.size() > kMax16)
      throw Error("serialize_npz: member name of " + std::to_string(name.size()) +
                  " bytes is too long (at most 65535)");
    Record rec;
    rec.name = name;
    rec.method = compress ? kMethodDeflated : kMethodStored;
    rec.crc = crc32_of(content);
    rec.uncompressed_size = content.size();
    rec.local_offset = out_.size();
    rec.flags =
        std::any_of(name.begin(), name.end(), [](char c) { return c & 0x80; }) ? kFlagUtf8 : 0;
    std::vector<std::uint8_t> packed;
    if (compress) packed = deflate_raw(content);
    const auto data = compress ? std::span<const std::uint8_t>(packed) : content;
    rec.compressed_size = data.size();
    write_local_header(rec);
    out_.insert(out_.end(), data.begin(), data.end());
    records_.push_back(std::move(rec));
  }

  std::vector<std::uint8_t> finish() && {
    const std::uint64_t cd_offset = out_.size();
    for (const Record& rec : records_) write_central_header(rec);
    const std::uint64_t cd_size = out_.size() - cd_offset;
    const std::uint64_t entries = records_.size();
    if (entries >= kMax16 || needs_zip64(cd_offset) || needs_zip64(cd_size))
      write_zip64_end(entries, cd_size, cd_offset);
    append_le<std::uint32_t>(out_, kEndSig);
    append_le<std::uint16_t>(out_, 0);  // this disk
    append_le<std::uint16_t>(out_, 0);  // disk with the central directory
    append_le<std::uint16_t>(out_, saturate16(entries));
    append_le<std::uint16_t>(out_, saturate16(entries));
    append_le<std::uint32_t>(out_, field32(cd_size));
    append_le<std::uint32_t>(out_, field32(cd_offset));
    append_le<std::uint16_t>(out_, 0);  // comment length
    return std::move(out_);
  }

 private:
  struct Record {
    std::string name;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_offset = 0;
  };

  static std::uint16_t saturate16(std::uint64_t v) {
    return v >= kMax16 ? kMax16 : static_cast<std::uint16_t>(v);
  }
  static bool needs_zip64(std::uint64_t v) { return v >= kZip64Threshold; }
  // A 32-bit size/offset field: the value, or the marker saying "see the ZIP64 field".
  static std::uint32_t field32(std::uint64_t v) {
    return needs_zip64(v) ? kMax32 : static_cast<std::uint32_t>(v);
  }

  static std::vector<std::uint8_t> zip64_extra(const std::vector<std::uint64_t>& values) {
    std::vector<std::uint8_t> extra;
    if (values.empty()) return extra;
    append_le<std::uint16_t>(extra, kZip64ExtraId);
    append_le<std::uint16_t>(extra, static_cast<std::uint16_t>(8 * values.size()));
    for (const std::uint64_t v : values) append_le<std::uint64_t>(extra, v);
    return extra;
  }

  void write_header_common(const Record& rec, std::uint16_t version, std::uint32_t csize,
                           std::uint32_t usize, std::size_t extra_len) {
    append_le<std::uint16_t>(out_, version);
    append_le<std::uint16_t>(out_, rec.flags);
    append_le<std::uint16_t>(out_, rec.method);
    append_le<std::uint16_t>(out_, 0);  // DOS time 00:00:00
    append_le<std::uint16_t>(out_, kDosDate1980);
    append_le<std::uint32_t>(out_, rec.crc);
    append_le<std::uint32_t>(out_, csize);
    append_le<std::uint32_t>(out_, usize);
    append_le<std::uint16_t>(out_, static_cast<std::uint16_t>(rec.name.size()));
    append_le<std::uint16_t>(out_, static_cast<std::uint16_t>(extra_len));
  }

  void write_local_header(const Record& rec) {
    // A local ZIP64 extra field must carry both sizes when either overflows.
    const bool zip64 = needs_zip64(rec.compressed_size) || needs_zip64(rec.uncompressed_size);
    const auto extra = zip64 ? zip64_extra({rec.uncompressed_size, rec.compressed_size})
                             : std::vector<std::uint8_t>{};
    append_le<std::uint32_t>(out_, kLocalHeaderSig);
    write_header_common(rec, zip64 ? kVersionZip64 : kVersionDefault,
                        zip64 ? kMax32 : static_cast<std::uint32_t>(rec.compressed_size),
                        zip64 ? kMax32 : static_cast<std::uint32_t>(rec.uncompressed_size),
                        extra.size());
    out_.insert(out_.end(), rec.name.begin(), rec.name.end());
    out_.insert(out_.end(), extra.begin(), extra.end());
  }

  void write_central_header(const Record& rec) {
    // Only the saturated fields go into the central ZIP64 extra field, in this order.
    std::vector<std::uint64_t> big;
    for (const std::uint64_t v : {rec.uncompressed_size, rec.compressed_size, rec.local_offset})
      if (needs_zip64(v)) big.push_back(v);
    const auto extra = zip64_extra(big);
    const std::uint16_t version = big.empty() ? kVersionDefault : kVersionZip64;
    append_le<std::uint32_t>(out_, kCentralHeaderSig);
    append_le<std::uint16_t>(out_, kMadeByUnix | version);
    write_header_common(rec, version, field32(rec.compressed_size), field32(rec.uncompressed_size),
                        extra.size());
    append_le<std::uint16_t>(out_, 0);               // comment length
    append_le<std::uint16_t>(out_, 0);               // disk number
    append_le<std::uint16_t>(out_, 0);               // internal attributes
    append_le<std::uint32_t>(out_, 0100644u << 16);  // external: regular file, rw-r--r--
    append_le<std::uint32_t>(out_, field32(rec.local_offset));
    out_.insert(out_.end(), rec.name.begin(), rec.name.end());
    out_.insert(out_.end(), extra.begin(), extra.end());
  }

  void write_zip64_end(std::uint64_t entries, std::uint64_t cd_size, std::uint64_t cd_offset) {
    const std::uint64_t record_offset = out_.size();
    append_le<std::uint32_t>(out_, kZip64EndSig);
    append_le<std::uint64_t>(out_, kZip64EndSize - 12);  // size of the rest of this record
    append_le<std::uint16_t>(out_, kMadeByUnix | kVersionZip64);
    append_le<std::uint16_t>(out_, kVersionZip64);
    append_le<std::uint32_t>(out_, 0);  // this disk
    append_le<std::uint32_t>(out_, 0);  // disk with the central directory
    append_le<std::uint64_t>(out_, entries);
    append_le<std::uint64_t>(out_, entries);
    append_le<std::uint64_t>(out_, cd_size);
    append_le<std::uint64_t>(out_, cd_offset);
    append_le<std::uint32_t>(out_, kZip64LocatorSig);
    append_le<std::uint32_t>(out_, 0);  // disk with the ZIP64 end record
    append_le<std::uint64_t>(out_, record_offset);
    append_le<std::uint32_t>(out_, 1);  // total disks
  }

  std::vector<std::uint8_t> out_;
  std::vector<Record> records_;
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Public API

std::size_t dtype_size(DType t) {
  return visit_dtype(t, []<class T>(std::type_identity<T>) { return sizeof(T); });
}

std::string dtype_name(DType t) {
  for (const auto& entry : kDescrTable)
    if (entry.dtype == t) return std::string(entry.code);
  SPIKELINE_ASSERT(false && "invalid DType");
  return {};
}

std::vector<float> NpyArray::to_float() const { return convert_all<float>(*this, "to_float"); }
std::vector<double> NpyArray::to_double() const { return convert_all<double>(*this, "to_double"); }
std::vector<std::int64_t> NpyArray::to_int64() const {
  return convert_all<std::int64_t>(*this, "to_int64");
}

template <class T>
NpyArray NpyArray::from(const Shape& shape, std::span<const T> values) {
  SPIKELINE_ASSERT(values.size() == shape_size(shape));
  NpyArray a;
  a.dtype = dtype_of<T>();
  a.shape = shape;
  a.bytes.resize(values.size() * sizeof(T));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, bool>)
      a.bytes[i] = values[i] ? 1 : 0;
    else
      store_le<T>(a.bytes.data() + i * sizeof(T), values[i]);
  }
  return a;
}

template NpyArray NpyArray::from<float>(const Shape&, std::span<const float>);
template NpyArray NpyArray::from<double>(const Shape&, std::span<const double>);
template NpyArray NpyArray::from<std::int8_t>(const Shape&, std::span<const std::int8_t>);
template NpyArray NpyArray::from<std::int16_t>(const Shape&, std::span<const std::int16_t>);
template NpyArray NpyArray::from<std::int32_t>(const Shape&, std::span<const std::int32_t>);
template NpyArray NpyArray::from<std::int64_t>(const Shape&, std::span<const std::int64_t>);
template NpyArray NpyArray::from<std::uint8_t>(const Shape&, std::span<const std::uint8_t>);
template NpyArray NpyArray::from<std::uint16_t>(const Shape&, std::span<const std::uint16_t>);
template NpyArray NpyArray::from<std::uint32_t>(const Shape&, std::span<const std::uint32_t>);
template NpyArray NpyArray::from<std::uint64_t>(const Shape&, std::span<const std::uint64_t>);
template NpyArray NpyArray::from<bool>(const Shape&, std::span<const bool>);

NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& name) {
  const NpyLayout layout = split_npy(bytes, name);
  const NpyHeader header = interpret_header(HeaderParser(layout.header, name).parse_dict(), name);
  const std::size_t width = dtype_size(header.dtype);
  // Checked against the bytes present before anything is allocated.
  const std::size_t expected = checked_data_size(header.shape, width, name);
  const auto data = bytes.subspan(layout.data_offset);
  if (data.size() < expected)
    throw InputError(name, "truncated data: expected " + std::to_string(expected) +
                               " bytes, found " + std::to_string(data.size()));
  if (data.size() > expected)
    throw InputError(name, std::to_string(data.size() - expected) +
                               " unexpected bytes after the array data (expected " +
                               std::to_string(expected) + " bytes of data)");
  NpyArray a;
  a.dtype = header.dtype;
  a.shape = header.shape;
  a.bytes.assign(data.begin(), data.end());
  if (header.byte_swapped) swap_elements(a.bytes, width);
  if (a.dtype == DType::b1)
    for (auto& b : a.bytes) b = b != 0;
  return a;
}

std::vector<std::uint8_t> serialize_npy(const NpyArray& array) {
  check_byte_count(array, "serialize_npy");
  std::vector<std::uint8_t> out = npy_preamble(array);
  out.insert(out.end(), array.bytes.begin(), array.bytes.end());
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) {
  return parse_npy(read_file_bytes(path), path.string());
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  write_file_atomic(path, serialize_npy(array));
}

void Npz::add(std::string name, NpyArray array) {
  for (auto& [existing, value] : members_) {
    if (existing == name) {
      value = std::move(array);
      return;
    }
  }
  members_.emplace_back(std::move(name), std::move(array));
}

bool Npz::contains(const std::string& name) const {
  return std::any_of(members_.begin(), members_.end(),
                     [&](const auto& member) { return member.first == name; });
}

const NpyArray& Npz::at(const std::string& name) const {
  for (const auto& [existing, value] : members_)
    if (existing == name) return value;
  std::string listing;
  for (const auto& member : members_)
    listing += (listing.empty() ? "'" : ", '") + member.first + "'";
  throw InputError(
      source.empty() ? "npz" : source,
      "no member '" + name + "'" +
          (members_.empty() ? " (the archive is empty)" : " (members: " + listing + ")"));
}

Npz parse_npz(std::span<const std::uint8_t> bytes, const std::string& name) {
  const ByteReader reader(bytes, name);
  std::vector<ZipMember> members = read_central_directory(reader, locate_central_directory(reader));
  for (ZipMember& m : members) {
    if (!m.name.ends_with(kNpySuffix))
      throw InputError(member_where(name, m.name),
                       "not a .npy file (every .npz member must be NAME.npy)");
    locate_member_data(reader, m, member_where(name, m.name));
  }
  check_no_overlap(members, name);

  Npz npz;
  npz.source = name;
  for (const ZipMember& m : members) {
    const std::string stem = m.name.substr(0, m.name.size() - kNpySuffix.size());
    const std::string where = member_where(name, m.name);
    if (npz.contains(stem)) throw InputError(where, "duplicate member");
    npz.add(stem, parse_npy(extract_member(reader, m, where), where));
  }
  return npz;
}

std::vector<std::uint8_t> serialize_npz(const Npz& npz, bool compress) {
  ZipWriter writer;
  for (const auto& [name, array] : npz.members())
    writer.add(name + std::string(kNpySuffix), serialize_npy(array), compress);
  return std::move(writer).finish();
}

Npz read_npz(const std::filesystem::path& path) {
  return parse_npz(read_file_bytes(path), path.string());
}

void write_npz(const std::filesystem::path& path, const Npz& npz, bool compress) {
  write_file_atomic(path, serialize_npz(npz, compress));
}

}  // namespace spikeline::io
