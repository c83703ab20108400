#include "spikeline/snn/metrics.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "spikeline/snn/engine.hpp"

namespace spikeline::snn {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

void add_static(const std::vector<Layer>& layers, ComplexityMetrics& m) {
  const auto weights = [&m](const std::vector<float>& w) {
    m.connections += w.size();
    m.zero_connections += static_cast<std::size_t>(std::count(w.begin(), w.end(), 0.0f));
  };
  for (const Layer& layer : layers) {
    if (const auto* lin = std::get_if<Linear>(&layer.op)) {
      weights(lin->weight);
      m.parameters += lin->weight.size() + lin->bias.size();
    } else if (const auto* lif = std::get_if<LIF>(&layer.op)) {
      m.parameters += lif->tau_mem.size() + lif->tau_syn.size() + lif->bias.size() + lif->threshold.size();
      if (lif->has_rec) {
        weights(lif->w_rec);
        m.parameters += lif->w_rec.size();
      }
    } else {
      add_static(std::get<Residual>(layer.op).body, m);
    }
  }
}

// Non-zero outgoing weights of each input row of a [rows][cols] matrix.
std::vector<double> fan_out(const std::vector<float>& w, int rows, int cols) {
  std::vector<double> out(static_cast<std::size_t>(rows), 0.0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[r] += w[static_cast<std::size_t>(r) * cols + c] != 0.0f;
  return out;
}

// Activity of one chunk: activations are [B][T][n] floats, rebuilt layer by layer from the records.
struct Walker {
  std::size_t B, T;
  const std::map<std::string, const FloatArray*>& spikes;
  double dense = 0, macs = 0, acs = 0, active = 0, neuron_steps = 0;

  // Synaptic operations of input `a` ([B][T][rows]) through a [rows][cols] matrix; `shift` = 1 for
  // recurrent weights (step t sees the spikes of step t-1).
  void count_ops(const std::vector<float>& a, const std::vector<float>& w, int rows, int cols, int shift) {
    const auto fo = fan_out(w, rows, cols);
    const std::size_t steps = T > static_cast<std::size_t>(shift) ? T - shift : 0;
    dense += static_cast<double>(B) * steps * rows * cols;
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < steps; ++t) {
        const float* row = a.data() + (b * T + t) * rows;
        for (int i = 0; i < rows; ++i) {
          if (row[i] == 0.0f) continue;
          (row[i] == 1.0f ? acs : macs) += fo[i];
        }
      }
  }

  std::vector<float> linear(const std::vector<float>& a, const Linear& lin) {
    std::vector<float> y(B * T * lin.n_out, 0.0f);
    for (std::size_t bt = 0; bt < B * T; ++bt) {
      const float* in = a.data() + bt * lin.n_in;
      float* out = y.data() + bt * lin.n_out;
      if (!lin.bias.empty()) std::copy(lin.bias.begin(), lin.bias.end(), out);
      for (int i = 0; i < lin.n_in; ++i) {
        if (in[i] == 0.0f) continue;
        const float* w = lin.weight.data() + static_cast<std::size_t>(i) * lin.n_out;
        for (int j = 0; j < lin.n_out; ++j) out[j] += in[i] * w[j];
      }
    }
    return y;
  }

  std::vector<float> run(const std::vector<Layer>& layers, const std::string& prefix, std::vector<float> a) {
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const Layer& layer = layers[k];
      const std::string path = join(prefix, layer.name);
      if (const auto* lin = std::get_if<Linear>(&layer.op)) {
        count_ops(a, lin->weight, lin->n_in, lin->n_out, 0);
        // A LIF right after replaces the value by its recorded spikes: no need to compute it.
        const bool next_is_lif = k + 1 < layers.size() && std::holds_alternative<LIF>(layers[k + 1].op);
        a = next_is_lif ? std::vector<float>(B * T * lin->n_out, 0.0f) : linear(a, *lin);
      } else if (const auto* lif = std::get_if<LIF>(&layer.op)) {
        const FloatArray& s = *spikes.at(path + ".spikes");
        a = s.data;
        neuron_steps += static_cast<double>(a.size());
        for (float v : a) active += v != 0.0f;
        if (lif->has_rec) count_ops(a, lif->w_rec, lif->n, lif->n, 1);
      } else {
        std::vector<float> body = run(std::get<Residual>(layer.op).body, path, a);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] += body[i];
      }
    }
    return a;
  }
};

}  // namespace

ComplexityMetrics static_metrics(const Network& net) {
  ComplexityMetrics m;
  add_static(net.layers, m);
  m.footprint_bytes = m.parameters * sizeof(float);
  m.connection_sparsity =
      m.connections ? static_cast<double>(m.zero_connections) / static_cast<double>(m.connections) : 0.0;
  return m;
}

ComplexityMetrics measure_complexity(const Network& net, const FloatArray& x, int threads, std::size_t chunk) {
  ComplexityMetrics m = static_metrics(net);
  if (x.ndim() != 3 || x.dim(0) == 0) return m;
  const std::size_t n = x.dim(0), T = x.dim(1), C = x.dim(2);
  Engine engine(net, {threads, 32, false, 0});
  double dense = 0, macs = 0, acs = 0, active = 0, steps = 0;
  for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
    const std::size_t B = std::min(chunk, n - b0);
    FloatArray part(Shape{B, T, C});
    std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(b0 * T * C), B * T * C, part.data.begin());
    std::vector<NamedArray> records;
    engine.forward(part, &records);
    std::map<std::string, const FloatArray*> spikes;
    for (const auto& r : records) spikes[r.name] = &r.values;
    Walker w{B, T, spikes};
    w.run(net.layers, "", part.data);
    dense += w.dense;
    macs += w.macs;
    acs += w.acs;
    active += w.active;
    steps += w.neuron_steps;
  }
  m.samples = n;
  m.dense_ops = dense / static_cast<double>(n);
  m.effective_macs = macs / static_cast<double>(n);
  m.effective_acs = acs / static_cast<double>(n);
  m.activation_sparsity = steps > 0 ? 1.0 - active / steps : 0.0;
  return m;
}

nlohmann::ordered_json ComplexityMetrics::to_json() const {
  return {{"parameters", parameters},
          {"footprint_bytes", footprint_bytes},
          {"connections", connections},
          {"connection_sparsity", connection_sparsity},
          {"activation_sparsity", activation_sparsity},
          {"synaptic_ops_per_sample",
           {{"dense", dense_ops}, {"effective_macs", effective_macs}, {"effective_acs", effective_acs}}},
          {"samples", samples}};
}

}  // namespace spikeline::snn
