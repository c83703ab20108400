// spikeline dynapse2 map | quantize | config | sim --config end to end on a small hand-written
// network: every stage's file feeds the next, the configuration holds one CAM entry per non-zero
// mask of the quantised spec, `sim --config` runs exactly the network rebuilt from the configuration,
// and limit violations / bad arguments exit 2 naming the problem. Then `dynapse2 deploy` and
// `dynapse2 tune` on a checkpoint trained in seconds on synthetic spikes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "spikeline/core/fs.hpp"
#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/from_config.hpp"
#include "spikeline/hw/dynapse2/mapper.hpp"
#include "spikeline/io/npy.hpp"
#include "support/cli.hpp"
#include "support/spike_data.hpp"

using spikeline::test::run_cli;
using spikeline::test::scratch_dir;
using spikeline::test::write_text;
namespace d2 = spikeline::hw::dynapse2;

namespace {

// 3 inputs -> 4 recurrent DynapSim neurons with the thesis's taus (Itau from tau 0.045 s / 0.076 s).
const char* kModel = R"({"format": "spikeline-dynapse2-model", "version": 1, "n_in": 3, "n": 4,
 "w_in": [[10.9, -18.4, 6.0, 0.0], [-36.7, -38.6, 12.5, 3.0], [25.0, 33.0, -4.0, 20.0]],
 "sim": {"n": 4, "Itau_mem": 2.364066e-12, "Itau_syn": 1.143150e-11,
         "w_rec": [[0, 4.2, -1.0, 0.5], [1.7, 0, 2.0, 0], [0, -3.0, 0, 1.0], [0.8, 0, 0, 0]]}})";

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

nlohmann::json read_json(const std::filesystem::path& p) { return nlohmann::json::parse(std::ifstream(p)); }

// Spike counts [B, T, 3]: a burst on channel b % 3 in the first half of sample b.
void write_input(const std::filesystem::path& p, int batch, int steps) {
  std::vector<float> x(std::size_t(batch) * steps * 3, 0.0f);
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < steps / 2; t += 2) x[(std::size_t(b) * steps + t) * 3 + std::size_t(b % 3)] = 1.0f;
  spikeline::io::write_npy(p, spikeline::io::NpyArray::from<float>(
                                  {std::size_t(batch), std::size_t(steps), 3}, std::span<const float>(x)));
}

}  // namespace

TEST(Dynapse2DeployCli, MapQuantizeConfigSim) {
  const auto dir = scratch_dir("dynapse2_chain");
  write_text(dir / "model.json", kModel);
  auto r = run_cli("dynapse2 map --model " + q(dir / "model.json") + " --out " + q(dir / "spec.json"), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("dynapse2 quantize --spec " + q(dir / "spec.json") + " --seed 3 --out " + q(dir / "qspec.json"), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("dynapse2 config --qspec " + q(dir / "qspec.json") + " --out " + q(dir / "config.json"), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 core(s), 4 neurons"), std::string::npos) << r.out;

  const d2::QuantizedSpec qs = d2::quantized_spec_from_json(read_json(dir / "qspec.json"), "qspec.json");
  const d2::ChipConfig config = d2::read_chip_config(dir / "config.json");
  ASSERT_EQ(config.neurons.size(), 4u);
  ASSERT_EQ(config.cores.size(), 1u);
  for (int n = 0; n < 4; ++n) {
    std::size_t synapses = 0;
    for (int i = 0; i < 3; ++i) synapses += qs.masks_in(i, n) != 0;
    for (int m = 0; m < 4; ++m) synapses += qs.masks_rec(m, n) != 0;
    EXPECT_EQ(config.neurons[std::size_t(n)].cam.size(), synapses) << "neuron " << n;
  }
  // The configuration's Iw settings encode the autoencoder's base currents.
  for (int k = 0; k < 4; ++k) {
    const auto* s = config.cores[0].find("Iw_" + std::to_string(k));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->requested, qs.Iw[0][std::size_t(k)]);
  }

  write_input(dir / "x.npy", 3, 40);
  r = run_cli("dynapse2 sim --config " + q(dir / "config.json") + " --input " + q(dir / "x.npy") + " --out " +
                  q(dir / "out.npz") + " --precision float64",
              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto npz = spikeline::io::read_npz(dir / "out.npz");
  ASSERT_EQ(npz.at("spikes").shape, (spikeline::Shape{3, 40, 4}));
  // Exactly the rebuilt network, sample by sample from reset state.
  const d2::DynapseNet net = d2::net_from_config(config);
  const auto x = spikeline::io::read_npy(dir / "x.npy").to_double();
  std::vector<double> want;
  for (int b = 0; b < 3; ++b) {
    const std::vector<double> xb(x.begin() + b * 120, x.begin() + (b + 1) * 120);
    const auto rec = d2::dynapsim_forward<double>(net.sim, d2::weighted_input<double>(xb, net.w_in, 40, 3, 4), 40);
    want.insert(want.end(), rec.spikes.begin(), rec.spikes.end());
  }
  EXPECT_EQ(npz.at("spikes").to_double(), want);
  double total = 0;
  for (double v : want) total += v;
  EXPECT_GT(total, 0.0) << "the test input should make the network spike";

  // Activity factors from a tuning-style file: weights scaled before quantisation.
  write_text(dir / "f.json", R"({"params": {"global_activity_factor": 0.5, "c1_activity_factor": 1.2}})");
  r = run_cli("dynapse2 quantize --spec " + q(dir / "spec.json") + " --factors " + q(dir / "f.json") + " --out " +
                  q(dir / "qspec_f.json"),
              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const d2::QuantizedSpec qf = d2::quantized_spec_from_json(read_json(dir / "qspec_f.json"), "qspec_f.json");
  EXPECT_DOUBLE_EQ(qf.spec.weights_in(0, 1), -18.4 * 0.5 * 1.2);
  EXPECT_DOUBLE_EQ(qf.spec.weights_in(0, 0), 10.9 * 0.5);
}

TEST(Dynapse2DeployCli, BadInputsExitTwoNamingTheProblem) {
  const auto dir = scratch_dir("dynapse2_chain_bad");
  write_text(dir / "model.json", kModel);
  ASSERT_EQ(run_cli("dynapse2 map --model " + q(dir / "model.json") + " --out " + q(dir / "spec.json"), dir).exit_code, 0);
  ASSERT_EQ(run_cli("dynapse2 quantize --spec " + q(dir / "spec.json") + " --out " + q(dir / "qspec.json"), dir).exit_code, 0);
  ASSERT_EQ(run_cli("dynapse2 config --qspec " + q(dir / "qspec.json") + " --out " + q(dir / "config.json"), dir).exit_code, 0);
  write_input(dir / "x.npy", 1, 10);
  // Both or neither of --params / --config.
  auto r = run_cli("dynapse2 sim --input " + q(dir / "x.npy") + " --out " + q(dir / "o.npz"), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--params or --config"), std::string::npos) << r.err;
  // A configuration with an out-of-range setting.
  auto j = read_json(dir / "config.json");
  j["cores"][0]["parameters"]["Ispkthr"]["fine"] = 300;
  write_text(dir / "bad.json", j.dump());
  r = run_cli("dynapse2 sim --config " + q(dir / "bad.json") + " --input " + q(dir / "x.npy") + " --out " +
                  q(dir / "o.npz"),
              dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cores[0].parameters.Ispkthr.fine"), std::string::npos) << r.err;
  // Factors naming a class the network does not have.
  write_text(dir / "f.json", R"({"c9_activity_factor": 1.3})");
  r = run_cli("dynapse2 quantize --spec " + q(dir / "spec.json") + " --factors " + q(dir / "f.json") + " --out " +
                  q(dir / "q2.json"),
              dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("c9_activity_factor"), std::string::npos) << r.err;
}

TEST(Dynapse2DeployCli, ConfigBeyondTheChipLimitsExitsTwo) {
  const auto dir = scratch_dir("dynapse2_limits");
  // 70 inputs all onto neuron 0: 70 CAM entries, 64 allowed.
  std::string w_in = "[";
  for (int i = 0; i < 70; ++i) w_in += std::string(i ? "," : "") + "[" + std::to_string(1.0 + 0.1 * i) + ", 0]";
  w_in += "]";
  write_text(dir / "model.json", R"({"format": "spikeline-dynapse2-model", "version": 1, "n_in": 70, "n": 2, "w_in": )" +
                                     w_in + R"(, "sim": {"n": 2}})");
  ASSERT_EQ(run_cli("dynapse2 map --model " + q(dir / "model.json") + " --out " + q(dir / "spec.json"), dir).exit_code, 0);
  auto r = run_cli("dynapse2 quantize --spec " + q(dir / "spec.json") + " --out " + q(dir / "qspec.json"), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("dynapse2 config --qspec " + q(dir / "qspec.json") + " --out " + q(dir / "config.json"), dir);
  EXPECT_EQ(r.exit_code, 2);
  // The autoencoder keeps (nearly) every weight; more than 64 synapses remain on neuron 0.
  EXPECT_NE(r.out.find("config.json: neuron 0: "), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find(" CAM entries (synapses), at most 64"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("1 violation(s) of the Dynap-SE2 limits"), std::string::npos) << r.err;
}

// ---- deploy and tune on a checkpoint trained in seconds ----

namespace {

class Dynapse2DeployCheckpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(scratch_dir("d2_deploy_suite"));
    spikeline::test::write_separable_spike_set(*dir_ / "spikes.npz", {{'A', "walking"}, {'D', "sitting"}},
                                               {20, 12, {320, 96, 96}, 0.5, 11});
    write_text(*dir_ / "run.json", R"({
  "data": {"file": "spikes.npz"},
  "model": {"target": "dynapse2"},
  "dynapse2": {"time_scale": 0.02, "percent_mismatch": 0.05},
  "optim": {"lr": 0.02}, "batch_size": 16, "epochs": 6, "seed": 3, "threads": 2
})");
    write_text(*dir_ / "tuning.json", R"({"trial_command": "python run_dynapse2_quantization_tuning.py",
      "assessor_start_step": 300, "max_trial_number": 1000, "search_space": {
      "global_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c0_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]},
      "c1_activity_factor": {"_type": "quniform", "_value": [0.6, 1.4, 0.01]}}})");
    const auto r = run_cli("train --config " + q(*dir_ / "run.json") + " --out " + q(*dir_ / "ckpt") + " --quiet", *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path copy_checkpoint(const std::string& name) {
    const auto ckpt = scratch_dir(name);
    std::filesystem::copy(*dir_ / "ckpt", ckpt, std::filesystem::copy_options::recursive);
    return ckpt;
  }
  static std::filesystem::path* dir_;
};
std::filesystem::path* Dynapse2DeployCheckpoint::dir_ = nullptr;

}  // namespace

TEST_F(Dynapse2DeployCheckpoint, DeployWritesTheBundle) {
  const auto ckpt = copy_checkpoint("d2_deploy_ckpt");
  const auto out = ckpt / "bundle";
  const auto r = run_cli("dynapse2 deploy --checkpoint " + q(ckpt) + " --out " + q(out) + " --format json", ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = spikeline::test::parse_stdout_json(r);
  for (const char* f : {"config.json", "spec.json", "report.html", "report.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  EXPECT_EQ(read_json(out / "report.json").at("configured"), j.at("configured"));
  // The float accuracy is the checkpoint's own (same split, same predict).
  const auto meta = read_json(ckpt / "model_metadata.json");
  EXPECT_NEAR(j.at("float").at("accuracy").get<double>(), meta.at("val_accuracy").get<double>(), 1e-12);
  EXPECT_GT(j.at("float").at("accuracy").get<double>(), 0.8);  // 2 classes: chance 0.5
  EXPECT_EQ(j.at("configured").at("confusion").size(), 2u);
  EXPECT_EQ(j.at("quantization").at("factors"), nullptr);  // no tuning stored yet
  // Resources agree with the configuration in the bundle.
  const d2::ChipConfig config = d2::read_chip_config(out / "config.json");
  const auto res = d2::count_chip_resources(config);
  EXPECT_EQ(j.at("resources").at("cores"), 1);
  EXPECT_EQ(j.at("resources").at("neurons"), 2);
  EXPECT_EQ(j.at("resources").at("cam_entries"), res.cam_entries);
  EXPECT_GT(res.cam_entries, 0);
  EXPECT_EQ(j.at("cores").at(0).at("parameters").size(), 23u);
  const std::string html = spikeline::read_file_text(out / "report.html");
  for (const char* s : {"<svg", "SOIF_LEAK_N", "SYAM_W3_P", "CAM entries", "confusion matrix, configured network"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, static
  // The bundle's spec.json is the quantised spec the configuration was built from.
  const d2::QuantizedSpec qs = d2::quantized_spec_from_json(read_json(out / "spec.json"), "spec.json");
  EXPECT_EQ(d2::to_json(d2::chip_config_from_spec(qs)), d2::to_json(config));
}

TEST_F(Dynapse2DeployCheckpoint, TuneIsDeterministicAndDeployUsesIt) {
  const auto a = copy_checkpoint("d2_tune_a"), b = copy_checkpoint("d2_tune_b");
  const std::string args = " --config " + q(*dir_ / "tuning.json") + " --trials 4 --seed 5 --format json";
  const auto ra = run_cli("dynapse2 tune --checkpoint " + q(a) + args, a);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  const auto rb = run_cli("dynapse2 tune --checkpoint " + q(b) + args, b);
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const auto ja = spikeline::test::parse_stdout_json(ra), jb = spikeline::test::parse_stdout_json(rb);
  EXPECT_EQ(ja.at("accuracy"), jb.at("accuracy"));
  EXPECT_EQ(ja.at("trials"), 4);
  EXPECT_EQ(read_json(a / "dynapse2_tuning.json").at("history"), read_json(b / "dynapse2_tuning.json").at("history"));
  const auto thesis = read_json(a / "dynapse2_qtuning_metadata");
  EXPECT_EQ(thesis.at("params").size(), 8u);  // global + c0..c6, as the thesis's file
  EXPECT_EQ(thesis.at("val_accuracy_after_tuning"), ja.at("accuracy"));
  // What is kept scores at least as well as every trial and as factors 1, and is factors 1 exactly
  // when no trial beat them.
  const auto record = read_json(a / "dynapse2_tuning.json");
  double best_trial = 0.0;
  for (const auto& h : record.at("history"))
    if (h.contains("accuracy")) best_trial = std::max(best_trial, h.at("accuracy").get<double>());
  EXPECT_EQ(record.at("best_trial_accuracy").get<double>(), best_trial);
  EXPECT_EQ(ja.at("accuracy").get<double>(), std::max(best_trial, ja.at("untuned_accuracy").get<double>()));
  EXPECT_EQ(ja.at("kept_untuned").get<bool>(), ja.at("untuned_accuracy").get<double>() >= best_trial);
  if (ja.at("kept_untuned").get<bool>())
    for (const auto& [k, v] : record.at("params").items()) EXPECT_EQ(v.get<double>(), 1.0) << k;

  // deploy applies the stored factors (and the tuning's seed) and measures the tuned accuracy again.
  const auto r = run_cli("dynapse2 deploy --checkpoint " + q(a) + " --out " + q(a / "bundle") + " --format json", a);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = spikeline::test::parse_stdout_json(r);
  EXPECT_NE(j.at("quantization").at("factors"), nullptr);
  EXPECT_EQ(j.at("configured").at("accuracy"), ja.at("accuracy"));
  EXPECT_EQ(j.at("notes").size(), 1u);  // only: the autoencoder uses the tuning's seed
  const auto plain = run_cli("dynapse2 deploy --checkpoint " + q(a) + " --out " + q(a / "bundle2") + " --no-tuning --format json", a);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(spikeline::test::parse_stdout_json(plain).at("quantization").at("factors"), nullptr);
  // A broken tuning file is named.
  write_text(a / "dynapse2_tuning.json", R"({"params": {"c7_activity_factor": 1.2}})");
  const auto bad = run_cli("dynapse2 deploy --checkpoint " + q(a) + " --out " + q(a / "bundle3"), a);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("dynapse2_tuning.json"), std::string::npos) << bad.err;
}

TEST_F(Dynapse2DeployCheckpoint, ThesisTuningFileRunsUnchanged) {
  SPIKELINE_REQUIRE_SHARED(path, "fixtures/thesis/configs/dynapse2_tuning_2cb.json");
  const auto ckpt = copy_checkpoint("d2_tune_thesis");
  const auto r = run_cli("dynapse2 tune --checkpoint " + q(ckpt) + " --config " + q(path) + " --trials 2 --quiet", ckpt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 trials in"), std::string::npos) << r.out;
  // A search space with a class the 2-neuron network lacks is named.
  SPIKELINE_REQUIRE_SHARED(three, "fixtures/thesis/configs/dynapse2_tuning_3cb.json");
  const auto bad = run_cli("dynapse2 tune --checkpoint " + q(ckpt) + " --config " + q(three) + " --trials 2 --quiet", ckpt);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("c2_activity_factor"), std::string::npos) << bad.err;
}
