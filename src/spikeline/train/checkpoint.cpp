#include "spikeline/train/checkpoint.hpp"

#include <charconv>
#include <cmath>
#include <cctype>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/python_repr.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/io/npy.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::train {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // the thesis's files keep Python's insertion order

namespace {

int layer_in(const snn::Layer& l);
int layer_out(const snn::Layer& l) {
  if (const auto* lin = std::get_if<snn::Linear>(&l.op)) return lin->n_out;
  if (const auto* lif = std::get_if<snn::LIF>(&l.op)) return lif->n;
  const auto& body = std::get<snn::Residual>(l.op).body;
  return body.empty() ? 0 : layer_out(body.back());
}
int layer_in(const snn::Layer& l) {
  if (const auto* lin = std::get_if<snn::Linear>(&l.op)) return lin->n_in;
  if (const auto* lif = std::get_if<snn::LIF>(&l.op)) return lif->n;
  const auto& body = std::get<snn::Residual>(l.op).body;
  return body.empty() ? 0 : layer_in(body.front());
}

void repr_layers(const std::vector<snn::Layer>& layers, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& l : layers) {
    if (const auto* res = std::get_if<snn::Residual>(&l.op)) {
      out += fmt::format("\n{}TorchResidual '{}' with shape ({}, {}) {{", pad, l.name, layer_in(l), layer_out(l));
      repr_layers(res->body, indent + 4, out);
      out += "\n" + pad + "}";
    } else {
      const bool lin = std::holds_alternative<snn::Linear>(l.op);
      out += fmt::format("\n{}{} '{}' with shape ({}, {})", pad, lin ? "LinearTorch" : "LIFTorch", l.name,
                         layer_in(l), layer_out(l));
    }
  }
}

void python_dump(const ojson& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent + 4), ' ');
  if (j.is_object() || j.is_array()) {
    const bool obj = j.is_object();
    if (j.empty()) {
      out += obj ? "{}" : "[]";
      return;
    }
    out += obj ? "{\n" : "[\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      if (obj) out += ojson(it.key()).dump(-1, ' ', true) + ": ";
      python_dump(*it, indent + 4, out);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + (obj ? "}" : "]");
  } else if (j.is_number_float()) {
    out += python_float_repr(j.get<double>());
  } else {
    out += j.dump(-1, ' ', true);
  }
}

std::string python_json(const ojson& doc) { return python_json_dump(doc); }

ojson epoch_json(const EpochReport& e) {
  return {{"epoch", e.epoch + 1},    {"loss", e.loss},   {"train_acc", e.train_acc},
          {"val_acc", e.val_acc},    {"lr", e.lr},       {"samples_per_s", e.samples_per_s},
          {"pruned_synapses", e.pruned_synapses}};
}

const char* stop_name(StopReason s) {
  switch (s) {
    case StopReason::finished: return "finished";
    case StopReason::interrupted: return "interrupted";
    case StopReason::early_stopped: return "early_stopped";
  }
  return "finished";
}

}  // namespace

std::string python_json_dump(const ojson& doc) {
  std::string out;
  python_dump(doc, 0, out);
  return out;
}

std::string rockpool_repr(const snn::Network& net) {
  std::string out = fmt::format("TorchSequential  with shape ({}, {}) {{", net.n_in(), net.n_out());
  repr_layers(net.layers, 4, out);
  return out + "\n}";
}

void write_checkpoint(const std::filesystem::path& dir, const TrainConfig& config,
                      const DataDescription& data, const snn::Network& current,
                      const TrainResult& result) {
  std::filesystem::create_directories(dir / "resume");
  const bool has_best = result.best_epoch >= 0;
  if (has_best) io::save_network(dir / "model_params", result.best, io::NetworkFormat::Rockpool);
  ojson model_meta;
  model_meta["net"] = rockpool_repr(has_best ? result.best : current);
  model_meta["params"] = {{"n_population", config.model.hidden},
                          {"tau_mem", config.model.neuron.tau_mem},
                          {"tau_syn", config.model.neuron.tau_syn}};
  model_meta["val_accuracy"] = has_best ? result.best_val_acc : 0.0;
  write_file_atomic(dir / "model_metadata.json", python_json(model_meta));

  ojson input;
  input["file_path"] = data.file;
  input["n_channels"] = data.n_channels;
  input["n_classes"] = data.n_classes;
  input["dt"] = data.dt;
  input["sample_duration"] = data.sample_duration;
  input["batch_size"] = data.batch_size;
  input["sample_time_modifier"] = data.sample_time_modifier;
  input["enabled_classes"] = data.enabled_classes;
  input["class_names"] = data.class_names;  // ours: the thesis had only indices
  ojson train_meta;
  train_meta["input_params"] = input;
  ojson loss = ojson::array(), acc = ojson::array();
  for (const auto& e : result.epochs) {
    loss.push_back(e.loss);
    acc.push_back(e.val_acc);
  }
  train_meta["loss_t"] = loss;
  train_meta["acc_t"] = acc;
  train_meta["lr"] = config.optim.lr;
  train_meta["num_epochs"] = config.epochs;
  train_meta["use_scheduled_lr"] = config.optim.schedule != "constant";
  train_meta["nni_mode"] = false;
  write_file_atomic(dir / "training_metadata.json", python_json(train_meta));
  write_file_atomic(dir / "config.json", config_to_json(config).dump(2) + "\n");
  std::string log;
  for (const auto& e : result.epochs) log += epoch_json(e).dump() + "\n";
  write_file_atomic(dir / "log.jsonl", log);

  // Resume state.
  io::save_network(dir / "resume" / "params", current, io::NetworkFormat::Rockpool);
  io::Npz moments;
  for (std::size_t p = 0; p < result.adam.exp_avg.size(); ++p) {
    const auto& m = result.adam.exp_avg[p];
    const auto& v = result.adam.exp_avg_sq[p];
    moments.add(fmt::format("exp_avg_{}", p), io::NpyArray::from<float>({m.size()}, m));
    moments.add(fmt::format("exp_avg_sq_{}", p), io::NpyArray::from<float>({v.size()}, v));
  }
  io::write_npz(dir / "resume" / "optimiser.npz", moments, false);
  json progress = {{"next_epoch", result.next_epoch},
                   {"next_batch", result.next_batch},
                   {"partial_loss_sum", result.partial_loss_sum},
                   {"partial_hits", result.partial_hits},
                   {"partial_seen", result.partial_seen},
                   {"partial_pruned", result.partial_pruned},
                   {"partial_seconds", result.partial_seconds},
                   {"adam_step", result.adam.step},
                   {"adam_parameters", result.adam.exp_avg.size()},
                   {"best_val_acc", result.best_val_acc},
                   {"best_epoch", result.best_epoch},
                   {"stop", stop_name(result.stop)},
                   {"epochs", json::array()}};
  for (const auto& e : result.epochs) progress["epochs"].push_back(json::parse(epoch_json(e).dump()));
  write_file_atomic(dir / "resume" / "progress.json", progress.dump(1) + "\n");
}

ResumePoint read_resume_point(const std::filesystem::path& dir) {
  const auto progress_path = dir / "resume" / "progress.json";
  if (!std::filesystem::exists(progress_path))
    throw InputError(progress_path.string(), "not found: --resume needs a checkpoint written by spikeline train");
  ResumePoint rp;
  rp.config = snn::parse_json(read_file_text(dir / "config.json"), (dir / "config.json").string());
  rp.current = io::load_network(dir / "resume" / "params");
  const json p = snn::parse_json(read_file_text(progress_path), progress_path.string());
  try {
    TrainResult& r = rp.result;
    r.next_epoch = p.at("next_epoch").get<int>();
    r.next_batch = p.at("next_batch").get<std::size_t>();
    r.partial_loss_sum = p.at("partial_loss_sum").get<double>();
    r.partial_hits = p.at("partial_hits").get<std::size_t>();
    r.partial_seen = p.at("partial_seen").get<std::size_t>();
    r.partial_pruned = p.at("partial_pruned").get<std::size_t>();
    r.partial_seconds = p.at("partial_seconds").get<double>();
    r.best_val_acc = p.at("best_val_acc").get<double>();
    r.best_epoch = p.at("best_epoch").get<int>();
    r.adam.step = p.at("adam_step").get<std::int64_t>();
    for (const auto& e : p.at("epochs")) {
      EpochReport rep;
      rep.epoch = e.at("epoch").get<int>() - 1;
      rep.loss = e.at("loss").get<double>();
      rep.train_acc = e.at("train_acc").get<double>();
      rep.val_acc = e.at("val_acc").get<double>();
      rep.lr = e.at("lr").get<double>();
      rep.samples_per_s = e.at("samples_per_s").get<double>();
      rep.pruned_synapses = e.at("pruned_synapses").get<std::size_t>();
      r.epochs.push_back(rep);
    }
    const io::Npz moments = io::read_npz(dir / "resume" / "optimiser.npz");
    const std::size_t n = p.at("adam_parameters").get<std::size_t>();
    for (std::size_t k = 0; k < n; ++k) {
      r.adam.exp_avg.push_back(moments.at(fmt::format("exp_avg_{}", k)).to_float());
      r.adam.exp_avg_sq.push_back(moments.at(fmt::format("exp_avg_sq_{}", k)).to_float());
    }
    if (r.best_epoch >= 0) r.best = io::load_network(dir / "model_params");
  } catch (const json::exception& e) {
    throw InputError(progress_path.string(), std::string("malformed: ") + e.what());
  }
  return rp;
}

}  // namespace spikeline::train
