// Loading and saving networks in either model format.
#include "spikeline/io/network_file.hpp"

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"
#include "spikeline/core/rng.hpp"
#include "spikeline/io/rockpool_json.hpp"
#include "spikeline/snn/network_json.hpp"

namespace spikeline::io {

std::string_view network_format_name(NetworkFormat fmt) {
  switch (fmt) {
    case NetworkFormat::Spikeline:
      return "spikeline";
    case NetworkFormat::Rockpool:
      return "rockpool";
  }
  SPIKELINE_ASSERT(false && "unknown NetworkFormat");
  return {};
}

NetworkFormat network_format_from_name(std::string_view name) {
  if (name == "spikeline") return NetworkFormat::Spikeline;
  if (name == "rockpool") return NetworkFormat::Rockpool;
  throw InputError("",
                   fmt::format("unknown network format '{}' (valid: spikeline, rockpool)", name));
}

snn::Network load_network(const std::filesystem::path& path, std::uint64_t init_seed) {
  const std::string source = path.string();
  const nlohmann::json doc = snn::parse_json(read_file_text(path), source);
  if (!doc.is_object())
    throw InputError(source,
                     fmt::format("expected a JSON object (a network), got {}", doc.type_name()));
  snn::Network net;
  if (doc.contains("format")) {
    Rng rng(init_seed);
    net = snn::network_from_json(doc, source, rng);
  } else {
    net = rockpool_from_json(doc, source);
  }
  // The parsers validate already; this keeps the guarantee should either ever stop doing so.
  try {
    net.validate();
  } catch (const InputError& e) {
    throw InputError(source, e.what());
  }
  return net;
}

void save_network(const std::filesystem::path& path, const snn::Network& net, NetworkFormat fmt) {
  net.validate();
  switch (fmt) {
    case NetworkFormat::Spikeline:
      write_file_atomic(path, snn::network_to_json_text(net));
      return;
    case NetworkFormat::Rockpool:
      write_rockpool_json(path, net);
      return;
  }
}

}  // namespace spikeline::io
