#include "spikeline/pipeline/dynapse2_train.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/hw/dynapse2/mismatch.hpp"
#include "spikeline/hw/dynapse2/trainer.hpp"

namespace spikeline::hw::dynapse2 {

using nlohmann::json;

namespace {

constexpr const char* kProgressFile = "progress.json";
constexpr const char* kCurrentFile = "current_model.json";

// Thesis get_itau_parameter: Itau = Ut / ((kappa_p + kappa_n) / 2) * C / tau (shared docs §1).
double itau_of(double tau, double capacitance) { return 0.025 / ((0.66 + 0.75) / 2.0) * capacitance / tau; }

FitOptions fit_options(const train::TrainConfig& c, const train::RunOptions& o) {
  FitOptions f;
  f.epochs = c.epochs;
  f.batch_size = c.batch_size;
  f.lr = c.optim.lr;
  f.beta1 = c.optim.beta1;
  f.beta2 = c.optim.beta2;
  f.eps = c.optim.eps;
  f.adam_step_epoch = c.dynapse2.adam_step == "epoch";
  f.float64 = c.dynapse2.precision == "float64";
  f.seed = c.seed;
  f.threads = c.threads;
  f.progress = o.progress;
  const auto& dm = c.dynapse2.dynamic_mismatch;
  f.dynamic_mismatch = {dm.enabled, dm.percent, dm.sigma_rule, dm.every, dm.after, dm.thesis_no_effect};
  f.stop = o.stop;
  return f;
}

// The thesis's network before training: Rockpool defaults, Itau from the taus, LinearJax and
// w_rec initialised U(+-sqrt(6 / fan_in)), then the frozen mismatch (seeded).
DynapseNet initial_net(const train::TrainConfig& c, int n_in, int n) {
  const auto& d = c.dynapse2;
  DynapseNet net;
  net.n_in = n_in;
  net.n = n;
  net.sim = default_dynapsim_params(n);
  net.sim.dt = d.dt;
  net.sim.Iscale = d.Iscale;
  net.sim.Itau_mem.assign(n, itau_of(d.tau_mem, 3e-12));     // C_mem
  net.sim.Itau_syn.assign(n, itau_of(d.tau_syn, 24.5e-12));  // C_ampa, as the thesis
  Rng rng(c.seed);
  Rng init = rng.split(), mismatch = rng.split();
  const auto uniform = [&](std::vector<double>& w, std::size_t size, int fan_in) {
    const double a = std::sqrt(6.0 / fan_in);
    w.resize(size);
    for (double& v : w) v = -a + 2.0 * a * init.uniform();
  };
  uniform(net.w_in, static_cast<std::size_t>(n_in) * n, n_in);
  uniform(net.sim.w_rec, static_cast<std::size_t>(n) * n, n);
  apply_frozen_mismatch(net.sim, d.percent_mismatch, d.sigma_rule, mismatch);
  return net;
}

// One data step must be one simulation step (the model knows nothing of the data's clock).
void check_time_scale(const train::TrainConfig& c, double data_dt, const std::string& source) {
  const double step = data_dt * c.dynapse2.time_scale;
  if (std::abs(step - c.dynapse2.dt) > 1e-9 * c.dynapse2.dt)
    throw InputError(source + ": dynapse2.time_scale",
                     fmt::format("the data's step {} s x time_scale {} = {} s differs from dynapse2.dt {} s; set "
                                 "time_scale to {}", data_dt, c.dynapse2.time_scale, step, c.dynapse2.dt,
                                 c.dynapse2.dt / data_dt));
}

train::EpochReport report_of(const EpochStats& e) {
  train::EpochReport r;
  r.epoch = e.epoch;
  r.loss = e.loss;
  r.train_acc = e.train_acc;
  r.val_acc = e.val_acc;
  r.samples_per_s = e.samples_per_s;
  r.lr = e.lr;
  return r;
}

json epoch_json(const EpochStats& e) {
  return {{"epoch", e.epoch + 1}, {"loss", e.loss}, {"train_acc", e.train_acc}, {"val_acc", e.val_acc},
          {"lr", e.lr}, {"samples_per_s", e.samples_per_s}, {"mismatch_redrawn", e.mismatch_redrawn}};
}

void write_checkpoint(const std::filesystem::path& dir, const train::TrainConfig& config,
                      const std::vector<std::string>& classes, const FitState& st, const DynapseNet& current) {
  std::filesystem::create_directories(dir / "resume");
  if (st.best_epoch >= 0) write_dynapse_net(dir / kModelFile, st.best);
  json meta = {{"val_accuracy", st.best_val_acc >= 0 ? st.best_val_acc : 0.0}, {"best_epoch", st.best_epoch + 1},
               {"classes", classes}, {"target", "dynapse2"}, {"epochs_done", st.next_epoch}};
  write_file_atomic(dir / "model_metadata.json", meta.dump(2) + "\n");
  write_file_atomic(dir / "config.json", train::config_to_json(config).dump(2) + "\n");
  std::string log;
  for (const auto& e : st.epochs) log += epoch_json(e).dump() + "\n";
  write_file_atomic(dir / "log.jsonl", log);
  write_dynapse_net(dir / "resume" / kCurrentFile, current);
  json epochs = json::array();
  for (const auto& e : st.epochs) epochs.push_back(epoch_json(e));
  const json progress = {{"next_epoch", st.next_epoch},       {"best_val_acc", st.best_val_acc},
                         {"best_epoch", st.best_epoch},       {"epochs", epochs},
                         {"adam_updates", st.adam.updates},   {"adam_m_in", st.adam.m_in},
                         {"adam_v_in", st.adam.v_in},         {"adam_m_rec", st.adam.m_rec},
                         {"adam_v_rec", st.adam.v_rec}};
  write_file_atomic(dir / "resume" / kProgressFile, progress.dump() + "\n");  // last: marks consistency
}

FitState read_progress(const std::filesystem::path& dir, DynapseNet& current) {
  const auto file = dir / "resume" / kProgressFile;
  if (!std::filesystem::exists(file))
    throw InputError(file.string(), "not found: --resume needs a Dynap-SE2 checkpoint written by spikeline train");
  FitState st;
  try {
    const json p = json::parse(read_file_text(file));
    st.next_epoch = p.at("next_epoch").get<int>();
    st.best_val_acc = p.at("best_val_acc").get<double>();
    st.best_epoch = p.at("best_epoch").get<int>();
    for (const auto& e : p.at("epochs")) {
      EpochStats es;
      es.epoch = e.at("epoch").get<int>() - 1;
      es.loss = e.at("loss").get<double>();
      es.train_acc = e.at("train_acc").get<double>();
      es.val_acc = e.at("val_acc").get<double>();
      es.lr = e.at("lr").get<double>();
      es.samples_per_s = e.at("samples_per_s").get<double>();
      es.mismatch_redrawn = e.at("mismatch_redrawn").get<bool>();
      st.epochs.push_back(es);
    }
    st.adam.updates = p.at("adam_updates").get<std::int64_t>();
    st.adam.m_in = p.at("adam_m_in").get<std::vector<double>>();
    st.adam.v_in = p.at("adam_v_in").get<std::vector<double>>();
    st.adam.m_rec = p.at("adam_m_rec").get<std::vector<double>>();
    st.adam.v_rec = p.at("adam_v_rec").get<std::vector<double>>();
  } catch (const json::exception& e) {
    throw InputError(file.string(), std::string("malformed progress file: ") + e.what());
  }
  current = read_dynapse_net(dir / "resume" / kCurrentFile);
  st.best = st.best_epoch >= 0 ? read_dynapse_net(dir / kModelFile) : current;
  return st;
}

}  // namespace

Dynapse2RunResult run_dynapse2_training(const train::TrainConfig& config, const train::RunOptions& o) {
  if (config.model.target != "dynapse2")
    throw InputError("model.target", "run_dynapse2_training needs model.target \"dynapse2\"");
  train::TrainingData data = train::load_training_data(config, config.threads);
  if (data.train.size() == 0) throw InputError(config.data.file.string(), "no training samples of the chosen classes");
  check_time_scale(config, data.description.dt, config.data.file.string());
  const int n_in = data.description.n_channels, n = static_cast<int>(data.classes.size());
  DynapseNet net;
  FitState resume_from;
  if (o.resume) {
    resume_from = read_progress(o.out, net);
    if (net.n_in != n_in || net.n != n)
      throw InputError(o.out.string(), "the checkpoint's network does not match the config's data");
  } else {
    net = initial_net(config, n_in, n);
  }
  std::filesystem::create_directories(o.out);
  write_file_atomic(o.out / "config.json", train::config_to_json(config).dump(2) + "\n");
  o.log(fmt::format("train    dynapse2 Linear({}, {}) -> DynapSim({}, recurrent), {}; classes: {}; {} train / {} val "
                    "samples of {} steps at {} ms; {} epochs, batch {}, Adam lr {} (step: {}), mismatch {}{}",
                    n_in, n, n, config.dynapse2.precision, fmt::join(data.classes, ", "), data.train.size(),
                    data.val.size(), data.train.x.dim(1), config.dynapse2.dt * 1e3, config.epochs, config.batch_size,
                    config.optim.lr, config.dynapse2.adam_step, config.dynapse2.percent_mismatch,
                    o.resume ? fmt::format(" (resuming at epoch {})", resume_from.next_epoch + 1) : ""));
  const auto start = std::chrono::steady_clock::now();
  Dynapse2RunResult rr;
  rr.classes = data.classes;
  const FitState st = fit_dynapse(
      net, data.train.x, data.train.y, data.val.x, data.val.y, fit_options(config, o),
      [&](const FitState& so_far, const DynapseNet& current) {
        const EpochStats& e = so_far.epochs.back();
        o.log(fmt::format("  epoch {:4d}  loss {:.4f}  train acc {:.3f}  val acc {:.3f}  best {:.3f}  {:.0f} samples/s{}",
                          e.epoch + 1, e.loss, e.train_acc, e.val_acc, so_far.best_val_acc, e.samples_per_s,
                          e.mismatch_redrawn ? "  (weight mismatch re-drawn)" : ""));
        write_checkpoint(o.out, config, data.classes, so_far, current);
        if (o.on_epoch) o.on_epoch(report_of(e));
      },
      o.resume ? &resume_from : nullptr);
  rr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& e : st.epochs) rr.epochs.push_back(report_of(e));
  rr.best_val_acc = st.best_val_acc;
  rr.best_epoch = st.best_epoch;
  rr.best = st.best_epoch >= 0 ? st.best : net;
  rr.stop = st.interrupted ? train::StopReason::interrupted : train::StopReason::finished;
  if (st.interrupted)
    o.log(fmt::format("stopped  in epoch {}; the checkpoint in {} holds the last completed epoch; continue with "
                      "--resume", st.next_epoch + 1, o.out.string()));
  o.log(fmt::format("result   best val acc {:.4f} at epoch {} -> {}", st.best_val_acc, st.best_epoch + 1,
                    (o.out / kModelFile).string()));
  return rr;
}

bool is_dynapse2_checkpoint(const std::filesystem::path& dir) {
  return std::filesystem::is_regular_file(dir / kModelFile) && std::filesystem::is_regular_file(dir / "config.json");
}

Dynapse2Checkpoint load_dynapse2_checkpoint(const std::filesystem::path& dir) {
  if (!is_dynapse2_checkpoint(dir))
    throw InputError(dir.string(), std::string("not a Dynap-SE2 training checkpoint (needs ") + kModelFile +
                                       " and config.json, written by spikeline train with model.target dynapse2)");
  Dynapse2Checkpoint ck;
  ck.dir = dir;
  const auto config_path = dir / "config.json";
  json doc;
  try {
    doc = json::parse(read_file_text(config_path));
  } catch (const json::exception& e) {
    throw InputError(config_path.string(), std::string("invalid JSON: ") + e.what());
  }
  ck.config = train::config_from_json(doc, config_path.string());
  ck.net = read_dynapse_net(dir / kModelFile);
  return ck;
}

std::vector<int> predict(const DynapseNet& net, const FloatArray& x, int threads) {
  return predict_classes(make_kernel<float>(net), x, threads);
}

}  // namespace spikeline::hw::dynapse2
