#include "spikeline/data/wisdm.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>
#include <regex>
#include <unordered_map>

#include "spikeline/core/error.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/core/progress.hpp"

namespace spikeline::data {

namespace {

// Names as in the thesis's class list (descriptive), with the short keys of activity_key.txt
// accepted as aliases by activity_letter().
constexpr std::array<Activity, 18> kActivities{{
    {'A', "walking"},         {'B', "jogging"},
    {'C', "stairs"},          {'D', "sitting"},
    {'E', "standing"},        {'F', "typing"},
    {'G', "brushing_teeth"},  {'H', "eating_soup"},
    {'I', "eating_chips"},    {'J', "eating_pasta"},
    {'K', "drinking"},        {'L', "eating_sandwich"},
    {'M', "kicking_soccer"},  {'O', "catch_tennis"},
    {'P', "dribbling_basketball"}, {'Q', "writing"},
    {'R', "clapping"},        {'S', "folding_clothes"},
}};

struct Alias {
  std::string_view key;
  char letter;
};
constexpr std::array<Alias, 10> kAliases{{{"teeth", 'G'},
                                          {"soup", 'H'},
                                          {"chips", 'I'},
                                          {"pasta", 'J'},
                                          {"sandwich", 'L'},
                                          {"kicking", 'M'},
                                          {"catch", 'O'},
                                          {"dribbling", 'P'},
                                          {"folding", 'S'},
                                          {"brushing", 'G'}}};

std::string normalise_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '-') c = '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 32 && u < 127) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

struct LineContext {
  const std::string& source;
  std::size_t line;
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(source + ":" + std::to_string(line), what);
  }
};

template <class T>
T parse_integer(std::string_view field, const char* what, const LineContext& ctx) {
  field = trim(field);
  T value{};
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size())
    ctx.fail(std::string(what) + " is not an integer: '" + printable(field) + "'");
  return value;
}

float parse_float(std::string_view field, const char* what, const LineContext& ctx) {
  field = trim(field);
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);  // from_chars rejects '+'
  float value = 0.0f;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec == std::errc::invalid_argument || end != field.data() + field.size())
    ctx.fail(std::string(what) + " is not a number: '" + printable(field) + "'");
  if (ec == std::errc::result_out_of_range || !std::isfinite(value))
    ctx.fail(std::string(what) + " is out of range or not finite: '" + printable(field) + "'");
  return value;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

bool is_gzip(const std::filesystem::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char magic[2] = {0, 0};
  const std::size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

}  // namespace

std::span<const Activity> wisdm_activities() { return kActivities; }

std::string_view nehar_letter_order() { return "ABCDEMPOFQRGSJHLIK"; }

const Activity* find_activity(char letter) {
  for (const auto& a : kActivities)
    if (a.letter == letter) return &a;
  return nullptr;
}

char activity_letter(std::string_view name_or_letter) {
  const std::string key = normalise_name(trim(name_or_letter));
  if (key.size() == 1) {
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(key[0])));
    if (find_activity(upper)) return upper;
  }
  for (const auto& a : kActivities)
    if (a.name == key) return a.letter;
  for (const auto& alias : kAliases)
    if (alias.key == key) return alias.letter;
  std::string known;
  for (const auto& a : kActivities) {
    if (!known.empty()) known += ", ";
    known += a.letter;
    known += '=';
    known += a.name;
  }
  throw InputError("class '" + std::string(name_or_letter) + "'",
                   "unknown activity; expected a letter or a name: " + known);
}

std::string_view activity_name(char letter) {
  if (const Activity* a = find_activity(letter)) return a->name;
  throw InputError("activity '" + std::string(1, letter) + "'", "not a WISDM activity letter");
}

std::string_view sensor_name(Sensor s) { return s == Sensor::accel ? "accel" : "gyro"; }

std::vector<SensorRecording> parse_wisdm_raw(std::string_view text, const std::string& source) {
  std::vector<SensorRecording> recordings;
  // Index of the recording of each (subject, activity) key, to append reappearing lines.
  std::unordered_map<std::int64_t, std::size_t> index_of;
  SensorRecording* current = nullptr;
  std::int64_t current_key = -1;

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const LineContext ctx{source, line_no};
    if (line.back() != ';')
      ctx.fail("line does not end with ';' (truncated line?): '" + printable(line) + "'");
    line.remove_suffix(1);

    std::array<std::string_view, 6> field;
    std::size_t n_fields = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      const std::string_view f =
          line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (n_fields < field.size()) field[n_fields] = f;
      ++n_fields;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (n_fields != 6)
      ctx.fail("expected 6 comma-separated fields (subject,activity,timestamp,x,y,z;), found " +
               std::to_string(n_fields) + ": '" + printable(line) + "'");

    const int subject = parse_integer<int>(field[0], "subject", ctx);
    const std::string_view act = trim(field[1]);
    if (act.size() != 1 || !find_activity(act[0]))
      ctx.fail("unknown activity '" + printable(act) + "' (expected one letter A..S without N)");
    const std::int64_t timestamp = parse_integer<std::int64_t>(field[2], "timestamp", ctx);
    const float x = parse_float(field[3], "x", ctx);
    const float y = parse_float(field[4], "y", ctx);
    const float z = parse_float(field[5], "z", ctx);

    const std::int64_t key = static_cast<std::int64_t>(subject) * 256 + act[0];
    if (key != current_key) {
      auto [it, inserted] = index_of.try_emplace(key, recordings.size());
      if (inserted) {
        SensorRecording r;
        r.subject = subject;
        r.activity = act[0];
        r.first_line = line_no;
        recordings.push_back(std::move(r));
      }
      current = &recordings[it->second];
      current_key = key;
    }
    current->timestamp.push_back(timestamp);
    current->xyz.insert(current->xyz.end(), {x, y, z});
  }
  if (recordings.empty())
    throw InputError(source + ":" + std::to_string(std::max<std::size_t>(line_no, 1)),
                     "empty file: no samples");
  return recordings;
}

std::string read_maybe_gzip(const std::filesystem::path& path) {
  // gzread passes plain files through unchanged, so one path serves both kinds.
  const bool compressed = is_gzip(path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw IoError(path.string() + ": cannot open for reading: " + std::strerror(errno));
  gzbuffer(f, 1 << 18);
  std::string text;
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (!ec) text.reserve(compressed ? file_size * 4 : file_size);
  std::vector<char> chunk(1 << 18);
  while (true) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int errnum = 0;
      const std::string msg = gzerror(f, &errnum);
      gzclose(f);
      throw InputError(path.string(), "corrupt gzip data: " + msg);
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  int errnum = 0;
  const std::string msg = gzerror(f, &errnum);
  gzclose(f);
  if (errnum != Z_OK && errnum != Z_STREAM_END)
    throw InputError(path.string(), "truncated or corrupt gzip data: " + msg);
  return text;
}

std::vector<SensorRecording> read_wisdm_raw(const std::filesystem::path& path) {
  return parse_wisdm_raw(read_maybe_gzip(path), path.string());
}

namespace {

// Order of samples by timestamp (identity when already sorted, the normal case).
std::vector<std::size_t> order_by_time(const std::vector<std::int64_t>& t) {
  std::vector<std::size_t> idx(t.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  if (!std::is_sorted(t.begin(), t.end()))
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
  return idx;
}

}  // namespace

std::string_view join_mode_name(JoinMode m) { return m == JoinMode::nearest ? "nearest" : "exact"; }

JoinMode join_mode_from_name(std::string_view name) {
  if (name == "nearest") return JoinMode::nearest;
  if (name == "exact") return JoinMode::exact;
  throw InputError("join '" + std::string(name) + "'", "expected nearest or exact");
}

Recording join_on_timestamp(const SensorRecording& accel, const SensorRecording& gyro, JoinMode mode,
                            std::int64_t tolerance_ns, JoinStats* stats) {
  Recording out;
  out.subject = accel.subject;
  out.activity = accel.activity;
  const auto ia = order_by_time(accel.timestamp);
  const auto ig = order_by_time(gyro.timestamp);
  out.timestamp.reserve(ia.size());
  out.values.reserve(ia.size() * 6);
  std::vector<bool> gyro_used(ig.size(), false);
  std::size_t inexact = 0;
  auto emit = [&](std::size_t a, std::size_t g) {
    out.timestamp.push_back(accel.timestamp[ia[a]]);
    const float* pa = &accel.xyz[3 * ia[a]];
    const float* pg = &gyro.xyz[3 * ig[g]];
    out.values.insert(out.values.end(), {pa[0], pa[1], pa[2], pg[0], pg[1], pg[2]});
    gyro_used[g] = true;
  };
  if (mode == JoinMode::exact) {
    std::size_t a = 0, g = 0;
    while (a < ia.size() && g < ig.size()) {
      const std::int64_t ta = accel.timestamp[ia[a]], tg = gyro.timestamp[ig[g]];
      if (ta < tg) {
        ++a;
      } else if (tg < ta) {
        ++g;
      } else {
        emit(a++, g++);
      }
    }
  } else {
    std::size_t g = 0;  // the last gyro sample at or before the accel sample (or the first one)
    for (std::size_t a = 0; a < ia.size() && !ig.empty(); ++a) {
      const std::int64_t ta = accel.timestamp[ia[a]];
      while (g + 1 < ig.size() && gyro.timestamp[ig[g + 1]] <= ta) ++g;
      std::size_t best = g;
      // Differences as unsigned magnitudes: timestamps may be anything in a malformed file.
      auto distance = [&](std::size_t k) {
        const std::int64_t tg = gyro.timestamp[ig[k]];
        return ta >= tg ? static_cast<std::uint64_t>(ta) - static_cast<std::uint64_t>(tg)
                        : static_cast<std::uint64_t>(tg) - static_cast<std::uint64_t>(ta);
      };
      if (g + 1 < ig.size() && distance(g + 1) < distance(g)) best = g + 1;
      if (distance(best) > static_cast<std::uint64_t>(std::max<std::int64_t>(0, tolerance_ns))) continue;
      if (distance(best) != 0) ++inexact;
      emit(a, best);
    }
  }
  if (stats) {
    stats->unmatched_accel += accel.size() - out.size();
    stats->unmatched_gyro += static_cast<std::size_t>(std::count(gyro_used.begin(), gyro_used.end(), false));
    stats->inexact += inexact;
  }
  return out;
}

std::size_t count_gaps(std::span<const std::int64_t> t, double gap_seconds) {
  const double limit_ns = gap_seconds * 1e9;
  std::size_t gaps = 0;
  for (std::size_t i = 1; i < t.size(); ++i)
    if (static_cast<double>(t[i] - t[i - 1]) > limit_ns) ++gaps;
  return gaps;
}

WisdmFiles find_wisdm_files(const std::filesystem::path& dir, std::string_view device) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError(dir.string(), "not a folder");
  WisdmFiles files;
  for (const fs::path& candidate : {dir / "raw" / "watch", dir / "raw" / std::string(device),
                                   dir / "watch", dir}) {
    if (fs::is_directory(candidate / "accel") || fs::is_directory(candidate / "gyro")) {
      files.root = candidate;
      break;
    }
  }
  if (files.root.empty())
    throw InputError(dir.string(),
                     "no accel/ or gyro/ folder here, nor under raw/watch/ (expected the WISDM "
                     "layout raw/watch/{accel,gyro}/data_<subject>_<sensor>_watch.txt[.gz])");
  const std::regex pattern("data_([0-9]+)_(accel|gyro)_" + std::string(device) + R"(\.txt(\.gz)?)");
  for (const char* sensor : {"accel", "gyro"}) {
    const fs::path folder = files.root / sensor;
    if (!fs::is_directory(folder)) continue;
    for (const auto& entry : fs::directory_iterator(folder)) {
      std::smatch m;
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file() || !std::regex_match(name, m, pattern) || m[2] != sensor) continue;
      int subject = 0;
      const std::string digits = m[1];
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), subject);
      if (ec != std::errc() || end != digits.data() + digits.size()) continue;  // not a plausible id
      auto& map = std::strcmp(sensor, "accel") == 0 ? files.accel : files.gyro;
      // Prefer the plain file when both foo.txt and foo.txt.gz exist (either holds the same data).
      if (!map.count(subject) || !m[3].matched) map[subject] = entry.path();
    }
  }
  if (files.accel.empty() && files.gyro.empty())
    throw InputError(files.root.string(), "no raw files data_<subject>_{accel,gyro}_" +
                                              std::string(device) + ".txt[.gz] found");
  return files;
}

WisdmData load_wisdm(const std::filesystem::path& dir, const LoadOptions& options) {
  const WisdmFiles files = find_wisdm_files(dir, options.device);
  WisdmData out;
  LoadReport& report = out.report;

  std::vector<int> subjects;
  auto wanted = [&](int s) {
    return options.subjects.empty() ||
           std::find(options.subjects.begin(), options.subjects.end(), s) != options.subjects.end();
  };
  for (const auto& [s, path] : files.accel) {
    if (!wanted(s)) continue;
    if (files.gyro.count(s)) {
      subjects.push_back(s);
    } else {
      report.accel_only.push_back(s);
      report.notes.push_back("subject " + std::to_string(s) + ": no gyro file, skipped");
    }
  }
  for (const auto& [s, path] : files.gyro) {
    if (wanted(s) && !files.accel.count(s)) {
      report.gyro_only.push_back(s);
      report.notes.push_back("subject " + std::to_string(s) + ": no accel file, skipped");
    }
  }
  for (int s : options.subjects)
    if (!files.accel.count(s) && !files.gyro.count(s))
      report.notes.push_back("subject " + std::to_string(s) + ": no files found");
  if (subjects.empty())
    throw InputError(files.root.string(), "no subject has both accel and gyro files");

  const std::string letters = [&] {
    std::string l;
    for (const auto& a : kActivities)
      if (options.activities.empty() ||
          std::find(options.activities.begin(), options.activities.end(), a.letter) !=
              options.activities.end())
        l += a.letter;
    return l;
  }();

  struct SubjectResult {
    std::vector<Recording> recordings;
    std::size_t accel = 0, gyro = 0, gaps = 0;
    JoinStats join;
    std::vector<std::string> notes;
    std::string absent;  // activity letters with no samples at all
  };
  std::vector<SubjectResult> results(subjects.size());
  ProgressBar bar("reading WISDM", subjects.size() * 2, options.progress);
  std::mutex bar_mutex;
  std::size_t files_done = 0;
  auto tick = [&] {
    std::lock_guard lock(bar_mutex);
    bar.update(++files_done);
  };

  parallel_for(subjects.size(), options.threads, [&](std::size_t task, int) {
    const int s = subjects[task];
    SubjectResult& r = results[task];
    auto accel = read_wisdm_raw(files.accel.at(s));
    tick();
    auto gyro = read_wisdm_raw(files.gyro.at(s));
    tick();
    auto find = [&](std::vector<SensorRecording>& recs, char act) -> SensorRecording* {
      for (auto& rec : recs)
        if (rec.subject == s && rec.activity == act) return &rec;
      return nullptr;
    };
    for (const auto* recs : {&accel, &gyro})
      for (const auto& rec : *recs)
        if (rec.subject != s)
          r.notes.push_back("subject " + std::to_string(s) + ": file holds lines of subject " +
                            std::to_string(rec.subject) + " (ignored)");
    for (char act : letters) {
      SensorRecording* a = find(accel, act);
      SensorRecording* g = find(gyro, act);
      if (!a && !g) {
        r.absent += act;  // reported below if some other subject has it
        continue;
      }
      if (!a || !g) {
        r.notes.push_back("subject " + std::to_string(s) + ": " + std::string(1, act) + " only in " +
                          (a ? "accel" : "gyro") + ", skipped");
        continue;
      }
      r.accel += a->size();
      r.gyro += g->size();
      Recording joined = join_on_timestamp(*a, *g, options.join,
                                           static_cast<std::int64_t>(options.join_tolerance_s * 1e9), &r.join);
      const std::size_t gaps = count_gaps(joined.timestamp, options.gap_seconds);
      if (gaps)
        r.notes.push_back("subject " + std::to_string(s) + ": " + std::string(1, act) + " has " +
                          std::to_string(gaps) + " gap(s) > " + seconds_text(options.gap_seconds) + " s");
      r.gaps += gaps;
      if (joined.size() == 0) {
        r.notes.push_back("subject " + std::to_string(s) + ": " + std::string(1, act) +
                          " accel and gyro have no samples close in time, skipped");
        continue;
      }
      r.recordings.push_back(std::move(joined));
    }
  });
  bar.finish();

  report.subjects = subjects;
  std::string present;
  for (const auto& r : results)
    for (const auto& rec : r.recordings)
      if (present.find(rec.activity) == std::string::npos) present += rec.activity;
  for (std::size_t i = 0; i < results.size(); ++i)
    for (char act : results[i].absent)
      if (present.find(act) != std::string::npos)
        results[i].notes.push_back("subject " + std::to_string(subjects[i]) + ": no " + std::string(1, act) +
                                   " (" + std::string(activity_name(act)) + ")");
  for (auto& r : results) {
    report.accel_samples += r.accel;
    report.gyro_samples += r.gyro;
    report.unmatched_accel += r.join.unmatched_accel;
    report.unmatched_gyro += r.join.unmatched_gyro;
    report.inexact_pairs += r.join.inexact;
    report.gaps += r.gaps;
    for (auto& n : r.notes) report.notes.push_back(std::move(n));
    for (auto& rec : r.recordings) {
      report.joined_samples += rec.size();
      out.recordings.push_back(std::move(rec));
    }
  }
  return out;
}

}  // namespace spikeline::data
