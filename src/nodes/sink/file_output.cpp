// Output files that appear whole or not at all.
#include "nodes/sink/file_output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace sluice {
namespace {

std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

FileOutput::~FileOutput() {
  if (file_ && !stdout_) {
    std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

void FileOutput::open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    file_ = stdout;
    stdout_ = true;
    return;
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  temp_ = path + ".partial";
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) throw io_error("cannot create", temp_);
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
}

void FileOutput::write(std::string_view bytes) {
  if (!file_) throw std::runtime_error("write to a closed output " + path_);
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) throw io_error("cannot write", path_);
}

void FileOutput::close() {
  if (!file_) return;
  if (stdout_) {
    std::fflush(file_);
    file_ = nullptr;
    return;
  }
  std::FILE* f = file_;
  file_ = nullptr;
  bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    errno = saved;
    std::remove(temp_.c_str());
    throw io_error("cannot finish", path_);
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) throw io_error("cannot rename " + temp_ + " to", path_);
}

}  // namespace sluice
