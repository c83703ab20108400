#pragma once
// WISDM 2019 raw watch data: activity names, the raw line format, reading (plain or gzip), the
// timestamp join of accelerometer and gyroscope, and loading a whole data folder.
//
// Raw line format (one sample per line, LF or CRLF):  subject,activity,timestamp,x,y,z;
//   subject   integer id (1600..1650 in WISDM)
//   activity  one letter A..S without N (see wisdm_activities())
//   timestamp integer (ns on the watch; only equality and order are used)
//   x, y, z   floats: m/s^2 for the accelerometer, rad/s for the gyroscope
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::data {

struct Activity {
  char letter;
  std::string_view name;  // as in activity_key.txt, spaces replaced by '_' ("brushing_teeth")
};

// The 18 WISDM activities in letter order (A..S without N).
std::span<const Activity> wisdm_activities();
// The class order of the thesis's data files (the NeHAR order): "ABCDEMPOFQRGSJHLIK".
std::string_view nehar_letter_order();
// nullptr when `letter` is not a WISDM activity.
const Activity* find_activity(char letter);
// Accepts a letter ("A", "a"), a name ("walking", "brushing_teeth", "brushing teeth") or the short
// key of activity_key.txt ("teeth", "soup", "catch"); throws InputError naming `name_or_letter`.
char activity_letter(std::string_view name_or_letter);
std::string_view activity_name(char letter);  // InputError when unknown

enum class Sensor { accel, gyro };
std::string_view sensor_name(Sensor s);

// One sensor's samples of one (subject, activity) recording, in file order.
struct SensorRecording {
  int subject = 0;
  char activity = 0;
  std::size_t first_line = 0;           // 1-based line of its first sample, for messages
  std::vector<std::int64_t> timestamp;  // [n]
  std::vector<float> xyz;               // [n][3]
  std::size_t size() const { return timestamp.size(); }
};

// Parses the text of one raw file; recordings come out in order of first appearance (lines of a
// (subject, activity) pair that reappear later are appended to its recording). Blank lines are
// ignored. Any malformed line, and a file without samples, throws one InputError "source:line: ...".
std::vector<SensorRecording> parse_wisdm_raw(std::string_view text, const std::string& source);

// Reads a raw file, gzip-compressed or plain (detected from its content), and parses it.
std::vector<SensorRecording> read_wisdm_raw(const std::filesystem::path& path);
// The decompressed text of a file (plain files are returned as they are).
std::string read_maybe_gzip(const std::filesystem::path& path);

// Accelerometer and gyroscope of one (subject, activity), joined on equal timestamps.
struct Recording {
  int subject = 0;
  char activity = 0;
  std::vector<std::int64_t> timestamp;  // [n], increasing
  std::vector<float> values;            // [n][6]: acc x, y, z, gyro x, y, z
  std::size_t size() const { return timestamp.size(); }
};

enum class JoinMode {
  // Every accelerometer sample, paired with the gyroscope sample nearest in time when one lies
  // within the tolerance (the accelerometer drives the windowing, as the thesis's data did: the
  // window counts of DATA.md section 3 are reproduced exactly).
  nearest,
  // Only samples whose timestamps are equal in both files (an inner join).
  exact,
};
std::string_view join_mode_name(JoinMode m);
JoinMode join_mode_from_name(std::string_view name);  // InputError on unknown name

struct JoinStats {
  std::size_t unmatched_accel = 0;  // accelerometer samples dropped (no partner)
  std::size_t unmatched_gyro = 0;   // gyroscope samples not used
  std::size_t inexact = 0;          // pairs whose timestamps differ (nearest mode only)
};

// Joins the two sensors of one recording (both inputs are sorted by time first if they are not
// already in order). `tolerance_ns` bounds the pairing distance in nearest mode. Counts are added
// to *stats when given.
Recording join_on_timestamp(const SensorRecording& accel, const SensorRecording& gyro,
                            JoinMode mode = JoinMode::exact, std::int64_t tolerance_ns = 0,
                            JoinStats* stats = nullptr);

// Number of intervals longer than `gap_seconds` (timestamps in ns) in a recording.
std::size_t count_gaps(std::span<const std::int64_t> timestamp_ns, double gap_seconds);

// The raw files of a WISDM folder, by subject. `dir` may be the data set's root (holding
// raw/watch/{accel,gyro}), its raw/watch folder, or a folder with accel/ and gyro/ subfolders.
// File names: data_<subject>_<accel|gyro>_<device>.txt or .txt.gz.
struct WisdmFiles {
  std::filesystem::path root;  // the folder holding accel/ and gyro/
  std::map<int, std::filesystem::path> accel, gyro;
};
WisdmFiles find_wisdm_files(const std::filesystem::path& dir, std::string_view device = "watch");

struct LoadOptions {
  JoinMode join = JoinMode::nearest;
  double join_tolerance_s = 1.0;  // nearest mode: largest accel-gyro time difference paired
  std::vector<char> activities;    // empty: all
  std::vector<int> subjects;     // empty: all found
  std::string device = "watch";
  double gap_seconds = 1.0;  // intervals longer than this are reported as gaps
  int threads = 2;
  bool progress = false;  // progress bar on stderr while reading files
};

// What was found and what was not: nothing here is fatal.
struct LoadReport {
  std::vector<int> subjects;               // loaded, with both sensors
  std::vector<int> accel_only, gyro_only;  // subjects skipped for a missing sensor
  std::size_t accel_samples = 0, gyro_samples = 0, joined_samples = 0;
  std::size_t unmatched_accel = 0, unmatched_gyro = 0;  // samples left out of the join
  std::size_t inexact_pairs = 0;  // nearest join: pairs whose timestamps differ
  std::size_t gaps = 0;                                  // intervals > gap_seconds
  std::vector<std::string> notes;  // one line per finding, e.g. "subject 1616: no B (jogging)"
};

struct WisdmData {
  std::vector<Recording> recordings;  // sorted by subject, then activity letter
  LoadReport report;
};

// Reads the files of the selected subjects in parallel (one subject per task) and joins them.
// InputError when `dir` holds no raw files or a file is malformed.
WisdmData load_wisdm(const std::filesystem::path& dir, const LoadOptions& options);

}  // namespace spikeline::data
