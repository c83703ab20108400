// snn::Network: the six thesis architectures, initialisation, validation, parameter views and
// Spikeline's JSON network description.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/snn/network.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::snn {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Helpers

// A compact signature of the layer tree: "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16,rec) ...".
std::string describe(const std::vector<Layer>& layers) {
  std::string out;
  for (const Layer& layer : layers) {
    if (!out.empty()) out += ' ';
    out += layer.name + ':';
    if (const auto* lin = std::get_if<Linear>(&layer.op))
      out += "lin(" + std::to_string(lin->n_in) + "," + std::to_string(lin->n_out) + ")";
    else if (const auto* lif = std::get_if<LIF>(&layer.op))
      out += "lif(" + std::to_string(lif->n) + (lif->has_rec ? ",rec)" : ")");
    else
      out += "[" + describe(std::get<Residual>(layer.op).body) + "]";
  }
  return out;
}

std::vector<std::string> param_paths(Network& net) {
  std::vector<std::string> paths;
  for (const ParamRef& p : trainable_parameters(net)) paths.push_back(p.path);
  return paths;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Bit-for-bit equality of two layer trees, with the first difference reported.
void expect_same_layers(const std::vector<Layer>& a, const std::vector<Layer>& b,
                        const std::string& prefix = "") {
  ASSERT_EQ(a.size(), b.size()) << prefix;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string path = prefix + a[i].name;
    EXPECT_EQ(a[i].name, b[i].name);
    ASSERT_EQ(a[i].op.index(), b[i].op.index()) << path;
    if (const auto* x = std::get_if<Linear>(&a[i].op)) {
      const auto& y = std::get<Linear>(b[i].op);
      EXPECT_EQ(x->n_in, y.n_in) << path;
      EXPECT_EQ(x->n_out, y.n_out) << path;
      EXPECT_TRUE(same_bits(x->weight, y.weight)) << path << ".weight";
      EXPECT_TRUE(same_bits(x->bias, y.bias)) << path << ".bias";
    } else if (const auto* x = std::get_if<LIF>(&a[i].op)) {
      const auto& y = std::get<LIF>(b[i].op);
      EXPECT_EQ(x->n, y.n) << path;
      EXPECT_TRUE(same_bits(x->tau_mem, y.tau_mem)) << path << ".tau_mem";
      EXPECT_TRUE(same_bits(x->tau_syn, y.tau_syn)) << path << ".tau_syn";
      EXPECT_TRUE(same_bits(x->bias, y.bias)) << path << ".bias";
      EXPECT_TRUE(same_bits(x->threshold, y.threshold)) << path << ".threshold";
      EXPECT_TRUE(same_bits({x->dt, x->learning_window, x->max_spikes_per_dt, x->noise_std},
                            {y.dt, y.learning_window, y.max_spikes_per_dt, y.noise_std}))
          << path << " scalars";
      EXPECT_EQ(x->spike_fn, y.spike_fn) << path;
      EXPECT_EQ(x->has_rec, y.has_rec) << path;
      EXPECT_TRUE(same_bits(x->w_rec, y.w_rec)) << path << ".w_rec";
    } else {
      expect_same_layers(std::get<Residual>(a[i].op).body, std::get<Residual>(b[i].op).body,
                         path + ".");
    }
  }
}

// Runs `fn`, expecting an InputError whose message contains every one of `parts`.
void expect_input_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an InputError containing '" << parts.front() << "'";
  } catch (const InputError& e) {
    const std::string message = e.what();
    for (const auto& part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message: " << message << "\nmissing: " << part;
  }
}

NeuronParams thesis_neuron() {
  NeuronParams p;
  p.tau_mem = 0.081f;
  p.tau_syn = 0.077f;
  p.dt = 0.05f;
  return p;
}

Network make(std::string_view name, std::uint64_t seed = 0, int n_in = 12, int n_hidden = 16,
             int n_out = 7) {
  Rng rng(seed);
  return make_architecture(name, n_in, n_hidden, n_out, thesis_neuron(), rng);
}

Layer& child(Network& net, std::initializer_list<std::size_t> indices) {
  std::vector<Layer>* layers = &net.layers;
  Layer* layer = nullptr;
  for (std::size_t i : indices) {
    layer = &layers->at(i);
    if (auto* res = std::get_if<Residual>(&layer->op)) layers = &res->body;
  }
  return *layer;
}

// ---------------------------------------------------------------------------------------------
// Spike functions

TEST(NetworkSpikeFn, NamesRoundTrip) {
  for (SpikeFn f : {SpikeFn::StepPWL, SpikeFn::PeriodicExponential, SpikeFn::Softplus})
    EXPECT_EQ(spike_fn_from_name(spike_fn_name(f)), f);
  EXPECT_EQ(spike_fn_name(SpikeFn::StepPWL), "StepPWL");
  expect_input_error([] { spike_fn_from_name("Heaviside"); },
                     {"Heaviside", "StepPWL", "PeriodicExponential"});
}

// ---------------------------------------------------------------------------------------------
// Architectures

struct ArchitectureCase {
  std::string name;
  std::string layers;
  std::vector<std::string> params;
  std::size_t parameter_count;
};

void PrintTo(const ArchitectureCase& c, std::ostream* os) { *os << c.name; }

class NetworkArchitecture : public testing::TestWithParam<ArchitectureCase> {};

TEST_P(NetworkArchitecture, LayerNamesShapesAndParameterPaths) {
  const ArchitectureCase& c = GetParam();
  Network net = make(c.name);
  EXPECT_EQ(describe(net.layers), c.layers);
  EXPECT_EQ(param_paths(net), c.params);
  EXPECT_EQ(parameter_count(net), c.parameter_count);
  EXPECT_EQ(net.n_in(), 12);
  EXPECT_EQ(net.n_out(), 7);
  EXPECT_NO_THROW(net.validate());
}

// 12 inputs, 16 hidden, 7 outputs.
INSTANTIATE_TEST_SUITE_P(
    Thesis, NetworkArchitecture,
    testing::Values(
        ArchitectureCase{"ff_simple",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16) 2_LinearTorch:lin(16,7) "
                         "3_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "2_LinearTorch.weight"},
                         12 * 16 + 16 * 7},
        ArchitectureCase{"ff_deep",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16) 2_LinearTorch:lin(16,16) "
                         "3_LIFTorch:lif(16) 4_LinearTorch:lin(16,7) 5_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "2_LinearTorch.weight", "4_LinearTorch.weight"},
                         12 * 16 + 16 * 16 + 16 * 7},
        ArchitectureCase{"ff_deep_res",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16) 2_TorchResidual:["
                         "0_LinearTorch:lin(16,16) 1_LIFTorch:lif(16)] 3_LinearTorch:lin(16,7) "
                         "4_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "2_TorchResidual.0_LinearTorch.weight",
                          "3_LinearTorch.weight"},
                         12 * 16 + 16 * 16 + 16 * 7},
        ArchitectureCase{"ff_deep_deep_res",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16) 2_TorchResidual:["
                         "0_LinearTorch:lin(16,16) 1_LIFTorch:lif(16)] 3_TorchResidual:["
                         "0_LinearTorch:lin(16,16) 1_LIFTorch:lif(16)] 4_LinearTorch:lin(16,7) "
                         "5_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "2_TorchResidual.0_LinearTorch.weight",
                          "3_TorchResidual.0_LinearTorch.weight", "4_LinearTorch.weight"},
                         12 * 16 + 2 * 16 * 16 + 16 * 7},
        ArchitectureCase{"rec_simple",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16,rec) 2_LinearTorch:lin(16,7) "
                         "3_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "1_LIFTorch.w_rec", "2_LinearTorch.weight"},
                         12 * 16 + 16 * 16 + 16 * 7},
        ArchitectureCase{"rec_deep",
                         "0_LinearTorch:lin(12,16) 1_LIFTorch:lif(16) 2_LinearTorch:lin(16,16) "
                         "3_LIFTorch:lif(16,rec) 4_LinearTorch:lin(16,7) 5_LIFTorch:lif(7)",
                         {"0_LinearTorch.weight", "2_LinearTorch.weight", "3_LIFTorch.w_rec",
                          "4_LinearTorch.weight"},
                         12 * 16 + 2 * 16 * 16 + 16 * 7}),
    [](const testing::TestParamInfo<ArchitectureCase>& info) { return info.param.name; });

TEST(NetworkArchitectures, NamesAreTheSixOfTheThesis) {
  EXPECT_EQ(architecture_names(),
            (std::vector<std::string>{"ff_simple", "ff_deep", "ff_deep_res", "ff_deep_deep_res",
                                      "rec_simple", "rec_deep"}));
}

TEST(NetworkArchitectures, UnknownNameListsTheValidOnes) {
  expect_input_error([] { make("ff_shallow"); },
                     {"unknown architecture 'ff_shallow'", "ff_simple", "rec_deep"});
}

TEST(NetworkArchitectures, RejectsBadWidths) {
  expect_input_error([] { make("ff_simple", 0, 0, 16, 7); }, {"n_in", "0"});
  expect_input_error([] { make("ff_simple", 0, 12, -3, 7); }, {"n_hidden", "-3"});
  expect_input_error([] { make("ff_simple", 0, 12, 16, 1 << 20); }, {"n_out"});
  // Within the width limit but too many weights in all.
  expect_input_error([] { make("ff_deep_deep_res", 0, 12, 60000, 7); }, {"too many weights"});
}

TEST(NetworkArchitectures, NeuronParametersReachEveryLif) {
  NeuronParams p = thesis_neuron();
  p.threshold = 2.0f;
  p.bias = 0.25f;
  p.learning_window = 0.3f;
  p.max_spikes_per_dt = 4.0f;
  p.spike_fn = SpikeFn::PeriodicExponential;
  Rng rng(1);
  Network net = make_architecture("ff_deep_deep_res", 3, 4, 2, p, rng);
  int lifs = 0;
  std::function<void(const std::vector<Layer>&)> visit = [&](const std::vector<Layer>& layers) {
    for (const Layer& layer : layers) {
      if (const auto* lif = std::get_if<LIF>(&layer.op)) {
        ++lifs;
        EXPECT_EQ(lif->tau_mem, std::vector<float>{0.081f});
        EXPECT_EQ(lif->tau_syn, std::vector<float>{0.077f});
        EXPECT_EQ(lif->threshold, std::vector<float>{2.0f});
        EXPECT_EQ(lif->bias, std::vector<float>{0.25f});
        EXPECT_EQ(lif->dt, 0.05f);
        EXPECT_EQ(lif->learning_window, 0.3f);
        EXPECT_EQ(lif->max_spikes_per_dt, 4.0f);
        EXPECT_EQ(lif->noise_std, 0.0f);
        EXPECT_EQ(lif->spike_fn, SpikeFn::PeriodicExponential);
      } else if (const auto* res = std::get_if<Residual>(&layer.op)) {
        visit(res->body);
      } else {
        EXPECT_TRUE(std::get<Linear>(layer.op).bias.empty()) << "the thesis uses no bias";
      }
    }
  };
  visit(net.layers);
  EXPECT_EQ(lifs, 4);
}

TEST(NetworkArchitectures, BadNeuronParametersAreReportedWithTheLayer) {
  NeuronParams p = thesis_neuron();
  p.tau_syn = 0.0f;
  Rng rng(0);
  expect_input_error([&] { make_architecture("ff_simple", 3, 4, 2, p, rng); },
                     {"1_LIFTorch", "tau_syn", "> 0"});
}

// ---------------------------------------------------------------------------------------------
// Initialisation

TEST(NetworkInit, WeightsAreUniformWithinKaimingBounds) {
  Network net = make("rec_deep", 3, 12, 128, 7);
  for (const ParamRef& p : trainable_parameters(net)) {
    const std::size_t fan_in = p.shape[0];
    const float bound = static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in)));
    float lo = bound, hi = -bound;
    double mean = 0.0;
    for (float w : *p.values) {
      EXPECT_GE(w, -bound) << p.path;
      EXPECT_LE(w, bound) << p.path;
      lo = std::min(lo, w);
      hi = std::max(hi, w);
      mean += w;
    }
    mean /= static_cast<double>(p.values->size());
    // Spread over the whole interval, centred (loose statistical checks; >= 896 draws each).
    EXPECT_LT(lo, -0.9f * bound) << p.path;
    EXPECT_GT(hi, 0.9f * bound) << p.path;
    EXPECT_LT(std::abs(mean), 0.1 * bound) << p.path;
  }
}

TEST(NetworkInit, DrawsLayerByLayerInRowMajorOrder) {
  // rec_simple: Lin(3,5) weight, then LIF w_rec (5x5), then Lin(5,2) weight, from one stream.
  Network net = make("rec_simple", 42, 3, 5, 2);
  Rng rng(42);
  auto draw = [&](std::size_t count, double fan_in) {
    const float bound = static_cast<float>(std::sqrt(6.0 / fan_in));
    std::vector<float> w(count);
    for (float& x : w) x = rng.uniform(-bound, bound);
    return w;
  };
  const std::vector<float> w0 = draw(15, 3), w_rec = draw(25, 5), w2 = draw(10, 5);
  EXPECT_TRUE(same_bits(std::get<Linear>(net.layers[0].op).weight, w0));
  EXPECT_TRUE(same_bits(std::get<LIF>(net.layers[1].op).w_rec, w_rec));
  EXPECT_TRUE(same_bits(std::get<Linear>(net.layers[2].op).weight, w2));
  EXPECT_TRUE(std::get<LIF>(net.layers[3].op).w_rec.empty());
}

TEST(NetworkInit, DeterministicBySeed) {
  for (const std::string& name : architecture_names()) {
    Network a = make(name, 7), b = make(name, 7), c = make(name, 8);
    expect_same_layers(a.layers, b.layers);
    EXPECT_FALSE(
        same_bits(std::get<Linear>(a.layers[0].op).weight, std::get<Linear>(c.layers[0].op).weight))
        << name;
  }
}

TEST(NetworkInit, HelpersMatchTheArchitectures) {
  Rng a(5), b(5);
  Network net = make_architecture("ff_simple", 4, 6, 3, thesis_neuron(), a);
  EXPECT_TRUE(same_bits(std::get<Linear>(net.layers[0].op).weight, init_linear_weight(4, 6, b)));
  EXPECT_TRUE(same_bits(std::get<Linear>(net.layers[2].op).weight, init_linear_weight(6, 3, b)));
}

// ---------------------------------------------------------------------------------------------
// Parameters

TEST(NetworkParameters, ViewsShareStorageAndHaveShapes) {
  Network net = make("ff_deep_res");
  std::get<Linear>(child(net, {2, 0}).op).bias = std::vector<float>(16, 0.5f);
  const auto params = trainable_parameters(net);
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[1].path, "2_TorchResidual.0_LinearTorch.weight");
  EXPECT_EQ(params[1].shape, (Shape{16, 16}));
  EXPECT_EQ(params[2].path, "2_TorchResidual.0_LinearTorch.bias");
  EXPECT_EQ(params[2].shape, (Shape{16}));
  (*params[0].values)[0] = 123.0f;
  EXPECT_EQ(std::get<Linear>(net.layers[0].op).weight[0], 123.0f);
  EXPECT_EQ(parameter_count(net), 12 * 16 + 16 * 16 + 16 + 16 * 7);
}

// ---------------------------------------------------------------------------------------------
// Validation: every kind of inconsistency names the layer path and the field.

struct BadNetwork {
  std::string label;
  std::function<void(Network&)> damage;
  std::vector<std::string> message;
};

void PrintTo(const BadNetwork& b, std::ostream* os) { *os << b.label; }

class NetworkValidate : public testing::TestWithParam<BadNetwork> {};

TEST_P(NetworkValidate, CatchesAndNamesTheProblem) {
  Network net = make("ff_deep_deep_res", 0, 12, 16, 7);
  ASSERT_NO_THROW(net.validate());
  GetParam().damage(net);
  expect_input_error([&] { net.validate(); }, GetParam().message);
}

Linear& lin_at(Network& net, std::initializer_list<std::size_t> i) {
  return std::get<Linear>(child(net, i).op);
}
LIF& lif_at(Network& net, std::initializer_list<std::size_t> i) {
  return std::get<LIF>(child(net, i).op);
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Kinds, NetworkValidate,
    testing::Values(
        BadNetwork{"empty", [](Network& n) { n.layers.clear(); }, {"no layers"}},
        BadNetwork{"weight_size",
                   [](Network& n) { lin_at(n, {0}).weight.pop_back(); },
                   {"0_LinearTorch", "weight has 191 values", "12*16"}},
        BadNetwork{"n_in_chain",
                   [](Network& n) {
                     auto& lin = lin_at(n, {4});
                     lin.n_in = 15;
                     lin.weight.resize(15 * 7);
                   },
                   {"4_LinearTorch", "takes 15 inputs", "outputs 16"}},
        BadNetwork{"lif_size_chain",
                   [](Network& n) { lif_at(n, {5}).n = 8; },
                   {"5_LIFTorch", "takes 8 inputs", "outputs 7"}},
        BadNetwork{"nested_weight",
                   [](Network& n) {
                     lin_at(n, {3, 0}).weight.resize(3);
                   },
                   {"3_TorchResidual.0_LinearTorch", "weight"}},
        BadNetwork{"residual_size",
                   [](Network& n) {
                     auto& body = std::get<Residual>(child(n, {2}).op).body;
                     auto& lin = std::get<Linear>(body[0].op);
                     lin.n_out = 8;
                     lin.weight.resize(16 * 8);
                     std::get<LIF>(body[1].op).n = 8;
                   },
                   {"2_TorchResidual", "size_in == size_out", "16 to 8"}},
        BadNetwork{"residual_empty",
                   [](Network& n) { std::get<Residual>(child(n, {3}).op).body.clear(); },
                   {"3_TorchResidual", "no layers"}},
        BadNetwork{"tau_mem_count",
                   [](Network& n) {
                     lif_at(n, {1}).tau_mem = {0.1f, 0.2f, 0.3f};
                   },
                   {"1_LIFTorch", "tau_mem has 3 values", "1 or n = 16"}},
        BadNetwork{"tau_mem_zero",
                   [](Network& n) {
                     lif_at(n, {2, 1}).tau_mem = {0.0f};
                   },
                   {"2_TorchResidual.1_LIFTorch", "tau_mem[0] must be > 0"}},
        BadNetwork{"tau_syn_negative",
                   [](Network& n) { lif_at(n, {1}).tau_syn = std::vector<float>(16, -1.0f); },
                   {"1_LIFTorch", "tau_syn[0] must be > 0"}},
        BadNetwork{"threshold_zero",
                   [](Network& n) { lif_at(n, {5}).threshold = {0.0f}; },
                   {"5_LIFTorch", "threshold[0] must be > 0"}},
        BadNetwork{"bias_nan",
                   [](Network& n) { lif_at(n, {1}).bias = {kNaN}; },
                   {"1_LIFTorch", "bias[0] is not finite"}},
        BadNetwork{"dt_zero",
                   [](Network& n) { lif_at(n, {1}).dt = 0.0f; },
                   {"1_LIFTorch", "dt must be > 0"}},
        BadNetwork{"dt_nan",
                   [](Network& n) { lif_at(n, {1}).dt = kNaN; },
                   {"1_LIFTorch", "dt is not finite"}},
        BadNetwork{"noise_negative",
                   [](Network& n) { lif_at(n, {1}).noise_std = -1.0f; },
                   {"1_LIFTorch", "noise_std must be >= 0"}},
        BadNetwork{"weight_inf",
                   [](Network& n) {
                     lin_at(n, {2, 0}).weight[17] = kInf;
                   },
                   {"2_TorchResidual.0_LinearTorch", "weight[17] is not finite"}},
        BadNetwork{"linear_bias_size",
                   [](Network& n) { lin_at(n, {0}).bias = {1.0f}; },
                   {"0_LinearTorch", "bias has 1 values", "n_out"}},
        BadNetwork{"w_rec_size",
                   [](Network& n) {
                     auto& lif = lif_at(n, {1});
                     lif.has_rec = true;
                     lif.w_rec.assign(15 * 16, 0.0f);
                   },
                   {"1_LIFTorch", "w_rec has 240 values", "n*n = 16*16"}},
        BadNetwork{"w_rec_without_has_rec",
                   [](Network& n) { lif_at(n, {1}).w_rec.assign(256, 0.0f); },
                   {"1_LIFTorch", "w_rec", "has_rec"}},
        BadNetwork{"duplicate_name",
                   [](Network& n) { n.layers[2].name = "1_LIFTorch"; },
                   {"1_LIFTorch", "duplicate"}},
        BadNetwork{"dotted_name",
                   [](Network& n) { n.layers[0].name = "a.b"; },
                   {"layer[0]", "invalid layer name 'a.b'"}}),
    [](const testing::TestParamInfo<BadNetwork>& info) { return info.param.label; });

TEST(NetworkValidateOk, AcceptsPerNeuronParameters) {
  Network net = make("ff_simple", 0, 3, 4, 2);
  lif_at(net, {1}).tau_mem = {0.01f, 0.02f, 0.03f, 0.04f};
  lif_at(net, {1}).threshold = {1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_NO_THROW(net.validate());
}

// ---------------------------------------------------------------------------------------------
// Spikeline's JSON description

Network varied_network() {
  Network net = make("rec_deep", 3, 3, 5, 2);
  auto& lif = lif_at(net, {1});
  lif.tau_mem = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f};
  lif.tau_syn = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  lif.bias = {-0.0f, 1e-7f, -2.5f, 3.0f, 1e20f};
  lif.noise_std = 0.125f;
  lif.spike_fn = SpikeFn::PeriodicExponential;
  lin_at(net, {2}).bias = {0.1f, -0.2f, 0.3f, 1e-30f, -0.0f};
  lin_at(net, {0}).weight[0] = std::numeric_limits<float>::denorm_min();
  lin_at(net, {0}).weight[1] = std::numeric_limits<float>::max();
  lin_at(net, {0}).weight[2] = -std::numeric_limits<float>::min();
  net.layers[1].name = "hidden-1";
  return net;
}

TEST(NetworkJson, RoundTripsBitForBit) {
  for (const Network& net :
       {make("ff_deep_deep_res", 3), make("rec_simple", 4), varied_network()}) {
    Rng unused(99);
    const Network back = network_from_json(network_to_json(net), "t.json", unused);
    expect_same_layers(net.layers, back.layers);
    const Network from_text = network_from_json_text(network_to_json_text(net), "t.json", unused);
    expect_same_layers(net.layers, from_text.layers);
  }
}

TEST(NetworkJson, TextHasOneLayerPerLine) {
  const std::string text = network_to_json_text(make("ff_simple", 0, 2, 3, 2));
  EXPECT_EQ(text.rfind("{\n  \"format\": \"spikeline-network\",\n  \"version\": 1,\n", 0), 0u);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4 + 4 + 2);
  EXPECT_NE(text.find("\"tau_mem\":0.081"), std::string::npos) << "short decimals, not 17 digits";
}

TEST(NetworkJson, WithoutWeightsReinitialisesFromTheSeed) {
  const Network net = make("ff_deep_deep_res", 11);
  const json description = network_to_json(net, /*include_weights=*/false);
  EXPECT_EQ(description.dump().find("weight"), std::string::npos);
  Rng rng(11);
  expect_same_layers(network_from_json(description, "t.json", rng).layers, net.layers);
}

TEST(NetworkJson, ArchitectureShortcut) {
  const json doc = {{"format", "spikeline-network"},
                    {"architecture", "ff_deep_deep_res"},
                    {"n_in", 12},
                    {"n_hidden", 16},
                    {"n_out", 7},
                    {"neuron", {{"tau_mem", 0.081}, {"tau_syn", 0.077}, {"dt", 0.05}}},
                    {"seed", 3}};
  Rng unused(1234);
  expect_same_layers(network_from_json(doc, "a.json", unused).layers,
                     make("ff_deep_deep_res", 3).layers);

  json no_seed = doc;
  no_seed.erase("seed");
  Rng rng(3);
  expect_same_layers(network_from_json(no_seed, "a.json", rng).layers,
                     make("ff_deep_deep_res", 3).layers);

  json bad = doc;
  bad["architecture"] = "ff_wide";
  expect_input_error([&] { network_from_json(bad, "a.json", rng); },
                     {"a.json", "unknown architecture 'ff_wide'", "rec_simple"});
  bad = doc;
  bad["neuron"]["tau_membrane"] = 0.1;
  expect_input_error([&] { network_from_json(bad, "a.json", rng); },
                     {"a.json: neuron: unknown key 'tau_membrane'"});
}

TEST(NetworkJson, SizesDefaultFromThePrecedingLayer) {
  const json doc = json::parse(R"({"format": "spikeline-network", "version": 1, "layers": [
      {"type": "linear", "n_in": 3, "n_out": 4},
      {"type": "lif", "tau_mem": 0.05, "recurrent": true},
      {"type": "residual", "body": [{"type": "linear", "n_out": 4}, {"type": "lif"}]},
      {"type": "linear", "n_out": 2, "bias": [0.5, -0.5]},
      {"type": "lif", "threshold": [1, 2]}]})");
  Rng rng(0);
  Network net = network_from_json(doc, "d.json", rng);
  EXPECT_EQ(describe(net.layers),
            "0_LinearTorch:lin(3,4) 1_LIFTorch:lif(4,rec) 2_TorchResidual:[0_LinearTorch:lin(4,4) "
            "1_LIFTorch:lif(4)] 3_LinearTorch:lin(4,2) 4_LIFTorch:lif(2)");
  EXPECT_EQ(lif_at(net, {1}).tau_mem, std::vector<float>{0.05f});
  EXPECT_EQ(lif_at(net, {4}).threshold, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(lin_at(net, {3}).bias, (std::vector<float>{0.5f, -0.5f}));
  EXPECT_EQ(lif_at(net, {1}).dt, 1e-3f) << "Rockpool's default";
}

TEST(NetworkJson, ExplicitWeightsAndNames) {
  const json doc = json::parse(R"({"format": "spikeline-network", "layers": [
      {"type": "linear", "name": "enc", "weight": [[1, 2], [3, 4], [5, 6]]},
      {"type": "lif", "name": "out", "w_rec": [[0, 0.5], [-0.5, 0]], "spike_fn": "PeriodicExponential"}]})");
  Rng rng(0);
  Network net = network_from_json(doc, "d.json", rng);
  EXPECT_EQ(describe(net.layers), "enc:lin(3,2) out:lif(2,rec)");
  EXPECT_EQ(lin_at(net, {0}).weight, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(lif_at(net, {1}).w_rec, (std::vector<float>{0, 0.5f, -0.5f, 0}));
  EXPECT_EQ(lif_at(net, {1}).spike_fn, SpikeFn::PeriodicExponential);
  EXPECT_EQ(param_paths(net), (std::vector<std::string>{"enc.weight", "out.w_rec"}));
}

struct BadDescription {
  std::string label;
  std::string text;
  std::vector<std::string> message;
};

void PrintTo(const BadDescription& d, std::ostream* os) { *os << d.label; }

class NetworkJsonErrors : public testing::TestWithParam<BadDescription> {};

TEST_P(NetworkJsonErrors, NameTheFileLayerAndKey) {
  Rng rng(0);
  expect_input_error([&] { network_from_json_text(GetParam().text, "net.json", rng); },
                     GetParam().message);
}

#define LAYERS(...) R"({"format": "spikeline-network", "version": 1, "layers": [)" __VA_ARGS__ "]}"

INSTANTIATE_TEST_SUITE_P(
    Kinds, NetworkJsonErrors,
    testing::Values(
        BadDescription{"unknown_key",
                       LAYERS(R"({"type": "linear", "n_in": 2, "n_out": 2},
                                 {"type": "lif", "foo": 1})"),
                       {"net.json: layers[1]: unknown key 'foo'", "tau_mem"}},
        BadDescription{"unknown_key_nested",
                       LAYERS(R"({"type": "linear", "n_in": 2, "n_out": 2},
                                 {"type": "residual", "body": [{"type": "linear", "n_out": 2, "wieght": 1}]})"),
                       {"net.json: layers[1].body[0]: unknown key 'wieght'"}},
        BadDescription{"unknown_top_key",
                       R"({"format": "spikeline-network", "layers": [], "extra": 1})",
                       {"net.json", "unknown key 'extra'"}},
        BadDescription{"malformed",
                       R"({"format": "spikeline-network", "layers": [)",
                       {"net.json: invalid JSON at byte"}},
        BadDescription{"not_object", "[1, 2]", {"net.json", "expected a JSON object"}},
        BadDescription{"number_overflow",
                       R"({"format": "spikeline-network", "version": 1e400})",
                       {"net.json: invalid JSON", "number overflow"}},
        BadDescription{"missing_format", R"({"layers": []})", {"net.json", "missing key 'format'"}},
        BadDescription{"wrong_format",
                       R"({"format": "rockpool", "layers": []})",
                       {"net.json: format", "spikeline-network"}},
        BadDescription{"wrong_version",
                       R"({"format": "spikeline-network", "version": 2, "layers": []})",
                       {"net.json: version", "unsupported version 2"}},
        BadDescription{
            "both_forms",
            R"({"format": "spikeline-network", "layers": [], "architecture": "ff_simple"})",
            {"net.json", "exactly one of 'layers'"}},
        BadDescription{"no_layers", LAYERS(""), {"net.json: layers", "at least one layer"}},
        BadDescription{"unknown_type",
                       LAYERS(R"({"type": "conv"})"),
                       {"net.json: layers[0].type", "unknown layer type 'conv'"}},
        BadDescription{"first_needs_n_in",
                       LAYERS(R"({"type": "linear", "n_out": 2})"),
                       {"net.json: layers[0]", "needs 'n_in'"}},
        BadDescription{"n_in_not_integer",
                       LAYERS(R"({"type": "linear", "n_in": 2.5, "n_out": 2})"),
                       {"net.json: layers[0].n_in", "expected an integer"}},
        BadDescription{"n_out_zero",
                       LAYERS(R"({"type": "linear", "n_in": 2, "n_out": 0})"),
                       {"net.json: layers[0].n_out", "must be an integer in [1,"}},
        BadDescription{"n_in_disagrees",
                       LAYERS(R"({"type": "linear", "n_in": 3, "weight": [[1], [2]]})"),
                       {"net.json: layers[0].n_in", "weight has 2 rows"}},
        BadDescription{"ragged_weight",
                       LAYERS(R"({"type": "linear", "weight": [[1, 2], [3]]})"),
                       {"net.json: layers[0].weight[1]", "every row as long as the first"}},
        BadDescription{"weight_not_number",
                       LAYERS(R"({"type": "linear", "weight": [[1, "x"]]})"),
                       {"net.json: layers[0].weight[0][1]", "expected a number, got string"}},
        BadDescription{"float_overflow",
                       LAYERS(R"({"type": "linear", "weight": [[1e39]]})"),
                       {"net.json: layers[0].weight[0][0]", "outside the float32 range"}},
        BadDescription{"w_rec_not_square",
                       LAYERS(R"({"type": "lif", "w_rec": [[1, 2]]})"),
                       {"net.json: layers[0].w_rec", "must be square, got 1x2"}},
        BadDescription{"w_rec_not_recurrent",
                       LAYERS(R"({"type": "lif", "recurrent": false, "w_rec": [[1]]})"),
                       {"net.json: layers[0].w_rec", "'recurrent' is false"}},
        BadDescription{"bad_spike_fn",
                       LAYERS(R"({"type": "lif", "n": 2, "spike_fn": "Step"})"),
                       {"net.json: layers[0].spike_fn", "unknown spike function 'Step'"}},
        BadDescription{"recurrent_not_bool",
                       LAYERS(R"({"type": "lif", "n": 2, "recurrent": 1})"),
                       {"net.json: layers[0].recurrent", "expected true or false"}},
        BadDescription{
            "validation_names_layer",
            LAYERS(R"({"type": "linear", "n_in": 2, "n_out": 3}, {"type": "lif", "n": 2})"),
            {"net.json: 1_LIFTorch", "takes 2 inputs but the preceding layer outputs 3"}},
        BadDescription{"tau_negative",
                       LAYERS(R"({"type": "lif", "n": 2, "tau_syn": [0.1, -0.1]})"),
                       {"net.json: 0_LIFTorch", "tau_syn[1] must be > 0"}},
        BadDescription{"residual_mismatch",
                       LAYERS(R"({"type": "linear", "n_in": 2, "n_out": 3},
                                 {"type": "residual", "body": [{"type": "linear", "n_out": 2}]})"),
                       {"net.json: 1_TorchResidual", "size_in == size_out"}},
        BadDescription{"too_many_weights",
                       LAYERS(R"({"type": "linear", "n_in": 16777216, "n_out": 16777216})"),
                       {"net.json: layers[0]", "too many weights"}}),
    [](const testing::TestParamInfo<BadDescription>& info) { return info.param.label; });

// ---------------------------------------------------------------------------------------------
// Float formatting for model files

TEST(FloatFormat, PythonReprStyle) {
  EXPECT_EQ(format_float_python(0.081f), "0.081");
  EXPECT_EQ(format_float_python(0.05f), "0.05");
  EXPECT_EQ(format_float_python(1.0f), "1.0");
  EXPECT_EQ(format_float_python(-2.5f), "-2.5");
  EXPECT_EQ(format_float_python(65536.0f), "65536.0");
  EXPECT_EQ(format_float_python(0.0f), "0.0");
  EXPECT_EQ(format_float_python(-0.0f), "-0.0");
  EXPECT_EQ(format_float_python(1e-4f), "0.0001");
  EXPECT_EQ(format_float_python(1e-5f), "1e-05");
  EXPECT_EQ(format_float_python(-1.5e-7f), "-1.5e-07");
  EXPECT_EQ(format_float_python(1e15f), "1000000000000000.0");
  EXPECT_EQ(format_float_python(1e16f), "1e+16");
  EXPECT_EQ(format_float_python(std::numeric_limits<float>::max()), "3.4028235e+38");
  EXPECT_EQ(format_float_python(std::numeric_limits<float>::denorm_min()), "1e-45");
  EXPECT_EQ(float_as_short_double(0.081f), 0.081);
}

TEST(JsonToFloat, AcceptsExactlyTheFloat32Range) {
  const JsonLocation at{"f.json", "x"};
  EXPECT_EQ(json_to_float(json(3.4028235e38), at), std::numeric_limits<float>::max());
  EXPECT_EQ(json_to_float(json(-3.4028235e38), at), -std::numeric_limits<float>::max());
  EXPECT_EQ(json_to_float(json(1e-50), at), 0.0f) << "underflow rounds to zero, as in Rockpool";
  EXPECT_EQ(json_to_float(json(7), at), 7.0f);
  expect_input_error([&] { json_to_float(json(3.4028236e38), at); },
                     {"f.json: x", "float32 range"});
  expect_input_error([&] { json_to_float(json("1.0"), at); },
                     {"f.json: x: expected a number, got string"});
}

TEST(FloatFormat, ReadsBackExactlyThroughADouble) {
  Rng rng(2024);
  for (int i = 0; i < 200000; ++i) {
    const auto bits = static_cast<std::uint32_t>(rng.next_u64());
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (!std::isfinite(f)) continue;
    const std::string text = format_float_python(f);
    const float back = static_cast<float>(std::strtod(text.c_str(), nullptr));
    ASSERT_EQ(std::memcmp(&back, &f, sizeof f), 0) << text;
  }
}

}  // namespace
}  // namespace spikeline::snn
