#pragma once
// Small HTML building blocks shared by the self-contained report pages (pipeline, deploy reports).
#include <string>
#include <string_view>

#include "spikeline/report/plot.hpp"

namespace spikeline::report {

// Text safe inside HTML element content and double-quoted attribute values (& < > ").
std::string html_escape(std::string_view s);

// The canvas as inline SVG in a <figure> with an escaped caption, followed by a newline.
std::string html_figure(const Canvas& canvas, std::string_view caption);

// One two-column table row, both cells escaped.
std::string html_row(std::string_view name, std::string_view value);

}  // namespace spikeline::report
