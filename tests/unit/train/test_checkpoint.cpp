// Checkpoints: the thesis's own trained checkpoints load, run and re-save identically; ours
// round-trip the resume state exactly.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/io/rockpool_json.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/train/checkpoint.hpp"
#include "support/cli.hpp"
#include "support/shared.hpp"

namespace spikeline::train {
namespace {

class ThesisCheckpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(ThesisCheckpoint, LoadsRunsAndResavesIdentically) {
  SPIKELINE_REQUIRE_SHARED(dir, std::string("fixtures/thesis/checkpoints/") + GetParam());
  const snn::Network net = io::load_network(dir / "model_params");
  // model_metadata.json: our repr of the network is the thesis's, and both metadata files re-save
  // byte for byte in the thesis's layout.
  for (const char* name : {"model_metadata.json", "training_metadata.json"}) {
    const std::string text = read_file_text(dir / name);
    EXPECT_TRUE(python_json_dump(nlohmann::ordered_json::parse(text)) == text) << name;
  }
  const auto meta = nlohmann::json::parse(read_file_text(dir / "model_metadata.json"));
  EXPECT_EQ(rockpool_repr(net), meta.at("net").get<std::string>());
  // Runs: 2 s of random 4-bit-phase-like input, finite outputs of the right shape.
  FloatArray x(Shape{2, 40, static_cast<std::size_t>(net.n_in())});
  Rng rng(1);
  for (auto& v : x.data) v = rng.uniform() < 0.2 ? 1.0f : 0.0f;
  snn::Engine engine(net);
  const FloatArray out = engine.forward(x);
  ASSERT_EQ(out.shape, (Shape{2, 40, static_cast<std::size_t>(net.n_out())}));
  for (float v : out.data) EXPECT_TRUE(std::isfinite(v));
  // Re-saved through save_network it holds the same model: same layers and keys, every float bit
  // for bit (the thesis's file prints float32 values as Python doubles, ours in the shortest form
  // that reads back to the same float32, so the texts differ while the values do not).
  const auto scratch = test::scratch_dir("thesis_resave");
  io::save_network(scratch / "model_params", net, io::NetworkFormat::Rockpool);
  const snn::Network back = io::load_network(scratch / "model_params");
  EXPECT_TRUE(io::to_rockpool_json(back) == io::to_rockpool_json(net));
  snn::Network a = net, b = back;
  const auto pa = snn::trainable_parameters(a), pb = snn::trainable_parameters(b);
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t k = 0; k < pa.size(); ++k) EXPECT_TRUE(*pa[k].values == *pb[k].values) << pa[k].path;
  const auto original = nlohmann::json::parse(read_file_text(dir / "model_params"));
  const auto resaved = nlohmann::json::parse(read_file_text(scratch / "model_params"));
  ASSERT_EQ(original.size(), resaved.size());
  for (auto it = original.begin(); it != original.end(); ++it) EXPECT_TRUE(resaved.contains(it.key())) << it.key();
}

INSTANTIATE_TEST_SUITE_P(Thesis, ThesisCheckpoint,
                         ::testing::Values("xylo_2cb_ff_deep_deep_res", "xylo_7cb_ff_deep_deep_res"));

TEST(Checkpoint, ResumeStateRoundTripsExactly) {
  snn::NeuronParams np;
  Rng rng(4);
  const snn::Network net = snn::make_architecture("rec_simple", 3, 5, 2, np, rng);
  TrainConfig config;
  config.data.file = "/x/spikes.npz";
  config.model.hidden = 5;
  DataDescription data;
  data.n_channels = 3;
  data.n_classes = 2;
  data.enabled_classes = {0, 1};
  TrainResult r;
  r.epochs.push_back({0, 0.7, 0.5, 0.625, 123.0, 1e-3, 4});
  r.best_val_acc = 0.625;
  r.best_epoch = 0;
  r.best = net;
  r.next_epoch = 1;
  r.next_batch = 2;
  r.partial_loss_sum = 1.0 / 3.0;
  r.partial_hits = 5;
  r.partial_seen = 8;
  r.adam.step = 9;
  for (auto& p : snn::trainable_parameters(const_cast<snn::Network&>(net))) {
    std::vector<float> m(p.values->size()), v(p.values->size());
    for (auto& e : m) e = rng.uniform(-1, 1);
    for (auto& e : v) e = rng.uniform(0, 1) * 1e-7f;
    r.adam.exp_avg.push_back(m);
    r.adam.exp_avg_sq.push_back(v);
  }
  const auto dir = test::scratch_dir("ckpt_roundtrip");
  write_checkpoint(dir, config, data, net, r);
  for (const char* f : {"model_params", "model_metadata.json", "training_metadata.json", "config.json", "log.jsonl",
                        "resume/params", "resume/optimiser.npz", "resume/progress.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  const ResumePoint rp = read_resume_point(dir);
  EXPECT_EQ(rp.result.next_epoch, 1);
  EXPECT_EQ(rp.result.next_batch, 2u);
  EXPECT_EQ(rp.result.partial_loss_sum, 1.0 / 3.0);
  EXPECT_EQ(rp.result.adam.step, 9);
  EXPECT_EQ(rp.result.adam.exp_avg, r.adam.exp_avg);
  EXPECT_EQ(rp.result.adam.exp_avg_sq, r.adam.exp_avg_sq);
  EXPECT_EQ(rp.result.epochs.size(), 1u);
  EXPECT_EQ(io::to_rockpool_json(rp.current), io::to_rockpool_json(net));
  const auto tm = nlohmann::json::parse(read_file_text(dir / "training_metadata.json"));
  EXPECT_EQ(tm.at("acc_t").size(), 1u);
  EXPECT_EQ(tm.at("input_params").at("n_channels"), 3);
}

}  // namespace
}  // namespace spikeline::train
