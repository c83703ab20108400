#pragma once
// An error answered to the HTTP client as {"error": message} with a 4xx/5xx status.
#include <stdexcept>
#include <string>

namespace spikeline::server {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

}  // namespace spikeline::server
