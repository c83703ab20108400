#pragma once
// Pictures of the task-definition stage, drawn with report::Canvas (SVG or PNG by extension).
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "spikeline/core/array.hpp"
#include "spikeline/report/plot.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/kde.hpp"

namespace spikeline::tasks {

// The thesis's KDE grid: kdes [classes][D][grid.points]; dim d is drawn in row d % 3 and column
// d / 3 (D = 6: rows x, y, z; columns accelerometer, gyroscope), one filled density per class and
// a shared legend.
report::Canvas plot_class_kdes(const Array<double>& kdes, const Grid& grid, std::span<const std::string> class_names,
                               std::span<const std::string> dim_names, std::string_view title);

// Heatmap of a distance matrix with class names on both axes (+inf cells in dark grey).
report::Canvas plot_distance_heatmap(const DistanceMatrix& m, std::string_view title);

}  // namespace spikeline::tasks
