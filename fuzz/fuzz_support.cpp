// A feed in a memfd, read by a pipeline's source and transforms without the flow graph.
#include "fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <variant>

#include "runtime/pipeline.hpp"

namespace sluice::fuzz {

std::string source_dir() {
  return SLUICE_SOURCE_DIR;
}

namespace {

class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(::memfd_create("feed", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace

void run_feed(const std::string& graph, const std::string& supplier, std::string_view feed) {
  Diagnostics diags;
  PipelineOptions options{source_dir() + "/" + graph, source_dir() + "/" + supplier, {}};
  auto pipeline = load_pipeline(options, diags);
  if (!diags.empty() || !pipeline->plan) {
    std::fputs(diags.format().c_str(), stderr);
    std::abort();  // the shipped configuration must load
  }
  MemFile file(feed);
  RunContext ctx;
  ctx.input = file.path();
  ctx.as_of = 1781000000;
  auto& chain = pipeline->plan->nodes;
  auto& source = *std::get<std::unique_ptr<SourceNode>>(chain.front().body);
  try {
    source.open(ctx);
  } catch (const StartupError&) {
    return;  // a feed that contradicts its configuration is refused before any row
  }
  for (std::size_t i = 1; i + 1 < chain.size(); ++i)
    if (auto* t = std::get_if<std::unique_ptr<TransformNode>>(&chain[i].body)) (*t)->open(ctx);
  for (;;) {
    Batch batch;
    if (!source.next(batch, 64)) break;
    const std::size_t read = batch.records.size() + batch.rejects.size();
    for (std::size_t i = 1; i + 1 < chain.size(); ++i)
      if (auto* t = std::get_if<std::unique_ptr<TransformNode>>(&chain[i].body)) (*t)->process(batch);
    if (batch.records.size() + batch.rejects.size() != read) std::abort();  // a row appeared or vanished
    for (const auto& r : batch.rejects)
      if (r.code.empty() || r.message.empty()) std::abort();  // every reject says why
  }
  for (std::size_t i = 1; i + 1 < chain.size(); ++i)
    if (auto* t = std::get_if<std::unique_ptr<TransformNode>>(&chain[i].body)) (*t)->close();
}

}  // namespace sluice::fuzz
