// Output files that appear whole or not at all, without ever replacing what is not a regular file.
#include "nodes/sink/file_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::runtime_error io_error(const std::string& what, const std::string& path, int err = errno) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(err));
}

// The file a path names once symbolic links are followed (the link itself is never replaced).
// A dangling link resolves to where it points, which is then created.
std::string resolve_links(const std::string& path) {
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p.string();
    std::error_code ec;
    fs::path next = fs::read_symlink(p, ec);
    if (ec) throw io_error("cannot read the symbolic link", p.string(), ec.value());
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  throw io_error("cannot follow", path, ELOOP);
}

const char* refusal(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISSOCK(mode)) return "is a socket";
  if (S_ISBLK(mode)) return "is a block device (refusing to write a disk)";
  return nullptr;
}

}  // namespace

FileOutput::~FileOutput() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
  if (!temp_.empty() && state_ == State::writing) ::unlink(temp_.c_str());
}

void FileOutput::open(const std::string& path) {
  if (path.empty()) throw std::runtime_error("output path is empty");
  path_ = path;
  target_.clear();
  temp_.clear();
  state_ = State::pending;
  if (path == "-") return;
  target_ = resolve_links(path);
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0)
    if (const char* why = refusal(st.st_mode)) throw std::runtime_error("cannot write " + path + ": it " + why);
}

void FileOutput::materialize() {
  state_ = State::writing;
  if (path_ == "-") {
    std::fflush(stdout);  // what stdio already buffered comes first
    fd_ = STDOUT_FILENO;
    owns_fd_ = false;
    return;
  }
  struct stat st {};
  bool exists = ::stat(target_.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    if (const char* why = refusal(st.st_mode)) throw std::runtime_error("cannot write " + path_ + ": it " + why);
    // A character device or a FIFO: written in place, never replaced by a regular file.
    fd_ = ::open(target_.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) throw io_error("cannot open", path_);
    owns_fd_ = true;
    return;
  }
  fs::path parent = fs::path(target_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw io_error("cannot create the folder", parent.string(), ec.value());
  }
  std::string temp = target_ + ".partial";
  for (int attempt = 0;; ++attempt) {
    // O_EXCL | O_NOFOLLOW: a link or special file planted at the temp name is never written through.
    fd_ = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    int err = errno;
    struct stat old {};
    if (err == EEXIST && attempt == 0 && ::lstat(temp.c_str(), &old) == 0 && S_ISREG(old.st_mode)) {
      ::unlink(temp.c_str());  // left by a run that was killed
      continue;
    }
    if (err == EEXIST) throw std::runtime_error("cannot create " + temp + ": something that is not a file is there");
    throw io_error("cannot create", temp, err);
  }
  temp_ = std::move(temp);
  owns_fd_ = true;
  if (exists) (void)::fchmod(fd_, st.st_mode & 07777);  // the replacement keeps the file's permissions
}

void FileOutput::write(std::string_view bytes) {
  if (state_ == State::closed) throw std::runtime_error("write to a closed output " + path_);
  if (state_ == State::pending) materialize();
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot write", path_);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool FileOutput::discard() {
  if (state_ == State::closed) return true;
  bool undone = state_ == State::pending || !temp_.empty();
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty() && state_ == State::writing) ::unlink(temp_.c_str());
  state_ = State::closed;
  return undone;
}

void FileOutput::close() {
  if (state_ == State::closed) return;
  if (state_ == State::pending) materialize();
  state_ = State::closed;
  int fd = fd_;
  fd_ = -1;
  if (!owns_fd_) return;
  if (temp_.empty()) {
    if (::close(fd) != 0) throw io_error("cannot finish", path_);
    return;
  }
  int err = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(temp_.c_str());
    throw io_error("cannot finish", path_, err);
  }
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    err = errno;
    ::unlink(temp_.c_str());
    throw io_error("cannot rename " + temp_ + " to", target_, err);
  }
}

}  // namespace sluice
