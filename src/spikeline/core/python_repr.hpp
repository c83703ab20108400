#pragma once
// Python's repr of a float: the shortest string that reads back to the same double, in exponent
// form when the decimal exponent is < -4 or >= 16 (1e-05, 0.0001, 1e+16, 0.6900000000000001).
// Files Python tools read or write byte-for-byte (thesis metadata, NNI parameter files) need it.
#include <string>

namespace spikeline {

std::string python_float_repr(double x);

}  // namespace spikeline
