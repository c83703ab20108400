#pragma once
// The dashboard's REST API (docs/dashboard.md): GET requests under /api/v1/ answered from the
// experiment stores, independent of the HTTP library. Everything is read-only.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::server {

struct ExperimentSource {
  std::string id;              // experiment id (from the store, else the directory name)
  std::filesystem::path dir;   // experiment directory holding experiment.db
};

// Checks each directory holds an experiment.db and names it by its id. Throws InputError naming
// the directory (missing, no store, id given twice).
std::vector<ExperimentSource> resolve_experiments(const std::vector<std::filesystem::path>& dirs);

using QueryParams = std::multimap<std::string, std::string>;

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string download_name;  // set: sent as an attachment with this file name
};

class Api {
 public:
  explicit Api(std::vector<ExperimentSource> experiments);

  // Answers GET `path` (URL-decoded, starting with /api/). Errors become {"error": ...} with a
  // 4xx/5xx status; never throws.
  ApiResponse get(std::string_view path, const QueryParams& params) const;

  const std::vector<ExperimentSource>& experiments() const { return experiments_; }

 private:
  std::vector<ExperimentSource> experiments_;
};

}  // namespace spikeline::server
