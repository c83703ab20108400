// Fuzzes the Dynap-SE2 chip configuration reader and what runs on a configuration that was read:
// validation, resource counting and the rebuild of the network it realises. Only spikeline::Error
// may escape; any other exception, crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/hw/dynapse2/chip_config.hpp"
#include "spikeline/hw/dynapse2/from_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  namespace d2 = spikeline::hw::dynapse2;
  try {
    const d2::ChipConfig c = d2::chip_config_from_json(doc, "fuzz.json");
    (void)d2::validate_chip_config(c);
    (void)d2::count_chip_resources(c);
    (void)d2::to_json(c);
    (void)d2::net_from_config(c);
  } catch (const spikeline::Error&) {
  }
  return 0;
}
