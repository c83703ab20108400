// End-to-end: `spikeline demo` runs every stage on built-in data and leaves a consistent set of
// files; the trained model is usable by `net run`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/io/network_file.hpp"
#include "spikeline/io/npy.hpp"
#include "support/cli.hpp"

namespace spikeline {
namespace {

TEST(DemoCli, TrainsOnBuiltInDataAndBeatsChance) {
  const auto dir = test::scratch_dir("demo");
  const auto out = dir / "out";
  const auto r = test::run_cli("demo --out " + out.string() +
                                   " --subjects 8 --epochs 4 --hidden 32 --format json --threads 2",
                               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report.at("classes").size(), 8u);
  EXPECT_EQ(report.at("curves").size(), 4u);
  // 8 balanced classes: chance is 0.125. Four epochs of the default recipe reach well above
  // 0.25 on these data (0.3-0.5 across seeds); 0.2 leaves margin while still failing a net
  // that learns nothing.
  EXPECT_GT(report.at("test_accuracy").get<double>(), 0.2);
  for (const char* f : {"windows.npz", "windows.json", "spikes.npz", "spikes.json", "model.json",
                        "report.json", "training_log.jsonl", "learning_curve.svg", "learning_curve.png"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  const snn::Network net = io::load_network(out / "model.json");
  EXPECT_EQ(net.n_in(), 12);
  EXPECT_EQ(net.n_out(), 8);
  const io::Npz spikes = io::read_npz(out / "spikes.npz");
  io::write_npy(dir / "x.npy", spikes.at("test_x"));
  const auto run = test::run_cli("net run --model " + (out / "model.json").string() + " --input " +
                                     (dir / "x.npy").string() + " --out " + (dir / "o.npz").string(),
                                 dir);
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST(DemoCli, RejectsTooFewSubjects) {
  const auto dir = test::scratch_dir("demo_bad");
  const auto r = test::run_cli("demo --out " + (dir / "o").string() + " --subjects 2", dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("subjects"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spikeline
