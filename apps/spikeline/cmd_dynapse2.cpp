// spikeline dynapse2 codec | sim: Dynap-SE2 numeric building blocks (docs/dynapse2.md).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "spikeline/core/error.hpp"
#include "spikeline/hw/dynapse2/bias.hpp"
#include "spikeline/hw/dynapse2/dynapsim.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::cli {

namespace {

namespace d2 = spikeline::hw::dynapse2;

struct CodecArgs {
  std::string param;
  double current = NAN;
  int coarse = -1;
  int fine = -1;
  std::string format = "console";
  bool list = false;
};

void codec_cmd(const CodecArgs& a) {
  if (a.list) {
    for (const d2::BiasParam& p : d2::bias_params())
      std::printf("%-20s %-12s %c  scale %g\n", std::string(p.device_name).c_str(),
                  p.sim_name.empty() ? "-" : std::string(p.sim_name).c_str(), p.type == d2::Transistor::N ? 'N' : 'P',
                  p.scale_factor);
    return;
  }
  if (a.param.empty()) throw InputError("--param", "required (device name like SOIF_LEAK_N or current like Itau_mem)");
  const d2::BiasParam* p = d2::find_bias_param(a.param);
  if (!p) throw InputError("--param", "unknown parameter '" + a.param + "' (see 'spikeline dynapse2 codec --list')");
  const bool from_current = !std::isnan(a.current);
  const bool from_setting = a.coarse >= 0 || a.fine >= 0;
  if (from_current == from_setting) throw InputError("dynapse2 codec", "give either --current or --coarse and --fine");
  if (from_setting && (a.coarse < 0 || a.fine < 0)) throw InputError("dynapse2 codec", "give both --coarse and --fine");
  const d2::CoarseFine cf = from_current ? d2::encode_current(*p, a.current) : d2::CoarseFine{a.coarse, a.fine};
  const double decoded = d2::decode_current(*p, cf);
  const std::string dev(p->device_name), sim(p->sim_name);
  if (a.format == "json") {
    nlohmann::json j{{"param", dev},       {"sim_name", sim},   {"transistor_type", p->type == d2::Transistor::N ? "N" : "P"},
                     {"scale_factor", p->scale_factor}, {"coarse", cf.coarse}, {"fine", cf.fine},
                     {"decoded_A", decoded}};
    if (from_current) j["requested_A"] = a.current;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  if (from_current)
    std::printf("%s%s: %.6e A -> coarse %d, fine %d -> %.6e A (%+.2f%%)\n", dev.c_str(),
                sim.empty() ? "" : (" (" + sim + ")").c_str(), a.current, cf.coarse, cf.fine, decoded,
                a.current > 0.0 ? 100.0 * (decoded - a.current) / a.current : 0.0);
  else
    std::printf("%s%s: coarse %d, fine %d -> %.6e A\n", dev.c_str(), sim.empty() ? "" : (" (" + sim + ")").c_str(),
                cf.coarse, cf.fine, decoded);
}

struct SimArgs {
  std::string params, input, out;
  std::string precision = "float32";
};

template <class T>
void run_sim(const d2::DynapSimParams& p, const std::vector<double>& w_in, int n_in, const std::vector<double>& x,
             const Shape& shape, bool two_d, const std::string& out) {
  const std::size_t batch = shape[0], steps = shape[1], ch = shape[2];
  const std::vector<T> w(w_in.begin(), w_in.end());
  std::vector<T> spikes, imem, isyn, iahp, vmem;
  for (std::size_t b = 0; b < batch; ++b) {
    // State is reset per sample, as the thesis's training and evaluation do.
    std::vector<T> u(x.begin() + static_cast<std::ptrdiff_t>(b * steps * ch),
                     x.begin() + static_cast<std::ptrdiff_t>((b + 1) * steps * ch));
    if (n_in > 0) u = d2::weighted_input<T>(u, w, static_cast<int>(steps), n_in, p.n);
    const auto r = d2::dynapsim_forward<T>(p, u, static_cast<int>(steps));
    spikes.insert(spikes.end(), r.spikes.begin(), r.spikes.end());
    imem.insert(imem.end(), r.imem.begin(), r.imem.end());
    isyn.insert(isyn.end(), r.isyn.begin(), r.isyn.end());
    iahp.insert(iahp.end(), r.iahp.begin(), r.iahp.end());
    vmem.insert(vmem.end(), r.vmem.begin(), r.vmem.end());
  }
  const Shape dims = two_d ? Shape{steps, std::size_t(p.n)} : Shape{batch, steps, std::size_t(p.n)};
  io::Npz npz;
  npz.add("spikes", io::NpyArray::from<T>(dims, spikes));
  npz.add("imem", io::NpyArray::from<T>(dims, imem));
  npz.add("isyn", io::NpyArray::from<T>(dims, isyn));
  npz.add("iahp", io::NpyArray::from<T>(dims, iahp));
  npz.add("vmem", io::NpyArray::from<T>(dims, vmem));
  io::write_npz(out, npz);
  std::printf("wrote %s: %zu sample(s) x %zu steps, %d neurons\n", out.c_str(), batch, steps, p.n);
}

void sim_cmd(const SimArgs& a) {
  std::ifstream in(a.params);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(a.params, std::string("invalid JSON: ") + e.what());
  }
  // Optional input weights: the input is then raw per-channel counts, multiplied by w_in.
  std::vector<double> w_in;
  int n_in = 0;
  if (j.is_object() && j.contains("w_in")) {
    const auto& w = j.at("w_in");
    if (!w.is_array() || w.empty()) throw InputError(a.params, "field 'w_in': expected [n_in][n] numbers");
    n_in = static_cast<int>(w.size());
    for (const auto& row : w) {
      if (!row.is_array() || row.size() != j.value("n", 0))
        throw InputError(a.params, "field 'w_in': every row needs n values");
      for (const auto& v : row) {
        if (!v.is_number()) throw InputError(a.params, "field 'w_in': expected numbers");
        w_in.push_back(v.get<double>());
      }
    }
    j.erase("w_in");
  }
  const d2::DynapSimParams p = d2::dynapsim_params_from_json(j, a.params);
  const io::NpyArray arr = io::read_npy(a.input);
  Shape shape = arr.shape;
  const bool two_d = shape.size() == 2;
  if (two_d) shape.insert(shape.begin(), 1);
  const std::size_t want = n_in > 0 ? std::size_t(n_in) : std::size_t(p.n);
  if (shape.size() != 3 || shape[2] != want)
    throw InputError(a.input, "expected [T, " + std::to_string(want) + "] or [B, T, " + std::to_string(want) +
                                  "], got " + shape_to_string(arr.shape));
  const std::vector<double> x = arr.to_double();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) throw InputError(a.input, "element " + std::to_string(i) + " is not finite");
  if (a.precision == "float64")
    run_sim<double>(p, w_in, n_in, x, shape, two_d, a.out);
  else
    run_sim<float>(p, w_in, n_in, x, shape, two_d, a.out);
}

}  // namespace

void add_dynapse2_commands(CLI::App& app) {
  auto* dy = app.add_subcommand("dynapse2", "Dynap-SE2 building blocks: bias codec, DynapSim simulation");
  dy->require_subcommand(1);

  auto c_args = std::make_shared<CodecArgs>();
  auto* codec = dy->add_subcommand("codec", "Convert a current <-> bias-generator (coarse, fine) setting");
  codec->add_option("--param", c_args->param, "Device parameter (SOIF_LEAK_N) or simulator current (Itau_mem)");
  codec->add_option("--current", c_args->current, "Current in A to encode to the nearest (coarse, fine)");
  codec->add_option("--coarse", c_args->coarse, "Coarse level 0..5 to decode (with --fine)");
  codec->add_option("--fine", c_args->fine, "Fine level 0..255 to decode (with --coarse)");
  codec->add_option("--format", c_args->format, "console or json")
      ->capture_default_str()->check(CLI::IsMember({"console", "json"}));
  codec->add_flag("--list", c_args->list, "List the device parameters, their currents and scale factors");
  codec->callback([c_args] { codec_cmd(*c_args); });

  auto s_args = std::make_shared<SimArgs>();
  auto* sim = dy->add_subcommand("sim", "Simulate DynapSim (Rockpool 2.7 forward dynamics), state reset per sample");
  sim->add_option("--params", s_args->params, "Parameters JSON (docs/dynapse2.md): n, per-neuron currents, w_rec, "
                  "optional w_in, Iscale, dt")->required()->check(CLI::ExistingFile);
  sim->add_option("--input", s_args->input, "Input .npy [T, C] or [B, T, C]: weighted input per neuron (C = n), or "
                  "counts per channel when the params have w_in (C = n_in)")->required()->check(CLI::ExistingFile);
  sim->add_option("--out", s_args->out, "Output .npz: 'spikes', 'imem', 'isyn', 'iahp', 'vmem', shaped [.., T, n]")
      ->required();
  sim->add_option("--precision", s_args->precision, "float32 (as Rockpool) or float64")
      ->capture_default_str()->check(CLI::IsMember({"float32", "float64"}));
  sim->callback([s_args] { sim_cmd(*s_args); });
}

}  // namespace spikeline::cli
