// spikeline bench train: training and inference throughput of the engine on the reference workload
// (or on a given network and data), with peak memory and the share of the dense-GEMM roofline.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/train/optim.hpp"
#include "spikeline/train/trainer.hpp"

namespace spikeline::cli {

namespace {

struct BenchArgs {
  std::string model, input, labels, net = "ff_deep_deep_res";
  int batch = 1024, threads = 2, hidden = 256, inputs = 12, outputs = 7, steps = 40;
  int micro_batch = 32, iters = 5;
  double budget_s = 20.0, p_spike = 0.1, roofline_gflops = 204.0;
  std::string modes = "infer,train";
  bool json = false;
  std::uint64_t seed = 0;
};

// Dense-equivalent FLOPs per sample (2 per multiply-add), as the peer benchmark counts them:
// forward every weight once per step; backward adds the weight gradient of every weight and the
// input gradient of every layer except the one reading the data.
double dense_flops_per_sample(const std::vector<snn::Layer>& layers, int T, bool train,
                              bool& first) {
  double macs = 0;
  for (const auto& layer : layers) {
    if (const auto* lin = std::get_if<snn::Linear>(&layer.op)) {
      const double w = static_cast<double>(lin->n_in) * lin->n_out;
      macs += w + (train ? w + (first ? 0 : w) : 0);
      first = false;
    } else if (const auto* lif = std::get_if<snn::LIF>(&layer.op)) {
      if (lif->has_rec) {
        const double w = static_cast<double>(lif->n) * lif->n;
        macs += w + (train ? 2 * w : 0);
      }
    } else {
      macs += dense_flops_per_sample(std::get<snn::Residual>(layer.op).body, T, train, first) / (2.0 * T);
    }
  }
  return 2.0 * macs * T;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class F>
std::vector<double> time_runs(F&& step, int iters, double budget_s) {
  step();  // warm-up: buffers allocated, caches warm
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (times.size() >= 3 && spent > budget_s) break;
  }
  return times;
}

void run_bench(const BenchArgs& a) {
  snn::Network net;
  FloatArray x;
  std::vector<int> y;
  std::string name = a.net;
  if (!a.model.empty()) {
    if (a.input.empty() || a.labels.empty())
      throw InputError("bench train", "--model needs --input and --labels");
    net = io::load_network(a.model);
    x = load_input(a.input);
    y = load_labels(a.labels, x.dim(0), net.n_out());
    name = std::filesystem::path(a.model).filename().string();
  } else {
    snn::NeuronParams np;
    np.tau_mem = 0.081f;
    np.tau_syn = 0.077f;
    np.dt = 0.05f;
    Rng rng(a.seed + 1);
    net = snn::make_architecture(a.net, a.inputs, a.hidden, a.outputs, np, rng);
    Rng data(a.seed);
    x = FloatArray(Shape{static_cast<std::size_t>(a.batch), static_cast<std::size_t>(a.steps),
                         static_cast<std::size_t>(a.inputs)});
    for (auto& v : x.data) v = data.uniform() < a.p_spike ? 1.0f : 0.0f;
    y.resize(a.batch);
    for (auto& v : y) v = static_cast<int>(data.below(a.outputs));
  }
  const int batch = static_cast<int>(x.dim(0)), T = static_cast<int>(x.dim(1));
  snn::EngineOptions eo;
  eo.threads = a.threads;
  eo.micro_batch = a.micro_batch;
  snn::Engine engine(net, eo);
  auto params = snn::trainable_parameters(net);
  train::Adam adam;
  std::vector<std::vector<float>> grads;
  for (const auto& mode : {std::string("infer"), std::string("train")}) {
    if (a.modes.find(mode) == std::string::npos) continue;
    const bool train = mode == "train";
    std::vector<double> times;
    if (train)
      times = time_runs([&] { engine.loss_and_grad_ce(x, y, grads); adam.step(params, grads); },
                        a.iters, a.budget_s);
    else
      times = time_runs([&] { train::predict(engine, x); }, a.iters, a.budget_s);
    const double med = median(times);
    const double sps = batch / med;
    bool first = true;
    const double flops = dense_flops_per_sample(net.layers, T, train, first);
    const double share = sps * flops / (a.roofline_gflops * 1e9);
    const auto& st = engine.stats();
    nlohmann::json j = {{"mode", mode}, {"net", name}, {"batch", batch}, {"threads", a.threads},
                        {"samples_per_s", sps}, {"median_s", med}, {"iters", times.size()},
                        {"peak_rss_mb", peak_rss_mb()},
                        {"dense_gflops_equivalent", sps * flops / 1e9},
                        {"roofline_share", share}, {"roofline_gflops", a.roofline_gflops},
                        {"input_density", st.input_entries > 0 ? st.input_events / st.input_entries : 0.0}};
    if (train) j["surrogate_window_density"] = st.lif_entries > 0 ? st.window_entries / st.lif_entries : 0.0;
    if (a.json) {
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%-6s %-18s batch %5d threads %d: %9.1f samples/s (median of %zu, %.3f s)  "
                  "peak RSS %.0f MiB  %.1f%% of the %.0f GFLOP/s dense roofline  input density %.3f\n",
                  mode.c_str(), name.c_str(), batch, a.threads, sps, times.size(), med, peak_rss_mb(),
                  100.0 * share, a.roofline_gflops, j["input_density"].get<double>());
    }
    std::fflush(stdout);
  }
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto a = std::make_shared<BenchArgs>();
  auto* train = bench->add_subcommand(
      "train", "Training and inference samples/s on the reference workload (ff_deep_deep_res, "
               "12 -> 256 -> 7, 40 steps, Bernoulli(0.1) inputs) or on --model/--input/--labels");
  train->add_option("--model", a->model, "Network file (Rockpool or Spikeline JSON)")->check(CLI::ExistingFile);
  train->add_option("--input", a->input, "Input .npy [B, T, C]")->check(CLI::ExistingFile);
  train->add_option("--labels", a->labels, "Labels .npy [B]")->check(CLI::ExistingFile);
  train->add_option("--net", a->net, "Architecture of the generated workload")
      ->capture_default_str()->check(CLI::IsMember(snn::architecture_names()));
  train->add_option("--batch", a->batch, "Batch size of the generated workload")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--hidden", a->hidden, "Hidden neurons of the generated workload")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--threads", a->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--micro-batch", a->micro_batch, "Samples per worker task")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--iters", a->iters, "Timed iterations per mode (median reported)")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--budget-s", a->budget_s, "Stop timing a mode after this many seconds (at least 3 iterations)")->capture_default_str();
  train->add_option("--modes", a->modes, "Comma-separated: infer, train")->capture_default_str();
  train->add_option("--roofline-gflops", a->roofline_gflops, "Dense sgemm roofline of this machine, GFLOP/s")->capture_default_str();
  train->add_option("--seed", a->seed, "Seed of the generated workload")->capture_default_str();
  train->add_flag("--json", a->json, "One JSON object per line");
  train->callback([a] { run_bench(*a); });
}

}  // namespace spikeline::cli
