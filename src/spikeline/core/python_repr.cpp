#include "spikeline/core/python_repr.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace spikeline {

std::string python_float_repr(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  // Shortest round-trip digits, as Python's repr (both give the shortest correctly rounded form).
  const auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const std::string sci(buf, r.ptr);
  const auto epos = sci.find('e');
  const int exp10 = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i)
    if (sci[i] >= '0' && sci[i] <= '9') digits += sci[i];
  std::string out = x < 0 ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (digits.size() > 1) out.append(".").append(digits, 1);
    out += fmt::format("e{}{:02d}", exp10 < 0 ? '-' : '+', std::abs(exp10));
  } else if (exp10 < 0) {
    out.append("0.").append(static_cast<std::size_t>(-exp10 - 1), '0').append(digits);
  } else {
    const std::size_t point = static_cast<std::size_t>(exp10) + 1;
    if (digits.size() <= point) out.append(digits).append(point - digits.size(), '0').append(".0");
    else out.append(digits, 0, point).append(".").append(digits, point);
  }
  return out;
}

}  // namespace spikeline
