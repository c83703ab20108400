#pragma once
// A deterministic generator of plausible 6-axis wrist IMU recordings (accelerometer m/s^2,
// gyroscope rad/s, 20 Hz), written in the WISDM raw format so that the whole pipeline runs without
// a download. Classes differ the way real ones do (gravity direction from the arm pose, gait
// cadence and arm swing, small fast hand motions) and subjects differ in cadence, amplitude, watch
// orientation and noise, so that classes are learnable but not trivially (docs/data.md).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spikeline/data/wisdm.hpp"

namespace spikeline::data {

struct SynthOptions {
  int subjects = 20;
  int first_subject = 1600;     // ids first_subject, first_subject + 1, ...
  std::uint64_t seed = 1;
  double seconds = 60.0;        // per (subject, activity) recording
  double sample_rate_hz = 20.0;
  // Activities generated (letters); the default 8: walking, jogging, stairs, sitting, standing,
  // typing, brushing teeth, writing. Supported: A B C D E F G Q.
  std::string activities = "ABCDEFGQ";
  double difficulty = 1.0;  // scales subject-to-subject and within-class variation (0 = clean)
  bool gzip = false;        // write .txt.gz instead of .txt
  int threads = 2;
};

// Letters the generator knows.
std::string_view synth_supported_activities();

// The samples of one subject as they would appear in its two raw files (accel rows carry one or
// two extra samples at the end of some recordings, as the real watch files do).
struct SynthSubject {
  int subject = 0;
  std::vector<SensorRecording> accel, gyro;
};
// Deterministic in (options.seed, index): the same subject regardless of threads or order.
SynthSubject synthesize_subject(const SynthOptions& options, int index);

// Formats recordings as raw WISDM lines "subject,activity,timestamp,x,y,z;\n".
std::string format_wisdm_raw(const std::vector<SensorRecording>& recordings);

// Writes <out>/raw/watch/{accel,gyro}/data_<id>_<sensor>_watch.txt[.gz], <out>/activity_key.txt and
// <out>/synth.json (the options), each atomically. Returns the subject ids.
std::vector<int> write_synthetic_wisdm(const std::filesystem::path& out, const SynthOptions& options);

}  // namespace spikeline::data
