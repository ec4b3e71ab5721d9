// An output file written beside its final name and renamed into place when closed.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// Readers of a regular file never see it half-written: bytes go to `<target>.partial`, which
// replaces the target on close(). Only regular files (or new ones) are replaced that way:
// - "-" writes to standard output;
// - a character device (/dev/null, /dev/stdout) or a FIFO is written to directly, never replaced;
// - a symbolic link is followed: its target is written (or replaced), the link stays;
// - a directory, socket or block device is refused.
// Nothing is created until the first write() or close(): a run that stops at start-up leaves no
// file and no folder behind.
class FileOutput {
 public:
  FileOutput() = default;
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;
  ~FileOutput();  // an unfinished temp file is removed; the target is left as it was

  // Remembers the path; throws std::runtime_error for an empty path or one that can never be written
  // (an existing directory, socket or block device).
  void open(const std::string& path);
  void write(std::string_view bytes);  // throws on a write error (disk full, a closed pipe)
  void close();                        // flush, fsync, rename; throws on failure
  // Ends without replacing anything: the temp file goes and true is returned. Bytes already sent to
  // standard output, a device or a FIFO cannot be taken back: they stay, and false is returned.
  bool discard();
  const std::string& path() const { return path_; }
  bool is_open() const { return state_ != State::closed; }

 private:
  enum class State { closed, pending, writing };
  void materialize();

  std::string path_;
  std::string target_;  // path_ with symbolic links resolved
  std::string temp_;    // empty when writing straight to the target
  int fd_ = -1;
  bool owns_fd_ = false;  // false for standard output
  State state_ = State::closed;
};

}  // namespace sluice
