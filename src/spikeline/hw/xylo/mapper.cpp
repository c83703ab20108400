#include "spikeline/hw/xylo/mapper.hpp"

#include <cmath>
#include <optional>
#include <variant>

#include "spikeline/core/error.hpp"

namespace spikeline::hw::xylo {

namespace {

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

float per_neuron(const std::vector<float>& v, int i) { return v.size() == 1 ? v[0] : v[std::size_t(i)]; }

// Rockpool: np.log2(tau / dt) on float32 arrays, so the whole computation stays in float32.
double tau_to_dash(float tau, float dt) { return static_cast<double>(std::log2(tau / dt)); }

// Walks the Sequential in order, as the mapper's depth-first discovery does for these graphs.
class Mapper {
 public:
  Mapper(const snn::Network& net, MapResult& result) : net_(net), res_(result) {}

  void run() {
    const auto& layers = net_.layers;
    if (layers.empty() || !std::holds_alternative<snn::Linear>(layers.front().op))
      throw InputError(layers.empty() ? "network" : layers.front().name,
                       "the network input must go first into a Linear layer (Xylo design rule 3)");
    if (!std::holds_alternative<snn::LIF>(layers.back().op))
      throw InputError(layers.back().name,
                       "the network output must come directly from a LIF layer (Xylo design rule 1)");
    const auto& out_lif = std::get<snn::LIF>(layers.back().op);
    const int n_hidden = count_lifs(layers) - out_lif.n;
    if (n_hidden_layers_ < 2)
      throw InputError("network", "Xylo needs at least two LIF layers (one hidden, one readout; design rule 9)");
    res_.spec.resize(std::get<snn::Linear>(layers.front().op).n_in, n_hidden, out_lif.n);
    output_layer_ = &layers.back();
    walk(layers, "", Source{});
    if (!dt_) throw InputError("network", "no LIF layer defines dt (design rule 5)");
    res_.spec.dt = *dt_;
  }

 private:
  struct Source {  // where the events of the current point of the chain come from
    bool from_input = true;
    std::vector<int> hidden_ids;
  };
  struct Pending {
    const snn::Linear* linear;
    Source source;
    std::string path;
  };

  int count_lifs(const std::vector<snn::Layer>& layers) {
    int n = 0;
    for (const auto& l : layers) {
      if (const auto* lif = std::get_if<snn::LIF>(&l.op)) {
        n += lif->n;
        ++n_hidden_layers_;
      } else if (const auto* r = std::get_if<snn::Residual>(&l.op)) {
        n += count_lifs(r->body);
      }
    }
    return n;
  }

  Source walk(const std::vector<snn::Layer>& layers, const std::string& prefix, Source source) {
    std::optional<Pending> pending;
    for (const auto& layer : layers) {
      const std::string path = join_path(prefix, layer.name);
      if (const auto* lin = std::get_if<snn::Linear>(&layer.op)) {
        if (pending)
          throw InputError(path, "a Linear layer directly follows another weight layer (Xylo design rule 7)");
        if (!lin->bias.empty())
          res_.warnings.push_back(path + ": Linear bias is not transferred to Xylo (design rule 10)");
        pending = Pending{lin, source, path};
      } else if (const auto* lif = std::get_if<snn::LIF>(&layer.op)) {
        if (!pending)
          throw InputError(path, "a LIF layer must receive its input from a Linear layer (Xylo design rule 2)");
        source = place_neurons(layer, *lif, *pending, path);
        pending.reset();
      } else {
        const auto& res = std::get<snn::Residual>(layer.op);
        if (pending || source.from_input)
          throw InputError(path, "a Residual block must take its input from a LIF layer (Xylo design rule 8)");
        const Source out = walk(res.body, path, source);
        if (out.from_input || out.hidden_ids == source.hidden_ids || out.hidden_ids.size() != source.hidden_ids.size())
          throw InputError(path, "a Residual body must end in a LIF layer as wide as its input");
        for (std::size_t i = 0; i < source.hidden_ids.size(); ++i) {
          auto& a = res_.spec.aliases[std::size_t(source.hidden_ids[i])];
          if (!a.empty())
            throw InputError(path, "hidden neuron " + std::to_string(source.hidden_ids[i]) +
                                       " would need a second alias target (the chip has one)");
          a.push_back(out.hidden_ids[i]);
        }
        source = out;
      }
    }
    if (pending)
      throw InputError(pending->path, "a Linear layer must be followed by a LIF layer (Xylo design rule 1)");
    return source;
  }

  Source place_neurons(const snn::Layer& layer, const snn::LIF& lif, const Pending& in, const std::string& path) {
    FloatSpec& s = res_.spec;
    if (dt_ && *dt_ != lif.dt)
      throw InputError(path, "all LIF layers must share one dt (Xylo design rule 5)");
    dt_ = lif.dt;
    const snn::Linear& w = *in.linear;
    if (&layer == output_layer_) {
      if (in.source.from_input)
        throw InputError(path, "Xylo needs at least two LIF layers (design rule 9)");
      if (lif.has_rec) throw InputError(path, "readout neurons cannot be recurrent (Xylo design rule 6)");
      for (int r = 0; r < w.n_in; ++r)
        for (int o = 0; o < w.n_out; ++o)
          s.w_out(in.source.hidden_ids[r], o) = w.weight[std::size_t(r) * w.n_out + o];
      for (int o = 0; o < lif.n; ++o) {
        s.dash_mem_out[o] = tau_to_dash(per_neuron(lif.tau_mem, o), lif.dt);
        s.dash_syn_out[o] = tau_to_dash(per_neuron(lif.tau_syn, o), lif.dt);
        s.threshold_out[o] = per_neuron(lif.threshold, o);
        s.bias_out[o] = per_neuron(lif.bias, o);
      }
      return Source{false, {}};
    }
    std::vector<int> ids(lif.n);
    for (int i = 0; i < lif.n; ++i) ids[i] = next_hidden_id_++;
    res_.hidden_layer_ids.emplace_back(path, ids);
    for (int r = 0; r < w.n_in; ++r)
      for (int c = 0; c < w.n_out; ++c) {
        const double v = w.weight[std::size_t(r) * w.n_out + c];
        if (in.source.from_input) s.w_in(r, ids[c]) = v;
        else s.w_rec(in.source.hidden_ids[r], ids[c]) = v;
      }
    if (lif.has_rec)
      for (int r = 0; r < lif.n; ++r)
        for (int c = 0; c < lif.n; ++c) s.w_rec(ids[r], ids[c]) = lif.w_rec[std::size_t(r) * lif.n + c];
    for (int i = 0; i < lif.n; ++i) {
      const auto n = std::size_t(ids[i]);
      s.dash_mem[n] = tau_to_dash(per_neuron(lif.tau_mem, i), lif.dt);
      s.dash_syn[n] = tau_to_dash(per_neuron(lif.tau_syn, i), lif.dt);
      s.dash_syn_2[n] = 0.0;
      s.threshold[n] = per_neuron(lif.threshold, i);
      s.bias[n] = per_neuron(lif.bias, i);
    }
    return Source{false, ids};
  }

  const snn::Network& net_;
  MapResult& res_;
  const snn::Layer* output_layer_ = nullptr;
  int n_hidden_layers_ = 0;
  int next_hidden_id_ = 0;
  std::optional<float> dt_;
};

}  // namespace

MapResult map_network(const snn::Network& net, const Limits& limits) {
  net.validate();
  MapResult result;
  Mapper(net, result).run();
  const FloatSpec& s = result.spec;
  if (s.n_in > limits.max_inputs)
    result.warnings.push_back(std::to_string(s.n_in) + " input channels; Xylo has " + std::to_string(limits.max_inputs));
  if (s.n_out > limits.max_outputs)
    result.warnings.push_back(std::to_string(s.n_out) + " readout neurons; Xylo has " + std::to_string(limits.max_outputs));
  if (s.n_hid > limits.max_hidden)
    result.warnings.push_back(std::to_string(s.n_hid) + " hidden neurons; Xylo has " + std::to_string(limits.max_hidden));
  return result;
}

}  // namespace spikeline::hw::xylo
