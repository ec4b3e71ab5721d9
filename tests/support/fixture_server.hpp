// The project's fixture image server, started once per test program from $SLUICE_FIXTURE_SERVER.
#pragma once

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sluice::test {

// One sluice_fixture_server process for the whole test program.
class FixtureServer {
 public:
  static FixtureServer& instance() {
    static FixtureServer server;
    return server;
  }
  ~FixtureServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string url(const std::string& path_and_query) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
  }

  // GET /stats (or /stats/reset) with a plain blocking curl call.
  std::string get(const std::string& path) const {
    std::string body;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
    curl_easy_setopt(easy.get(), CURLOPT_URL, url(path).c_str());
    curl_easy_setopt(easy.get(), CURLOPT_PROXY, "");
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(
        easy.get(), CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* out) {
          static_cast<std::string*>(out)->append(data, size * n);
          return size * n;
        });
    if (curl_easy_perform(easy.get()) != CURLE_OK) ADD_FAILURE() << "GET " << path << " failed";
    return body;
  }
  long stat(const std::string& name) const {
    const std::string json = get("/stats");
    const auto at = json.find("\"" + name + "\":");
    if (at == std::string::npos) {
      ADD_FAILURE() << "no " << name << " in " << json;
      return -1;
    }
    return std::stol(json.substr(at + name.size() + 3));
  }
  void reset_stats() const { get("/stats/reset"); }

 private:
  FixtureServer() {
    const char* binary = std::getenv("SLUICE_FIXTURE_SERVER");
    if (binary == nullptr || *binary == '\0') {
      error_ = "SLUICE_FIXTURE_SERVER is not set (CTest sets it to the built sluice_fixture_server)";
      return;
    }
    if (access(binary, X_OK) != 0) {
      error_ = std::string("SLUICE_FIXTURE_SERVER=") + binary + " is not an executable file";
      return;
    }
    char pattern[] = "/tmp/sluice-fixture-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> args = {binary, "--port", "0", "--port-file", port_file, "--threads", "2"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary, nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      error_ = std::string("cannot start ") + binary;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = std::string(binary) + " exited before writing its port file";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    error_ = std::string(binary) + " wrote no port file within 10 s";
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string error_;
};

}  // namespace sluice::test
