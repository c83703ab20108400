#include "spikeline/hpo/trial_protocol.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace spikeline::hpo {

namespace {
constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kAlnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::size_t kMaxFrame = 999999;  // six decimal digits of length
}  // namespace

std::string make_experiment_id(Rng& rng) {
  std::string pool(kLower), id;
  for (int i = 0; i < 8; ++i) {  // without replacement: distinct characters, like random.sample
    const auto k = rng.below(pool.size());
    id += pool[k];
    pool.erase(k, 1);
  }
  return id;
}

std::string make_trial_id(Rng& rng) {
  std::string id(1, kLetters[rng.below(kLetters.size())]);
  for (int i = 0; i < 4; ++i) id += kAlnum[rng.below(kAlnum.size())];
  return id;
}

bool is_experiment_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

std::string parameter_record(std::optional<std::int64_t> parameter_id, const Parameters& parameters,
                             const std::string& source) {
  nlohmann::ordered_json rec;
  rec["parameter_id"] = parameter_id ? nlohmann::ordered_json(*parameter_id) : nlohmann::ordered_json(nullptr);
  rec["parameter_source"] = source;
  rec["parameters"] = parameters;
  rec["parameter_index"] = 0;
  return dump_python_json(rec);
}

std::string metric_record(const MetricReport& r) {
  nlohmann::ordered_json rec;
  rec["parameter_id"] = r.parameter_id ? nlohmann::ordered_json(*r.parameter_id) : nlohmann::ordered_json(nullptr);
  rec["trial_job_id"] = r.trial_job_id;
  rec["type"] = r.type;
  rec["sequence"] = r.sequence;
  rec["value"] = r.value;
  return dump_python_json(rec);
}

std::string metric_frame(const MetricReport& report) {
  const std::string rec = metric_record(report);
  return fmt::format("ME{:06d}{}\n", rec.size(), rec);
}

namespace {

// One record's fields, checked; an error text when it is not a metric record.
std::string read_report(const nlohmann::json& j, MetricReport& r) {
  if (!j.is_object()) return "record is not a JSON object";
  const auto pid = j.find("parameter_id");
  if (pid != j.end() && pid->is_number_integer()) r.parameter_id = pid->get<std::int64_t>();
  else if (pid != j.end() && !pid->is_null()) return "parameter_id is not an integer";
  const auto tid = j.find("trial_job_id");
  if (tid != j.end() && tid->is_string()) r.trial_job_id = tid->get<std::string>();
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return "type is missing";
  r.type = type->get<std::string>();
  if (r.type != "PERIODICAL" && r.type != "FINAL") return "type '" + r.type + "' is not PERIODICAL or FINAL";
  const auto seq = j.find("sequence");
  if (seq == j.end() || !seq->is_number_integer()) return "sequence is not an integer";
  r.sequence = seq->get<std::int64_t>();
  if (r.sequence < 0) return "sequence is negative";
  const auto value = j.find("value");
  if (value == j.end()) return "value is missing";
  // NNI double-encodes the metric; tolerate a plain JSON value too (hand-written reporters).
  r.value = value->is_string() ? value->get<std::string>() : value->dump();
  return "";
}

}  // namespace

MetricParse parse_metric_frames(std::string_view data) {
  MetricParse out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] == '\n') {  // a frame's newline, when it came after the frame was read
      out.consumed = ++pos;
      continue;
    }
    if (data.size() - pos < 8) break;  // header incomplete: wait for more
    if (data[pos] != 'M' || data[pos + 1] != 'E') {
      out.error = fmt::format("byte {}: frame does not start with ME", pos);
      break;
    }
    std::size_t len = 0;
    const char* first = data.data() + pos + 2;
    const auto [end, ec] = std::from_chars(first, first + 6, len);
    if (ec != std::errc() || end != first + 6 || len > kMaxFrame) {
      out.error = fmt::format("byte {}: frame length is not 6 digits", pos);
      break;
    }
    if (data.size() - pos - 8 < len) break;  // body incomplete
    const std::string_view body = data.substr(pos + 8, len);
    std::size_t next = pos + 8 + len;
    if (next < data.size() && data[next] == '\n') ++next;
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) {
      out.error = fmt::format("byte {}: frame is not JSON", pos);
      break;
    }
    MetricReport r;
    if (auto err = read_report(j, r); !err.empty()) {
      out.error = fmt::format("byte {}: {}", pos, err);
      break;
    }
    out.reports.push_back(std::move(r));
    pos = next;
    out.consumed = pos;
  }
  return out;
}

}  // namespace spikeline::hpo
