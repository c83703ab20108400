#include "spikeline/train/run.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/data/wisdm.hpp"
#include "spikeline/encode/encoders.hpp"
#include "spikeline/report/plot.hpp"
#include "spikeline/snn/engine.hpp"
#include "spikeline/snn/network_json.hpp"
#include "spikeline/train/diagnostics.hpp"

namespace spikeline::train {

using nlohmann::json;

namespace {

// Keeps the samples of `wanted` (indices into the file's classes), relabelled to their position.
LabelledSet select(const data::LabelledSplit<std::uint8_t>& split, const std::vector<int>& wanted,
                   std::size_t file_classes) {
  std::vector<int> position(file_classes, -1);
  for (std::size_t k = 0; k < wanted.size(); ++k) position[wanted[k]] = static_cast<int>(k);
  LabelledSet set;
  const std::size_t T = split.x.shape.size() > 1 ? split.x.dim(1) : 0;
  const std::size_t C = split.x.shape.size() > 2 ? split.x.dim(2) : 0;
  std::size_t n = 0;
  for (auto y : split.y) n += y >= 0 && static_cast<std::size_t>(y) < file_classes && position[y] >= 0;
  set.x = FloatArray(Shape{n, T, C});
  std::size_t row = 0;
  for (std::size_t i = 0; i < split.size(); ++i) {
    const auto y = split.y[i];
    if (y < 0 || static_cast<std::size_t>(y) >= file_classes || position[y] < 0) continue;
    std::copy_n(split.x.data.begin() + i * T * C, T * C, set.x.data.begin() + row * T * C);
    set.y.push_back(position[y]);
    ++row;
  }
  return set;
}

// Matches a configured class (name or WISDM letter) against the file's classes.
int find_class(const std::vector<data::ClassInfo>& classes, const std::string& wanted,
               const std::string& source) {
  std::string key = wanted;
  try {  // a WISDM letter or short key names its activity; other names are taken as they are
    key = std::string(data::activity_name(data::activity_letter(wanted)));
  } catch (const InputError&) {
  }
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (classes[i].name == key || classes[i].name == wanted) return static_cast<int>(i);
  std::string have;
  for (const auto& c : classes) have += (have.empty() ? "" : ", ") + c.name;
  throw InputError(source + ": data.classes: '" + wanted + "'", "is not a class of the data file (it has " + have + ")");
}

}  // namespace

TrainingData load_data_like(const TrainConfig& config, const std::filesystem::path& file_or_empty, int threads) {
  const std::filesystem::path& file = file_or_empty.empty() ? config.data.file : file_or_empty;
  data::SpikeSet spikes;
  if (config.data.encoder.is_null()) {
    spikes = data::read_spikes(file);
  } else {
    const data::WindowDataset windows = data::read_windows(file);
    spikes = encode::encode_dataset(windows, encode::encoder_from_json(config.data.encoder), {}, threads, false);
  }
  std::vector<std::string> wanted = config.data.classes;
  if (!config.data.task.empty()) wanted = task_classes(config.data.tasks_file, config.data.task);
  std::vector<int> index;
  if (wanted.empty())
    for (std::size_t i = 0; i < spikes.classes.size(); ++i) index.push_back(static_cast<int>(i));
  for (const auto& w : wanted) index.push_back(find_class(spikes.classes, w, file.string()));
  TrainingData d;
  for (int i : index) d.classes.push_back(spikes.classes[i].name);
  d.train = select(spikes.splits[data::kTrain], index, spikes.classes.size());
  d.val = select(spikes.splits[data::kVal], index, spikes.classes.size());
  d.test = select(spikes.splits[data::kTest], index, spikes.classes.size());
  auto& desc = d.description;
  desc.file = file.string();
  desc.n_channels = static_cast<int>(spikes.channels());
  desc.n_classes = static_cast<int>(spikes.classes.size());
  desc.dt = spikes.info.dt;
  desc.sample_duration = static_cast<double>(spikes.steps()) * spikes.info.dt;
  desc.batch_size = config.batch_size;
  desc.sample_time_modifier = spikes.info.sample_time_modifier;
  desc.enabled_classes = index;
  desc.class_names = d.classes;
  return d;
}

TrainingData load_training_data(const TrainConfig& config, int threads) {
  return load_data_like(config, config.data.file, threads);
}

const LabelledSet& pick_split(const TrainingData& data, const std::string& split) {
  const LabelledSet* set = split == "train" ? &data.train : split == "val" ? &data.val : split == "test" ? &data.test : nullptr;
  if (!set) throw InputError("--split", "must be train, val or test, got '" + split + "'");
  if (set->size() == 0) throw InputError("--split " + split, "the split has no samples");
  return *set;
}

snn::Network build_network(const TrainConfig& config, int n_in, int n_out, double data_dt) {
  const auto& n = config.model.neuron;
  Rng rng(config.seed);
  if (config.model.architecture == "layers") {
    json doc = {{"format", std::string(snn::kNetworkFormatName)}, {"version", snn::kNetworkFormatVersion},
                {"layers", config.model.layers}};
    snn::Network net = snn::network_from_json(doc, "config model.layers", rng);
    if (net.n_in() != n_in || net.n_out() != n_out)
      throw InputError("config model.layers", fmt::format("the network maps {} -> {} but the data have {} channels "
                                                          "and {} classes", net.n_in(), net.n_out(), n_in, n_out));
    return net;
  }
  snn::NeuronParams np;
  np.tau_mem = static_cast<float>(n.tau_mem);
  np.tau_syn = static_cast<float>(n.tau_syn);
  np.threshold = static_cast<float>(n.threshold);
  np.bias = static_cast<float>(n.bias);
  np.dt = static_cast<float>(n.dt > 0 ? n.dt : data_dt);
  np.spike_fn = n.spike_fn == "step_pwl" ? snn::SpikeFn::StepPWL : snn::SpikeFn::PeriodicExponential;
  return snn::make_architecture(config.model.architecture, n_in, config.model.hidden, n_out, np, rng);
}

namespace {
void count_hidden(const std::vector<snn::Layer>& layers, const snn::LIF* last, std::size_t& hidden,
                  const snn::LIF*& final_lif) {
  for (const auto& l : layers) {
    if (const auto* lif = std::get_if<snn::LIF>(&l.op)) {
      hidden += static_cast<std::size_t>(lif->n);
      final_lif = lif;
    } else if (const auto* res = std::get_if<snn::Residual>(&l.op)) {
      count_hidden(res->body, last, hidden, final_lif);
    }
  }
}
}  // namespace

void check_xylo_limits(const snn::Network& net) {
  std::size_t neurons = 0;
  const snn::LIF* output = nullptr;
  count_hidden(net.layers, nullptr, neurons, output);
  const std::size_t hidden = neurons - (output ? static_cast<std::size_t>(output->n) : 0);
  std::string over;
  if (net.n_in() > 16) over += fmt::format(" {} input channels (Xylo has 16);", net.n_in());
  if (hidden > 1000) over += fmt::format(" {} hidden neurons (Xylo has 1000);", hidden);
  if (net.n_out() > 8) over += fmt::format(" {} output neurons (Xylo has 8);", net.n_out());
  if (!over.empty())
    throw InputError("model.target xylo", "the network does not fit the chip:" + over.substr(0, over.size() - 1) +
                                              ". Choose fewer classes/channels or a smaller model.hidden, or "
                                              "set model.target to none");
}

RunResult run_training(const TrainConfig& config, const RunOptions& o) {
  TrainingData data = load_training_data(config, config.threads);
  if (data.train.size() == 0) throw InputError(config.data.file.string(), "no training samples of the chosen classes");
  const int n_in = data.description.n_channels, n_out = static_cast<int>(data.classes.size());
  snn::Network net;
  TrainResult resume_from;
  const bool resuming = o.resume;
  if (resuming) {
    ResumePoint rp = read_resume_point(o.out);
    net = std::move(rp.current);
    resume_from = std::move(rp.result);
    if (net.n_in() != n_in || net.n_out() != n_out)
      throw InputError(o.out.string(), "the checkpoint's network does not match the config's data");
  } else {
    net = build_network(config, n_in, n_out, data.description.dt);
  }
  if (config.model.target == "xylo") check_xylo_limits(net);
  std::filesystem::create_directories(o.out);
  write_file_atomic(o.out / "config.json", config_to_json(config).dump(2) + "\n");
  o.log(fmt::format("train    {} ({} -> {} classes: {}), {} parameters; {} train / {} val samples; {} epochs, "
                    "batch {}, Adam lr {}{}",
                    config.model.architecture, n_in, n_out, fmt::join(data.classes, ", "),
                    snn::parameter_count(net), data.train.size(), data.val.size(), config.epochs,
                    config.batch_size, config.optim.lr,
                    resuming ? fmt::format(" (resuming at epoch {})", resume_from.next_epoch + 1) : ""));
  TrainOptions to;
  to.epochs = config.epochs;
  to.batch_size = config.batch_size;
  to.adam = {config.optim.lr, config.optim.beta1, config.optim.beta2, config.optim.eps, config.optim.weight_decay};
  to.lr_decay = config.optim.schedule == "exponential" ? config.optim.gamma : 1.0;
  to.seed = config.seed;
  to.threads = config.threads;
  to.micro_batch = config.micro_batch;
  to.progress = o.progress;
  to.prune_max_fan_out = config.prune.max_fan_out;
  to.prune_every = config.prune.every;
  to.early_stop_window = config.early_stop.window;
  to.early_stop_min_delta = config.early_stop.min_delta;
  to.stop = o.stop;
  const auto start = std::chrono::steady_clock::now();
  RunResult rr;
  rr.classes = data.classes;
  const double prior_loss = prior_cross_entropy(data.train.y, n_out);
  rr.train = fit(net, data.train, data.val, to, [&](const TrainResult& so_far) {
    const EpochReport& e = so_far.epochs.back();
    o.log(fmt::format("  epoch {:4d}  loss {:.4f}  train acc {:.3f}  val acc {:.3f}  best {:.3f}  {:.0f} samples/s",
                      e.epoch + 1, e.loss, e.train_acc, e.val_acc, so_far.best_val_acc, e.samples_per_s));
    if (rr.warnings.empty() && stuck_at_prior(so_far.epochs, prior_loss)) {
      rr.warnings.push_back(fmt::format(
          "the training loss has stayed within 1 % of {:.4f}, the loss of predicting the class frequencies, for the "
          "last 10 epochs (to epoch {}): the outputs carry no information about the input. A silent readout is the "
          "usual cause; more optimiser steps per epoch (a smaller batch_size), another hidden size or learning rate "
          "may get it out (docs/training.md, \"Stuck at the prior\")",
          prior_loss, e.epoch + 1));
      o.log("warning  " + rr.warnings.back());
    }
    write_checkpoint(o.out, config, data.description, net, so_far);
    if (o.on_epoch) o.on_epoch(e);
  }, resuming ? &resume_from : nullptr);
  // An interruption inside an epoch has not been checkpointed by the callback yet.
  if (rr.train.stop == StopReason::interrupted && rr.train.next_batch > 0)
    write_checkpoint(o.out, config, data.description, net, rr.train);
  rr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  switch (rr.train.stop) {
    case StopReason::interrupted:
      o.log(fmt::format("stopped  at epoch {} batch {}; everything saved in {}; continue with --resume",
                        rr.train.next_epoch + 1, rr.train.next_batch, o.out.string()));
      break;
    case StopReason::early_stopped:
      o.log(fmt::format("stopped  early after epoch {}: loss plateau", rr.train.next_epoch));
      break;
    case StopReason::finished: break;
  }
  o.log(fmt::format("result   best val acc {:.4f} at epoch {} -> {}", rr.train.best_val_acc,
                    rr.train.best_epoch + 1, (o.out / "model_params").string()));
  return rr;
}

json Evaluation::to_json() const {
  json per_class = json::array();
  for (std::size_t k = 0; k < classes.size(); ++k)
    per_class.push_back({{"class", classes[k]}, {"precision", precision[k]}, {"recall", recall[k]}, {"f1", f1[k]},
                         {"support", std::accumulate(confusion[k].begin(), confusion[k].end(), std::size_t{0})}});
  return {{"samples", samples},   {"accuracy", accuracy},   {"classes", classes},
          {"confusion", confusion}, {"per_class", per_class}, {"complexity", complexity.to_json()}};
}

std::string Evaluation::table() const {
  std::size_t w = 8;
  for (const auto& c : classes) w = std::max(w, c.size());
  std::string s = fmt::format("accuracy {:.4f} on {} samples\n\n{:<{}}  precision  recall     f1  support\n",
                              accuracy, samples, "class", w);
  for (std::size_t k = 0; k < classes.size(); ++k)
    s += fmt::format("{:<{}}  {:9.4f}  {:6.4f}  {:5.4f}  {:7}\n", classes[k], w, precision[k], recall[k], f1[k],
                     std::accumulate(confusion[k].begin(), confusion[k].end(), std::size_t{0}));
  s += "\nconfusion (rows: true, columns: predicted)\n";
  for (std::size_t k = 0; k < classes.size(); ++k) {
    s += fmt::format("{:<{}} ", classes[k], w);
    for (auto v : confusion[k]) s += fmt::format(" {:6}", v);
    s += "\n";
  }
  const auto& m = complexity;
  s += fmt::format(
      "\ncomplexity (NeuroBench definitions, docs/metrics.md)\n"
      "  footprint            {} bytes ({} parameters)\n"
      "  connection sparsity  {:.4f}\n"
      "  activation sparsity  {:.4f}\n"
      "  synaptic ops/sample  dense {:.4g}, effective MACs {:.4g}, effective ACs {:.4g}\n",
      m.footprint_bytes, m.parameters, m.connection_sparsity, m.activation_sparsity, m.dense_ops,
      m.effective_macs, m.effective_acs);
  return s;
}

Evaluation classify(std::span<const int> predicted, std::span<const int> labels,
                                 std::vector<std::string> classes) {
  SPIKELINE_ASSERT(predicted.size() == labels.size());
  Evaluation ev;
  const std::size_t C = classes.size();
  ev.classes = std::move(classes);
  ev.samples = labels.size();
  ev.confusion.assign(C, std::vector<std::size_t>(C, 0));
  ev.precision.assign(C, 0.0);
  ev.recall.assign(C, 0.0);
  ev.f1.assign(C, 0.0);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ++ev.confusion.at(std::size_t(labels[i])).at(std::size_t(predicted[i]));
    hits += predicted[i] == labels[i];
  }
  ev.accuracy = labels.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(labels.size());
  for (std::size_t k = 0; k < C; ++k) {
    std::size_t column = 0, row = 0;
    for (std::size_t j = 0; j < C; ++j) {
      column += ev.confusion[j][k];
      row += ev.confusion[k][j];
    }
    const double tp = static_cast<double>(ev.confusion[k][k]);
    ev.precision[k] = column ? tp / static_cast<double>(column) : 0.0;
    ev.recall[k] = row ? tp / static_cast<double>(row) : 0.0;
    const double pr = ev.precision[k] + ev.recall[k];
    ev.f1[k] = pr > 0 ? 2 * ev.precision[k] * ev.recall[k] / pr : 0.0;
  }
  return ev;
}

Evaluation evaluate(const snn::Network& net, const LabelledSet& set, std::vector<std::string> classes, int threads) {
  if (set.size() == 0) return classify({}, {}, std::move(classes));
  snn::Engine engine(net, {threads, 32, false, 0});
  const auto pred = predict(engine, set.x);
  Evaluation ev = classify(pred, set.y, std::move(classes));
  ev.complexity = snn::measure_complexity(net, set.x, threads);
  return ev;
}

void draw_training_curves(report::Canvas& canvas, std::span<const EpochReport> curves, double left,
                          double top, double width) {
  double max_loss = 1e-9;
  for (const auto& e : curves) max_loss = std::max(max_loss, e.loss);
  const double n = std::max<double>(2, static_cast<double>(curves.size()));
  report::Axes loss{left, top, width, 130, 1, n, 0, max_loss * 1.05};
  report::Axes acc{left, top + 190, width, 130, 1, n, 0, 1};
  loss.draw(canvas, "training loss", "", "loss");
  acc.draw(canvas, "accuracy (train, validation)", "epoch", "accuracy");
  std::vector<report::Point> l, ta, va;
  for (const auto& e : curves) {
    l.push_back(loss.map(e.epoch + 1, e.loss));
    ta.push_back(acc.map(e.epoch + 1, e.train_acc));
    va.push_back(acc.map(e.epoch + 1, e.val_acc));
  }
  canvas.polyline(l, report::palette(0), 2);
  canvas.polyline(ta, report::palette(1), 2);
  canvas.polyline(va, report::palette(2), 2);
  canvas.text({acc.left + acc.width - 150, acc.top + acc.height - 12}, "train", 11, report::palette(1));
  canvas.text({acc.left + acc.width - 100, acc.top + acc.height - 12}, "validation", 11, report::palette(2));
}

void write_evaluation_report(const std::filesystem::path& svg, const Evaluation& ev,
                             const std::vector<EpochReport>& curves, const snn::Network& net,
                             const LabelledSet& set, std::size_t sample) {
  const std::size_t C = ev.classes.size();
  report::Canvas canvas(1000, 760);
  canvas.text({20, 24}, fmt::format("evaluation: accuracy {:.4f} on {} samples", ev.accuracy, ev.samples), 16);
  // Confusion matrix, row-normalised shading.
  const double cell = std::min(40.0, 360.0 / std::max<std::size_t>(C, 1));
  const double x0 = 140, y0 = 70;
  canvas.text({x0, y0 - 10}, "confusion (rows true, columns predicted)", 12);
  for (std::size_t r = 0; r < C; ++r) {
    const double total = static_cast<double>(std::max<std::size_t>(
        1, std::accumulate(ev.confusion[r].begin(), ev.confusion[r].end(), std::size_t{0})));
    canvas.text({x0 - 6, y0 + (r + 0.6) * cell}, ev.classes[r], 10, {}, report::Anchor::end);
    for (std::size_t c = 0; c < C; ++c) {
      const double f = ev.confusion[r][c] / total;
      canvas.rect(x0 + c * cell, y0 + r * cell, cell - 1, cell - 1, report::palette(0), 0.1 + 0.9 * f);
      canvas.text({x0 + (c + 0.5) * cell, y0 + (r + 0.6) * cell}, std::to_string(ev.confusion[r][c]), 9, {},
                  report::Anchor::middle);
    }
  }
  // Training curves.
  if (!curves.empty()) draw_training_curves(canvas, curves, 600, 70, 360);
  // Output spike raster of one sample.
  if (sample < set.size()) {
    const std::size_t T = set.x.dim(1), Cin = set.x.dim(2);
    FloatArray x(Shape{1, T, Cin});
    std::copy_n(set.x.data.begin() + sample * T * Cin, T * Cin, x.data.begin());
    snn::Engine engine(net);
    const FloatArray out = engine.forward(x);
    const std::size_t nout = out.dim(2);
    report::Axes ax{140, 500, 820, 200, 0, static_cast<double>(T), -0.5, nout - 0.5};
    ax.draw(canvas, fmt::format("output spikes of sample {} (true class {})", sample, ev.classes.at(set.y[sample])),
            "time step", "output neuron", false);
    for (std::size_t k = 0; k < nout; ++k)
      canvas.text({134, ax.map(0, static_cast<double>(k)).y + 3}, ev.classes.at(k), 9, {}, report::Anchor::end);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t k = 0; k < nout; ++k) {
        const float s = out[t * nout + k];
        if (s <= 0) continue;
        const auto p = ax.map(t + 0.5, static_cast<double>(k));
        canvas.line({p.x, p.y - 6}, {p.x, p.y + 6}, report::palette(3), std::min(4.0, 1.0 + s));
      }
  }
  canvas.save(svg);
  canvas.save(std::filesystem::path(svg).replace_extension(".png"));  // for viewers without SVG
}

}  // namespace spikeline::train
