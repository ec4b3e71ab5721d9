// An output file written beside its final name and renamed into place when closed.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sluice {

// Readers of `path` never see a half-written file: bytes go to `path.partial`, which replaces
// `path` on close(). "-" writes to standard output directly.
class FileOutput {
 public:
  FileOutput() = default;
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;
  ~FileOutput();

  void open(const std::string& path);  // throws std::runtime_error with the path and errno text
  void write(std::string_view bytes);  // throws on a write error (disk full)
  void close();                        // flush, fsync, rename; throws on failure
  const std::string& path() const { return path_; }
  bool is_open() const { return file_ != nullptr; }

 private:
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
  bool stdout_ = false;
};

}  // namespace sluice
