// ProcessLimits: the open-files limit a run with a thousand transfers needs, and SIGPIPE.
#include "runtime/process_limits.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace sluice {
namespace {

TEST(ProcessLimits, RaisesTheOpenFilesLimitToTheHardOne) {
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  rlimit low = original;
  low.rlim_cur = std::min<rlim_t>(256, original.rlim_cur);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  {
    ProcessLimits limits(0);
    rlimit now{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
    rlim_t expected =
        original.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : std::min(original.rlim_max, rlim_t{1} << 20);
    EXPECT_EQ(now.rlim_cur, expected);
  }
  setrlimit(RLIMIT_NOFILE, &original);
}

TEST(ProcessLimits, AClosedPipeIsAnErrorNotADeath) {
  ignore_sigpipe();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  errno = 0;
  EXPECT_EQ(::write(fds[1], "x", 1), -1);  // without SIG_IGN the process would end here
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
}

}  // namespace
}  // namespace sluice
