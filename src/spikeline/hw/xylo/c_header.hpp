#pragma once
// A C99 header holding an integer Xylo configuration for a microcontroller host: dimensions as
// #defines, the arrays of config.json with fixed-width types. The header declares the arrays
// (extern); the one C file that defines XYLO_CONFIG_IMPLEMENTATION before including it also gets
// their definitions, so the header can be included anywhere without duplicate symbols or
// unused-variable warnings.
#include <string>

#include "spikeline/hw/xylo/spec.hpp"

namespace spikeline::hw::xylo {

struct HeaderInfo {
  std::string guard = "XYLO_CONFIG_H";
  std::string prefix = "xylo";  // array names xylo_weights_in, ...; macros XYLO_N_IN, ...
  double clock_hz = 50e6;
  std::string comment;  // first lines of the file (provenance)
};

// InputError when a value does not fit its C type (run validate() first for the full list).
std::string c_header(const IntSpec& spec, const HeaderInfo& info = {});

}  // namespace spikeline::hw::xylo
