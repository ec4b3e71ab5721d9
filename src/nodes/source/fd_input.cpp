// Interruptible reads: poll() on the input and an eventfd together.
#include "nodes/source/fd_input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "nodes/node.hpp"

namespace sluice {

FdInput::~FdInput() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void FdInput::open(const std::string& path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("cannot open input: ") + std::strerror(errno));
    owns_fd_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) throw std::runtime_error("cannot read input: it is a directory");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

void FdInput::abort() {
  aborted_ = true;
  if (wake_fd_ >= 0) {
    std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

FdInput::int_type FdInput::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  for (;;) {
    if (aborted_) return traits_type::eof();
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    if (aborted_ || (fds[1].revents & POLLIN)) return traits_type::eof();
    ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      // std::istream turns this into badbit, which the reader reports as a read error.
      throw std::runtime_error(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }
}

std::string open_feed(FdInput& input, const std::string& run_input, const std::string& setting,
                      const std::string& node_id) {
  std::string path = run_input.empty() ? setting : run_input;
  Diagnostics diags;
  if (path.empty()) {
    diags.add(Diagnostic{"sluice", 0, 0, node_id, "no input: give --input FILE (or '-' for standard input)"});
    throw StartupError(diags);
  }
  try {
    input.open(path);
  } catch (const std::runtime_error& e) {
    diags.add(Diagnostic{path, 0, 0, "", e.what()});
    throw StartupError(diags);
  }
  return path == "-" ? "<stdin>" : path;
}

}  // namespace sluice
