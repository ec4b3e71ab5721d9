// NDJSON rejects: {"line":..,"node":..,"code":..,"message":..,"raw":{header: value, ...}}.
#include "nodes/sink/rejects_writer.hpp"

#include "core/json_writer.hpp"

namespace sluice {

void RejectsWriter::open(const std::string& path) {
  out_.open(path);
}

void RejectsWriter::write(const std::vector<Reject>& rejects, const std::vector<std::string>* header) {
  if (rejects.empty()) return;
  std::lock_guard lock(mutex_);
  buffer_.clear();
  for (const auto& r : rejects) {
    buffer_ += "{\"line\":" + std::to_string(r.line) + ",\"node\":";
    append_json_string(buffer_, r.node);
    buffer_ += ",\"code\":";
    append_json_string(buffer_, r.code);
    buffer_ += ",\"message\":";
    append_json_string(buffer_, r.message);
    buffer_ += ",\"raw\":{";
    // Columns beyond the header (a ragged row) are named by their 1-based position.
    for (std::size_t i = 0; i < r.raw.size(); ++i) {
      if (i) buffer_.push_back(',');
      if (header && i < header->size())
        append_json_string(buffer_, (*header)[i]);
      else
        append_json_string(buffer_, "#" + std::to_string(i + 1));
      buffer_.push_back(':');
      append_json_string(buffer_, r.raw[i]);
    }
    buffer_ += "}}\n";
    ++by_code_[r.code];
  }
  out_.write(buffer_);
}

void RejectsWriter::close() {
  std::lock_guard lock(mutex_);
  out_.close();
}

std::map<std::string, std::uint64_t> RejectsWriter::counts_by_code() const {
  std::lock_guard lock(mutex_);
  return by_code_;
}

}  // namespace sluice
