#pragma once
// The dashboard's web files (web/*), compiled into the binary by embed_assets.cmake.
#include <span>
#include <string_view>

namespace spikeline::server {

struct WebAsset {
  std::string_view path;          // URL path, e.g. "/app.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view data;
};

std::span<const WebAsset> web_assets();

}  // namespace spikeline::server
