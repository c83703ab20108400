#pragma once
// Dynap-SE2 bias-generator codec: current (A) <-> (coarse 0..5, fine 0..255) per device parameter,
// as Rockpool 2.7 analog_to_param / param_to_analog (shared docs dynapse2.md §7).
#include <span>
#include <string_view>

#include "spikeline/hw/dynapse2/bias_tables.hpp"

namespace spikeline::hw::dynapse2 {

struct CoarseFine {
  int coarse = 0;
  int fine = 0;
  friend bool operator==(const CoarseFine&, const CoarseFine&) = default;
};

// All device parameters with a lookup table (name ends in _N or _P).
std::span<const BiasParam> bias_params();

// By device name ("SOIF_LEAK_N") or simulator name ("Itau_mem"); nullptr when unknown.
const BiasParam* find_bias_param(std::string_view name);

// Measured output current of the generator (A), without the parameter's scale factor.
double bias_table(Transistor type, int coarse, int fine);

// Nearest setting: per coarse level the fine value minimising |table*scale - I| (first wins ties),
// then the coarse level with the smallest error (first wins ties). Throws InputError for
// a non-finite or negative current.
CoarseFine encode_current(const BiasParam& p, double current_A);

// table[type][coarse][fine] * scale_factor. Throws InputError when coarse/fine are out of range.
double decode_current(const BiasParam& p, CoarseFine cf);

}  // namespace spikeline::hw::dynapse2
