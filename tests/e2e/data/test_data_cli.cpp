// End-to-end: `spikeline data synth -> prepare -> encode -> info -> plot` driven as a user would,
// checking the JSON outputs, the files' layouts, determinism and the errors on bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/io/npy.hpp"
#include "support/cli.hpp"
#include "support/shared.hpp"

namespace spikeline {
namespace {

using nlohmann::json;


std::size_t total(const json& splits) {
  return splits["train"]["n"].get<std::size_t>() + splits["val"]["n"].get<std::size_t>() +
         splits["test"]["n"].get<std::size_t>();
}

TEST(DataCli, SynthPrepareEncodeInfoPlot) {
  const auto dir = test::scratch_dir("data_pipeline");
  const std::string syn = (dir / "syn").string();

  auto r = test::run_cli("data synth --out " + syn + " --subjects 5 --seconds 20 --seed 3 --gzip --json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = test::parse_stdout_json(r);
  EXPECT_EQ(j["subjects"].size(), 5u);
  EXPECT_EQ(j["activities"], "ABCDEFGQ");
  EXPECT_TRUE(std::filesystem::exists(dir / "syn/raw/watch/accel/data_1600_accel_watch.txt.gz"));

  // 5 subjects x 8 activities x 20 s: 400-403 samples per recording, 19 windows each.
  r = test::run_cli("data prepare --wisdm " + syn + " --out " + (dir / "w.npz").string() +
                        " --split subject --seed 1 --format json -q",
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["format"], "spikeline.windows");
  EXPECT_EQ(j["classes"].size(), 8u);
  EXPECT_EQ(j["split"]["method"], "subject");
  EXPECT_EQ(j["split"]["subjects"]["train"].size() + j["split"]["subjects"]["val"].size() +
                j["split"]["subjects"]["test"].size(),
            5u);
  EXPECT_EQ(j["sizes"]["train"].get<std::size_t>() + j["sizes"]["val"].get<std::size_t>() +
                j["sizes"]["test"].get<std::size_t>(),
            5u * 8 * 19);
  const io::Npz windows = io::read_npz(dir / "w.npz");
  EXPECT_EQ(windows.at("arr_0").shape[1], 40u);
  EXPECT_EQ(windows.at("arr_0").shape[2], 6u);
  EXPECT_EQ(windows.at("arr_3").shape[1], 8u);  // one-hot
  EXPECT_TRUE(std::filesystem::exists(dir / "w.json"));

  r = test::run_cli("data encode --in " + (dir / "w.npz").string() + " --out " + (dir / "s.npz").string() +
                        " --encoder phase4 --format json -q",
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["format"], "spikeline.spikes");
  EXPECT_EQ(j["steps"], 40);
  EXPECT_EQ(j["channels"].size(), 12u);
  EXPECT_EQ(j["encoder"]["type"], "phase");
  EXPECT_EQ(j["encoder"]["bits"], 4);
  const io::Npz spikes = io::read_npz(dir / "s.npz");
  EXPECT_EQ(spikes.at("train_x").dtype, io::DType::u8);
  EXPECT_EQ(spikes.at("train_x").shape[2], 12u);
  EXPECT_EQ(spikes.at("train_y").shape.size(), 1u);

  // Dynap-SE2 timing: 40 bins of 1 ms.
  r = test::run_cli("data encode --in " + (dir / "w.npz").string() + " --out " + (dir / "d.npz").string() +
                        " --encoder delta --threshold 0.3 --dynapse2 --format json -q",
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["steps"], 40);
  EXPECT_DOUBLE_EQ(j["dt"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(j["sample_time_modifier"].get<double>(), 0.02);

  r = test::run_cli("data info " + (dir / "s.npz").string() + " --format json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = test::parse_stdout_json(r);
  EXPECT_EQ(j["kind"], "spikes");
  EXPECT_EQ(total(j["splits"]), 5u * 8 * 19);
  EXPECT_EQ(j["splits"]["train"]["counts"].size(), 8u);

  r = test::run_cli("data info " + (dir / "w.npz").string(), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("walking"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("train subjects:"), std::string::npos) << r.out;

  r = test::run_cli("data plot --in " + (dir / "w.npz").string() + " --out " + (dir / "w.svg").string() +
                        " --class jogging --split val",
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::slurp(dir / "w.svg").substr(0, 4), "<svg");
  r = test::run_cli("data plot --in " + (dir / "s.npz").string() + " --out " + (dir / "s.png").string(), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::slurp(dir / "s.png").substr(1, 3), "PNG");
  r = test::run_cli("data plot --in " + (dir / "s.npz").string() + " --out " + (dir / "s.png").string() +
                        " --index 100000",
                    dir);
  EXPECT_EQ(r.exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(DataCli, SynthIsDeterministic) {
  const auto dir = test::scratch_dir("data_synth_seed");
  for (const char* name : {"a", "b"}) {
    const auto r = test::run_cli("data synth --out " + (dir / name).string() + " --subjects 2 --seconds 10 --seed 9", dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const char* f : {"raw/watch/accel/data_1601_accel_watch.txt", "raw/watch/gyro/data_1600_gyro_watch.txt"})
    EXPECT_EQ(test::slurp(dir / "a" / f), test::slurp(dir / "b" / f)) << f;
  std::filesystem::remove_all(dir);
}

TEST(DataCli, BadRawFileGivesOneErrorWithFileAndLine) {
  const auto dir = test::scratch_dir("data_bad");
  std::filesystem::create_directories(dir / "raw/watch/accel");
  std::filesystem::create_directories(dir / "raw/watch/gyro");
  std::string good;
  for (int k = 0; k < 50; ++k) good += "1600,A," + std::to_string(1000 + 50 * k) + ",1,2,3;\n";
  test::write_text(dir / "raw/watch/accel/data_1600_accel_watch.txt", good + "1600,A,9999,1,x,3;\n");
  test::write_text(dir / "raw/watch/gyro/data_1600_gyro_watch.txt", good);
  auto r = test::run_cli("data prepare --wisdm " + dir.string() + " --out " + (dir / "w.npz").string() + " -q", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("data_1600_accel_watch.txt:51: y is not a number: 'x'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "w.npz"));

  test::write_text(dir / "raw/watch/accel/data_1600_accel_watch.txt", "");
  r = test::run_cli("data prepare --wisdm " + dir.string() + " --out " + (dir / "w.npz").string() + " -q", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("data_1600_accel_watch.txt:1: empty file"), std::string::npos) << r.err;

  r = test::run_cli("data prepare --wisdm " + dir.string() + " --out " + (dir / "w.npz").string() + " --classes flying", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown activity"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

// The real data, when ../shared is there: a few subjects through prepare and encode.
TEST(DataCli, RealWisdmSubset) {
  SPIKELINE_REQUIRE_SHARED(wisdm, "data/wisdm/raw");
  const auto dir = test::scratch_dir("data_real");
  auto r = test::run_cli("data prepare --wisdm " + (test::shared_dir() / "data/wisdm").string() + " --out " +
                             (dir / "w.npz").string() + " --subjects 1600,1601,1602 --classes P,F --thesis-order --format json -q",
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = test::parse_stdout_json(r);
  EXPECT_EQ(j["classes"][0]["name"], "dribbling_basketball");  // NeHAR order: P (6) before F (8)
  EXPECT_EQ(j["classes"][1]["name"], "typing");
  // 3 subjects x 2 activities: 3605 or so samples each -> 179 windows per recording.
  const std::size_t n = j["sizes"]["train"].get<std::size_t>() + j["sizes"]["val"].get<std::size_t>() +
                        j["sizes"]["test"].get<std::size_t>();
  EXPECT_NEAR(static_cast<double>(n), 6 * 179.0, 6.0);
  r = test::run_cli("data encode --in " + (dir / "w.npz").string() + " --out " + (dir / "s.npz").string() +
                        " --encoder phase4 --phase-channels posneg -q",
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spikeline
