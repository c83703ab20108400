// Rockpool's model JSON (read, write, round trip) and network files in either format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/io/rockpool_json.hpp"
#include "spikeline/snn/network_json.hpp"
#include "support/shared.hpp"

namespace spikeline::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using snn::Layer;
using snn::LIF;
using snn::Linear;
using snn::Network;
using snn::Residual;

constexpr const char* kCheckpoint2cb =
    "fixtures/thesis/checkpoints/xylo_2cb_ff_deep_deep_res/model_params";
constexpr const char* kCheckpoint7cb =
    "fixtures/thesis/checkpoints/xylo_7cb_ff_deep_deep_res/model_params";
constexpr const char* kWorkloadRec = "bench/peers/workload/rec_simple.model_params.json";
constexpr const char* kWorkloadRes = "bench/peers/workload/ff_deep_deep_res.model_params.json";

// ---------------------------------------------------------------------------------------------
// Helpers

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

const Layer& child(const Network& net, std::initializer_list<std::size_t> indices) {
  const std::vector<Layer>* layers = &net.layers;
  const Layer* layer = nullptr;
  for (std::size_t i : indices) {
    layer = &layers->at(i);
    if (const auto* res = std::get_if<Residual>(&layer->op)) layers = &res->body;
  }
  return *layer;
}
const Linear& lin_at(const Network& n, std::initializer_list<std::size_t> i) {
  return std::get<Linear>(child(n, i).op);
}
const LIF& lif_at(const Network& n, std::initializer_list<std::size_t> i) {
  return std::get<LIF>(child(n, i).op);
}

// Sum of |w| in double, row-major: the same sum Python computes over the float32 values.
double abs_sum(const std::vector<float>& values) {
  double s = 0.0;
  for (float v : values) s += std::abs(static_cast<double>(v));
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Bit-for-bit equality of everything but the names (the Rockpool writer canonicalises those).
void expect_same_layers(const std::vector<Layer>& a, const std::vector<Layer>& b,
                        const std::string& prefix = "") {
  ASSERT_EQ(a.size(), b.size()) << prefix;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string path = prefix + std::to_string(i);
    ASSERT_EQ(a[i].op.index(), b[i].op.index()) << path;
    if (const auto* x = std::get_if<Linear>(&a[i].op)) {
      const auto& y = std::get<Linear>(b[i].op);
      EXPECT_EQ(x->n_in, y.n_in) << path;
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
          << path;
      EXPECT_EQ(x->spike_fn, y.spike_fn) << path;
      EXPECT_EQ(x->has_rec, y.has_rec) << path;
      EXPECT_TRUE(same_bits(x->w_rec, y.w_rec)) << path << ".w_rec";
    } else {
      expect_same_layers(std::get<Residual>(a[i].op).body, std::get<Residual>(b[i].op).body,
                         path + ".");
    }
  }
}

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

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("spikeline-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Network thesis_network(const std::string& name, std::uint64_t seed, int n_in, int n_hidden,
                       int n_out) {
  snn::NeuronParams p;
  p.tau_mem = 0.081f;
  p.tau_syn = 0.077f;
  p.dt = 0.05f;
  Rng rng(seed);
  return snn::make_architecture(name, n_in, n_hidden, n_out, p, rng);
}

// Every field off its default: per-neuron parameters, a bias, PeriodicExponential, extreme floats.
Network varied_network() {
  Network net = thesis_network("rec_deep", 3, 3, 5, 2);
  auto& lif = std::get<LIF>(net.layers[3].op);
  lif.tau_mem = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f};
  lif.tau_syn = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  lif.threshold = {1.0f, 2.0f, 0.5f, 1e-3f, 7.0f};
  lif.bias = {-0.0f, 1e-7f, -2.5f, 3.0f, 1e20f};
  lif.noise_std = 0.125f;
  lif.learning_window = 0.3f;
  lif.max_spikes_per_dt = 3.0f;
  lif.spike_fn = snn::SpikeFn::PeriodicExponential;
  auto& lin = std::get<Linear>(net.layers[0].op);
  lin.bias = {0.1f, -0.2f, 0.3f, 1e-30f, -0.0f};
  lin.weight[0] = std::numeric_limits<float>::denorm_min();
  lin.weight[1] = std::numeric_limits<float>::max();
  lin.weight[2] = -std::numeric_limits<float>::min();
  return net;
}

// ---------------------------------------------------------------------------------------------
// The thesis's checkpoints and the benchmark workloads

constexpr const char* kDeepDeepRes256 =
    "0_LinearTorch:lin(12,256) 1_LIFTorch:lif(256) 2_TorchResidual:[0_LinearTorch:lin(256,256) "
    "1_LIFTorch:lif(256)] 3_TorchResidual:[0_LinearTorch:lin(256,256) 1_LIFTorch:lif(256)] "
    "4_LinearTorch:lin(256,{}) 5_LIFTorch:lif({})";

std::string deep_deep_res(int n_out) {
  std::string s = kDeepDeepRes256;
  for (int k = 0; k < 2; ++k) s.replace(s.find("{}"), 2, std::to_string(n_out));
  return s;
}

TEST(RockpoolJson, ReadsThe2ClassCheckpoint) {
  SPIKELINE_REQUIRE_SHARED(path, kCheckpoint2cb);
  const Network net = read_rockpool_json(path);
  // Keys are out of order in the file (0, 5, 2, 1, 3, 4); the order comes from the indices.
  EXPECT_EQ(describe(net.layers), deep_deep_res(2));
  EXPECT_EQ(net.n_in(), 12);
  EXPECT_EQ(net.n_out(), 2);
  EXPECT_EQ(snn::parameter_count(net), 12 * 256 + 2 * 256 * 256 + 256 * 2);

  const Linear& first = lin_at(net, {0});
  EXPECT_EQ(first.weight[0], 0.0f);
  EXPECT_EQ(first.weight[1], 3.871545777656138e-05f);
  EXPECT_EQ(first.weight[3], 0.7509863376617432f);
  EXPECT_EQ(lin_at(net, {2, 0}).weight[0], -0.1474228799343109f);
  EXPECT_EQ(lin_at(net, {3, 0}).weight.back(), -0.3021928071975708f);
  EXPECT_EQ(lin_at(net, {4}).weight[1], 0.07098213583230972f);
  EXPECT_TRUE(first.bias.empty());
  // Sums of |w| computed independently in Python (json + struct) over the float32 values.
  EXPECT_EQ(abs_sum(first.weight), 679.7651972724622);
  EXPECT_EQ(abs_sum(lin_at(net, {2, 0}).weight), 3935.0362830086115);
  EXPECT_EQ(abs_sum(lin_at(net, {3, 0}).weight), 4301.041597553221);
  EXPECT_EQ(abs_sum(lin_at(net, {4}).weight), 71.99962770321872);

  for (auto at : {std::initializer_list<std::size_t>{1}, {2, 1}, {3, 1}, {5}}) {
    const LIF& lif = lif_at(net, at);
    EXPECT_EQ(lif.tau_mem, std::vector<float>{0.081f});
    EXPECT_EQ(lif.tau_syn, std::vector<float>{0.077f});
    EXPECT_EQ(lif.threshold, std::vector<float>{1.0f});
    EXPECT_EQ(lif.bias, std::vector<float>{0.0f});
    EXPECT_EQ(lif.dt, 0.05f);
    EXPECT_EQ(lif.learning_window, 0.5f);
    EXPECT_EQ(lif.max_spikes_per_dt, 65536.0f);
    EXPECT_EQ(lif.noise_std, 0.0f);
    EXPECT_EQ(lif.spike_fn, snn::SpikeFn::StepPWL);
    EXPECT_FALSE(lif.has_rec);
  }
}

TEST(RockpoolJson, ReadsThe7ClassCheckpoint) {
  SPIKELINE_REQUIRE_SHARED(path, kCheckpoint7cb);
  const Network net = read_rockpool_json(path);
  EXPECT_EQ(describe(net.layers), deep_deep_res(7));
  EXPECT_EQ(lin_at(net, {4}).weight[0], 0.14526531100273132f);
  EXPECT_EQ(lin_at(net, {4}).weight.back(), 0.053108762949705124f);
  EXPECT_EQ(lif_at(net, {1}).tau_mem, std::vector<float>{0.178f});
  EXPECT_EQ(lif_at(net, {2, 1}).tau_syn, std::vector<float>{0.078f});
}

TEST(RockpoolJson, ReadsTheRecurrentWorkload) {
  SPIKELINE_REQUIRE_SHARED(path, kWorkloadRec);
  const Network net = read_rockpool_json(path);
  EXPECT_EQ(describe(net.layers),
            "0_LinearTorch:lin(12,256) 1_LIFTorch:lif(256,rec) 2_LinearTorch:lin(256,7) "
            "3_LIFTorch:lif(7)");
  const LIF& rec = lif_at(net, {1});
  EXPECT_EQ(rec.w_rec[0], 0.05087665840983391f);
  EXPECT_EQ(rec.w_rec[1], -0.07109656929969788f);
  EXPECT_EQ(rec.w_rec.back(), -0.06232108175754547f);
  EXPECT_EQ(abs_sum(rec.w_rec), 2504.0231406906323);
  EXPECT_EQ(abs_sum(lin_at(net, {0}).weight), 2169.5971514642006);
  EXPECT_EQ(abs_sum(lin_at(net, {2}).weight), 275.4567253527566);
  EXPECT_EQ(rec.tau_mem, std::vector<float>{0.081f});
  Network copy = net;
  std::vector<std::string> paths;
  for (const auto& p : snn::trainable_parameters(copy)) paths.push_back(p.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"0_LinearTorch.weight", "1_LIFTorch.w_rec",
                                             "2_LinearTorch.weight"}));
}

TEST(RockpoolJson, ReadsTheResidualWorkload) {
  SPIKELINE_REQUIRE_SHARED(path, kWorkloadRes);
  const Network net = read_rockpool_json(path);
  EXPECT_EQ(describe(net.layers), deep_deep_res(7));
  EXPECT_EQ(lin_at(net, {2, 0}).weight[0], 0.10175331681966782f);
  EXPECT_EQ(lin_at(net, {3, 0}).weight[1], -0.05136560648679733f);
}

TEST(RockpoolJson, SharedFilesRoundTripBitForBit) {
  for (const char* rel : {kCheckpoint2cb, kCheckpoint7cb, kWorkloadRec, kWorkloadRes}) {
    SPIKELINE_REQUIRE_SHARED(path, rel);
    const Network original = read_rockpool_json(path);
    const std::string text = to_rockpool_json(original);
    const Network back = parse_rockpool_json(text, "written.json");
    expect_same_layers(original.layers, back.layers);
    EXPECT_EQ(describe(original.layers), describe(back.layers)) << "canonical names survive";
    EXPECT_EQ(to_rockpool_json(back), text) << "writing is deterministic";
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

TEST(RockpoolJson, WritesRockpoolsLayout) {
  Network net = thesis_network("rec_simple", 1, 2, 2, 2);
  std::get<Linear>(net.layers[0].op).weight = {0.5f, -0.25f, 1e-5f, 0.081f};
  const std::string text = to_rockpool_json(net);
  EXPECT_EQ(
      text.rfind(R"({"0_LinearTorch": {"weight": "[[0.5, -0.25], [1e-05, 0.081]]"}, )"
                 R"("1_LIFTorch": {"tau_mem": "0.081", "tau_syn": "0.077", "threshold": "1.0", )"
                 R"("bias": "0.0", "max_spikes_per_dt": "65536.0", "noise_std": "0.0", )"
                 R"("learning_window": "0.5", "dt": "0.05", "spike_generation_fn": null, )"
                 R"("leak_mode": "\"taus\"", "w_rec": "[[)",
                 0),
      0u)
      << text.substr(0, 400);
  // Every value is a JSON-encoded string (or null), as Rockpool's save() writes.
  const json doc = json::parse(text);
  for (const auto& [layer, params] : doc.items())
    for (const auto& [key, value] : params.items())
      EXPECT_TRUE(value.is_string() || value.is_null()) << layer << "." << key;
}

TEST(RockpoolJson, VariedNetworkRoundTrips) {
  const Network net = varied_network();
  const std::string text = to_rockpool_json(net);
  EXPECT_NE(text.find(R"("spike_generation_fn": "\"PeriodicExponential\"")"), std::string::npos);
  EXPECT_NE(text.find(R"("tau_syn": "[[0.1], [0.2], [0.3], [0.4], [0.5]]")"), std::string::npos)
      << "per-neuron tau_syn has Rockpool's shape (N, 1)";
  EXPECT_NE(text.find(R"("bias": "[0.1, -0.2, 0.3, 1e-30, -0.0]")"), std::string::npos);
  expect_same_layers(net.layers, parse_rockpool_json(text, "v.json").layers);
}

TEST(RockpoolJson, OrdersMoreThanTenLayersByIndex) {
  // Keys "10_..." sort before "2_..." as text; the reader must order by number.
  Network net;
  for (int i = 0; i < 12; ++i) {
    Linear lin{3, 3, std::vector<float>(9, static_cast<float>(i)), {}};
    net.layers.push_back(Layer{std::to_string(i) + "_LinearTorch", lin});
  }
  const Network back = parse_rockpool_json(to_rockpool_json(net), "m.json");
  ASSERT_EQ(back.layers.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(back.layers[i].name, std::to_string(i) + "_LinearTorch");
    EXPECT_EQ(std::get<Linear>(back.layers[i].op).weight[0], static_cast<float>(i));
  }
}

TEST(RockpoolJson, WriterUsesRockpoolNames) {
  Network net = thesis_network("ff_simple", 0, 2, 3, 2);
  net.layers[1].name = "hidden";
  const Network back = parse_rockpool_json(to_rockpool_json(net), "m.json");
  EXPECT_EQ(back.layers[1].name, "1_LIFTorch");
}

TEST(RockpoolJson, WriterRefusesInvalidNetworks) {
  Network net = thesis_network("ff_simple", 0, 2, 3, 2);
  std::get<Linear>(net.layers[0].op).weight[0] = std::numeric_limits<float>::quiet_NaN();
  expect_input_error([&] { to_rockpool_json(net); }, {"0_LinearTorch", "weight[0] is not finite"});
}

TEST(RockpoolJson, WriteAndReadFiles) {
  TempDir dir;
  const Network net = varied_network();
  const fs::path file = dir.path() / "sub" / "model.json";
  write_rockpool_json(file, net);
  expect_same_layers(net.layers, read_rockpool_json(file).layers);
  EXPECT_THROW(read_rockpool_json(dir.path() / "missing.json"), IoError);
}

// ---------------------------------------------------------------------------------------------
// Malformed inputs: each an InputError naming the file, the layer path and the problem.

struct BadModel {
  std::string label;
  std::string text;
  std::vector<std::string> message;
};

void PrintTo(const BadModel& m, std::ostream* os) { *os << m.label; }

class RockpoolJsonErrors : public testing::TestWithParam<BadModel> {};

TEST_P(RockpoolJsonErrors, NameTheFileLayerAndProblem) {
  expect_input_error([&] { parse_rockpool_json(GetParam().text, "model.json"); },
                     GetParam().message);
}

// A valid LIF layer's parameters, for building nested cases.
#define LIF_PARAMS \
  R"("tau_mem": "0.08", "tau_syn": "0.07", "threshold": "1.0", "bias": "0.0", "dt": "0.05")"

INSTANTIATE_TEST_SUITE_P(
    Kinds, RockpoolJsonErrors,
    testing::Values(
        BadModel{"truncated",
                 R"({"0_LinearTorch": {"weight": "[[1.0]]"})",
                 {"model.json: invalid JSON at byte 40", "unexpected end of input"}},
        BadModel{"garbage", "not json", {"model.json: invalid JSON at byte 2", "invalid literal"}},
        BadModel{"empty_text", "", {"model.json: invalid JSON"}},
        // Found by fuzzing: nlohmann reports a number beyond double's range as out_of_range.
        BadModel{"number_overflow",
                 R"({"0_LinearTorch": 1e999})",
                 {"model.json: invalid JSON", "number overflow parsing '1e999'"}},
        BadModel{"number_overflow_in_value",
                 R"({"0_LinearTorch": {"weight": "[[1e999]]"}})",
                 {"model.json: 0_LinearTorch.weight: value is not valid JSON", "number overflow"}},
        BadModel{
            "top_level_array", "[1]", {"model.json", "expected an object of layers, got array"}},
        BadModel{"no_layers", "{}", {"model.json", "has no layers"}},
        BadModel{
            "bad_layer_key", R"({"encoder": {}})", {"model.json", "'encoder' is not a layer name"}},
        BadModel{"unknown_class",
                 R"({"0_ConvTorch": {}})",
                 {"model.json: 0_ConvTorch: unknown layer class 'ConvTorch'"}},
        BadModel{"layer_not_object",
                 R"({"0_LinearTorch": "[[1.0]]"})",
                 {"model.json: 0_LinearTorch: expected an object, got string"}},
        BadModel{"unknown_parameter",
                 R"({"0_LinearTorch": {"weight": "[[1.0, 2.0]]"}, "1_LIFTorch": {)" LIF_PARAMS R"(},
                     "2_TorchResidual": {"0_LinearTorch": {"weight": "[[1.0, 0.0], [0.0, 1.0]]"},
                                         "1_LIFTorch": {)" LIF_PARAMS R"(, "foo": "1"}}})",
                 {"model.json: 2_TorchResidual.1_LIFTorch: unknown parameter 'foo'"}},
        BadModel{"gap_in_indices",
                 R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "2_LIFTorch": {}})",
                 {"model.json", "indices must run 0..1", "'2_LIFTorch'"}},
        BadModel{"repeated_index",
                 R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "0_LIFTorch": {}})",
                 {"model.json", "without gaps or repeats"}},
        BadModel{"leading_zero",
                 R"({"00_LinearTorch": {"weight": "[[1.0]]"}})",
                 {"model.json", "'00_LinearTorch' is not a layer name"}},
        BadModel{"missing_weight",
                 R"({"0_LinearTorch": {}})",
                 {"model.json: 0_LinearTorch: missing parameter 'weight'"}},
        BadModel{"weight_not_json",
                 R"({"0_LinearTorch": {"weight": "[[1.0, "}})",
                 {"model.json: 0_LinearTorch.weight: value is not valid JSON"}},
        BadModel{"weight_nan",
                 R"({"0_LinearTorch": {"weight": "[[NaN]]"}})",
                 {"model.json: 0_LinearTorch.weight: value is not valid JSON"}},
        BadModel{
            "weight_flat",
            R"({"0_LinearTorch": {"weight": "[1.0, 2.0]"}})",
            {"model.json: 0_LinearTorch.weight", "expected a non-empty list of non-empty lists"}},
        BadModel{"weight_ragged",
                 R"({"0_LinearTorch": {"weight": "[[1.0, 2.0], [3.0]]"}})",
                 {"model.json: 0_LinearTorch.weight[1]", "every row as long as the first"}},
        BadModel{"weight_string",
                 R"({"0_LinearTorch": {"weight": "[[1.0, \"a\"]]"}})",
                 {"model.json: 0_LinearTorch.weight[0][1]", "expected a number, got string"}},
        BadModel{"weight_overflow",
                 R"({"0_LinearTorch": {"weight": "[[1e39]]"}})",
                 {"model.json: 0_LinearTorch.weight[0][0]", "outside the float32 range"}},
        BadModel{
            "leak_mode_decays",
            R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"leak_mode": "\"decays\""}})",
            {"model.json: 1_LIFTorch.leak_mode", "'decays' is not supported", "taus"}},
        BadModel{
            "leak_mode_bitshifts",
            R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"leak_mode": "bitshifts"}})",
            {"model.json: 1_LIFTorch.leak_mode", "'bitshifts' is not supported"}},
        BadModel{
            "spike_fn_unknown",
            R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"spike_generation_fn": "\"Heaviside\""}})",
            {"model.json: 1_LIFTorch.spike_generation_fn", "unknown spike function 'Heaviside'"}},
        BadModel{"lif_size_unknown",
                 R"({"0_LIFTorch": {"tau_mem": "0.02"}})",
                 {"model.json: 0_LIFTorch", "cannot tell the number of neurons"}},
        BadModel{
            "two_synapses",
            R"({"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}, "1_LIFTorch": {"tau_syn": "[[0.1, 0.2], [0.1, 0.2]]"}})",
            {"model.json: 1_LIFTorch.tau_syn[0]", "2 synapses per neuron are not supported"}},
        BadModel{
            "tau_mem_matrix",
            R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"tau_mem": "[[0.1]]"}})",
            {"model.json: 1_LIFTorch.tau_mem[0]", "expected a number, got array"}},
        BadModel{
            "tau_negative",
            R"({"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}, "1_LIFTorch": {"tau_mem": "[0.1, -0.1]"}})",
            {"model.json: 1_LIFTorch: tau_mem[1] must be > 0"}},
        BadModel{
            "per_neuron_size",
            R"({"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}, "1_LIFTorch": {"threshold": "[1.0, 1.0, 1.0]"}})",
            {"model.json: 1_LIFTorch: takes 3 inputs but the preceding layer outputs 2"}},
        BadModel{
            "w_rec_not_square",
            R"({"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}, "1_LIFTorch": {"w_rec": "[[1.0, 1.0]]"}})",
            {"model.json: 1_LIFTorch.w_rec", "must be square, got 1x2"}},
        BadModel{
            "shape_chain",
            R"({"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}, "1_LinearTorch": {"weight": "[[1.0]]"}})",
            {"model.json: 1_LinearTorch: takes 1 inputs but the preceding layer outputs 2"}},
        BadModel{"residual_size",
                 R"({"0_TorchResidual": {"0_LinearTorch": {"weight": "[[1.0, 1.0]]"}}})",
                 {"model.json: 0_TorchResidual", "size_in == size_out"}},
        BadModel{"residual_empty",
                 R"({"0_TorchResidual": {}})",
                 {"model.json: 0_TorchResidual: has no layers"}},
        BadModel{"scalar_not_number",
                 R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"dt": "[0.05]"}})",
                 {"model.json: 1_LIFTorch.dt", "expected a number, got array"}},
        BadModel{"dt_zero",
                 R"({"0_LinearTorch": {"weight": "[[1.0]]"}, "1_LIFTorch": {"dt": "0"}})",
                 {"model.json: 1_LIFTorch: dt must be > 0"}}),
    [](const testing::TestParamInfo<BadModel>& info) { return info.param.label; });

TEST(RockpoolJson, AcceptsPlainValuesAndDefaults) {
  // Values that are not JSON-encoded strings, bare names, a (N, 1) tau_syn, a missing LIF key.
  const Network net = parse_rockpool_json(
      R"({"1_LIFTorch": {"tau_syn": "[[0.1], [0.2]]", "leak_mode": "taus",
                         "spike_generation_fn": "PeriodicExponential", "dt": 0.05},
          "0_LinearTorch": {"weight": [[1.0, 2.0]], "bias": "[0.5, 0.25]"}})",
      "m.json");
  const LIF& lif = lif_at(net, {1});
  EXPECT_EQ(lif.n, 2);
  EXPECT_EQ(lif.tau_syn, (std::vector<float>{0.1f, 0.2f}));
  EXPECT_EQ(lif.tau_mem, std::vector<float>{0.02f}) << "Rockpool's default";
  EXPECT_EQ(lif.dt, 0.05f);
  EXPECT_EQ(lif.spike_fn, snn::SpikeFn::PeriodicExponential);
  EXPECT_EQ(lin_at(net, {0}).bias, (std::vector<float>{0.5f, 0.25f}));
}

// ---------------------------------------------------------------------------------------------
// Network files in either format

TEST(NetworkFile, SavesAndLoadsBothFormats) {
  TempDir dir;
  const Network net = varied_network();
  for (NetworkFormat fmt : {NetworkFormat::Spikeline, NetworkFormat::Rockpool}) {
    const fs::path file = dir.path() / (std::string(network_format_name(fmt)) + ".json");
    save_network(file, net, fmt);
    const Network back = load_network(file);
    expect_same_layers(net.layers, back.layers);
    EXPECT_EQ(network_format_from_name(network_format_name(fmt)), fmt);
  }
  const std::string spikeline_text = read_file_text(dir.path() / "spikeline.json");
  EXPECT_NE(spikeline_text.find("\"format\": \"spikeline-network\""), std::string::npos);
  expect_input_error([] { network_format_from_name("nir"); }, {"'nir'", "spikeline, rockpool"});
}

TEST(NetworkFile, LoadsTheSharedCheckpoint) {
  SPIKELINE_REQUIRE_SHARED(path, kCheckpoint2cb);
  EXPECT_EQ(describe(load_network(path).layers), deep_deep_res(2));
}

TEST(NetworkFile, InitialisesAbsentWeightsFromTheSeed) {
  TempDir dir;
  const fs::path file = dir.path() / "arch.json";
  write_file_atomic(file,
                    std::string_view(R"({"format": "spikeline-network", "version": 1, "layers": [
      {"type": "linear", "n_in": 3, "n_out": 4}, {"type": "lif", "recurrent": true}]})"));
  const Network a = load_network(file, 5), b = load_network(file, 5), c = load_network(file, 6);
  expect_same_layers(a.layers, b.layers);
  EXPECT_NE(lin_at(a, {0}).weight, lin_at(c, {0}).weight);
}

TEST(NetworkFile, ErrorsNameTheFile) {
  TempDir dir;
  const fs::path file = dir.path() / "broken.json";
  write_file_atomic(file,
                    std::string_view("{\"0_LinearTorch\": {\"weight\": \"[[1.0]]\", \"foo\": 1}}"));
  expect_input_error([&] { load_network(file); },
                     {file.string() + ": 0_LinearTorch: unknown parameter 'foo'"});
  write_file_atomic(file, std::string_view("[1, 2]"));
  expect_input_error([&] { load_network(file); }, {file.string(), "expected a JSON object"});
  write_file_atomic(file,
                    std::string_view("{\"format\": \"spikeline-network\", \"layers\": [{}]}"));
  expect_input_error([&] { load_network(file); },
                     {file.string() + ": layers[0]: missing key 'type'"});
  EXPECT_THROW(load_network(dir.path() / "absent.json"), IoError);
}

}  // namespace
}  // namespace spikeline::io
