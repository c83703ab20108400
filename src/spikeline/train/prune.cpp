#include "spikeline/train/prune.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "spikeline/core/error.hpp"

namespace spikeline::train {

namespace {

// Prunes one row given as pieces (the Linear's row, then the recurrent row).
PruneStats prune_row(std::span<float* const> cells, int max_fan_out) {
  PruneStats s;
  std::size_t nonzero = 0;
  for (const float* c : cells) nonzero += *c != 0.0f;
  if (nonzero <= static_cast<std::size_t>(max_fan_out)) return s;
  std::vector<std::size_t> order(cells.size());
  std::iota(order.begin(), order.end(), 0);
  // Ordinal ranking: ascending |w|, equal |w| by position.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(*cells[a]) < std::fabs(*cells[b]); });
  const std::size_t drop = cells.size() - static_cast<std::size_t>(max_fan_out);
  for (std::size_t k = 0; k < drop; ++k) {
    float& w = *cells[order[k]];
    s.synapses_dropped += w != 0.0f;
    w = 0.0f;
  }
  s.neurons_pruned = 1;
  return s;
}

void add(PruneStats& total, const PruneStats& s) {
  total.neurons_pruned += s.neurons_pruned;
  total.synapses_dropped += s.synapses_dropped;
}

void prune_layers(std::vector<snn::Layer>& layers, snn::LIF*& previous_lif, int max_fan_out,
                  PruneStats& total) {
  std::vector<float*> row;
  for (auto& layer : layers) {
    if (auto* lin = std::get_if<snn::Linear>(&layer.op)) {
      snn::LIF* rec = previous_lif && previous_lif->has_rec && previous_lif->n == lin->n_in ? previous_lif : nullptr;
      for (int i = 0; i < lin->n_in; ++i) {
        row.clear();
        for (int j = 0; j < lin->n_out; ++j) row.push_back(&lin->weight[static_cast<std::size_t>(i) * lin->n_out + j]);
        if (rec)
          for (int j = 0; j < rec->n; ++j) row.push_back(&rec->w_rec[static_cast<std::size_t>(i) * rec->n + j]);
        add(total, prune_row(row, max_fan_out));
      }
    } else if (auto* lif = std::get_if<snn::LIF>(&layer.op)) {
      previous_lif = lif;
    } else if (auto* res = std::get_if<snn::Residual>(&layer.op)) {
      prune_layers(res->body, previous_lif, max_fan_out, total);
    }
  }
}

}  // namespace

PruneStats prune_rows(std::vector<float>& weights, int rows, int cols, int max_fan_out) {
  SPIKELINE_ASSERT(weights.size() == static_cast<std::size_t>(rows) * cols);
  if (max_fan_out < 0) throw InputError("max_fan_out", "must be >= 0");
  PruneStats total;
  std::vector<float*> row(cols);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) row[j] = &weights[static_cast<std::size_t>(i) * cols + j];
    add(total, prune_row(row, max_fan_out));
  }
  return total;
}

PruneStats adapt_network(snn::Network& net, int max_fan_out) {
  if (max_fan_out < 0) throw InputError("max_fan_out", "must be >= 0");
  PruneStats total;
  snn::LIF* previous_lif = nullptr;
  prune_layers(net.layers, previous_lif, max_fan_out, total);
  return total;
}

}  // namespace spikeline::train
