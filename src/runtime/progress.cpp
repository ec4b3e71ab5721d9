// The progress line: rows read (and % of the input), rows per node, rejects, rows/s and ETA.
#include "runtime/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "runtime/log.hpp"

namespace sluice {

Progress::Progress(const Flow& flow, ProgressMode mode) : flow_(flow) {
  bool tty = ::isatty(STDERR_FILENO) == 1;
  if (mode == ProgressMode::never) return;
  live_ = mode == ProgressMode::always || tty;
  live_ = live_ && log_format() == LogFormat::text;
  every_ = live_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard l(m_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (live_) std::fputs("\r\033[K", stderr);
}

void Progress::loop() {
  std::unique_lock l(m_);
  try {
    while (!cv_.wait_for(l, every_, [this] { return done_; })) draw(live_);
  } catch (const std::exception& e) {
    // Progress is only a view of the run: losing it must not end the run.
    log_warn("progress display stopped", {{"error", e.what()}});
  }
}

void Progress::draw(bool live) {
  FlowSnapshot s = flow_.snapshot();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? static_cast<double>(s.read) / secs : 0;
  std::string pct, eta;
  if (s.bytes_total && *s.bytes_total > 0) {
    double f = static_cast<double>(s.bytes_read) / static_cast<double>(*s.bytes_total);
    char b[64];
    std::snprintf(b, sizeof b, " (%.0f%%)", f * 100);
    pct = b;
    if (f > 0.01 && f < 1) {
      std::snprintf(b, sizeof b, "%.0fs", secs / f - secs);
      eta = b;
    }
  }
  std::string stages;
  for (const auto& [id, out] : s.node_out) stages += " " + id + ":" + std::to_string(out);
  std::uint64_t in_flight = s.read - std::min(s.read, s.finished);
  if (live) {
    char line[512];
    std::snprintf(line, sizeof line, "\r\033[Kread %llu%s |%s | rejected %llu | in flight %llu | %.0f rows/s%s%s",
                  static_cast<unsigned long long>(s.read), pct.c_str(), stages.c_str(),
                  static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(in_flight), rate,
                  eta.empty() ? "" : " | ETA ", eta.c_str());
    std::fputs(line, stderr);
    std::fflush(stderr);
  } else {
    char r[32];
    std::snprintf(r, sizeof r, "%.0f", rate);
    log_info("progress", {{"read", std::to_string(s.read), true},
                          {"finished", std::to_string(s.finished), true},
                          {"rejected", std::to_string(s.rejected), true},
                          {"in_flight", std::to_string(in_flight), true},
                          {"rows_per_second", r, true},
                          {"eta", eta.empty() ? "unknown" : eta}});
  }
}

}  // namespace sluice
