#pragma once
// Config documents: JSON, or YAML converted to the same JSON document, with key order kept (search
// spaces and parameter sets are ordered). Every config reader (training, experiments, pipelines)
// goes through here, so both syntaxes are checked by one parser with one error style.
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace spikeline::io {

// YAML scalars: quoted ones are strings; plain ones are null, a boolean, an integer or a number when
// they read as one (YAML 1.2 core schema), a string otherwise. A key given twice is an error.
// Errors are InputErrors naming `source`, line and column.
nlohmann::ordered_json document_from_yaml(std::string_view text, const std::string& source);
// Errors name `source` and the byte offset.
nlohmann::ordered_json document_from_json(std::string_view text, const std::string& source);
// By extension: .yaml/.yml is YAML, anything else JSON. A missing file is an InputError.
nlohmann::ordered_json read_document(const std::filesystem::path& path);

}  // namespace spikeline::io
