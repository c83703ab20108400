// spikeline data prepare | synth | encode | info | plot: raw IMU files to windows to spike rasters.
// Subcommands parse flags and call the library (spikeline/data, spikeline/encode, spikeline/report).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/data/synth.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/data/wisdm.hpp"
#include "spikeline/encode/encoders.hpp"
#include "spikeline/io/npy.hpp"
#include "spikeline/report/data_plots.hpp"

namespace spikeline::cli {

namespace {

using nlohmann::json;

int default_threads() { return std::max(1, ExecContext::hardware_threads()); }

std::string class_label(const data::ClassInfo& c) {
  return c.letter ? std::string(1, c.letter) + " " + c.name : c.name;
}

// ---- data prepare ---------------------------------------------------------------------------

struct PrepareArgs {
  std::string wisdm, out, class_order = "letter", split = "subject", normalise = "none", format = "console";
  std::string join = "nearest";
  double join_tolerance = 1.0;
  std::vector<std::string> classes;
  std::vector<int> subjects, val_subjects, test_subjects;
  std::vector<double> fractions{0.6, 0.2, 0.2};
  int window = 40, stride = 20, threads = default_threads();
  double split_at_gaps = 0.0;
  std::uint64_t seed = 42;
  bool thesis_order = false, quiet = false, compress = false;
};

json split_summary(const std::vector<data::ClassInfo>& classes,
                   const std::array<std::vector<std::int32_t>, 3>& labels) {
  json j = json::object();
  for (int s = 0; s < 3; ++s) {
    const auto counts = data::class_counts(labels[s], classes.size());
    json per = json::object();
    for (std::size_t k = 0; k < classes.size(); ++k) per[classes[k].name] = counts[k];
    j[std::string(data::kSplitNames[s])] = {{"n", labels[s].size()}, {"counts", per}};
  }
  return j;
}

void print_count_table(const std::vector<data::ClassInfo>& classes,
                       const std::array<std::vector<std::int32_t>, 3>& labels) {
  std::array<std::vector<std::size_t>, 3> counts;
  for (int s = 0; s < 3; ++s) counts[s] = data::class_counts(labels[s], classes.size());
  std::printf("  %-3s %-24s %9s %9s %9s %9s\n", "#", "class", "train", "val", "test", "total");
  std::array<std::size_t, 3> totals{0, 0, 0};
  for (std::size_t k = 0; k < classes.size(); ++k) {
    const std::size_t sum = counts[0][k] + counts[1][k] + counts[2][k];
    std::printf("  %-3zu %-24s %9zu %9zu %9zu %9zu\n", k, class_label(classes[k]).c_str(), counts[0][k],
                counts[1][k], counts[2][k], sum);
    for (int s = 0; s < 3; ++s) totals[s] += counts[s][k];
  }
  std::printf("  %-3s %-24s %9zu %9zu %9zu %9zu\n", "", "all", totals[0], totals[1], totals[2],
              totals[0] + totals[1] + totals[2]);
}

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int x : v) {
    if (!s.empty()) s += ' ';
    s += std::to_string(x);
  }
  return s.empty() ? "-" : s;
}

void run_prepare(const PrepareArgs& a) {
  data::PrepareOptions o;
  o.wisdm_dir = a.wisdm;
  o.classes = a.classes;
  o.class_order = data::class_order_from_name(a.thesis_order ? "nehar" : a.class_order);
  o.window.length = a.window;
  o.window.stride = a.stride;
  o.window.split_at_gaps_s = a.split_at_gaps;
  o.split.method = data::split_method_from_name(a.split);
  o.split.seed = a.seed;
  if (a.fractions.size() != 3) throw InputError("--fractions", "expected three values: train,val,test");
  o.split.fractions = {a.fractions[0], a.fractions[1], a.fractions[2]};
  o.split.val_subjects = a.val_subjects;
  o.split.test_subjects = a.test_subjects;
  if ((!a.val_subjects.empty() || !a.test_subjects.empty()) && o.split.method != data::SplitMethod::subject)
    throw InputError("--val-subjects/--test-subjects", "only apply to --split subject");
  o.zscore = a.normalise == "zscore";
  o.subjects = a.subjects;
  o.join = data::join_mode_from_name(a.join);
  o.join_tolerance_s = a.join_tolerance;
  o.threads = a.threads;
  o.progress = !a.quiet;

  data::LoadReport report;
  const data::WindowDataset ds = data::prepare_wisdm(o, &report);
  data::write_windows(a.out, ds, a.compress);

  std::array<std::vector<std::int32_t>, 3> labels;
  for (int s = 0; s < 3; ++s) labels[s] = ds.splits[s].y;
  if (a.format == "json") {
    json j = data::windows_sidecar(ds);
    j["file"] = a.out;
    j["sidecar"] = data::sidecar_path(a.out).string();
    j["notes"] = report.notes;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  if (!a.quiet)
    for (const auto& n : report.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  std::printf("read %zu subjects: %zu accel + %zu gyro samples, %zu joined (%s join; %zu accel and %zu gyro left out, "
              "%zu pairs with different timestamps)\n",
              report.subjects.size(), report.accel_samples, report.gyro_samples, report.joined_samples, a.join.c_str(),
              report.unmatched_accel, report.unmatched_gyro, report.inexact_pairs);
  std::printf("windows of %d samples, stride %d; split '%s' (seed %llu)\n", a.window, a.stride, a.split.c_str(),
              static_cast<unsigned long long>(a.seed));
  print_count_table(ds.classes, labels);
  for (int s = 0; s < 3; ++s)
    std::printf("  %s subjects: %s\n", std::string(data::kSplitNames[s]).c_str(), join_ints(ds.info.subjects[s]).c_str());
  std::printf("wrote %s and %s\n", a.out.c_str(), data::sidecar_path(a.out).c_str());
}

// ---- data synth -----------------------------------------------------------------------------

struct SynthArgs {
  std::string out;
  std::vector<std::string> activities;
  data::SynthOptions options;
  bool json_output = false;
};

void run_synth(SynthArgs a) {
  if (!a.activities.empty()) {
    a.options.activities.clear();
    for (const auto& name : a.activities) a.options.activities += data::activity_letter(name);
  }
  const auto ids = data::write_synthetic_wisdm(a.out, a.options);
  if (a.json_output) {
    std::printf("%s\n", json{{"out", a.out}, {"subjects", ids}, {"activities", a.options.activities},
                             {"seed", a.options.seed}, {"seconds", a.options.seconds}}
                            .dump()
                            .c_str());
    return;
  }
  std::string names;
  for (char l : a.options.activities) {
    if (!names.empty()) names += ", ";
    names += l;
    names += ' ';
    names += data::activity_name(l);
  }
  std::printf("wrote %zu subjects x %zu activities x %.0f s to %s/raw/watch/{accel,gyro} (seed %llu)\n", ids.size(),
              a.options.activities.size(), a.options.seconds, a.out.c_str(),
              static_cast<unsigned long long>(a.options.seed));
  std::printf("  activities: %s\n", names.c_str());
  std::printf("next: spikeline data prepare --wisdm %s --out windows.npz\n", a.out.c_str());
}

// ---- data encode ----------------------------------------------------------------------------

struct EncodeArgs {
  std::string in, out, encoder = "phase4", phase_channels = "posneg", negative = "shift", config;
  int bits = 4, bands = 2, order = 2, max_spikes = 1, threads = default_threads();
  double fs = 0, f_min = 0.5, f_max = 10.0, dt = 0, modifier = 1.0;
  std::vector<float> threshold;
  float gain = 1.0f;
  bool keep_mean = false, dynapse2 = false, quiet = false;
  std::uint64_t seed = 0;
  std::string format = "console";
};

json encoder_config(const EncodeArgs& a, double sample_rate_hz) {
  if (!a.config.empty()) {
    const std::string text = std::filesystem::exists(a.config) ? read_file_text(a.config) : a.config;
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      throw InputError("--config", std::string("invalid JSON: ") + e.what());
    }
  }
  std::string type = a.encoder;
  std::replace(type.begin(), type.end(), '-', '_');
  json j = {{"type", type}};
  if (type == "phase" || type == "phase4") {
    if (type == "phase") j["bits"] = a.bits;
    j["channels"] = a.phase_channels;
    j["negative"] = a.negative;
    if (a.phase_channels == "filterbank") {
      j["bands"] = a.bands;
      j["fs"] = a.fs > 0 ? a.fs : sample_rate_hz;
      j["f_min"] = a.f_min;
      j["f_max"] = a.f_max;
      j["order"] = a.order;
    }
  } else if (type == "delta") {
    if (!a.threshold.empty()) j["threshold"] = a.threshold;
  } else if (type == "sigma_delta") {
    if (!a.threshold.empty()) j["threshold"] = a.threshold;
    j["gain"] = a.gain;
    j["remove_mean"] = !a.keep_mean;
  } else if (type == "rate") {
    j["max_spikes"] = a.max_spikes;
    j["seed"] = a.seed;
  }
  return j;
}

void run_encode(const EncodeArgs& a) {
  const data::WindowDataset windows = data::read_windows(a.in);
  const encode::EncoderParams params = encode::encoder_from_json(encoder_config(a, windows.info.sample_rate_hz));
  encode::TimeScale scale;
  scale.sample_time_modifier = a.dynapse2 ? 0.02 : a.modifier;
  scale.dt = a.dynapse2 ? 1e-3 : a.dt;
  const data::SpikeSet set = encode::encode_dataset(windows, params, scale, a.threads, !a.quiet);
  data::write_spikes(a.out, set);
  if (a.format == "json") {
    json j = data::spikes_sidecar(set);
    j["file"] = a.out;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::size_t spikes = 0, cells = 0;
  for (const auto& s : set.splits) {
    for (std::uint8_t v : s.x.data) spikes += v;
    cells += s.x.size();
  }
  std::printf("encoded %zu + %zu + %zu windows with %s: [%zu steps x %zu channels], dt %g s (modifier %g)\n",
              set.splits[0].size(), set.splits[1].size(), set.splits[2].size(),
              encode::encoder_to_json(params).dump().c_str(), set.steps(), set.channels(), set.info.dt,
              set.info.sample_time_modifier);
  std::printf("  %.4f spikes per channel and step\n", cells ? static_cast<double>(spikes) / cells : 0.0);
  std::printf("wrote %s and %s\n", a.out.c_str(), data::sidecar_path(a.out).c_str());
}

// ---- data info ------------------------------------------------------------------------------

enum class FileKind { windows, spikes };

FileKind file_kind(const std::string& path) {
  const auto side = data::sidecar_path(path);
  if (std::filesystem::exists(side)) {
    try {
      const auto j = json::parse(read_file_text(side));
      const std::string format = j.value("format", "");
      if (format == "spikeline.spikes") return FileKind::spikes;
      if (format == "spikeline.windows") return FileKind::windows;
    } catch (const json::exception&) {
      // fall through to the members of the archive
    }
  }
  const io::Npz npz = io::read_npz(path);
  if (npz.contains("train_x")) return FileKind::spikes;
  if (npz.contains("arr_0")) return FileKind::windows;
  throw InputError(path, "neither a windows file (arr_0..arr_5) nor a spikes file (train_x, ...)");
}

void run_info(const std::string& path, const std::string& format) {
  json j;
  std::vector<data::ClassInfo> classes;
  std::array<std::vector<std::int32_t>, 3> labels;
  std::string shape;
  if (file_kind(path) == FileKind::windows) {
    const data::WindowDataset ds = data::read_windows(path);
    j = data::windows_sidecar(ds);
    j["kind"] = "windows";
    classes = ds.classes;
    for (int s = 0; s < 3; ++s) labels[s] = ds.splits[s].y;
    shape = "[n, " + std::to_string(ds.info.window) + ", " + std::to_string(ds.info.dims.size()) + "] float32";
  } else {
    const data::SpikeSet set = data::read_spikes(path);
    j = data::spikes_sidecar(set);
    j["kind"] = "spikes";
    classes = set.classes;
    for (int s = 0; s < 3; ++s) labels[s] = set.splits[s].y;
    shape = "[n, " + std::to_string(set.steps()) + ", " + std::to_string(set.channels()) + "] uint8";
    std::size_t spikes = 0, cells = 0;
    for (const auto& s : set.splits) {
      for (std::uint8_t v : s.x.data) spikes += v;
      cells += s.x.size();
    }
    j["spikes_per_cell"] = cells ? static_cast<double>(spikes) / cells : 0.0;
  }
  j["file"] = path;
  j["splits"] = split_summary(classes, labels);
  if (format == "json") {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s: %s, x %s, %zu classes\n", path.c_str(), j["kind"].get<std::string>().c_str(), shape.c_str(),
              classes.size());
  const json split = j.contains("split") ? j["split"] : j.value("windows", json::object()).value("split", json());
  if (split.is_object()) {
    std::printf("  split: %s, seed %s\n", split.value("method", "?").c_str(), split.value("seed", json()).dump().c_str());
    if (split.contains("subjects"))
      for (int s = 0; s < 3; ++s) {
        const std::string name(data::kSplitNames[s]);
        std::printf("  %s subjects: %s\n", name.c_str(), join_ints(split["subjects"].value(name, std::vector<int>{})).c_str());
      }
  }
  if (j["kind"] == "spikes")
    std::printf("  encoder: %s\n  dt %g s, sample_time_modifier %g, %.4f spikes per channel and step\n",
                j["encoder"].dump().c_str(), j["dt"].get<double>(), j["sample_time_modifier"].get<double>(),
                j["spikes_per_cell"].get<double>());
  else if (j.contains("window"))
    std::printf("  window %d, stride %d, normalisation %s\n", j["window"].get<int>(), j["stride"].get<int>(),
                j["normalisation"].value("method", "none").c_str());
  print_count_table(classes, labels);
}

// ---- data plot ------------------------------------------------------------------------------

struct PlotArgs {
  std::string in, out, split = "train", class_name;
  std::size_t index = 0;
};

// Index of the `index`-th window of class `class_name` (or of all when empty) in labels.
std::size_t pick(const std::vector<std::int32_t>& labels, const std::vector<data::ClassInfo>& classes,
                 const PlotArgs& a) {
  std::int32_t wanted = -1;
  if (!a.class_name.empty()) {
    for (std::size_t k = 0; k < classes.size(); ++k) {
      const char l = classes[k].letter;
      if (classes[k].name == a.class_name || (a.class_name.size() == 1 && l && std::toupper(a.class_name[0]) == l))
        wanted = static_cast<std::int32_t>(k);
    }
    if (wanted < 0) {
      try {
        const char l = data::activity_letter(a.class_name);
        for (std::size_t k = 0; k < classes.size(); ++k)
          if (classes[k].letter == l) wanted = static_cast<std::int32_t>(k);
      } catch (const InputError&) {
      }
    }
    if (wanted < 0) throw InputError("--class " + a.class_name, "not a class of " + a.in);
  }
  std::size_t seen = 0;
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (wanted < 0 || labels[i] == wanted) {
      if (seen == a.index) return i;
      ++seen;
    }
  throw InputError("--index " + std::to_string(a.index), "the " + a.split + " split has only " +
                                                              std::to_string(seen) + " matching windows");
}

int split_index(const std::string& name) {
  for (int s = 0; s < 3; ++s)
    if (data::kSplitNames[s] == name) return s;
  throw InputError("--split " + name, "expected train, val or test");
}

void run_plot(const PlotArgs& a) {
  const int s = split_index(a.split);
  if (file_kind(a.in) == FileKind::windows) {
    const data::WindowDataset ds = data::read_windows(a.in);
    const auto& split = ds.splits[s];
    const std::size_t i = pick(split.y, ds.classes, a);
    const std::size_t T = split.x.dim(1), D = split.x.dim(2);
    const std::string title = class_label(ds.classes[split.y[i]]) + "  (" + a.split + " window " + std::to_string(i) + ")";
    report::plot_signals(std::span<const float>(split.x.ptr() + i * T * D, T * D), T, D, ds.info.dims,
                         1.0 / ds.info.sample_rate_hz, title)
        .save(a.out);
  } else {
    const data::SpikeSet set = data::read_spikes(a.in);
    const auto& split = set.splits[s];
    const std::size_t i = pick(split.y, set.classes, a);
    const std::size_t T = split.x.dim(1), C = split.x.dim(2);
    const std::string title = class_label(set.classes[split.y[i]]) + "  (" + a.split + " sample " +
                              std::to_string(i) + ", " + set.info.encoder.value("type", "?") + ")";
    report::plot_raster(std::span<const std::uint8_t>(split.x.ptr() + i * T * C, T * C), T, C, set.info.channels,
                        set.info.dt, title)
        .save(a.out);
  }
  std::printf("wrote %s\n", a.out.c_str());
}

}  // namespace

void add_data_commands(CLI::App& app) {
  auto* data_cmd = app.add_subcommand("data", "Raw IMU files to windows to spike rasters (WISDM and synthetic data)");
  data_cmd->require_subcommand(1);

  // prepare
  auto pa = std::make_shared<PrepareArgs>();
  auto* prepare = data_cmd->add_subcommand(
      "prepare",
      "Read WISDM raw watch files (plain or .gz), join accel+gyro on timestamps, cut windows, split, "
      "and write windows .npz (thesis layout arr_0..arr_5) plus a .json sidecar");
  prepare->add_option("--wisdm", pa->wisdm, "WISDM folder: the data set root (with raw/watch/{accel,gyro}) or a folder with accel/ and gyro/")
      ->required()->check(CLI::ExistingDirectory);
  prepare->add_option("--out", pa->out, "Output windows .npz (the sidecar is written next to it as .json)")->required();
  prepare->add_option("--classes", pa->classes, "Classes by letter or name, comma-separated (default: all 18), e.g. A,B,dribbling")
      ->delimiter(',');
  prepare->add_option("--class-order", pa->class_order,
                      "Class index order: letter (A..S), nehar (the thesis's A B C D E M P O F Q R G S J H L I K), or given (as in --classes)")
      ->capture_default_str()->check(CLI::IsMember({"letter", "nehar", "given"}));
  prepare->add_flag("--thesis-order", pa->thesis_order, "Same as --class-order nehar (for the thesis's scripts)");
  prepare->add_option("--window", pa->window, "Window length in samples (40 = 2 s at 20 Hz)")->capture_default_str()->check(CLI::PositiveNumber);
  prepare->add_option("--stride", pa->stride, "Samples between window starts (20 = 50 % overlap, as the thesis)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  prepare->add_option("--split", pa->split,
                      "subject: whole subjects held out (honest); thesis: random per window 60/20/20; stratified: random per window within each class")
      ->capture_default_str()->check(CLI::IsMember({"subject", "thesis", "stratified"}));
  prepare->add_option("--seed", pa->seed, "Seed of the split")->capture_default_str();
  prepare->add_option("--fractions", pa->fractions, "train,val,test fractions (of windows, or of subjects for --split subject)")
      ->delimiter(',')->expected(3)->capture_default_str();
  prepare->add_option("--val-subjects", pa->val_subjects, "Explicit validation subjects (with --split subject)")->delimiter(',');
  prepare->add_option("--test-subjects", pa->test_subjects, "Explicit test subjects (with --split subject)")->delimiter(',');
  prepare->add_option("--subjects", pa->subjects, "Read only these subjects (default: all with both sensors)")->delimiter(',');
  prepare->add_option("--join", pa->join,
                      "Pairing of accel and gyro: nearest (every accel sample with the gyro sample nearest in time, as the "
                      "thesis's data) or exact (equal timestamps only)")
      ->capture_default_str()->check(CLI::IsMember({"nearest", "exact"}));
  prepare->add_option("--join-tolerance", pa->join_tolerance, "nearest join: largest time difference paired, in seconds")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  prepare->add_option("--normalise", pa->normalise, "Per-dim normalisation fitted on train: none (as the thesis) or zscore")
      ->capture_default_str()->check(CLI::IsMember({"none", "zscore"}));
  prepare->add_option("--split-at-gaps", pa->split_at_gaps,
                      "Cut recordings at logging gaps longer than this many seconds (0: windows may span gaps, as the thesis)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  prepare->add_option("--threads", pa->threads, "Threads reading files (one subject per task)")->capture_default_str()->check(CLI::PositiveNumber);
  prepare->add_option("--format", pa->format, "Summary output: console or json")->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  prepare->add_flag("--compress", pa->compress, "Deflate the .npz (about half the size, slower; default stored, as numpy.savez)");
  prepare->add_flag("--quiet,-q", pa->quiet, "No progress bar and no notes");
  prepare->callback([pa] { run_prepare(*pa); });

  // synth
  auto sa = std::make_shared<SynthArgs>();
  auto* synth = data_cmd->add_subcommand(
      "synth",
      "Write a deterministic synthetic wrist-IMU data set in the WISDM raw format (8 activities by default), "
      "so the pipeline runs without a download");
  synth->add_option("--out", sa->out, "Output folder (raw/watch/{accel,gyro}/data_<id>_<sensor>_watch.txt, activity_key.txt, synth.json)")->required();
  synth->add_option("--subjects", sa->options.subjects, "Number of subjects")->capture_default_str()->check(CLI::Range(1, 10000));
  synth->add_option("--seed", sa->options.seed, "Seed: same seed, same files")->capture_default_str();
  synth->add_option("--seconds", sa->options.seconds, "Seconds per (subject, activity) recording")->capture_default_str()->check(CLI::Range(2.0, 3600.0));
  synth->add_option("--activities", sa->activities,
                    "Activities by letter or name, comma-separated; supported: A walking, B jogging, C stairs, D sitting, "
                    "E standing, F typing, G brushing_teeth, Q writing (default: all 8)")
      ->delimiter(',');
  synth->add_option("--difficulty", sa->options.difficulty,
                    "Scale of subject-to-subject and within-class variation (0: clean, 1: default)")
      ->capture_default_str()->check(CLI::Range(0.0, 5.0));
  synth->add_option("--first-subject", sa->options.first_subject, "Id of the first subject")->capture_default_str();
  synth->add_flag("--gzip", sa->options.gzip, "Write .txt.gz files (as the shared WISDM copy)");
  synth->add_option("--threads", sa->options.threads, "Threads (one subject per task)")->check(CLI::PositiveNumber);
  synth->add_flag("--json", sa->json_output, "Print a JSON summary");
  sa->options.threads = default_threads();
  synth->callback([sa] { run_synth(*sa); });

  // encode
  auto ea = std::make_shared<EncodeArgs>();
  auto* enc = data_cmd->add_subcommand(
      "encode", "Encode a windows .npz into spike-count rasters: .npz with train_x/val_x/test_x uint8 [n, steps, channels] "
                "and train_y/val_y/test_y int64, plus a .json sidecar");
  enc->add_option("--in", ea->in, "Windows .npz (from data prepare)")->required()->check(CLI::ExistingFile);
  enc->add_option("--out", ea->out, "Output spikes .npz")->required();
  enc->add_option("--encoder", ea->encoder,
                  "phase4 (the thesis's 4-bit phase code, 12 channels from 6 dims), phase (any --bits), delta (up/down "
                  "threshold crossing), sigma-delta, rate")
      ->capture_default_str()->check(CLI::IsMember({"phase4", "phase", "delta", "sigma-delta", "sigma_delta", "rate"}));
  enc->add_option("--phase-channels", ea->phase_channels,
                  "phase: filterbank (2 Butterworth bands per axis) or posneg (positive and negative halves)")
      ->capture_default_str()->check(CLI::IsMember({"filterbank", "posneg"}));
  enc->add_option("--bits", ea->bits, "phase: bits per code (window length must be a multiple)")->capture_default_str()->check(CLI::Range(1, 8));
  enc->add_option("--negative", ea->negative, "phase: shift (subtract a negative minimum, spikify) or rectify (clip at 0, PoliTo)")
      ->capture_default_str()->check(CLI::IsMember({"shift", "rectify"}));
  enc->add_option("--bands", ea->bands, "phase filterbank: bands per axis")->capture_default_str()->check(CLI::Range(1, 8));
  enc->add_option("--fs", ea->fs, "phase filterbank: sampling rate in Hz (default: the windows' rate)");
  enc->add_option("--f-min", ea->f_min, "phase filterbank: lowest centre frequency (Hz)")->capture_default_str();
  enc->add_option("--f-max", ea->f_max, "phase filterbank: highest frequency (Hz)")->capture_default_str();
  enc->add_option("--filter-order", ea->order, "phase filterbank: Butterworth order")->capture_default_str()->check(CLI::Range(1, 8));
  enc->add_option("--threshold", ea->threshold,
                  "delta / sigma-delta: threshold, one value or one per dim (comma-separated); defaults 0.5 (delta), 1.0 (sigma-delta)")
      ->delimiter(',');
  enc->add_option("--gain", ea->gain, "sigma-delta: input gain")->capture_default_str();
  enc->add_flag("--keep-mean", ea->keep_mean, "sigma-delta: integrate the raw signal (default: subtract each window's mean)");
  enc->add_option("--max-spikes", ea->max_spikes, "rate: Bernoulli slots per step (max count)")->capture_default_str()->check(CLI::Range(1, 255));
  enc->add_option("--seed", ea->seed, "rate: seed")->capture_default_str();
  enc->add_option("--config", ea->config, "Encoder as JSON (a string or a file), e.g. '{\"type\":\"phase\",\"bits\":4}'; overrides the flags above");
  enc->add_option("--dt", ea->dt, "Seconds per raster step (default: one step per input sample)");
  enc->add_option("--sample-time-modifier", ea->modifier, "The thesis's time scaling of event times (Dynap-SE2: 0.02)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  enc->add_flag("--dynapse2", ea->dynapse2, "Dynap-SE2 timing: --sample-time-modifier 0.02 --dt 0.001 (40 steps of 1 ms)");
  enc->add_option("--threads", ea->threads, "Threads")->capture_default_str()->check(CLI::PositiveNumber);
  enc->add_option("--format", ea->format, "Summary output: console or json")->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  enc->add_flag("--quiet,-q", ea->quiet, "No progress bar");
  enc->callback([ea] { run_encode(*ea); });

  // info
  auto info_file = std::make_shared<std::string>();
  auto info_format = std::make_shared<std::string>("console");
  auto* info = data_cmd->add_subcommand("info", "Describe a windows or spikes .npz: classes, counts per class and split, subjects, encoder");
  info->add_option("file", *info_file, "Windows or spikes .npz")->required()->check(CLI::ExistingFile);
  info->add_option("--format", *info_format, "console or json")->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  info->callback([info_file, info_format] { run_info(*info_file, *info_format); });

  // plot
  auto pl = std::make_shared<PlotArgs>();
  auto* plot = data_cmd->add_subcommand("plot", "Plot one window's signals (windows file) or one spike raster (spikes file) as SVG or PNG");
  plot->add_option("--in", pl->in, "Windows or spikes .npz")->required()->check(CLI::ExistingFile);
  plot->add_option("--out", pl->out, "Image file: .svg or .png")->required();
  plot->add_option("--split", pl->split, "train, val or test")->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
  plot->add_option("--index", pl->index, "Which window (counted within --class when given)")->capture_default_str();
  plot->add_option("--class", pl->class_name, "Only windows of this class (letter or name)");
  plot->callback([pl] { run_plot(*pl); });
}

}  // namespace spikeline::cli
