// The run's rejects output: one JSON object per rejected row, with where and why.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/record.hpp"
#include "nodes/sink/file_output.hpp"

namespace sluice {

class RejectsWriter {
 public:
  void open(const std::string& path);
  // Thread-safe: rejects arrive from every node that can reject.
  void write(const std::vector<Reject>& rejects, const std::vector<std::string>* header);
  void close();
  const std::string& path() const { return out_.path(); }
  std::map<std::string, std::uint64_t> counts_by_code() const;

 private:
  mutable std::mutex mutex_;
  FileOutput out_;
  std::string buffer_;
  std::map<std::string, std::uint64_t> by_code_;
};

}  // namespace sluice
