// HTTP/1.x request-head parsing (RFC 9112 message syntax) strict enough to reject ambiguous framing.
#include "fixture_server/http_parser.hpp"

#include <algorithm>

namespace sluice::fixture {
namespace {

bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Field values may hold visible characters, spaces, tabs and obs-text, but no other control bytes.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7F);
  });
}

// The request target: origin-form only, visible ASCII without spaces.
bool is_origin_target(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7F;
  });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::optional<std::uint64_t> parse_content_length(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Applies the Connection header's tokens ("close", "keep-alive") to the request.
void apply_connection_tokens(std::string_view value, Request& req) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view token = trim_ows(value.substr(0, comma));
    if (iequals(token, "close")) req.keep_alive = false;
    if (iequals(token, "keep-alive") && req.version_minor == 0) req.keep_alive = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::string* Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

ParseResult parse_request_head(std::string_view data, Request& out) {
  // RFC 9112 section 2.2: ignore at least one empty line before the request line.
  std::size_t start = 0;
  while (start < data.size() && (data[start] == '\r' || data[start] == '\n') && start < 4) ++start;

  // Find the end of the head: an empty line, terminated by CRLF or a bare LF.
  std::size_t end = std::string_view::npos;
  for (std::size_t i = data.find('\n', start); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i >= 1 && data[i - 1] == '\n') {
      end = i + 1;
      break;
    }
    if (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n') {
      end = i + 1;
      break;
    }
    if (i > kMaxHeadBytes) break;
  }
  if (end == std::string_view::npos)
    return {data.size() > kMaxHeadBytes ? ParseStatus::kHeadTooLarge : ParseStatus::kIncomplete, 0};
  if (end > kMaxHeadBytes) return {ParseStatus::kHeadTooLarge, 0};

  const ParseResult bad{ParseStatus::kBadRequest, 0};
  out = Request{};
  std::string_view head = data.substr(start, end - start);
  auto next_line = [&head]() {
    const std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };

  // Request line: method SP request-target SP HTTP-version.
  const std::string_view request_line = next_line();
  const std::size_t sp1 = request_line.find(' ');
  if (sp1 == std::string_view::npos) return bad;
  const std::size_t sp2 = request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad;
  const std::string_view method = request_line.substr(0, sp1);
  const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = request_line.substr(sp2 + 1);
  if (!is_token(method) || !is_origin_target(target)) return bad;
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' || version[7] > '9') return bad;
  out.method = method;
  out.target = target;
  const std::size_t q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string_view::npos) out.query = target.substr(q + 1);
  out.version_minor = version[7] - '0';
  out.keep_alive = out.version_minor >= 1;

  bool seen_content_length = false;
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    // obs-fold (a continuation line) is rejected, as RFC 9112 section 5.2 allows.
    if (line.front() == ' ' || line.front() == '\t') return bad;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_token(name) || !is_field_value(value)) return bad;
    if (out.headers.size() >= kMaxHeaderFields) return {ParseStatus::kHeadTooLarge, 0};
    out.headers.emplace_back(to_lower(name), std::string(value));
    const std::string& lname = out.headers.back().first;
    if (lname == "content-length") {
      const auto length = parse_content_length(value);
      // Differing repeated lengths make the framing ambiguous (request smuggling), so refuse them.
      if (!length || (seen_content_length && *length != out.content_length)) return bad;
      out.content_length = *length;
      seen_content_length = true;
    } else if (lname == "transfer-encoding") {
      out.has_transfer_encoding = true;
    }
  }
  if (seen_content_length && out.has_transfer_encoding) return bad;
  if (const std::string* connection = out.header("connection")) apply_connection_tokens(*connection, out);
  return {ParseStatus::kComplete, end};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<QueryParams> QueryParams::parse(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      auto name = percent_decode(item.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
      if (!name || !value) return std::nullopt;
      params.items_.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (auto it = items_.rbegin(); it != items_.rend(); ++it)
    if (it->first == name) return std::string_view(it->second);
  return std::nullopt;
}

}  // namespace sluice::fixture
