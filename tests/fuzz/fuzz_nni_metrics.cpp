// libFuzzer target for NNI's metrics file channel ("ME" + 6-digit length + JSON record), which
// trials of any language write and the controller parses (src/spikeline/hpo/trial_protocol.hpp).
// Properties: the parse never crashes or throws; `consumed` never passes the input; every record
// it accepts re-encodes to a frame that parses back to the same record; and parsing the consumed
// prefix gives the same records (the controller reads the file in pieces).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "spikeline/hpo/trial_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikeline::hpo;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const MetricParse p = parse_metric_frames(text);
  if (p.consumed > size) __builtin_trap();
  const MetricParse prefix = parse_metric_frames(text.substr(0, p.consumed));
  if (prefix.reports.size() != p.reports.size()) __builtin_trap();
  for (const auto& r : p.reports) {
    if (r.type != "PERIODICAL" && r.type != "FINAL") __builtin_trap();
    if (r.sequence < 0) __builtin_trap();
    const MetricParse again = parse_metric_frames(metric_frame(r));
    if (again.reports.size() != 1 || !again.error.empty()) __builtin_trap();
    const auto& b = again.reports[0];
    if (b.type != r.type || b.sequence != r.sequence || b.value != r.value || b.trial_job_id != r.trial_job_id ||
        b.parameter_id != r.parameter_id)
      __builtin_trap();
  }
  return 0;
}
