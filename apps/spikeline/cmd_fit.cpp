// spikeline train / evaluate: training from a config file, and evaluation of a checkpoint
// (docs/training.md, docs/config.md).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/hpo/client.hpp"
#include "spikeline/snn/network_json.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::cli {

namespace {

// The one piece of state a signal handler may touch. The first Ctrl-C asks training to stop after
// the current batch; the handler then restores the default, so a second Ctrl-C ends the process.
volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_interrupt(int) {
  stop_requested = 1;
  std::signal(SIGINT, SIG_DFL);
}

struct TrainFlags {
  std::string config, out = "train-output";
  bool resume = false, quiet = false;
  std::vector<std::string> set;
  std::optional<int> epochs, batch, threads, hidden;
  std::optional<double> lr;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> data;
};

void log_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void run_train(const TrainFlags& f) {
  const std::filesystem::path out = f.out;
  nlohmann::json doc;
  std::filesystem::path base;
  std::string source;
  if (!f.config.empty()) {
    doc = train::read_config_document(f.config);
    base = std::filesystem::path(f.config).parent_path();
    if (base.empty()) base = ".";
    source = f.config;
  } else if (f.resume) {
    source = (out / "config.json").string();  // the run's own resolved config
    doc = snn::parse_json(read_file_text(source), source);
  } else {
    throw InputError("--config", "is required (unless --resume continues the run in --out)");
  }
  // Flags override keys: each is an edit of the document, checked like the key itself.
  std::vector<std::string> edits;
  if (f.epochs) edits.push_back("epochs=" + std::to_string(*f.epochs));
  if (f.batch) edits.push_back("batch_size=" + std::to_string(*f.batch));
  if (f.threads) edits.push_back("threads=" + std::to_string(*f.threads));
  if (f.hidden) edits.push_back("model.hidden=" + std::to_string(*f.hidden));
  if (f.seed) edits.push_back("seed=" + std::to_string(*f.seed));
  if (f.lr) edits.push_back("optim.lr=" + nlohmann::json(*f.lr).dump());
  if (f.data) edits.push_back("data.file=" + nlohmann::json(std::filesystem::absolute(*f.data).string()).dump());
  edits.insert(edits.end(), f.set.begin(), f.set.end());
  for (const auto& e : edits) train::apply_override(doc, e);
  const train::TrainConfig config = train::config_from_json(doc, source, base);
  train::RunOptions ro;
  ro.out = out;
  ro.resume = f.resume;
  ro.progress = !f.quiet;
  ro.stop = &stop_requested;
  ro.log = log_line;
  // Run as an HPO trial (NNI_PLATFORM set): each epoch's validation accuracy is an intermediate
  // result, the best one the final result (docs/hpo.md, "Built-in training trials").
  const auto trial = hpo::TrialClient::from_environment();
  double best = 0.0;
  if (!trial.standalone())
    ro.on_epoch = [&trial, &best](const train::EpochReport& e) {
      best = std::max(best, e.val_acc);
      trial.report_intermediate_result({{"default", e.val_acc}, {"best_acc", best}, {"loss", e.loss}});
    };
  stop_requested = 0;
  std::signal(SIGINT, on_interrupt);
  if (config.model.target == "dynapse2") {  // docs/dynapse2_training.md
    const auto result = hw::dynapse2::run_dynapse2_training(config, ro);
    std::signal(SIGINT, SIG_DFL);
    if (!trial.standalone() && result.stop != train::StopReason::interrupted)
      trial.report_final_result({{"default", result.best_val_acc}});
    return;
  }
  const auto result = train::run_training(config, ro);
  std::signal(SIGINT, SIG_DFL);
  if (!trial.standalone() && result.train.stop != train::StopReason::interrupted)
    trial.report_final_result({{"default", result.train.best_val_acc}});
}

// evaluate of a Dynap-SE2 checkpoint: the float model simulated on the split (no SVG report).
void evaluate_dynapse2(const std::filesystem::path& dir, const std::string& data_file, const std::string& split,
                       const std::filesystem::path& out, const std::string& format, int threads) {
  const auto ck = hw::dynapse2::load_dynapse2_checkpoint(dir);
  const auto data = train::load_data_like(ck.config, data_file, threads);
  const auto& set = train::pick_split(data, split);
  const auto pred = hw::dynapse2::predict(ck.net, set.x, threads);
  auto result = train::classify(pred, set.y, data.classes);
  auto& m = result.complexity;
  m.parameters = ck.net.w_in.size() + ck.net.sim.w_rec.size();
  m.footprint_bytes = m.parameters * sizeof(float);
  m.connections = m.parameters;
  for (double w : ck.net.w_in) m.zero_connections += w == 0.0;
  for (double w : ck.net.sim.w_rec) m.zero_connections += w == 0.0;
  m.connection_sparsity = static_cast<double>(m.zero_connections) / static_cast<double>(m.connections);
  std::filesystem::create_directories(out);
  auto j = result.to_json();
  j["split"] = split;
  j["target"] = "dynapse2";
  write_file_atomic(out / "evaluation.json", j.dump(2) + "\n");
  if (format == "json") std::printf("%s\n", j.dump().c_str());
  else std::printf("%s\nresult: %s\n", result.table().c_str(), (out / "evaluation.json").string().c_str());
}

std::vector<train::EpochReport> read_log(const std::filesystem::path& path) {
  std::vector<train::EpochReport> curves;
  if (!std::filesystem::exists(path)) return curves;
  const std::string text = read_file_text(path);
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty()) continue;
    const auto j = snn::parse_json(line, path.string());
    train::EpochReport e;
    e.epoch = j.value("epoch", 1) - 1;
    e.loss = j.value("loss", 0.0);
    e.train_acc = j.value("train_acc", 0.0);
    e.val_acc = j.value("val_acc", 0.0);
    curves.push_back(e);
  }
  return curves;
}

}  // namespace

void add_fit_commands(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  auto* tr = app.add_subcommand(
      "train", "Train a spiking network from a config file (docs/config.md); writes a checkpoint directory "
               "(best model, thesis metadata, resolved config, per-epoch log, optimiser state). Ctrl-C stops "
               "after the current batch with everything saved; --resume continues.");
  tr->add_option("--config", f->config, "Config file: JSON, or YAML (.yaml/.yml)");
  tr->add_option("--out", f->out, "Checkpoint directory")->capture_default_str();
  tr->add_flag("--resume", f->resume, "Continue the run saved in --out (its config unless --config is given)");
  tr->add_option("--set", f->set, "Override a config key: key.path=value (repeatable)");
  tr->add_option("--epochs", f->epochs, "Override epochs");
  tr->add_option("--batch", f->batch, "Override batch_size");
  tr->add_option("--lr", f->lr, "Override optim.lr");
  tr->add_option("--seed", f->seed, "Override seed");
  tr->add_option("--threads", f->threads, "Override threads");
  tr->add_option("--hidden", f->hidden, "Override model.hidden");
  tr->add_option("--data", f->data, "Override data.file");
  tr->add_flag("--quiet", f->quiet, "No progress bar");
  tr->callback([f] { run_train(*f); });

  struct EvalFlags {
    std::string checkpoint, data, split = "test", out, format = "console";
    std::size_t sample = 0;
    int threads = 2;
  };
  auto e = std::make_shared<EvalFlags>();
  auto* ev = app.add_subcommand(
      "evaluate", "Evaluate a checkpoint's model on a data split: accuracy, confusion matrix, per-class "
                  "precision/recall/F1 (console table or JSON) and an SVG report (confusion matrix, training "
                  "curves, output spike raster of one sample).");
  ev->add_option("--checkpoint", e->checkpoint, "Checkpoint directory of spikeline train")->required();
  ev->add_option("--data", e->data, "Data file (default: the checkpoint config's data.file)");
  ev->add_option("--split", e->split, "train, val or test")->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
  ev->add_option("--sample", e->sample, "Sample of the split whose output raster the report shows")->capture_default_str();
  ev->add_option("--out", e->out, "Where evaluation.json and evaluation.svg go (default: the checkpoint)");
  ev->add_option("--threads", e->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  ev->add_option("--format", e->format, "console or json")->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  ev->callback([e] {
    const std::filesystem::path dir = e->checkpoint;
    if (hw::dynapse2::is_dynapse2_checkpoint(dir))
      return evaluate_dynapse2(dir, e->data, e->split, e->out.empty() ? dir : std::filesystem::path(e->out),
                               e->format, e->threads);
    const auto config_path = dir / "config.json";
    if (!std::filesystem::exists(config_path))
      throw InputError(config_path.string(), "not found: --checkpoint must be a directory written by spikeline train");
    const auto config = train::config_from_json(snn::parse_json(read_file_text(config_path), config_path.string()),
                                                config_path.string());
    const auto data = train::load_data_like(config, e->data, e->threads);
    const snn::Network net = io::load_network(dir / "model_params");
    const auto& set = train::pick_split(data, e->split);
    if (set.size() && e->sample >= set.size())
      throw InputError("--sample", "must be below the split's " + std::to_string(set.size()) + " samples");
    const auto result = train::evaluate(net, set, data.classes, e->threads);
    const std::filesystem::path out = e->out.empty() ? dir : std::filesystem::path(e->out);
    std::filesystem::create_directories(out);
    auto j = result.to_json();
    j["split"] = e->split;
    write_file_atomic(out / "evaluation.json", j.dump(2) + "\n");
    train::write_evaluation_report(out / "evaluation.svg", result, read_log(dir / "log.jsonl"), net, set, e->sample);
    if (e->format == "json") std::printf("%s\n", j.dump().c_str());
    else std::printf("%s\nreport: %s\n", result.table().c_str(), (out / "evaluation.svg").string().c_str());
  });
}

}  // namespace spikeline::cli
