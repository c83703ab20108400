#include "spikeline/hw/xylo/c_header.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::xylo {

namespace {

struct CArray {
  const char* name;      // config.json key
  const char* type;      // C type
  std::int64_t lo, hi;   // its range
  std::vector<std::string> dims;  // macro names
  const std::vector<std::int64_t>* values;
};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Values in rows of the last dimension, braces per dimension (C99 nested initialiser).
void write_values(std::string& out, const std::vector<std::int64_t>& v, const std::vector<std::size_t>& sizes,
                  std::size_t dim, std::size_t& pos, int indent) {
  const std::string pad(std::size_t(indent), ' ');
  if (dim + 1 == sizes.size()) {
    out += "{";
    for (std::size_t i = 0; i < sizes[dim]; ++i) out += fmt::format("{}{}", i ? ", " : "", v[pos++]);
    out += "}";
    return;
  }
  out += "{\n";
  for (std::size_t i = 0; i < sizes[dim]; ++i) {
    out += pad + "  ";
    write_values(out, v, sizes, dim + 1, pos, indent + 2);
    out += i + 1 < sizes[dim] ? ",\n" : "\n";
  }
  out += pad + "}";
}

}  // namespace

std::string c_header(const IntSpec& s, const HeaderInfo& info) {
  const std::string P = upper(info.prefix), p = info.prefix;
  std::vector<std::int64_t> alias(std::size_t(s.n_hid), -1);
  for (int i = 0; i < s.n_hid; ++i)
    if (!s.aliases[std::size_t(i)].empty()) alias[std::size_t(i)] = s.aliases[std::size_t(i)][0];
  const std::string in = P + "_N_IN", hid = P + "_N_HID", out = P + "_N_OUT", syn = P + "_N_SYN";
  auto with_syn = [&](std::vector<std::string> d) {
    if (s.n_syn == 2) d.push_back(syn);
    return d;
  };
  const std::vector<CArray> arrays = {
      {"weights_in", "int8_t", -128, 127, with_syn({in, hid}), &s.weights_in},
      {"weights_rec", "int8_t", -128, 127, with_syn({hid, hid}), &s.weights_rec},
      {"weights_out", "int8_t", -128, 127, {hid, out}, &s.weights_out},
      {"dash_mem", "uint8_t", 0, 255, {hid}, &s.dash_mem},
      {"dash_syn", "uint8_t", 0, 255, {hid}, &s.dash_syn},
      {"dash_syn_2", "uint8_t", 0, 255, {hid}, &s.dash_syn_2},
      {"threshold", "int16_t", -32768, 32767, {hid}, &s.threshold},
      {"bias", "int16_t", -32768, 32767, {hid}, &s.bias},
      {"alias_target", "int16_t", -1, 32767, {hid}, &alias},
      {"dash_mem_out", "uint8_t", 0, 255, {out}, &s.dash_mem_out},
      {"dash_syn_out", "uint8_t", 0, 255, {out}, &s.dash_syn_out},
      {"threshold_out", "int16_t", -32768, 32767, {out}, &s.threshold_out},
      {"bias_out", "int16_t", -32768, 32767, {out}, &s.bias_out},
  };
  auto dim_value = [&](const std::string& m) -> std::size_t {
    return std::size_t(m == in ? s.n_in : m == hid ? s.n_hid : m == out ? s.n_out : s.n_syn);
  };

  std::string h;
  if (!info.comment.empty()) {  // one C comment; a "*/" inside would end it early
    std::string c = info.comment;
    for (std::size_t at; (at = c.find("*/")) != std::string::npos;) c.replace(at, 2, "* /");
    h += "/*\n * ";
    for (char ch : c) h += ch == '\n' ? std::string("\n * ") : std::string(1, ch);
    h += "\n */\n";
  }
  h += fmt::format("#ifndef {0}\n#define {0}\n\n#include <stdint.h>\n\n", info.guard);
  h += fmt::format("#define {} {}\n#define {} {}\n#define {} {}\n#define {} {}\n", in, s.n_in, hid, s.n_hid, out,
                   s.n_out, syn, s.n_syn);
  h += fmt::format("#define {0}_WEIGHT_SHIFT_IN {1}\n#define {0}_WEIGHT_SHIFT_REC {2}\n#define {0}_WEIGHT_SHIFT_OUT {3}\n",
                   P, s.weight_shift_in, s.weight_shift_rec, s.weight_shift_out);
  h += fmt::format("#define {}_DT_US {}L /* time step in microseconds */\n", P,
                   static_cast<long long>(std::llround(s.dt * 1e6)));
  h += fmt::format("#define {}_CLOCK_HZ {}L /* core clock */\n", P, static_cast<long long>(std::llround(info.clock_hz)));
  h += fmt::format("#define {}_ALIAS_NONE (-1) /* {}_alias_target entry of a neuron without alias */\n\n", P, p);

  std::string decl, defs;
  for (const auto& a : arrays) {
    for (std::size_t i = 0; i < a.values->size(); ++i) {
      const auto v = (*a.values)[i];
      if (v < a.lo || v > a.hi)
        throw InputError(std::string("xylo config: ") + a.name + "[" + std::to_string(i) + "]",
                         fmt::format("= {} does not fit {} ({}..{})", v, a.type, a.lo, a.hi));
    }
    std::string dims;
    std::vector<std::size_t> sizes;
    for (const auto& d : a.dims) {
      dims += "[" + d + "]";
      sizes.push_back(dim_value(d));
    }
    const std::string head = fmt::format("const {} {}_{}{}", a.type, p, a.name, dims);
    decl += "extern " + head + ";\n";
    std::size_t pos = 0;
    defs += head + " = ";
    write_values(defs, *a.values, sizes, 0, pos, 0);
    defs += ";\n";
  }
  h += decl;
  h += fmt::format("\n#ifdef {}_CONFIG_IMPLEMENTATION\n", P);
  h += defs;
  h += fmt::format("#endif /* {}_CONFIG_IMPLEMENTATION */\n\n#endif /* {} */\n", P, info.guard);
  return h;
}

}  // namespace spikeline::hw::xylo
