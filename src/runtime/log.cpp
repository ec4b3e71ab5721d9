// spdlog set up for text or JSON lines; messages are escaped here so the JSON is always valid.
#include "runtime/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.hpp"

namespace sluice {
namespace {

LogFormat g_format = LogFormat::text;

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("sluice", sink);
    lg->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
    return lg;
  }();
  return l;
}

std::string render(const std::string& message, const std::vector<LogField>& fields) {
  std::string out;
  if (g_format == LogFormat::json) {
    out = "\"message\":";
    append_json_string(out, message);
    for (const auto& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      if (f.raw)
        out += f.value;
      else
        append_json_string(out, f.value);
    }
    return out;
  }
  out = message;
  for (const auto& f : fields) out += " " + f.key + "=" + f.value;
  return out;
}

}  // namespace

void init_logging(LogFormat format) {
  g_format = format;
  if (format == LogFormat::json)
    logger()->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})");
  else
    logger()->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
}

LogFormat log_format() {
  return g_format;
}

void log_info(const std::string& message, const std::vector<LogField>& fields) {
  logger()->info(render(message, fields));
}

void log_warn(const std::string& message, const std::vector<LogField>& fields) {
  logger()->warn(render(message, fields));
}

}  // namespace sluice
