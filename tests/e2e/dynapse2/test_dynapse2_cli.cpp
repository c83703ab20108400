// spikeline dynapse2 codec | sim end to end: codec against the golden encoding, sim against the
// DynapSim golden (spikes exact, imem rtol 1e-3), and bad input exits 2 naming the problem.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "spikeline/io/npy.hpp"
#include "support/cli.hpp"
#include "support/shared.hpp"

using spikeline::test::run_cli;
using spikeline::test::scratch_dir;
using spikeline::test::write_text;

namespace {
void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array())
    for (const auto& e : j) flatten(e, out);
  else
    out.push_back(j.get<double>());
}
}  // namespace

TEST(Dynapse2Cli, CodecEncodesAndDecodes) {
  const auto dir = scratch_dir("dynapse2_codec");
  auto r = run_cli("dynapse2 codec --param Itau_mem --current 2.3640661910712124e-12 --format json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("param"), "SOIF_LEAK_N");
  EXPECT_EQ(j.at("coarse"), 0);
  EXPECT_EQ(j.at("fine"), 13);
  EXPECT_EQ(j.at("decoded_A").get<double>(), 2.431026920611757e-12);
  r = run_cli("dynapse2 codec --param SYAM_W3_P --coarse 4 --fine 31", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("8.122593e-09 A"), std::string::npos) << r.out;
  r = run_cli("dynapse2 codec --param SYAM_W3_P --coarse 6 --fine 0", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("coarse must be 0..5"), std::string::npos) << r.err;
  r = run_cli("dynapse2 codec --param NOPE --current 1e-9", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("NOPE"), std::string::npos) << r.err;
}

TEST(Dynapse2Cli, SimMatchesGolden) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/dynapsim_seed0.json");
  const auto g = nlohmann::json::parse(std::ifstream(path));
  const auto dir = scratch_dir("dynapse2_sim");
  nlohmann::json p = g.at("simulation_parameters");
  p["Iscale"] = p.at("Iscale").at(0);
  p["dt"] = p.at("dt").at(0);
  p["n"] = 2;
  p["w_rec"] = g.at("w_rec");
  p["w_in"] = g.at("w_in");
  write_text(dir / "p.json", p.dump());
  std::vector<double> x;
  flatten(g.at("input"), x);
  const std::vector<float> xf(x.begin(), x.end());
  spikeline::io::write_npy(dir / "x.npy",
                           spikeline::io::NpyArray::from<float>({1, xf.size() / 3, 3}, std::span<const float>(xf)));
  const auto r = run_cli("dynapse2 sim --params '" + (dir / "p.json").string() + "' --input '" +
                             (dir / "x.npy").string() + "' --out '" + (dir / "o.npz").string() + "'",
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto npz = spikeline::io::read_npz(dir / "o.npz");
  std::vector<double> want_spikes, want_imem;
  flatten(g.at("outputs"), want_spikes);
  flatten(g.at("records").at("imem"), want_imem);
  EXPECT_EQ(npz.at("spikes").to_double(), want_spikes);
  const auto imem = npz.at("imem").to_double();
  ASSERT_EQ(imem.size(), want_imem.size());
  for (std::size_t i = 0; i < imem.size(); ++i) EXPECT_LE(std::fabs(imem[i] - want_imem[i]), 1e-3 * want_imem[i]);

  write_text(dir / "bad.json", R"({"n": 2, "Itau_mem": [1e-12]})");
  const auto bad = run_cli("dynapse2 sim --params '" + (dir / "bad.json").string() + "' --input '" +
                               (dir / "x.npy").string() + "' --out '" + (dir / "o2.npz").string() + "'",
                           dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("Itau_mem"), std::string::npos) << bad.err;
}
