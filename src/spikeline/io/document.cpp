#include "spikeline/io/document.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"
#include "spikeline/core/fs.hpp"

namespace spikeline::io {
namespace {

using ojson = nlohmann::ordered_json;

ojson yaml_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const ojson number = ojson::parse(text, nullptr, false);
  if (!number.is_discarded() && number.is_number()) return number;
  return text;
}

ojson yaml_to_json(const YAML::Node& node, const std::string& source) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return yaml_scalar(node);
    case YAML::NodeType::Sequence: {
      ojson list = ojson::array();
      for (const auto& item : node) list.push_back(yaml_to_json(item, source));
      return list;
    }
    case YAML::NodeType::Map: {
      ojson obj = ojson::object();
      for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        if (obj.contains(key)) throw InputError(source + ": " + key, "appears twice");
        obj[key] = yaml_to_json(kv.second, source);
      }
      return obj;
    }
  }
  return nullptr;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string strip_tag(const char* what) {
  std::string s = what;
  if (const auto end = s.find("] "); s.starts_with("[json.exception") && end != std::string::npos) s.erase(0, end + 2);
  return s;
}

}  // namespace

ojson document_from_yaml(std::string_view text, const std::string& source) {
  ojson doc;
  try {
    doc = yaml_to_json(YAML::Load(std::string(text)), source);
  } catch (const YAML::Exception& e) {
    throw InputError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                     "invalid YAML: " + e.msg);
  }
  // YAML scalars are raw bytes; JSON text must be UTF-8 (as the JSON reader already insists), or
  // the first dump of the document (store, resolved config) would fail far from the file.
  try {
    (void)doc.dump();
  } catch (const ojson::type_error& e) {
    throw InputError(source, "invalid UTF-8 text: " + strip_tag(e.what()));
  }
  return doc;
}

ojson document_from_json(std::string_view text, const std::string& source) {
  try {
    return ojson::parse(text.begin(), text.end());
  } catch (const ojson::parse_error& e) {
    throw InputError(source, fmt::format("invalid JSON at byte {}: {}", e.byte, strip_tag(e.what())));
  } catch (const ojson::exception& e) {  // e.g. a number too large for a double
    throw InputError(source, fmt::format("invalid JSON: {}", strip_tag(e.what())));
  }
}

ojson read_document(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw InputError(path.string(), "file not found");
  const auto ext = path.extension().string();
  const std::string text = read_file_text(path);
  if (ext == ".yaml" || ext == ".yml") return document_from_yaml(text, path.string());
  return document_from_json(text, path.string());
}

}  // namespace spikeline::io
