// A std::streambuf over a file descriptor whose blocking reads another thread can interrupt.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <streambuf>
#include <string>
#include <vector>

namespace sluice {

// Sources read through this so that a cancelled run does not wait for a slow pipe or a stalled
// network file system: abort() wakes a read blocked in poll() and the stream then ends.
class FdInput : public std::streambuf {
 public:
  FdInput() = default;
  ~FdInput() override;
  FdInput(const FdInput&) = delete;
  FdInput& operator=(const FdInput&) = delete;

  // path "-" is standard input. Throws std::runtime_error with the reason when it cannot be opened.
  void open(const std::string& path);
  void abort();  // thread-safe
  bool aborted() const { return aborted_.load(); }
  std::optional<std::uint64_t> size() const { return size_; }  // regular files only

 protected:
  int_type underflow() override;

 private:
  int fd_ = -1;
  bool owns_fd_ = false;
  int wake_fd_ = -1;  // eventfd written by abort()
  std::atomic<bool> aborted_{false};
  std::optional<std::uint64_t> size_;
  std::vector<char> buffer_ = std::vector<char>(1 << 16);
};

// Opens a source's feed: the run's --input, else the node's own `path` setting. Problems are start-up
// errors (StartupError). Returns the name to show in messages ("<stdin>" for "-").
std::string open_feed(FdInput& input, const std::string& run_input, const std::string& setting,
                      const std::string& node_id);

}  // namespace sluice
