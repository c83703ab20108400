#pragma once
// The experiment dashboard: a read-only HTTP server (web pages + REST API under /api/v1/) over one
// or more experiment directories. Used by `spikeline dashboard` and `spikeline hpo run --port`.
// Security model (docs/dashboard.md): binds 127.0.0.1 by default; another address needs
// allow_remote; only GET is served; requests can read experiment stores and files inside trial
// directories, nothing else, and can neither write nor run anything.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace spikeline::server {

struct DashboardOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port is chosen
  bool allow_remote = false;  // required to bind an address other than loopback
  std::vector<std::filesystem::path> experiment_dirs;  // each holds experiment.db
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

class Dashboard {
 public:
  // Checks the options and the directories and binds the port (so port() is known at once).
  // Throws InputError for bad options/directories, IoError when the port cannot be bound.
  explicit Dashboard(DashboardOptions options);
  ~Dashboard();  // stops the server
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  void start();  // serves on a background thread; returns at once
  void stop();   // idempotent; waits for the server thread
  int port() const;
  std::string url() const;  // e.g. "http://127.0.0.1:8080/"
  // Experiment ids served, in the order given.
  std::vector<std::string> experiment_ids() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spikeline::server
