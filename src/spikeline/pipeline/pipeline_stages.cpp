#include "spikeline/pipeline/pipeline_stages.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/data/spikes.hpp"
#include "spikeline/data/synth.hpp"
#include "spikeline/data/windows.hpp"
#include "spikeline/encode/encoders.hpp"
#include "spikeline/hpo/controller.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "spikeline/hpo/results.hpp"
#include "spikeline/hpo/store.hpp"
#include "spikeline/io/network_file.hpp"
#include "spikeline/pipeline/dynapse2_deploy.hpp"
#include "spikeline/pipeline/dynapse2_train.hpp"
#include "spikeline/pipeline/dynapse2_tune.hpp"
#include "spikeline/pipeline/xylo_deploy.hpp"
#include "spikeline/pipeline/xylo_finetune.hpp"
#include "spikeline/pipeline/xylo_tune.hpp"
#include "spikeline/report/plot.hpp"
#include "spikeline/tasks/distances.hpp"
#include "spikeline/tasks/plots.hpp"
#include "spikeline/tasks/search.hpp"
#include "spikeline/train/config.hpp"
#include "spikeline/train/run.hpp"

namespace spikeline::pipeline::detail {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const json& sec(const StageContext& ctx, Stage s) { return ctx.config.section(s); }

// The most recent upstream result holding `key` (e.g. the checkpoint of quantize, else of train).
std::string upstream_path(const StageContext& ctx, std::initializer_list<Stage> stages, const char* key) {
  for (Stage s : stages) {
    const std::string name(stage_name(s));
    if (ctx.results.contains(name) && ctx.results[name].contains(key)) return ctx.results[name][key].get<std::string>();
  }
  throw Error(fmt::format("pipeline: no upstream stage produced '{}' (is a required stage disabled?)", key));
}

// The encode stage's output (or the configured file when it is disabled). Passed to the steps that
// load a checkpoint, rather than the path inside the checkpoint, so a moved run directory works.
std::string encoded_spikes(const StageContext& ctx) { return upstream_path(ctx, {Stage::encode}, "spikes"); }

json split_counts(const std::vector<data::ClassInfo>& classes, const std::array<std::vector<std::int32_t>, 3>& labels) {
  json j = json::object();
  for (int s = 0; s < 3; ++s) {
    const auto counts = data::class_counts(labels[s], classes.size());
    json per = json::object();
    for (std::size_t k = 0; k < classes.size(); ++k) per[classes[k].name] = counts[k];
    j[std::string(data::kSplitNames[s])] = {{"windows", labels[s].size()}, {"per_class", per}};
  }
  return j;
}

void plot_curves(const std::vector<train::EpochReport>& epochs, const fs::path& path) {
  report::Canvas canvas(640, 400);
  train::draw_training_curves(canvas, epochs, 70, 35, 540);
  canvas.save(path);
}

std::string kept_note(bool kept_untuned, double best_trial) {
  return kept_untuned ? fmt::format(" (no trial beat factors 1, best {:.4f}: kept factors 1)", best_trial) : "";
}

// Accuracy of every tuning trial and the best so far.
void plot_tuning(const std::vector<FactorTrial>& trials, double untuned, const fs::path& path) {
  report::Canvas canvas(640, 320);
  report::Axes ax;
  ax.left = 70;
  ax.top = 35;
  ax.width = 540;
  ax.height = 230;
  ax.x0 = 0;
  ax.x1 = std::max<double>(1.0, static_cast<double>(trials.size()));
  double lo = untuned, hi = untuned;
  for (const auto& t : trials)
    if (t.accuracy) lo = std::min(lo, *t.accuracy), hi = std::max(hi, *t.accuracy);
  ax.y0 = std::max(0.0, lo - 0.02);
  ax.y1 = std::min(1.0, hi + 0.02);
  if (ax.y1 <= ax.y0) ax.y1 = ax.y0 + 0.05;
  ax.draw(canvas, "quantisation tuning: accuracy per trial (grey) and best so far", "trial", "accuracy");
  double best = untuned;
  std::vector<report::Point> best_line{ax.map(0, untuned)};
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (!trials[i].accuracy) continue;
    const auto p = ax.map(static_cast<double>(i + 1), *trials[i].accuracy);
    canvas.rect(p.x - 1.5, p.y - 1.5, 3, 3, {150, 150, 150});
    best = std::max(best, *trials[i].accuracy);
    best_line.push_back(ax.map(static_cast<double>(i + 1), best));
  }
  canvas.polyline(best_line, report::palette(0), 2.0);
  canvas.save(path);
}

void set_key(json& doc, const std::string& dotted, const json& value) {
  train::apply_override(doc, dotted + "=" + value.dump());
}

void check_stopped(const StageContext& ctx, const char* what) {
  if (ctx.stop && *ctx.stop)
    throw Error(fmt::format("pipeline: interrupted during {}; run the same command again to resume", what));
}

}  // namespace

json disabled_result(const PipelineConfig& config, Stage s) {
  if (s == Stage::data) return {{"windows", config.doc["data"]["windows"]}};
  if (s == Stage::encode) return {{"spikes", config.doc["encode"]["spikes"]}};
  if (s == Stage::train && !config.doc["train"]["checkpoint"].get<std::string>().empty())
    return {{"checkpoint", config.doc["train"]["checkpoint"]}};
  return json::object();
}

std::vector<std::string> chosen_classes(const PipelineConfig& config, const json& results) {
  if (config.enabled(Stage::tasks) && results.contains("tasks") && results["tasks"].contains("classes"))
    return results["tasks"]["classes"].get<std::vector<std::string>>();
  return configured_classes(config);
}

json training_document(const PipelineConfig& config, const json& results) {
  json doc = config.doc["train"];
  doc.erase("enabled");
  doc.erase("checkpoint");
  const std::string spikes = results.contains("encode") ? results["encode"].value("spikes", "") : "";
  doc["data"] = {{"file", spikes}, {"classes", chosen_classes(config, results)}};
  if (config.enabled(Stage::hpo) && results.contains("hpo") && results["hpo"].contains("best_parameters")) {
    const json& map = config.doc["hpo"]["map"];
    for (const auto& [param, value] : results["hpo"]["best_parameters"].items())
      if (map.contains(param)) set_key(doc, map[param].get<std::string>(), value);
  }
  return doc;
}

// ---- data -----------------------------------------------------------------------------------

json run_data(const StageContext& ctx) {
  const json& d = sec(ctx, Stage::data);
  data::PrepareOptions prep;
  if (d["source"] == "synthetic") {
    data::SynthOptions synth;
    synth.subjects = d["synthetic"]["subjects"].get<int>();
    synth.seconds = d["synthetic"]["seconds"].get<double>();
    synth.activities = d["synthetic"]["activities"].get<std::string>();
    synth.difficulty = d["synthetic"]["difficulty"].get<double>();
    synth.seed = ctx.config.doc["seed"].get<std::uint64_t>();
    synth.threads = ctx.threads();
    prep.wisdm_dir = ctx.dir / "synthetic-wisdm";
    data::write_synthetic_wisdm(prep.wisdm_dir, synth);
  } else {
    prep.wisdm_dir = wisdm_dir(ctx.config);
  }
  // With the task stage on, every configured class is prepared and the stage picks among them.
  prep.classes = ctx.config.enabled(Stage::tasks) ? d["classes"].get<std::vector<std::string>>()
                                                  : configured_classes(ctx.config);
  // Synthetic data hold only the generated activities: "all classes" means those.
  if (prep.classes.empty() && d["source"] == "synthetic")
    for (char letter : d["synthetic"]["activities"].get<std::string>()) prep.classes.emplace_back(1, letter);
  prep.window.length = d["window"].get<int>();
  prep.window.stride = d["stride"].get<int>();
  prep.split.method = data::split_method_from_name(d["split"].get<std::string>());
  prep.split.seed = d["split_seed"].get<std::uint64_t>();
  const auto f = d["fractions"].get<std::vector<double>>();
  prep.split.fractions = {f[0], f[1], f[2]};
  prep.zscore = d["normalise"] == "zscore";
  prep.threads = ctx.threads();
  prep.progress = false;
  data::LoadReport load;
  const data::WindowDataset ds = data::prepare_wisdm(prep, &load);
  const fs::path windows = ctx.dir / "windows.npz";
  data::write_windows(windows, ds);
  std::array<std::vector<std::int32_t>, 3> labels;
  for (int s = 0; s < 3; ++s) labels[s] = ds.splits[s].y;
  json classes = json::array();
  for (const auto& c : ds.classes) classes.push_back(c.name);
  json summary = {{"source", d["source"]},
                  {"wisdm", prep.wisdm_dir.string()},
                  {"classes", classes},
                  {"split", d["split"]},
                  {"split_seed", d["split_seed"]},
                  {"subjects_read", load.subjects.size()},
                  {"splits", split_counts(ds.classes, labels)},
                  {"split_subjects", ds.info.subjects},
                  {"notes", load.notes}};
  write_file_atomic(ctx.dir / "summary.json", summary.dump(2) + "\n");
  ctx.log(fmt::format("data      {} classes, train/val/test = {}/{}/{} windows ({} split) -> {}", ds.classes.size(),
                      labels[0].size(), labels[1].size(), labels[2].size(), d["split"].get<std::string>(),
                      windows.string()));
  return {{"windows", windows.string()}, {"summary", (ctx.dir / "summary.json").string()}, {"classes", classes},
          {"windows_per_split", {labels[0].size(), labels[1].size(), labels[2].size()}}};
}

// ---- encode ---------------------------------------------------------------------------------

json run_encode(const StageContext& ctx) {
  const json& e = sec(ctx, Stage::encode);
  const data::WindowDataset windows = data::read_windows(upstream_path(ctx, {Stage::data}, "windows"));
  const auto params = encode::encoder_from_json(e["encoder"]);
  encode::TimeScale scale;
  scale.sample_time_modifier = e["modifier"].get<double>();
  scale.dt = e["dt"].get<double>();
  const data::SpikeSet set = encode::encode_dataset(windows, params, scale, ctx.threads(), false);
  const fs::path out = ctx.dir / "spikes.npz";
  data::write_spikes(out, set);
  std::size_t spikes = 0, cells = 0;
  for (const auto& s : set.splits) {
    for (std::uint8_t v : s.x.data) spikes += v;
    cells += s.x.size();
  }
  const double rate = cells ? static_cast<double>(spikes) / static_cast<double>(cells) : 0.0;
  ctx.log(fmt::format("encode    {} -> {} channels x {} steps, {:.3f} spikes per channel and step -> {}",
                      encode::encoder_to_json(params).dump(), set.channels(), set.steps(), rate, out.string()));
  return {{"spikes", out.string()},
          {"encoder", encode::encoder_to_json(params)},
          {"channels", set.channels()},
          {"steps", set.steps()},
          {"dt", set.info.dt},
          {"spikes_per_cell", rate}};
}

// ---- tasks ----------------------------------------------------------------------------------

json run_tasks(const StageContext& ctx) {
  const json& t = sec(ctx, Stage::tasks);
  const data::WindowDataset windows = data::read_windows(upstream_path(ctx, {Stage::data}, "windows"));
  tasks::DistanceOptions o;
  o.metric = tasks::metric_from_name(t["metric"].get<std::string>());
  o.kl_floor = t["kl_floor"].get<double>();
  o.threads = ctx.threads();
  const tasks::DistanceMatrix m = tasks::class_distances(windows, o);
  tasks::write_distances(ctx.dir / "distances.json", m);
  tasks::plot_distance_heatmap(m, std::string(tasks::metric_name(m.metric)) + " class distances")
      .save(ctx.dir / "distances.svg");
  const auto k = t["k"].get<std::size_t>();
  const auto rank = t["rank"].get<std::size_t>();
  const auto order = tasks::search_order_from_name(t["order"].get<std::string>());
  if (k > m.size())
    throw InputError(ctx.config.source + ": tasks.k",
                     fmt::format("is {} but the data has only {} classes", k, m.size()));
  const auto found = tasks::search_tasks(m, k, order, rank);
  if (found.size() < rank)
    throw InputError(ctx.config.source + ": tasks.rank", fmt::format("only {} combinations exist", found.size()));
  const auto named = tasks::name_tasks(found, k, order);
  write_file_atomic(ctx.dir / "tasks.json", tasks::tasks_to_json(m, named).dump(2) + "\n");
  const tasks::Task& chosen = named[rank - 1];
  json classes = json::array();
  for (std::size_t i : chosen.candidate.classes) classes.push_back(m.classes[i].name);
  ctx.log(fmt::format("tasks     {} by {}: {} (score {:.4g}) -> {}", chosen.name, tasks::metric_name(m.metric),
                      classes.dump(), chosen.candidate.score, (ctx.dir / "tasks.json").string()));
  return {{"task", chosen.name},
          {"classes", classes},
          {"score", chosen.candidate.score},
          {"distances", (ctx.dir / "distances.json").string()},
          {"heatmap", (ctx.dir / "distances.svg").string()},
          {"tasks", (ctx.dir / "tasks.json").string()}};
}

// ---- hpo ------------------------------------------------------------------------------------

json run_hpo(const StageContext& ctx) {
  const json& h = sec(ctx, Stage::hpo);
  json base = training_document(ctx.config, ctx.results);
  const fs::path base_path = ctx.dir / "train_base.json";
  write_file_atomic(base_path, base.dump(2) + "\n");
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  for (const auto& [param, _] : h["search_space"].items()) map[param] = h["map"][param];
  nlohmann::ordered_json exp = {
      {"experimentName", ctx.config.doc["name"].get<std::string>() + "-hpo"},
      {"trial",
       {{"spikeline_train", base_path.string()},
        {"map", map},
        {"set", {{"epochs", h["epochs"]}, {"threads", h["trial_threads"]}}}}},
      {"searchSpace", nlohmann::ordered_json::parse(h["search_space"].dump())},
      {"tuner", nlohmann::ordered_json::parse(h["tuner"].dump())},
      {"maxTrialNumber", h["trials"]},
      {"trialConcurrency", h["concurrency"]},
      {"seed", ctx.config.doc["seed"]}};
  if (!h["assessor"].is_null()) exp["assessor"] = nlohmann::ordered_json::parse(h["assessor"].dump());
  if (!h["max_duration"].get<std::string>().empty()) exp["maxExperimentDuration"] = h["max_duration"];
  write_file_atomic(ctx.dir / "experiment.json", exp.dump(2) + "\n");
  const auto config = hpo::experiment_config_from_json(exp, ctx.config.source + ": hpo", ctx.dir);

  const fs::path id_file = ctx.dir / "experiment_id";
  fs::path exp_dir;
  if (ctx.resume && fs::exists(id_file)) {
    exp_dir = ctx.dir / "experiments" / read_file_text(id_file);
    ctx.log("hpo       resuming experiment " + exp_dir.string());
  } else {
    const std::string id = hpo::create_experiment(config, ctx.dir / "experiments");
    write_file_atomic(id_file, id);
    exp_dir = ctx.dir / "experiments" / id;
  }
  hpo::ControllerOptions co;
  co.stop = ctx.stop;
  co.log = [&ctx](const std::string& line) {
    if (ctx.progress) ctx.log("hpo       " + line);
  };
  const std::string status = hpo::run_experiment(exp_dir, co);
  check_stopped(ctx, "the HPO stage");
  const hpo::Store store = hpo::Store::open_read_only(exp_dir);
  if (status != hpo::status::kDone)
    throw Error(fmt::format("pipeline: hpo: experiment {} ended {} (see {}/)", exp_dir.filename().string(), status,
                            exp_dir.string()));
  const auto best = hpo::best_trial(store, config.optimize_mode());
  if (!best)
    throw Error("pipeline: hpo: no trial succeeded (see the trials' logs under " + exp_dir.string() + "/trials/)");
  write_file_atomic(ctx.dir / "trials.csv", hpo::export_csv(store));
  const json trial = json::parse(hpo::trial_json(*best).dump());
  write_file_atomic(ctx.dir / "best.json", trial.dump(2) + "\n");
  const json params = json::parse(best->parameters.dump());
  ctx.log(fmt::format("hpo       best of {} trials: #{} val accuracy {:.4f} with {}", store.trials().size(),
                      best->sequence_id, best->final_value.value_or(0.0), params.dump()));
  return {{"experiment", exp_dir.string()},
          {"best_parameters", params},
          {"best_value", best->final_value.value_or(0.0)},
          {"best_trial", best->sequence_id},
          {"trials", store.trials().size()},
          {"trials_csv", (ctx.dir / "trials.csv").string()},
          {"best", (ctx.dir / "best.json").string()}};
}

// ---- train ----------------------------------------------------------------------------------

namespace {

json evaluate_checkpoint(const StageContext& ctx, const train::TrainConfig& config, const snn::Network& net,
                         const std::vector<train::EpochReport>& epochs) {
  const train::TrainingData data = train::load_training_data(config, ctx.threads());
  json out = json::object();
  for (const char* split : {"val", "test"}) {
    const auto& set = std::string(split) == "val" ? data.val : data.test;
    if (set.size() == 0) continue;
    const auto eval = train::evaluate(net, set, data.classes, ctx.threads());
    auto j = eval.to_json();
    j["split"] = split;
    write_file_atomic(ctx.dir / fmt::format("evaluation_{}.json", split), j.dump(2) + "\n");
    train::write_evaluation_report(ctx.dir / fmt::format("evaluation_{}.svg", split), eval, epochs, net, set, 0);
    out[split] = {{"accuracy", eval.accuracy},
                  {"samples", eval.samples},
                  {"json", (ctx.dir / fmt::format("evaluation_{}.json", split)).string()},
                  {"svg", (ctx.dir / fmt::format("evaluation_{}.svg", split)).string()},
                  {"complexity", j.value("complexity", json::object())}};
  }
  return out;
}

}  // namespace

namespace {

json curves_json(const std::vector<train::EpochReport>& epochs) {
  json curves = json::array();
  for (const auto& e : epochs)
    curves.push_back({{"epoch", e.epoch + 1}, {"loss", e.loss}, {"train_acc", e.train_acc}, {"val_acc", e.val_acc}});
  return curves;
}

// The train stage's result, either chip: where the checkpoint is, the best epoch, the curves, the evaluation.
json train_result(const StageContext& ctx, const fs::path& checkpoint, const std::vector<std::string>& classes,
                  double best_val_acc, int best_epoch, const std::vector<train::EpochReport>& epochs, double seconds,
                  const json& evaluation) {
  return {{"checkpoint", checkpoint.string()},
          {"config", (ctx.dir / "train_config.json").string()},
          {"classes", classes},
          {"best_val_accuracy", best_val_acc},
          {"best_epoch", best_epoch + 1},
          {"epochs_run", epochs.size()},
          {"train_seconds", seconds},
          {"learning_curve", (ctx.dir / "learning_curve.svg").string()},
          {"evaluation", evaluation},
          {"curves", curves_json(epochs)}};
}

train::RunOptions run_options(const StageContext& ctx, const fs::path& out) {
  train::RunOptions ro;
  ro.out = out;
  ro.resume = ctx.resume && fs::exists(out / "resume" / "progress.json");
  ro.progress = ctx.progress;
  ro.stop = ctx.stop;
  ro.log = [&ctx](const std::string& line) {
    if (ctx.progress) ctx.log("train     " + line);
  };
  return ro;
}

// Dynap-SE2: the float model simulated on val and test (as `spikeline evaluate` does it).
json evaluate_dynapse2(const StageContext& ctx, const train::TrainConfig& config, const hw::dynapse2::DynapseNet& net) {
  const train::TrainingData data = train::load_training_data(config, ctx.threads());
  json out = json::object();
  for (const char* split : {"val", "test"}) {
    const auto& set = std::string(split) == "val" ? data.val : data.test;
    if (set.size() == 0) continue;
    const auto pred = hw::dynapse2::predict(net, set.x, ctx.threads());
    auto j = train::classify(pred, set.y, data.classes).to_json();
    j["split"] = split;
    j["target"] = "dynapse2";
    const fs::path file = ctx.dir / fmt::format("evaluation_{}.json", split);
    write_file_atomic(file, j.dump(2) + "\n");
    out[split] = {{"accuracy", j["accuracy"]}, {"samples", set.size()}, {"json", file.string()}};
  }
  return out;
}

json run_train_dynapse2(const StageContext& ctx, const train::TrainConfig& config) {
  const train::RunOptions ro = run_options(ctx, ctx.dir / "checkpoint");
  const auto run = hw::dynapse2::run_dynapse2_training(config, ro);
  check_stopped(ctx, "training");
  plot_curves(run.epochs, ctx.dir / "learning_curve.svg");
  const json eval = evaluate_dynapse2(ctx, config, run.best);
  ctx.log(fmt::format("train     Dynap-SE2 best val accuracy {:.4f} at epoch {}; test accuracy {:.4f} -> {}",
                      run.best_val_acc, run.best_epoch + 1,
                      eval.contains("test") ? eval["test"]["accuracy"].get<double>() : 0.0, ro.out.string()));
  return train_result(ctx, ro.out, run.classes, run.best_val_acc, run.best_epoch, run.epochs, run.seconds, eval);
}

}  // namespace

json run_train(const StageContext& ctx) {
  const json doc = training_document(ctx.config, ctx.results);
  write_file_atomic(ctx.dir / "train_config.json", doc.dump(2) + "\n");
  const train::TrainConfig config = train::config_from_json(doc, (ctx.dir / "train_config.json").string());
  if (ctx.config.chip == Chip::dynapse2) return run_train_dynapse2(ctx, config);
  const train::RunOptions ro = run_options(ctx, ctx.dir / "checkpoint");
  const train::RunResult run = train::run_training(config, ro);
  check_stopped(ctx, "training");
  const auto& t = run.train;
  plot_curves(t.epochs, ctx.dir / "learning_curve.svg");
  io::save_network(ctx.dir / "model.json", t.best, io::NetworkFormat::Rockpool);
  const json eval = evaluate_checkpoint(ctx, config, t.best, t.epochs);
  ctx.log(fmt::format("train     best val accuracy {:.4f} at epoch {}; test accuracy {:.4f} -> {}", t.best_val_acc,
                      t.best_epoch + 1, eval.contains("test") ? eval["test"]["accuracy"].get<double>() : 0.0,
                      ro.out.string()));
  if (!ctx.progress)  // with progress the training log has shown them already
    for (const auto& w : run.warnings) ctx.log("train     warning: " + w);
  json result = train_result(ctx, ro.out, run.classes, t.best_val_acc, t.best_epoch, t.epochs, run.seconds, eval);
  result["warnings"] = run.warnings;
  result["model"] = (ctx.dir / "model.json").string();
  return result;
}

// ---- qat ------------------------------------------------------------------------------------

json run_qat(const StageContext& ctx) {
  const json& q = sec(ctx, Stage::qat);
  hw::xylo::FinetuneOptions o;
  o.checkpoint = upstream_path(ctx, {Stage::train}, "checkpoint");
  o.data = encoded_spikes(ctx);
  o.out = ctx.dir / "checkpoint";
  o.epochs = q["epochs"].get<int>();
  o.lr = q["lr"].get<double>();
  o.seed = ctx.config.doc["seed"].get<std::uint64_t>();
  o.threads = ctx.threads();
  o.progress = ctx.progress;
  o.method = hw::xylo::method_from_name(q["method"].get<std::string>(), ctx.config.source + ": qat.method");
  o.match_decay = q["match_decay"].get<bool>();
  o.fake_quant = q["fake_quant"].get<bool>();
  o.log = [&ctx](const std::string& line) { ctx.log("qat       " + line); };
  const auto r = hw::xylo::finetune_checkpoint(o);
  ctx.log(fmt::format("qat       {} epochs: quantised val accuracy {:.4f} -> {:.4f} (best epoch {}) -> {}",
                      r.epochs.size(), r.quantized_val_before, r.quantized_val_after, r.best_epoch, o.out.string()));
  return {{"checkpoint", o.out.string()},
          {"qat", (o.out / hw::xylo::kQatFile).string()},
          {"float_val_before", r.float_val_before},
          {"quantized_val_before", r.quantized_val_before},
          {"quantized_val_after", r.quantized_val_after},
          {"float_val_after", r.float_val_after},
          {"best_epoch", r.best_epoch},
          {"seconds", r.seconds}};
}

// ---- quantize -------------------------------------------------------------------------------

namespace {

// What either chip's tuning reports, for the stage's summary and log line.
struct TuningFigures {
  std::string split;
  double float_accuracy, untuned_accuracy, tuned_accuracy;
  bool kept_untuned;
  double best_trial_accuracy;
  int trials;
  double seconds;
};

// Writes tuning_summary.json and tuning.svg, logs one line, returns the stage's result.
json tuning_summary(const StageContext& ctx, const TuningFigures& f, const std::vector<FactorTrial>& trials,
                    std::string_view untuned_word, const fs::path& tuning, const fs::path& ckpt,
                    const fs::path& record) {
  plot_tuning(trials, f.untuned_accuracy, ctx.dir / "tuning.svg");
  json summary = {{"split", f.split},
                  {"float_accuracy", f.float_accuracy},
                  {"untuned_accuracy", f.untuned_accuracy},
                  {"tuned_accuracy", f.tuned_accuracy},
                  {"kept_untuned", f.kept_untuned},
                  {"best_trial_accuracy", f.best_trial_accuracy},
                  {"trials", f.trials},
                  {"seconds", f.seconds},
                  {"tuning_config", tuning.string()}};
  write_file_atomic(ctx.dir / "tuning_summary.json", summary.dump(2) + "\n");
  ctx.log(fmt::format("quantize  {} trials on {}: float {:.4f}, {} {:.4f}, tuned {:.4f}{} -> {}", f.trials, f.split,
                      f.float_accuracy, untuned_word, f.untuned_accuracy, f.tuned_accuracy,
                      kept_note(f.kept_untuned, f.best_trial_accuracy), ckpt.string()));
  summary["checkpoint"] = ckpt.string();
  summary["figure"] = (ctx.dir / "tuning.svg").string();
  summary["tuning"] = record.string();
  return summary;
}

json tune_dynapse2(const StageContext& ctx, const fs::path& ckpt, const fs::path& tuning) {
  const json& q = sec(ctx, Stage::quantize);
  hw::dynapse2::TuneOptions o;
  o.checkpoint = ckpt;
  o.data = encoded_spikes(ctx);
  o.config = tuning;
  o.split = q["split"].get<std::string>();
  o.trials = q["trials"].get<int>();
  o.seed = ctx.config.doc["seed"].get<std::uint64_t>();
  o.threads = ctx.threads();
  o.progress = ctx.progress;
  const auto r = hw::dynapse2::tune_checkpoint(o);
  return tuning_summary(ctx, {o.split, r.float_accuracy, r.untuned_accuracy, r.accuracy, r.kept_untuned,
                              r.best_trial_accuracy, r.trials, r.seconds},
                        r.history, "configured", tuning, ckpt, ckpt / hw::dynapse2::kTuningFile);
}

json deploy_dynapse2(const StageContext& ctx, const fs::path& checkpoint) {
  hw::dynapse2::DeployOptions o;
  o.checkpoint = checkpoint;
  o.data = encoded_spikes(ctx);
  o.out = ctx.dir / "dynapse2";
  o.split = sec(ctx, Stage::deploy)["split"].get<std::string>();
  o.use_tuning = ctx.config.enabled(Stage::quantize);
  o.threads = ctx.threads();
  o.seed = ctx.config.doc["seed"].get<std::uint64_t>();
  const auto result = hw::dynapse2::deploy(o);
  for (const auto& n : result.notes) ctx.log("deploy    note: " + n);
  const auto& r = result.report;
  const double float_acc = r.at("float").at("accuracy").get<double>();
  const double chip_acc = r.at("configured").at("accuracy").get<double>();
  ctx.log(fmt::format("deploy    Dynap-SE2 bundle: accuracy on {} float {:.4f}, configured {:.4f} -> {}", o.split,
                      float_acc, chip_acc, o.out.string()));
  return {{"chip", "dynapse2"},
          {"bundle", o.out.string()},
          {"report", (o.out / "report.html").string()},
          {"split", o.split},
          {"float_accuracy", float_acc},
          {"chip_accuracy", chip_acc}};
}

}  // namespace

// The classes (readout neurons) of the checkpoint being tuned: the training stage's, or for a given
// checkpoint (train.checkpoint) its network's outputs.
std::size_t checkpoint_classes(const StageContext& ctx, const fs::path& ckpt) {
  if (ctx.results.contains("train") && ctx.results["train"].contains("classes")) return ctx.results["train"]["classes"].size();
  if (ctx.config.chip == Chip::dynapse2) return std::size_t(hw::dynapse2::load_dynapse2_checkpoint(ckpt).net.n);
  return std::size_t(hw::xylo::load_checkpoint_model(ckpt).net.n_out());
}

json run_quantize(const StageContext& ctx) {
  const json& q = sec(ctx, Stage::quantize);
  const fs::path source = upstream_path(ctx, {Stage::qat, Stage::train}, "checkpoint");
  // Tuning writes into its checkpoint: work on a copy so the training stage's outputs stay as stamped.
  const fs::path ckpt = ctx.dir / "checkpoint";
  fs::remove_all(ckpt);
  fs::copy(source, ckpt, fs::copy_options::recursive);
  fs::remove_all(ckpt / "resume");
  fs::path tuning = q["tuning"].get<std::string>();
  if (tuning.empty()) {
    const std::size_t n_classes = checkpoint_classes(ctx, ckpt);
    json space = q["search_space"];
    if (space.is_null()) {
      space = json::object();
      const json qu = {{"_type", "quniform"}, {"_value", {0.6, 1.4, 0.01}}};
      space["global_activity_factor"] = qu;
      for (std::size_t c = 0; c < n_classes; ++c) space[fmt::format("c{}_activity_factor", c)] = qu;
    }
    nlohmann::ordered_json cfg = {{"search_space", nlohmann::ordered_json::parse(space.dump())},
                                  {"max_trial_number", q["trials"]},
                                  {"tuner", nlohmann::ordered_json::parse(q["tuner"].dump())}};
    tuning = ctx.dir / "tuning_config.json";
    write_file_atomic(tuning, cfg.dump(2) + "\n");
  }
  if (ctx.config.chip == Chip::dynapse2) return tune_dynapse2(ctx, ckpt, tuning);
  hw::xylo::TuneOptions o;
  o.checkpoint = ckpt;
  o.data = encoded_spikes(ctx);
  o.config = tuning;
  o.split = q["split"].get<std::string>();
  o.trials = q["trials"].get<int>();
  o.seed = ctx.config.doc["seed"].get<std::uint64_t>();
  o.recipe.options.method = hw::xylo::method_from_name(q["method"].get<std::string>(), ctx.config.source + ": quantize.method");
  o.threads = ctx.threads();
  o.progress = ctx.progress;
  const auto rep = hw::xylo::tune_checkpoint(o);
  const auto& r = rep.record;
  return tuning_summary(ctx, {r.split, r.float_accuracy, r.untuned_accuracy, r.accuracy, r.kept_untuned,
                              r.best_trial_accuracy, r.trials, rep.seconds},
                        rep.outcome.search.trials, "quantised", tuning, ckpt, ckpt / hw::xylo::kTuningFile);
}

// ---- deploy ---------------------------------------------------------------------------------

json run_deploy(const StageContext& ctx) {
  const json& dsec = sec(ctx, Stage::deploy);
  const std::string checkpoint = upstream_path(ctx, {Stage::quantize, Stage::qat, Stage::train}, "checkpoint");
  if (ctx.config.chip == Chip::dynapse2) return deploy_dynapse2(ctx, checkpoint);
  hw::xylo::DeployOptions o;
  o.checkpoint = checkpoint;
  o.data = encoded_spikes(ctx);
  o.out = ctx.dir / "xylo";
  o.split = dsec["split"].get<std::string>();
  o.use_tuning = ctx.config.enabled(Stage::quantize);
  o.threads = ctx.threads();
  const auto result = hw::xylo::deploy(o);
  for (const auto& n : result.notes) ctx.log("deploy    note: " + n);
  const auto& r = result.report;
  ctx.log(fmt::format("deploy    Xylo bundle: accuracy on {} float {:.4f}, chip {:.4f} -> {}", o.split,
                      r.at("float").at("accuracy").get<double>(), r.at("quantized").at("accuracy").get<double>(),
                      o.out.string()));
  return {{"chip", "xylo"},
          {"bundle", o.out.string()},
          {"report", (o.out / "report.html").string()},
          {"split", o.split},
          {"float_accuracy", r.at("float").at("accuracy")},
          {"chip_accuracy", r.at("quantized").at("accuracy")},
          {"resources", r.at("resources")}};
}

}  // namespace spikeline::pipeline::detail
