// Run logs on stderr through spdlog: human text, or one JSON object per line for log collectors.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice {

enum class LogFormat { text, json };

void init_logging(LogFormat format);
LogFormat log_format();

// One event with a message and fields; in JSON each field is a key, in text "key=value" follows.
// Values are passed as text; set `raw` when a value is already JSON (a number, true/false).
struct LogField {
  std::string key;
  std::string value;
  bool raw = false;
};
void log_info(const std::string& message, const std::vector<LogField>& fields = {});
void log_warn(const std::string& message, const std::vector<LogField>& fields = {});

}  // namespace sluice
