#include "spikeline/hw/dynapse2/chip_config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::hw::dynapse2 {

using nlohmann::json;

const std::vector<std::string>& core_parameter_names() {
  static const std::vector<std::string> names = {
      "Idc",       "If_nmda",   "Igain_ahp",  "Igain_ampa", "Igain_gaba", "Igain_nmda", "Igain_shunt", "Igain_mem",
      "Ipulse_ahp", "Ipulse",   "Iref",       "Ispkthr",    "Itau_ahp",   "Itau_ampa",  "Itau_gaba",   "Itau_nmda",
      "Itau_shunt", "Itau_mem", "Iw_0",       "Iw_1",       "Iw_2",       "Iw_3",       "Iw_ahp"};
  return names;
}

const DeviceSetting* CoreSetup::find(std::string_view name) const {
  for (const DeviceSetting& p : params)
    if (p.sim_name == name || p.device_name == name) return &p;
  return nullptr;
}

std::string dendrite_name(Dendrite d) { return d == Dendrite::AMPA ? "AMPA" : "GABA"; }

int CamEntry::mask() const {
  int m = 0;
  for (int k = 0; k < kWeightBits; ++k) m |= int(weight[std::size_t(k)]) << k;
  return m;
}

namespace {

const BiasParam& bias_param(const std::string& sim_name) {
  const BiasParam* p = find_bias_param(sim_name);
  SPIKELINE_ASSERT(p != nullptr);
  return *p;
}

// The requested current of one device parameter of cluster c (§7: the single synapse's currents
// copied to all four dendrite types).
double requested_current(const QuantizedSpec& q, int c, const std::string& name) {
  const CoreCurrents& k = q.spec.cores[std::size_t(c)];
  const auto& Iw = q.Iw[std::size_t(c)];
  if (name == "Idc") return k.Idc;
  if (name == "If_nmda") return k.If_nmda;
  if (name == "Igain_ahp") return k.Igain_ahp;
  if (name.starts_with("Igain_") && name != "Igain_mem") return k.Igain_syn;
  if (name == "Igain_mem") return k.Igain_mem;
  if (name == "Ipulse_ahp") return k.Ipulse_ahp;
  if (name == "Ipulse") return k.Ipulse;
  if (name == "Iref") return k.Iref;
  if (name == "Ispkthr") return k.Ispkthr;
  if (name == "Itau_ahp") return k.Itau_ahp;
  if (name == "Itau_mem") return k.Itau_mem;
  if (name.starts_with("Itau_")) return k.Itau_syn;
  if (name == "Iw_ahp") return k.Iw_ahp;
  if (name.size() == 4 && name.starts_with("Iw_")) return Iw[std::size_t(name[3] - '0')];
  SPIKELINE_ASSERT(false && "unknown core parameter");
  return 0.0;
}

DeviceSetting make_setting(const std::string& sim_name, double requested, int cluster) {
  const BiasParam& p = bias_param(sim_name);
  if (!std::isfinite(requested) || requested < 0.0)
    throw InputError(fmt::format("cluster {} {} ({})", cluster, sim_name, p.device_name),
                     fmt::format("current must be finite and >= 0 to be set on the bias generator, got {}", requested));
  DeviceSetting s;
  s.device_name = std::string(p.device_name);
  s.sim_name = sim_name;
  s.requested = requested;
  s.cf = encode_current(p, requested);
  s.current = decode_current(p, s.cf);
  return s;
}

std::array<bool, kWeightBits> mask_bits(int mask) {
  std::array<bool, kWeightBits> b{};
  for (int k = 0; k < kWeightBits; ++k) b[std::size_t(k)] = (mask >> k) & 1;
  return b;
}

// One destination per target chip (in the order the chips first appear), a core mask per chip;
// Rockpool 2.7 keeps only the last chip's entry (an indentation slip) - we keep all.
std::vector<Destination> destinations(const std::vector<int>& target_clusters, int source_chip, int tag) {
  std::vector<Destination> out;
  for (int cl : target_clusters) {
    const int chip = cl / kCoresPerChip;
    auto it = std::find_if(out.begin(), out.end(), [&](const Destination& d) { return d.x_hop == chip - source_chip; });
    if (it == out.end()) {
      out.push_back({tag, {}, chip - source_chip, 0});  // chips sit in a row: (chip + 1, 0)
      it = out.end() - 1;
    }
    it->core_mask[std::size_t(cl % kCoresPerChip)] = true;
  }
  return out;
}

void check_spec(const QuantizedSpec& q) {
  const Spec& s = q.spec;
  const std::string where = "quantized spec";
  if (s.n_cluster < 1 || s.cores.size() != std::size_t(s.n_cluster) || q.Iw.size() != std::size_t(s.n_cluster))
    throw InputError(where, fmt::format("n_cluster {} needs as many core currents ({}) and Iw sets ({})", s.n_cluster,
                                        s.cores.size(), q.Iw.size()));
  if (s.core_map.size() != std::size_t(s.n_neuron))
    throw InputError(where, fmt::format("core_map has {} entries for {} neurons", s.core_map.size(), s.n_neuron));
  for (int n = 0; n < s.n_neuron; ++n)
    if (s.core_map[std::size_t(n)] < 0 || s.core_map[std::size_t(n)] >= s.n_cluster)
      throw InputError(where, fmt::format("core_map[{}] = {} is not a cluster 0..{}", n, s.core_map[std::size_t(n)],
                                          s.n_cluster - 1));
  const auto shape_ok = [](const auto& m, int r, int c) { return m.rows == r && m.cols == c && m.v.size() == std::size_t(r) * c; };
  if (!shape_ok(q.masks_in, s.n_in, s.n_neuron) || !shape_ok(q.sign_in, s.n_in, s.n_neuron) ||
      !shape_ok(q.masks_rec, s.n_neuron, s.n_neuron) || !shape_ok(q.sign_rec, s.n_neuron, s.n_neuron))
    throw InputError(where, "masks/signs must be [n_in, n] and [n, n]");
  for (const auto* m : {&q.masks_in, &q.masks_rec})
    for (int v : m->v)
      if (v < 0 || v > 15) throw InputError(where, fmt::format("weight mask {} outside 0..15", v));
}

void add_synapses(NeuronSetup& nr, const IntMatrix& masks, const Matrix& sign, int post, int tag0,
                  const std::string& what) {
  for (int pre = 0; pre < masks.rows; ++pre) {
    const int m = masks(pre, post);
    if (m == 0) continue;
    const double s = sign(pre, post);
    if (s == 0.0)
      throw InputError("quantized spec", fmt::format("{} weight {} -> {} has mask {} but sign 0", what, pre, post, m));
    nr.cam.push_back({tag0 + pre, s > 0 ? Dendrite::AMPA : Dendrite::GABA, mask_bits(m)});
  }
}

}  // namespace

ChipConfig chip_config_from_spec(const QuantizedSpec& q) {
  check_spec(q);
  const Spec& s = q.spec;
  ChipConfig c;
  c.n_in = s.n_in;
  c.n_neuron = s.n_neuron;
  c.Iscale = s.Iscale;
  c.dt = s.dt;
  for (int k = 0; k < s.n_cluster; ++k) {
    CoreSetup core;
    core.cluster = k;
    for (const std::string& name : core_parameter_names())
      core.params.push_back(make_setting(name, requested_current(q, k, name), k));
    c.cores.push_back(std::move(core));
  }
  std::vector<int> in_core(std::size_t(s.n_cluster), 0);
  for (int n = 0; n < s.n_neuron; ++n) {
    NeuronSetup nr;
    nr.id = n;
    nr.cluster = s.core_map[std::size_t(n)];
    nr.index = in_core[std::size_t(nr.cluster)]++;
    nr.tag = s.n_in + n;
    nr.dc_latch = s.cores[std::size_t(nr.cluster)].Idc > 0.0;
    add_synapses(nr, q.masks_in, q.sign_in, n, 0, "input");
    add_synapses(nr, q.masks_rec, q.sign_rec, n, s.n_in, "recurrent");
    // Every neuron is monitored, so the output neurons are read even without outgoing synapses
    // (Rockpool 2.7 drops those, its issue #10).
    nr.sram.push_back({n, {true, true, true, true}, kMonitorHop, kMonitorHop});
    std::vector<int> targets;
    for (int post = 0; post < s.n_neuron; ++post)
      if (q.masks_rec(n, post) != 0 && std::find(targets.begin(), targets.end(), s.core_map[std::size_t(post)]) == targets.end())
        targets.push_back(s.core_map[std::size_t(post)]);
    for (const Destination& d : destinations(targets, nr.cluster / kCoresPerChip, nr.tag)) nr.sram.push_back(d);
    c.neurons.push_back(std::move(nr));
  }
  for (int i = 0; i < s.n_in; ++i) {
    std::vector<int> targets;
    for (int post = 0; post < s.n_neuron; ++post)
      if (q.masks_in(i, post) != 0 && std::find(targets.begin(), targets.end(), s.core_map[std::size_t(post)]) == targets.end())
        targets.push_back(s.core_map[std::size_t(post)]);
    c.inputs.push_back({i, i, destinations(targets, 0, i)});  // the host injects on chip 0
  }
  return c;
}

std::vector<std::string> validate_chip_config(const ChipConfig& c) {
  std::vector<std::string> out;
  if (int(c.cores.size()) > kCoresPerBoard)
    out.push_back(fmt::format("{} cores used, a board has {} ({} chips x {} cores)", c.cores.size(), kCoresPerBoard,
                              kChipsPerBoard, kCoresPerChip));
  std::vector<int> per_core(c.cores.size(), 0);
  for (const NeuronSetup& n : c.neurons)
    if (n.cluster >= 0 && std::size_t(n.cluster) < per_core.size()) ++per_core[std::size_t(n.cluster)];
    else out.push_back(fmt::format("neuron {}: core {} is not configured", n.id, n.cluster));
  for (std::size_t k = 0; k < per_core.size(); ++k)
    if (per_core[k] > kNeuronsPerCore)
      out.push_back(fmt::format("core {} (chip {}, core {}): {} neurons, at most {}", k, k / kCoresPerChip,
                                k % kCoresPerChip, per_core[k], kNeuronsPerCore));
  if (c.n_in + 2 * c.n_neuron > kNumTags)
    out.push_back(fmt::format("tags: {} inputs + 2 x {} neurons need {} tags, the chip has {}", c.n_in, c.n_neuron,
                              c.n_in + 2 * c.n_neuron, kNumTags));
  std::set<int> known;
  for (const InputChannel& i : c.inputs) known.insert(i.tag);
  for (const NeuronSetup& n : c.neurons) known.insert(n.tag);
  for (const NeuronSetup& n : c.neurons) {
    if (n.cam.size() > std::size_t(kCamPerNeuron))
      out.push_back(fmt::format("neuron {}: {} CAM entries (synapses), at most {}", n.id, n.cam.size(), kCamPerNeuron));
    if (n.sram.size() > std::size_t(kSramPerNeuron))
      out.push_back(fmt::format("neuron {}: {} SRAM entries (destinations, monitor included), at most {}", n.id,
                                n.sram.size(), kSramPerNeuron));
    if (n.tag < 0 || n.tag >= kNumTags) out.push_back(fmt::format("neuron {}: tag {} outside 0..{}", n.id, n.tag, kNumTags - 1));
    for (std::size_t e = 0; e < n.cam.size(); ++e)
      if (!known.contains(n.cam[e].tag))
        out.push_back(fmt::format("neuron {} CAM entry {}: tag {} belongs to no input channel or neuron", n.id, e,
                                  n.cam[e].tag));
  }
  for (const InputChannel& i : c.inputs)
    if (i.tag < 0 || i.tag >= kNumTags)
      out.push_back(fmt::format("input channel {}: tag {} outside 0..{}", i.channel, i.tag, kNumTags - 1));
  return out;
}

ChipResources count_chip_resources(const ChipConfig& c) {
  ChipResources r;
  r.cores = int(c.cores.size());
  r.neurons = int(c.neurons.size());
  r.inputs = int(c.inputs.size());
  std::set<int> tags;
  for (const NeuronSetup& n : c.neurons) {
    r.cam_entries += int(n.cam.size());
    r.max_cam = std::max(r.max_cam, int(n.cam.size()));
    r.sram_entries += int(n.sram.size());
    r.max_sram = std::max(r.max_sram, int(n.sram.size()));
    for (const CamEntry& e : n.cam) tags.insert(e.tag);
  }
  r.tags = int(tags.size());
  return r;
}

// ---- JSON ----

namespace {

json destination_json(const Destination& d) {
  return {{"tag", d.tag}, {"core_mask", d.core_mask}, {"x_hop", d.x_hop}, {"y_hop", d.y_hop}};
}

// Field access with errors naming the file and the path of the field.
struct Reader {
  std::string where;
  const json& at(const json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object() || !j.contains(key)) throw InputError(where, "missing field '" + path + key + "'");
    return j.at(key);
  }
  int integer(const json& j, const std::string& key, const std::string& path, int lo, int hi) const {
    const json& v = at(j, key, path);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      throw InputError(where, fmt::format("field '{}{}': expected an integer {}..{}, got {}", path, key, lo, hi, v.dump()));
    return v.get<int>();
  }
  double number(const json& j, const std::string& key, const std::string& path) const {
    const json& v = at(j, key, path);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw InputError(where, fmt::format("field '{}{}': expected a finite number", path, key));
    return v.get<double>();
  }
  const json& array(const json& j, const std::string& key, const std::string& path) const {
    const json& v = at(j, key, path);
    if (!v.is_array()) throw InputError(where, fmt::format("field '{}{}': expected an array", path, key));
    return v;
  }
  template <std::size_t N>
  std::array<bool, N> bools(const json& j, const std::string& key, const std::string& path) const {
    const json& v = at(j, key, path);
    if (!v.is_array() || v.size() != N || !std::all_of(v.begin(), v.end(), [](const json& b) { return b.is_boolean(); }))
      throw InputError(where, fmt::format("field '{}{}': expected {} booleans", path, key, N));
    std::array<bool, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = v[i].get<bool>();
    return out;
  }
  Destination destination(const json& j, const std::string& path) const {
    Destination d;
    d.tag = integer(j, "tag", path, 0, 1 << 20);
    d.core_mask = bools<kCoresPerChip>(j, "core_mask", path);
    d.x_hop = integer(j, "x_hop", path, -16, 16);
    d.y_hop = integer(j, "y_hop", path, -16, 16);
    return d;
  }
};

}  // namespace

json to_json(const ChipConfig& c) {
  json cores = json::array();
  for (const CoreSetup& k : c.cores) {
    json params = json::object();
    for (const DeviceSetting& p : k.params)
      params[p.sim_name] = {{"device", p.device_name}, {"coarse", p.cf.coarse}, {"fine", p.cf.fine},
                            {"current", p.current}, {"requested", p.requested}};
    cores.push_back({{"cluster", k.cluster}, {"chip", k.chip()}, {"core", k.core()}, {"parameters", params}});
  }
  json neurons = json::array();
  for (const NeuronSetup& n : c.neurons) {
    json cam = json::array(), sram = json::array();
    for (const CamEntry& e : n.cam)
      cam.push_back({{"tag", e.tag}, {"dendrite", dendrite_name(e.dendrite)}, {"weight", e.weight}});
    for (const Destination& d : n.sram) sram.push_back(destination_json(d));
    neurons.push_back({{"id", n.id}, {"cluster", n.cluster}, {"index", n.index}, {"tag", n.tag},
                       {"dc_latch", n.dc_latch}, {"cam", cam}, {"sram", sram}});
  }
  json inputs = json::array();
  for (const InputChannel& i : c.inputs) {
    json dest = json::array();
    for (const Destination& d : i.destinations) dest.push_back(destination_json(d));
    inputs.push_back({{"channel", i.channel}, {"tag", i.tag}, {"destinations", dest}});
  }
  return {{"format", "spikeline-dynapse2-config"}, {"version", 1}, {"n_in", c.n_in}, {"n_neuron", c.n_neuron},
          {"Iscale", c.Iscale}, {"dt", c.dt}, {"cores", cores}, {"neurons", neurons}, {"input_channel_map", inputs}};
}

ChipConfig chip_config_from_json(const json& j, const std::string& where) {
  const Reader r{where};
  if (!j.is_object() || j.value("format", "") != "spikeline-dynapse2-config")
    throw InputError(where, "not a Dynap-SE2 configuration (expected \"format\": \"spikeline-dynapse2-config\")");
  ChipConfig c;
  c.n_in = r.integer(j, "n_in", "", 0, 1 << 20);
  c.n_neuron = r.integer(j, "n_neuron", "", 1, 1 << 20);
  c.Iscale = r.number(j, "Iscale", "");
  c.dt = r.number(j, "dt", "");
  if (!(c.Iscale > 0.0) || !(c.dt > 0.0)) throw InputError(where, "fields 'Iscale' and 'dt' must be > 0");
  const json& cores = r.array(j, "cores", "");
  for (std::size_t k = 0; k < cores.size(); ++k) {
    const std::string path = fmt::format("cores[{}].", k);
    CoreSetup core;
    core.cluster = r.integer(cores[k], "cluster", path, int(k), int(k));
    const json& params = r.at(cores[k], "parameters", path);
    for (const std::string& name : core_parameter_names()) {
      const std::string pp = path + "parameters." + name + ".";
      const json& p = r.at(params, name, path + "parameters.");
      const BiasParam& bp = bias_param(name);
      DeviceSetting s;
      s.device_name = std::string(bp.device_name);
      s.sim_name = name;
      s.cf = {r.integer(p, "coarse", pp, 0, kCoarseLevels - 1), r.integer(p, "fine", pp, 0, kFineLevels - 1)};
      s.current = decode_current(bp, s.cf);
      s.requested = p.contains("requested") ? r.number(p, "requested", pp) : 0.0;
      core.params.push_back(std::move(s));
    }
    for (const auto& [key, value] : params.items())
      if (std::find(core_parameter_names().begin(), core_parameter_names().end(), key) == core_parameter_names().end())
        throw InputError(where, fmt::format("field '{}parameters.{}': unknown device parameter", path, key));
    c.cores.push_back(std::move(core));
  }
  const int n_cores = int(c.cores.size());
  const json& neurons = r.array(j, "neurons", "");
  if (neurons.size() != std::size_t(c.n_neuron))
    throw InputError(where, fmt::format("field 'neurons': {} entries for n_neuron {}", neurons.size(), c.n_neuron));
  for (std::size_t n = 0; n < neurons.size(); ++n) {
    const std::string path = fmt::format("neurons[{}].", n);
    NeuronSetup nr;
    nr.id = r.integer(neurons[n], "id", path, int(n), int(n));
    nr.cluster = r.integer(neurons[n], "cluster", path, 0, std::max(0, n_cores - 1));
    nr.index = r.integer(neurons[n], "index", path, 0, 1 << 20);
    nr.tag = r.integer(neurons[n], "tag", path, 0, 1 << 20);
    const json& latch = r.at(neurons[n], "dc_latch", path);
    if (!latch.is_boolean()) throw InputError(where, "field '" + path + "dc_latch': expected true or false");
    nr.dc_latch = latch.get<bool>();
    const json& cam = r.array(neurons[n], "cam", path);
    for (std::size_t e = 0; e < cam.size(); ++e) {
      const std::string cp = fmt::format("{}cam[{}].", path, e);
      CamEntry entry;
      entry.tag = r.integer(cam[e], "tag", cp, 0, 1 << 20);
      const json& d = r.at(cam[e], "dendrite", cp);
      if (d != "AMPA" && d != "GABA") throw InputError(where, "field '" + cp + "dendrite': expected \"AMPA\" or \"GABA\"");
      entry.dendrite = d == "AMPA" ? Dendrite::AMPA : Dendrite::GABA;
      entry.weight = r.bools<kWeightBits>(cam[e], "weight", cp);
      nr.cam.push_back(entry);
    }
    const json& sram = r.array(neurons[n], "sram", path);
    for (std::size_t e = 0; e < sram.size(); ++e) nr.sram.push_back(r.destination(sram[e], fmt::format("{}sram[{}].", path, e)));
    c.neurons.push_back(std::move(nr));
  }
  const json& inputs = r.array(j, "input_channel_map", "");
  if (inputs.size() != std::size_t(c.n_in))
    throw InputError(where, fmt::format("field 'input_channel_map': {} entries for n_in {}", inputs.size(), c.n_in));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string path = fmt::format("input_channel_map[{}].", i);
    InputChannel ch;
    ch.channel = r.integer(inputs[i], "channel", path, int(i), int(i));
    ch.tag = r.integer(inputs[i], "tag", path, 0, 1 << 20);
    const json& dest = r.array(inputs[i], "destinations", path);
    for (std::size_t e = 0; e < dest.size(); ++e)
      ch.destinations.push_back(r.destination(dest[e], fmt::format("{}destinations[{}].", path, e)));
    c.inputs.push_back(std::move(ch));
  }
  return c;
}

ChipConfig read_chip_config(const std::filesystem::path& file) {
  json j;
  try {
    j = json::parse(read_file_text(file));
  } catch (const json::exception& e) {
    throw InputError(file.string(), std::string("not valid JSON: ") + e.what());
  }
  return chip_config_from_json(j, file.string());
}

void write_chip_config(const std::filesystem::path& file, const ChipConfig& c) {
  write_file_atomic(file, to_json(c).dump(1) + "\n");
}

}  // namespace spikeline::hw::dynapse2
