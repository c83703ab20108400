// spikeline net run | net grad | net info: run and differentiate a network on given arrays.
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/io/npy.hpp"
#include "spikeline/snn/engine.hpp"

namespace spikeline::cli {

namespace {

struct NetArgs {
  std::string model, input, labels, out;
  bool record = false;
  bool carry_state = false;
  int threads = 1;
  int micro_batch = 32;
};

void add_common(CLI::App* cmd, NetArgs& a) {
  cmd->add_option("--model", a.model, "Network file: Rockpool model JSON or Spikeline network JSON")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--input", a.input, "Input .npy, [batch, time, channels] (or [time, channels])")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--threads", a.threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--micro-batch", a.micro_batch, "Samples per worker task")->capture_default_str()->check(CLI::PositiveNumber);
}

snn::EngineOptions engine_options(const NetArgs& a) {
  snn::EngineOptions o;
  o.threads = a.threads;
  o.micro_batch = a.micro_batch;
  o.carry_state = a.carry_state;
  return o;
}

void run_net(const NetArgs& a) {
  snn::Network net = io::load_network(a.model);
  const FloatArray x = load_input(a.input);
  snn::Engine engine(net, engine_options(a));
  std::vector<snn::NamedArray> records;
  const FloatArray out = engine.forward(x, a.record ? &records : nullptr);
  io::Npz npz;
  npz.add("output", io::NpyArray::from(out));
  for (const auto& r : records) npz.add(r.name, io::NpyArray::from(r.values));
  io::write_npz(a.out, npz);
  std::printf("wrote %s: output %s%s\n", a.out.c_str(), shape_to_string(out.shape).c_str(),
              a.record ? (", " + std::to_string(records.size()) + " records").c_str() : "");
}

void grad_net(const NetArgs& a) {
  snn::Network net = io::load_network(a.model);
  const FloatArray x = load_input(a.input);
  const std::vector<int> labels = load_labels(a.labels, x.dim(0), net.n_out());
  snn::Engine engine(net, engine_options(a));
  std::vector<std::vector<float>> grads;
  const snn::LossResult res = engine.loss_and_grad_ce(x, labels, grads);
  io::Npz npz;
  const double loss = res.loss;
  npz.add("loss", io::NpyArray::from<double>({}, std::span<const double>(&loss, 1)));
  npz.add("logits", io::NpyArray::from(res.logits));
  auto params = snn::trainable_parameters(net);
  for (std::size_t p = 0; p < params.size(); ++p)
    npz.add(params[p].path, io::NpyArray::from<float>(params[p].shape, grads[p]));
  io::write_npz(a.out, npz);
  std::printf("loss %.9g; wrote %s: %zu gradients\n", loss, a.out.c_str(), params.size());
}

void info_net(const std::string& model, const std::string& format) {
  snn::Network net = io::load_network(model);
  auto params = snn::trainable_parameters(net);
  nlohmann::json j;
  j["n_in"] = net.n_in();
  j["n_out"] = net.n_out();
  j["parameters"] = snn::parameter_count(net);
  for (const auto& p : params) j["trainable"].push_back({{"name", p.path}, {"shape", p.shape}});
  if (format == "json") {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s: %d inputs -> %d outputs, %zu trainable parameters\n", model.c_str(), net.n_in(),
              net.n_out(), snn::parameter_count(net));
  for (const auto& p : params)
    std::printf("  %-45s %s\n", p.path.c_str(), shape_to_string(p.shape).c_str());
}

}  // namespace

void add_net_commands(CLI::App& app) {
  auto* net = app.add_subcommand("net", "Run, differentiate or inspect a spiking network");
  net->require_subcommand(1);

  auto run_args = std::make_shared<NetArgs>();
  auto* run = net->add_subcommand("run", "Forward a batch through a network; write outputs (and records) to .npz");
  add_common(run, *run_args);
  run->add_option("--out", run_args->out, "Output .npz: 'output' [B,T,n_out] and, with --record, "
                  "'<layer>.vmem', '.isyn', '.spikes' per LIF layer")->required();
  run->add_flag("--record", run_args->record, "Also write per-layer state records");
  run->add_flag("--carry-state", run_args->carry_state,
                "Start from Rockpool's carried state (only meaningful within one process; off = zeros)");
  run->callback([run_args] { run_net(*run_args); });

  auto grad_args = std::make_shared<NetArgs>();
  auto* grad = net->add_subcommand("grad", "Cross-entropy of summed output spikes and its gradients (BPTT)");
  add_common(grad, *grad_args);
  grad->add_option("--labels", grad_args->labels, "Labels .npy: class indices [B] or one-hot [B, n_out]")
      ->required()->check(CLI::ExistingFile);
  grad->add_option("--out", grad_args->out, "Output .npz: 'loss', 'logits' and '<layer path>.<param>' per trainable parameter")
      ->required();
  grad->callback([grad_args] { grad_net(*grad_args); });

  auto info_model = std::make_shared<std::string>();
  auto info_format = std::make_shared<std::string>("console");
  auto* info = net->add_subcommand("info", "Describe a network file: sizes and trainable parameters");
  info->add_option("model", *info_model, "Network file")->required()->check(CLI::ExistingFile);
  info->add_option("--format", *info_format, "console or json")->check(CLI::IsMember({"console", "json"}));
  info->callback([info_model, info_format] { info_net(*info_model, *info_format); });
}

}  // namespace spikeline::cli
