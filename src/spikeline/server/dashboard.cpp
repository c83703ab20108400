#include "spikeline/server/dashboard.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "spikeline/core/error.hpp"
#include "spikeline/server/api.hpp"
#include "spikeline/server/assets.hpp"

namespace spikeline::server {

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace {

// Host part of a Host header ("127.0.0.1:8080", "[::1]:80", "localhost").
std::string host_of(const std::string& header) {
  if (!header.empty() && header.front() == '[') {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(0, end + 1);
  }
  const auto colon = header.rfind(':');
  return colon == std::string::npos ? header : header.substr(0, colon);
}

void send_json_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

struct Dashboard::Impl {
  DashboardOptions options;
  Api api;
  httplib::Server server;
  int port = -1;
  std::thread thread;
  std::atomic<bool> thread_done{false};

  Impl(DashboardOptions opts, std::vector<ExperimentSource> exps)
      : options(std::move(opts)), api(std::move(exps)) {}

  // Loopback-only servers also check the Host header, so a web page on another site cannot reach
  // the dashboard through DNS rebinding.
  bool host_allowed(const httplib::Request& req) const {
    if (options.allow_remote) return true;
    const std::string host = host_of(req.get_header_value("Host"));
    return is_loopback_host(host) || host == options.host;
  }

  void serve_get(const httplib::Request& req, httplib::Response& res) const {
    if (req.path.rfind("/api/", 0) == 0) {
      const ApiResponse r = api.get(req.path, req.params);
      res.status = r.status;
      res.set_header("Cache-Control", "no-store");
      if (!r.download_name.empty()) {
        res.set_header("Content-Disposition", "attachment; filename=\"" + r.download_name + "\"");
      }
      res.set_content(r.body, r.content_type.c_str());
      return;
    }
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    for (const auto& a : web_assets()) {
      if (a.path == path) {
        res.set_content(std::string(a.data), std::string(a.content_type).c_str());
        return;
      }
    }
    res.status = 404;
    res.set_content("not found\n", "text/plain");
  }

  void install_routes() {
    // httplib's default is SO_REUSEPORT, which lets a second server bind the same port and
    // silently share it; SO_REUSEADDR only allows rebinding after TIME_WAIT.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"X-Frame-Options", "DENY"},
                                {"Referrer-Policy", "no-referrer"},
                                {"Content-Security-Policy",
                                 "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 "img-src 'self' data:; frame-ancestors 'none'"}});
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!host_allowed(req)) {
        send_json_error(res, 403, "host '" + req.get_header_value("Host") + "' not allowed");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method != "GET" && req.method != "HEAD") {
        res.set_header("Allow", "GET, HEAD");
        send_json_error(res, 405, "the dashboard is read-only: only GET is served");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      serve_get(req, res);
    });
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          send_json_error(res, 500, "internal error: " + what);
        });
  }
};

Dashboard::Dashboard(DashboardOptions options) {
  if (options.port < 0 || options.port > 65535) {
    throw InputError("--port", "must be in [0, 65535], got " + std::to_string(options.port));
  }
  if (!is_loopback_host(options.host) && !options.allow_remote) {
    throw InputError("--host", "'" + options.host +
                                   "' is not a loopback address: anyone who can reach it could "
                                   "read the experiments; pass --allow-remote to bind it anyway");
  }
  auto exps = resolve_experiments(options.experiment_dirs);
  impl_ = std::make_unique<Impl>(std::move(options), std::move(exps));
  impl_->install_routes();
  const auto& o = impl_->options;
  const std::string bind_host = o.host == "localhost" ? "127.0.0.1" : o.host;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(bind_host);
  } else {
    impl_->port = impl_->server.bind_to_port(bind_host, o.port) ? o.port : -1;
  }
  if (impl_->port <= 0) {
    throw IoError("dashboard: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (address in use or not available)");
  }
}

Dashboard::~Dashboard() { stop(); }

void Dashboard::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->thread_done = true;
  });
  // Wait until it accepts, so stop() right after start() cannot miss the running server.
  for (int i = 0; i < 2000 && !impl_->server.is_running() && !impl_->thread_done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Dashboard::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  while (!impl_->server.is_running() && !impl_->thread_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  impl_->thread.join();
}

int Dashboard::port() const { return impl_->port; }

std::string Dashboard::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos && h.front() != '[';
  return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port) + "/";
}

std::vector<std::string> Dashboard::experiment_ids() const {
  std::vector<std::string> ids;
  for (const auto& e : impl_->api.experiments()) ids.push_back(e.id);
  return ids;
}

}  // namespace spikeline::server
