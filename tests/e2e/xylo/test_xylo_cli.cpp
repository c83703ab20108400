// End to end: a golden's float network through `spikeline xylo map -> quantize -> validate -> sim`,
// compared exactly with Rockpool 2.7 / xylosim 0.1.3.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/io/network_file.hpp"
#include "spikeline/io/npy.hpp"
#include "support/cli.hpp"
#include "unit/xylo/xylo_golden.hpp"

namespace {

using spikeline::test::flat;
using spikeline::test::run_cli;

void expect_member(const spikeline::io::Npz& npz, const std::string& name, const nlohmann::json& want) {
  const auto got = npz.at(name).to_int64();
  const auto w = flat(want);
  ASSERT_EQ(got.size(), w.size()) << name;
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(double(got[i]), w[i]) << name << "[" << i << "]";
}

class XyloCli : public ::testing::TestWithParam<const char*> {};

TEST_P(XyloCli, MapQuantizeSimMatchesGolden) {
  SPIKELINE_REQUIRE_SHARED(path, GetParam());
  const auto g = spikeline::test::read_json(path);
  const auto dir = spikeline::test::scratch_dir("xylo_cli_" + std::to_string(std::hash<std::string>{}(GetParam())));
  spikeline::io::save_network(dir / "model.json", spikeline::test::xylo_golden_network(g),
                              spikeline::io::NetworkFormat::Rockpool);
  const auto in = flat(g.at("input"));
  const std::vector<std::int64_t> x(in.begin(), in.end());
  const spikeline::Shape shape{g.at("input").size(), g.at("input")[0].size()};
  spikeline::io::write_npy(dir / "x.npy", spikeline::io::NpyArray::from<std::int64_t>(shape, x));

  const std::string d = "'" + dir.string() + "/";
  auto r = run_cli("xylo map --model " + d + "model.json' --out " + d + "spec.json'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("xylo quantize --spec " + d + "spec.json' --method global --rockpool-bugs --dash-fix thesis --out " + d +
                  "config.json'",
              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("xylo validate --config " + d + "config.json'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("valid for Xylo Audio 2"), std::string::npos);
  r = run_cli("xylo sim --config " + d + "config.json' --input " + d + "x.npy' --out " + d + "out.npz'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const auto npz = spikeline::io::read_npz(dir / "out.npz");
  expect_member(npz, "output", g.at("xylosim_output_spikes"));
  for (const char* name : {"Vmem", "Isyn", "Isyn2", "Spikes", "Vmem_out", "Isyn_out"})
    expect_member(npz, name, g.at("xylosim_records").at(name));
  // The quantised config equals Rockpool's final spec.
  const auto cfg = spikeline::test::read_json(dir / "config.json");
  for (const auto& [key, value] : g.at("spec_quantized_final").items())
    if (key != "aliases") EXPECT_EQ(flat(cfg.at(key)), flat(value)) << key;
}

INSTANTIATE_TEST_SUITE_P(Goldens, XyloCli, ::testing::ValuesIn(spikeline::test::kXyloGoldens));

TEST(XyloCliErrors, ValidateListsEveryViolationAndFails) {
  const auto dir = spikeline::test::scratch_dir("xylo_cli_validate");
  spikeline::test::write_text(
      dir / "bad.json",
      R"({"weights_in": [[300, 0]], "weights_rec": [[0, 0], [0, 0]], "weights_out": [[1], [1]],
          "dash_mem": [1, 20], "dash_syn": [1, 1], "threshold": [10, 10], "dash_mem_out": [1],
          "dash_syn_out": [1], "threshold_out": [5], "dt": 0.05})");
  const auto r = run_cli("xylo validate --config '" + (dir / "bad.json").string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("weights_in[0][0] (input 0 -> hidden 0) = 300"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dash_mem[1] (hidden neuron 1) = 20"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("2 violation(s)"), std::string::npos) << r.err;
  const auto s = run_cli("xylo sim --config '" + (dir / "bad.json").string() + "' --input '" +
                             (dir / "bad.json").string() + "' --out '" + (dir / "o.npz").string() + "'",
                         dir);
  EXPECT_EQ(s.exit_code, 2);
}

}  // namespace
