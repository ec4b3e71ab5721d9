// Progress of a running flow on stderr: a live line on a terminal, a log line every few seconds otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "graph/flow.hpp"

namespace sluice {

enum class ProgressMode { auto_detect, always, never };

class Progress {
 public:
  Progress(const Flow& flow, ProgressMode mode);
  ~Progress();  // stops the thread and clears the live line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  void loop();
  void draw(bool live);

  const Flow& flow_;
  bool live_ = false;
  std::chrono::milliseconds every_{};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace sluice
