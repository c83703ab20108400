// WISDM raw reader: line parsing, errors that name file and line, gzip, timestamp join, folders.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "spikeline/core/error.hpp"
#include "spikeline/data/wisdm.hpp"

namespace fs = std::filesystem;
using namespace spikeline;
using namespace spikeline::data;

namespace {

// The error message of parsing `text`, or "" when it parses.
std::string parse_error(const std::string& text, const std::string& source = "f.txt") {
  try {
    parse_wisdm_raw(text, source);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("spikeline_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

void write_gz(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  gzFile f = gzopen(p.c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
}

}  // namespace

TEST(WisdmActivities, LettersNamesAndOrders) {
  EXPECT_EQ(wisdm_activities().size(), 18u);
  EXPECT_EQ(activity_letter("A"), 'A');
  EXPECT_EQ(activity_letter("p"), 'P');
  EXPECT_EQ(activity_letter("walking"), 'A');
  EXPECT_EQ(activity_letter("Brushing Teeth"), 'G');
  EXPECT_EQ(activity_letter("teeth"), 'G');
  EXPECT_EQ(activity_letter("dribbling_basketball"), 'P');
  EXPECT_EQ(activity_letter("dribbling"), 'P');
  EXPECT_EQ(activity_name('S'), "folding_clothes");
  EXPECT_THROW(activity_letter("N"), InputError);  // N is not used by WISDM
  EXPECT_THROW(activity_letter("flying"), InputError);
  EXPECT_EQ(nehar_letter_order(), "ABCDEMPOFQRGSJHLIK");
  std::string sorted(nehar_letter_order());
  std::sort(sorted.begin(), sorted.end());
  std::string letters;
  for (const auto& a : wisdm_activities()) letters += a.letter;
  EXPECT_EQ(sorted, letters);
}

TEST(WisdmParse, ReadsLinesIntoRecordingsInOrderOfAppearance) {
  const std::string text =
      "1600,A,100,1.5,-2.25,9.8;\n"
      "1600,A,150,1.0,2.0,3.0;\r\n"
      "\n"
      "1600,B,200,-0.5,0,1e-3;\n"
      "1600,A,250,4,5,6;\n";  // A again: appended to the first recording
  const auto recs = parse_wisdm_raw(text, "x.txt");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].subject, 1600);
  EXPECT_EQ(recs[0].activity, 'A');
  EXPECT_EQ(recs[0].first_line, 1u);
  ASSERT_EQ(recs[0].size(), 3u);
  EXPECT_EQ(recs[0].timestamp[2], 250);
  EXPECT_FLOAT_EQ(recs[0].xyz[1], -2.25f);
  EXPECT_FLOAT_EQ(recs[0].xyz[8], 6.0f);
  EXPECT_EQ(recs[1].activity, 'B');
  EXPECT_EQ(recs[1].first_line, 4u);
  EXPECT_FLOAT_EQ(recs[1].xyz[2], 1e-3f);
}

TEST(WisdmParse, AcceptsTheRealFormatExactly) {
  const auto recs = parse_wisdm_raw("1600,A,90426708196641,7.091625,-0.5916671,8.195502;\n", "x");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].timestamp[0], 90426708196641LL);
  EXPECT_FLOAT_EQ(recs[0].xyz[0], 7.091625f);
  EXPECT_FLOAT_EQ(recs[0].xyz[1], -0.5916671f);
}

TEST(WisdmParse, BadInputGivesOneErrorWithFileAndLine) {
  const std::string good = "1600,A,100,1,2,3;\n";
  // truncated line
  auto e = parse_error(good + "1600,A,150,1.0", "data_1600_accel_watch.txt");
  EXPECT_NE(e.find("data_1600_accel_watch.txt:2"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  e = parse_error(good + good + "1600,A,150,1.0;\n");
  EXPECT_NE(e.find("f.txt:3"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 6"), std::string::npos) << e;
  // non-numeric field
  e = parse_error(good + "1600,A,150,1.0,abc,3;\n");
  EXPECT_NE(e.find("f.txt:2"), std::string::npos) << e;
  EXPECT_NE(e.find("y is not a number"), std::string::npos) << e;
  e = parse_error("16x0,A,150,1.0,2,3;\n");
  EXPECT_NE(e.find("f.txt:1: subject is not an integer"), std::string::npos) << e;
  e = parse_error(good + "1600,A,1.5e3,1.0,2,3;\n");
  EXPECT_NE(e.find("timestamp is not an integer"), std::string::npos) << e;
  e = parse_error("1600,A,100,nan,2,3;\n");
  EXPECT_NE(e.find("not finite"), std::string::npos) << e;
  e = parse_error("1600,A,100,1,2,1e99;\n");
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  // unknown activity letter
  e = parse_error(good + good + good + "1600,N,150,1.0,2,3;\n");
  EXPECT_NE(e.find("f.txt:4: unknown activity 'N'"), std::string::npos) << e;
  e = parse_error("1600,AB,150,1.0,2,3;\n");
  EXPECT_NE(e.find("unknown activity"), std::string::npos) << e;
  // empty file (or only blank lines)
  e = parse_error("", "empty.txt");
  EXPECT_NE(e.find("empty.txt:1: empty file"), std::string::npos) << e;
  e = parse_error("\n\n  \n", "blank.txt");
  EXPECT_NE(e.find("blank.txt:3: empty file"), std::string::npos) << e;
  // control bytes are shown escaped
  e = parse_error(std::string("1600,A,1\x01,1,2,3;\n"));
  EXPECT_NE(e.find("\\x01"), std::string::npos) << e;
}

TEST(WisdmRead, PlainAndGzipGiveTheSameRecordings) {
  const fs::path dir = temp_dir("gz");
  const std::string text = "1601,C,10,1,2,3;\n1601,C,20,4,5,6;\n";
  write_text(dir / "a.txt", text);
  write_gz(dir / "a.txt.gz", text);
  const auto plain = read_wisdm_raw(dir / "a.txt");
  const auto gz = read_wisdm_raw(dir / "a.txt.gz");
  ASSERT_EQ(plain.size(), 1u);
  ASSERT_EQ(gz.size(), 1u);
  EXPECT_EQ(plain[0].timestamp, gz[0].timestamp);
  EXPECT_EQ(plain[0].xyz, gz[0].xyz);
  // Errors name the file the user gave.
  write_gz(dir / "bad.txt.gz", text + "1601,C,30,oops,5,6;\n");
  try {
    read_wisdm_raw(dir / "bad.txt.gz");
    FAIL();
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("bad.txt.gz:3"), std::string::npos) << err.what();
  }
  // A cut-off gzip stream is an InputError, not a crash or a silent short read.
  {
    std::ifstream in(dir / "a.txt.gz", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    write_text(dir / "cut.txt.gz", bytes.substr(0, bytes.size() / 2));
  }
  EXPECT_THROW(read_wisdm_raw(dir / "cut.txt.gz"), InputError);
  fs::remove_all(dir);
}

TEST(WisdmJoin, InnerJoinOnTimestamps) {
  SensorRecording acc, gyr;
  acc.subject = gyr.subject = 1600;
  acc.activity = gyr.activity = 'A';
  acc.timestamp = {10, 20, 30, 40, 50};
  acc.xyz = {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5};
  gyr.timestamp = {20, 40, 30, 60};  // out of order: sorted before joining
  gyr.xyz = {-2, -2, -2, -4, -4, -4, -3, -3, -3, -6, -6, -6};
  JoinStats stats;
  const Recording r = join_on_timestamp(acc, gyr, JoinMode::exact, 0, &stats);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.timestamp, (std::vector<std::int64_t>{20, 30, 40}));
  EXPECT_EQ(r.values, (std::vector<float>{2, 2, 2, -2, -2, -2, 3, 3, 3, -3, -3, -3, 4, 4, 4, -4, -4, -4}));
  EXPECT_EQ(stats.unmatched_accel, 2u);
  EXPECT_EQ(stats.unmatched_gyro, 1u);
  EXPECT_EQ(stats.inexact, 0u);
}

TEST(WisdmJoin, NearestKeepsAccelSamplesWithinTolerance) {
  SensorRecording acc, gyr;
  acc.timestamp = {10, 20, 30, 40, 50, 100};
  acc.xyz.assign(18, 1.0f);
  gyr.timestamp = {20, 30, 34, 60};
  gyr.xyz = {2, 2, 2, 3, 3, 3, 3.4f, 3.4f, 3.4f, 6, 6, 6};
  JoinStats stats;
  // Tolerance 10: 10 -> 20 (d 10), 20 -> 20, 30 -> 30, 40 -> 34 (d 6), 50 -> 60 (d 10), 100 dropped.
  const Recording r = join_on_timestamp(acc, gyr, JoinMode::nearest, 10, &stats);
  EXPECT_EQ(r.timestamp, (std::vector<std::int64_t>{10, 20, 30, 40, 50}));  // accel timestamps
  std::vector<float> gyro_x;
  for (std::size_t k = 0; k < r.size(); ++k) gyro_x.push_back(r.values[6 * k + 3]);
  EXPECT_EQ(gyro_x, (std::vector<float>{2, 2, 3, 3.4f, 6}));
  EXPECT_EQ(stats.unmatched_accel, 1u);
  EXPECT_EQ(stats.unmatched_gyro, 0u);
  EXPECT_EQ(stats.inexact, 3u);
  // Ties go to the earlier gyro sample: 45 is 5 from 40 and 5 from 50.
  acc.timestamp = {45};
  acc.xyz = {0, 0, 0};
  gyr.timestamp = {40, 50};
  gyr.xyz = {4, 4, 4, 5, 5, 5};
  EXPECT_EQ(join_on_timestamp(acc, gyr, JoinMode::nearest, 5).values[3], 4.0f);
  EXPECT_EQ(join_mode_from_name("exact"), JoinMode::exact);
  EXPECT_THROW(join_mode_from_name("outer"), InputError);
}

TEST(WisdmJoin, CountsGaps) {
  const std::vector<std::int64_t> t{0, 50'000'000, 100'000'000, 2'100'000'000, 2'150'000'000};
  EXPECT_EQ(count_gaps(t, 1.0), 1u);
  EXPECT_EQ(count_gaps(t, 3.0), 0u);
}

TEST(WisdmFolder, FindsFilesAndReportsMissingSensorsAndActivities) {
  const fs::path dir = temp_dir("folder");
  const fs::path w = dir / "raw" / "watch";
  std::string acc1, gyr1;
  for (int k = 0; k < 50; ++k) {
    acc1 += "1600,A," + std::to_string(1000 + 50 * k) + ",1,2,3;\n";
    gyr1 += "1600,A," + std::to_string(1000 + 50 * k) + ",0.1,0.2,0.3;\n";
  }
  acc1 += "1600,B,9000,1,2,3;\n";  // B in accel only
  write_text(w / "accel" / "data_1600_accel_watch.txt", acc1);
  write_gz(w / "gyro" / "data_1600_gyro_watch.txt.gz", gyr1);
  write_text(w / "gyro" / "data_1601_gyro_watch.txt", gyr1);  // no accel for 1601
  std::string acc2;
  for (int k = 0; k < 45; ++k) acc2 += "1602,C," + std::to_string(500 + 50 * k) + ",1,2,3;\n";
  write_text(w / "accel" / "data_1602_accel_watch.txt", acc2);
  write_text(w / "gyro" / "data_1602_gyro_watch.txt", acc2);
  write_text(w / "accel" / "notes.txt", "ignored");

  const WisdmFiles files = find_wisdm_files(dir);
  EXPECT_EQ(files.root, w);
  EXPECT_EQ(files.accel.size(), 2u);
  EXPECT_EQ(files.gyro.size(), 3u);
  // The same folder given at other levels.
  EXPECT_EQ(find_wisdm_files(w).root, w);

  LoadOptions opt;
  opt.activities = {'A', 'B', 'C', 'D'};
  const WisdmData data = load_wisdm(dir, opt);
  ASSERT_EQ(data.recordings.size(), 2u);
  EXPECT_EQ(data.recordings[0].size(), 50u);
  EXPECT_EQ(data.recordings[0].values[3], 0.1f);
  EXPECT_EQ(data.recordings[1].subject, 1602);
  EXPECT_EQ(data.recordings[1].activity, 'C');
  EXPECT_EQ(data.report.subjects, (std::vector<int>{1600, 1602}));
  EXPECT_EQ(data.report.gyro_only, std::vector<int>{1601});
  std::string notes;
  for (const auto& n : data.report.notes) notes += n + "\n";
  EXPECT_NE(notes.find("1601: no accel file"), std::string::npos) << notes;
  EXPECT_NE(notes.find("1600: B only in accel"), std::string::npos) << notes;
  EXPECT_NE(notes.find("1600: no C"), std::string::npos) << notes;
  EXPECT_NE(notes.find("1602: no A"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("no D"), std::string::npos) << notes;  // nobody has D: not a finding per subject

  EXPECT_THROW(find_wisdm_files(dir / "raw" / "watch" / "accel"), InputError);
  fs::remove_all(dir);
}
