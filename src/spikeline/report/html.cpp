#include "spikeline/report/html.hpp"

namespace spikeline::report {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_figure(const Canvas& canvas, std::string_view caption) {
  return "<figure>" + canvas.svg() + "<figcaption>" + html_escape(caption) + "</figcaption></figure>\n";
}

std::string html_row(std::string_view name, std::string_view value) {
  return "<tr><td>" + html_escape(name) + "</td><td>" + html_escape(value) + "</td></tr>\n";
}

}  // namespace spikeline::report
