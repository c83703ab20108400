#include "spikeline/data/spikes.hpp"

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/io/npy.hpp"

namespace spikeline::data {

std::size_t SpikeSet::steps() const {
  for (const auto& s : splits)
    if (s.x.ndim() == 3) return s.x.dim(1);
  return 0;
}

std::size_t SpikeSet::channels() const {
  for (const auto& s : splits)
    if (s.x.ndim() == 3) return s.x.dim(2);
  return 0;
}

nlohmann::json spikes_sidecar(const SpikeSet& set) {
  using nlohmann::json;
  json classes = json::array();
  for (std::size_t i = 0; i < set.classes.size(); ++i)
    classes.push_back({{"index", i},
                       {"letter", set.classes[i].letter ? std::string(1, set.classes[i].letter) : ""},
                       {"name", set.classes[i].name}});
  json counts = json::object(), sizes = json::object();
  for (int s = 0; s < 3; ++s) {
    const auto c = class_counts(set.splits[s].y, set.classes.size());
    json per_class = json::object();
    for (std::size_t k = 0; k < c.size(); ++k) per_class[set.classes[k].name] = c[k];
    counts[std::string(kSplitNames[s])] = per_class;
    sizes[std::string(kSplitNames[s])] = set.splits[s].size();
  }
  return json{{"format", "spikeline.spikes"},
              {"version", 1},
              {"x", "uint8 spike counts [n, steps, channels]"},
              {"y", "int64 class index [n]"},
              {"classes", classes},
              {"steps", set.steps()},
              {"channels", set.info.channels},
              {"dt", set.info.dt},
              {"sample_time_modifier", set.info.sample_time_modifier},
              {"sample_period", set.info.sample_period},
              {"duration", static_cast<double>(set.steps()) * set.info.dt},
              {"encoder", set.info.encoder},
              {"sizes", sizes},
              {"counts", counts},
              {"windows", set.info.windows}};
}

void write_spikes(const std::filesystem::path& path, const SpikeSet& set) {
  io::Npz npz;
  for (int s = 0; s < 3; ++s) {
    const std::string name(kSplitNames[s]);
    const auto& split = set.splits[s];
    npz.add(name + "_x", io::NpyArray::from<std::uint8_t>(split.x.shape, split.x.span()));
    const std::vector<std::int64_t> y(split.y.begin(), split.y.end());
    npz.add(name + "_y", io::NpyArray::from<std::int64_t>({y.size()}, y));
  }
  io::write_npz(path, npz);
  write_file_atomic(sidecar_path(path), spikes_sidecar(set).dump(2) + "\n");
}

SpikeSet read_spikes(const std::filesystem::path& path) {
  const io::Npz npz = io::read_npz(path);
  const std::string where = path.string();
  SpikeSet set;
  std::int64_t max_label = -1;
  for (int s = 0; s < 3; ++s) {
    const std::string name(kSplitNames[s]);
    const auto& xa = npz.at(name + "_x");
    const auto& ya = npz.at(name + "_y");
    if (xa.shape.size() != 3)
      throw InputError(where + ":" + name + "_x", "expected shape [n, steps, channels], got " + shape_to_string(xa.shape));
    if (xa.dtype != io::DType::u8)
      throw InputError(where + ":" + name + "_x", "expected uint8 spike counts, got " + io::dtype_name(xa.dtype));
    if (ya.shape.size() != 1 || ya.shape[0] != xa.shape[0])
      throw InputError(where + ":" + name + "_y", "expected " + std::to_string(xa.shape[0]) + " labels, got shape " + shape_to_string(ya.shape));
    auto& split = set.splits[s];
    split.x = Array<std::uint8_t>(xa.shape, std::vector<std::uint8_t>(xa.bytes.begin(), xa.bytes.end()));
    for (std::int64_t v : ya.to_int64()) {
      if (v < 0 || v > 1'000'000) throw InputError(where + ":" + name + "_y", "label out of range: " + std::to_string(v));
      max_label = std::max(max_label, v);
      split.y.push_back(static_cast<std::int32_t>(v));
    }
  }
  const auto side = sidecar_path(path);
  if (!std::filesystem::exists(side))
    throw InputError(where, "missing sidecar " + side.string() + " (class names and time step live there)");
  try {
    const auto j = nlohmann::json::parse(read_file_text(side));
    for (const auto& c : j.at("classes")) {
      const std::string letter = c.value("letter", "");
      set.classes.push_back({letter.size() == 1 ? letter[0] : '\0', c.value("name", "")});
    }
    set.info.encoder = j.value("encoder", nlohmann::json::object());
    set.info.channels = j.value("channels", std::vector<std::string>{});
    set.info.dt = j.value("dt", 0.05);
    set.info.sample_time_modifier = j.value("sample_time_modifier", 1.0);
    set.info.sample_period = j.value("sample_period", 0.05);
    set.info.windows = j.value("windows", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(side.string(), std::string("invalid sidecar: ") + e.what());
  }
  if (static_cast<std::int64_t>(set.classes.size()) <= max_label)
    throw InputError(side.string(), "lists " + std::to_string(set.classes.size()) +
                                        " classes but a label is " + std::to_string(max_label));
  return set;
}

}  // namespace spikeline::data
