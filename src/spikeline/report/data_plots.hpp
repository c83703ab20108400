#pragma once
// Plots of the data stage: the signals of one window and a spike raster.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "spikeline/report/plot.hpp"

namespace spikeline::report {

// x is [T][D] row-major. Dims are grouped into panels by the prefix of their name before '_'
// ("acc_x", "acc_y" -> panel "acc"); one coloured line per dim, time in seconds on the x axis.
Canvas plot_signals(std::span<const float> x, std::size_t T, std::size_t D,
                    std::span<const std::string> dim_names, double sample_period,
                    std::string_view title);

// raster is [steps][channels] of spike counts; one row per channel, a mark per step with spikes
// (darker for higher counts), time in seconds (step * dt) on the x axis.
Canvas plot_raster(std::span<const std::uint8_t> raster, std::size_t steps, std::size_t channels,
                   std::span<const std::string> channel_names, double dt, std::string_view title);

}  // namespace spikeline::report
