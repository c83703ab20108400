// Fan-out pruning against the thesis's own drop_exceeding_synapses (golden vectors), and the
// network-level semantics (recurrent rows count, residual bodies are visited).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spikeline/core/fs.hpp"
#include "spikeline/train/prune.hpp"
#include "support/shared.hpp"

namespace spikeline::train {
namespace {

TEST(Prune, MatchesTheThesisGoldenVectorsExactly) {
  SPIKELINE_REQUIRE_SHARED(path, "golden/thesis_pruning_seed5.json");
  const auto doc = nlohmann::json::parse(read_file_text(path));
  for (const auto& c : doc.at("cases")) {
    const auto before = c.at("weights_before");
    const int rows = static_cast<int>(before.size()), cols = static_cast<int>(before[0].size());
    std::vector<float> w;
    for (const auto& r : before)
      for (const auto& v : r) w.push_back(v.get<float>());
    const PruneStats s = prune_rows(w, rows, cols, c.at("max_synapses").get<int>());
    std::size_t k = 0;
    for (const auto& r : c.at("weights_after"))
      for (const auto& v : r) EXPECT_EQ(w[k++], v.get<float>()) << "element " << k - 1;
    EXPECT_EQ(s.neurons_pruned, c.at("neurons_pruned").get<std::size_t>());
    EXPECT_EQ(s.synapses_dropped, c.at("synapses_dropped").get<std::size_t>());
  }
}

TEST(Prune, TiesAreBrokenByColumn) {
  std::vector<float> w{0.5f, -0.5f, 0.5f, 0.1f};
  prune_rows(w, 1, 4, 2);
  EXPECT_EQ(w, (std::vector<float>{0.0f, -0.5f, 0.5f, 0.0f}));
}

TEST(Prune, RecurrentRowCountsTowardsFanOut) {
  snn::NeuronParams np;
  Rng rng(1);
  snn::Network net = snn::make_architecture("rec_simple", 3, 4, 2, np, rng);
  // rows of the second Linear (4 x 2) stacked with w_rec (4 x 4): 6 candidates, keep 3 per row.
  adapt_network(net, 3);
  auto& lin = std::get<snn::Linear>(net.layers[2].op);
  auto& lif = std::get<snn::LIF>(net.layers[1].op);
  for (int i = 0; i < 4; ++i) {
    int nz = 0;
    for (int j = 0; j < 2; ++j) nz += lin.weight[i * 2 + j] != 0.0f;
    for (int j = 0; j < 4; ++j) nz += lif.w_rec[i * 4 + j] != 0.0f;
    EXPECT_EQ(nz, 3) << "row " << i;
  }
  // The input Linear (3 x 4) has no recurrent layer before it: 4 candidates, 3 kept.
  const auto& first = std::get<snn::Linear>(net.layers[0].op);
  for (int i = 0; i < 3; ++i) {
    int nz = 0;
    for (int j = 0; j < 4; ++j) nz += first.weight[i * 4 + j] != 0.0f;
    EXPECT_EQ(nz, 3);
  }
}

TEST(Prune, VisitsResidualBodies) {
  snn::NeuronParams np;
  Rng rng(2);
  snn::Network net = snn::make_architecture("ff_deep_deep_res", 4, 8, 2, np, rng);
  const PruneStats s = adapt_network(net, 2);
  // 4 + 8 + 8 rows of width 8 lose 6 each, 8 rows of width 2 lose none.
  EXPECT_EQ(s.synapses_dropped, (4u + 8u + 8u) * 6u);
}

}  // namespace
}  // namespace spikeline::train
