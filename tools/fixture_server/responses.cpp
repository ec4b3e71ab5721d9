// Routing and fault injection: turns a parsed request plus its query parameters into a ResponsePlan.
#include "fixture_server/responses.hpp"

#include <algorithm>
#include <charconv>

#include "fixture_server/http_date.hpp"

namespace sluice::fixture {
namespace {

// A query parameter that was present but unusable; answered with 400 naming it.
struct BadParam {
  std::string message;
};

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max) return std::nullopt;
  return v;
}

std::optional<double> parse_fraction(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return v;
}

// Reads numeric and flag parameters, remembering the first bad one.
class ParamReader {
 public:
  explicit ParamReader(const QueryParams& params) : params_(params) {}

  std::optional<std::uint64_t> uint(std::string_view name, std::uint64_t min, std::uint64_t max) {
    const auto raw = params_.get(name);
    if (!raw) return std::nullopt;
    const auto v = parse_uint(*raw, max);
    if (!v || *v < min) {
      fail(name, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
      return std::nullopt;
    }
    return v;
  }

  bool flag(std::string_view name) {
    const auto raw = params_.get(name);
    if (!raw || *raw == "0" || *raw == "false") return false;
    if (*raw == "1" || *raw == "true" || raw->empty()) return true;
    fail(name, "0 or 1");
    return false;
  }

  std::optional<double> fraction(std::string_view name) {
    const auto raw = params_.get(name);
    if (!raw) return std::nullopt;
    const auto v = parse_fraction(*raw);
    if (!v) fail(name, "a number in [0, 1]");
    return v;
  }

  // A text that ends up in a header: control characters would split or corrupt the head.
  std::optional<std::string> header_text(std::string_view name) {
    const auto raw = params_.get(name);
    if (!raw) return std::nullopt;
    for (char ch : *raw) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        fail(name, "text without control characters");
        return std::nullopt;
      }
    }
    return std::string(*raw);
  }

  std::optional<std::string_view> text(std::string_view name) const { return params_.get(name); }

  const std::optional<BadParam>& error() const { return error_; }

 private:
  void fail(std::string_view name, const std::string& expected) {
    if (!error_) error_ = BadParam{"query parameter " + std::string(name) + " must be " + expected};
  }

  const QueryParams& params_;
  std::optional<BadParam> error_;
};

// Everything the query string may ask for, already validated.
struct Faults {
  std::optional<std::uint64_t> latency_ms;
  std::optional<std::uint64_t> status;
  std::optional<std::uint64_t> retry_after;
  std::optional<std::uint64_t> retry_after_date;
  std::optional<std::uint64_t> fail_first;
  std::optional<std::string_view> key;
  std::optional<double> ratio;
  std::optional<std::uint64_t> reset_after;
  std::optional<std::uint64_t> trickle;
  bool chunked = false;
  bool endless = false;
  std::optional<std::string> content_type;
  bool not_image = false;
  std::optional<std::string> redirect;
  std::optional<std::uint64_t> redirect_status;
  std::optional<std::uint64_t> width;
  std::optional<std::uint64_t> height;
  std::optional<std::uint64_t> size;
  std::optional<std::string_view> version;
  std::optional<std::string> content_length;    // replaces the Content-Length value (closes afterwards)
  std::optional<std::string> content_encoding;  // a Content-Encoding header on an unencoded body
  std::optional<std::uint64_t> header_bytes;    // an X-Padding header of that many bytes
  std::optional<std::uint64_t> cut;             // only the first N bytes, no length, then a clean close
  bool magic_then_html = false;                 // the format's signature, then an HTML page
  std::optional<std::uint64_t> head_status;     // HEAD is answered with this status (405, 501) instead
  bool head_hang = false;                       // HEAD is never answered (GET is)
  bool no_ranges = false;                       // a Range header is ignored: the whole body is sent
};

std::optional<BadParam> read_faults(ParamReader& r, Faults& f) {
  f.latency_ms = r.uint("latency", 0, 3'600'000);
  f.status = r.uint("status", 200, 599);
  f.retry_after = r.uint("retry_after", 0, 1'000'000'000);
  f.retry_after_date = r.uint("retry_after_date", 0, 1'000'000'000);
  f.fail_first = r.uint("fail_first", 0, UINT64_MAX);
  f.key = r.text("key");
  f.ratio = r.fraction("ratio");
  f.reset_after = r.uint("reset_after", 0, kMaxImageSize);
  f.trickle = r.uint("trickle", 1, UINT64_MAX);
  f.chunked = r.flag("chunked");
  f.endless = r.flag("endless");
  f.content_type = r.header_text("content_type");
  f.not_image = r.flag("not_image");
  f.redirect = r.header_text("redirect");
  f.redirect_status = r.uint("redirect_status", 300, 399);
  f.width = r.uint("w", 1, kMaxImageSide);
  f.height = r.uint("h", 1, kMaxImageSide);
  f.size = r.uint("size", 0, kMaxImageSize);
  f.version = r.text("v");
  f.content_length = r.header_text("content_length");
  f.content_encoding = r.header_text("content_encoding");
  f.header_bytes = r.uint("header_bytes", 0, 16 << 20);
  f.cut = r.uint("cut", 0, kMaxImageSize);
  f.magic_then_html = r.flag("magic_then_html");
  if (const auto head = r.text("head")) {
    if (*head == "hang")
      f.head_hang = true;
    else
      f.head_status = r.uint("head", 200, 599);
  }
  f.no_ranges = r.flag("no_ranges");
  return r.error();
}

// "/img/<name>.<ext>": the name may contain further slashes, so suppliers' nested paths work.
struct ImageRoute {
  std::string file_name;
  ImageFormat format;
};

std::optional<ImageRoute> match_image_route(std::string_view path) {
  constexpr std::string_view prefix = "/img/";
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view file = path.substr(prefix.size());
  const std::size_t dot = file.rfind('.');
  const std::size_t slash = file.rfind('/');
  if (dot == std::string_view::npos || dot == 0 || (slash != std::string_view::npos && dot < slash))
    return std::nullopt;
  if (slash != std::string_view::npos && dot == slash + 1) return std::nullopt;
  const auto format = image_format_from_extension(file.substr(dot + 1));
  if (!format) return std::nullopt;
  return ImageRoute{std::string(file), *format};
}

// If-None-Match: a list of entity tags or "*", compared weakly (RFC 9110 section 13.1.2).
bool none_match_hits(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*" || strip_weak(tag) == strip_weak(etag)) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

bool not_modified(const Request& request, std::string_view etag) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (const std::string* inm = request.header("if-none-match")) return none_match_hits(*inm, etag);
  if (const std::string* ims = request.header("if-modified-since")) {
    const auto since = parse_http_date(*ims);
    return since && *since >= kLastModifiedUnix;
  }
  return false;
}

void add_header(ResponsePlan& plan, std::string_view name, std::string_view value) {
  plan.headers += name;
  plan.headers += ": ";
  plan.headers += value;
  plan.headers += "\r\n";
}

void add_retry_after(ResponsePlan& plan, const Faults& f, std::int64_t now_unix) {
  if (f.retry_after) add_header(plan, "Retry-After", std::to_string(*f.retry_after));
  if (f.retry_after_date)
    add_header(plan, "Retry-After", format_http_date(now_unix + static_cast<std::int64_t>(*f.retry_after_date)));
}

bool has_no_body(int status) {
  return status == 204 || status == 304 || status < 200;
}

std::string not_image_html(std::string_view name) {
  std::string html = "<!DOCTYPE html>\n<html><head><title>Not Found</title></head>\n<body><h1>Sorry</h1><p>";
  html += "The picture ";
  for (char c : name) {
    if (c == '<')
      html += "&lt;";
    else if (c == '>')
      html += "&gt;";
    else if (c == '&')
      html += "&amp;";
    else
      html += c;
  }
  html += " is not available. This page is not an image.</p></body></html>\n";
  return html;
}

// One range "bytes=FIRST-LAST" or "bytes=FIRST-" of a body with a known size: 206 with that slice,
// or 416 when it starts past the end. Other forms (several ranges, suffixes) get the whole body.
void apply_range(ResponsePlan& plan, std::string_view range) {
  const auto size = plan.body.size();
  if (!size || range.substr(0, 6) != "bytes=") return;
  range.remove_prefix(6);
  const std::size_t dash = range.find('-');
  if (dash == std::string_view::npos || dash == 0 || range.find(',') != std::string_view::npos) return;
  auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  };
  const auto first = number(range.substr(0, dash));
  const auto last_text = range.substr(dash + 1);
  const auto last = last_text.empty() ? std::optional<std::uint64_t>(*size == 0 ? 0 : *size - 1) : number(last_text);
  if (!first || !last || *last < *first) return;
  if (*first >= *size) {
    plan.status = 416;
    add_header(plan, "Content-Range", "bytes */" + std::to_string(*size));
    plan.body = BodySource::text("");
    plan.successful_body = false;
    return;
  }
  const std::uint64_t end = std::min(*last, *size - 1);
  std::string slice(static_cast<std::size_t>(end - *first + 1), '\0');
  slice.resize(plan.body.read(*first, slice.data(), slice.size()));
  plan.status = 206;
  add_header(plan, "Content-Range",
             "bytes " + std::to_string(*first) + "-" + std::to_string(end) + "/" + std::to_string(*size));
  plan.body = BodySource::text(std::move(slice));
}

ResponsePlan plan_image(const Request& request, const ImageRoute& route, const Faults& f) {
  ImageSpec spec;
  spec.name = route.file_name;
  spec.format = route.format;
  spec.width = static_cast<std::uint32_t>(f.width.value_or(spec.width));
  spec.height = static_cast<std::uint32_t>(f.height.value_or(spec.height));
  spec.size = f.size.value_or(spec.size);
  spec.version = std::string(f.version.value_or(""));

  ResponsePlan plan;
  ImageSpec tag_spec = spec;
  // The HTML stand-in is a different representation, so it gets its own tag.
  if (f.not_image) tag_spec.name += "#not_image";
  const std::string etag = image_etag(tag_spec);
  add_header(plan, "ETag", etag);
  add_header(plan, "Last-Modified", format_http_date(kLastModifiedUnix));
  add_header(plan, "Cache-Control", "max-age=3600");
  if (not_modified(request, etag)) {
    plan.status = 304;
    plan.send_body = false;
    return plan;
  }

  if (!f.content_type) {
    add_header(plan, "Content-Type", image_content_type(spec.format));
  } else if (!f.content_type->empty()) {
    add_header(plan, "Content-Type", *f.content_type);
  }
  // endless needs chunked framing (there is no length to announce); HTTP/1.0 has no chunked
  // encoding, so there the end of an endless body is the end of the connection.
  const bool endless = f.endless;
  plan.chunked = (f.chunked || endless) && request.version_minor >= 1;
  if (endless && request.version_minor == 0) plan.close = true;
  plan.body = f.not_image ? BodySource::text(not_image_html(spec.name), endless) : BodySource::image(spec, endless);
  if (f.magic_then_html) {
    const std::string header = image_header(spec);
    const std::size_t magic = spec.format == ImageFormat::kJpeg ? 3 : spec.format == ImageFormat::kWebp ? 12 : 8;
    plan.body = BodySource::text(header.substr(0, magic) + not_image_html(spec.name));
  }
  if (f.cut) {
    // A close-delimited body that stops early: to the client it looks complete.
    std::string whole(static_cast<std::size_t>(std::min<std::uint64_t>(*f.cut, plan.body.size().value_or(*f.cut))),
                      '\0');
    whole.resize(plan.body.read(0, whole.data(), whole.size()));
    plan.body = BodySource::text(std::move(whole));
    plan.unframed = true;
    plan.close = true;
    plan.chunked = false;
  }
  if (const std::string* range = request.header("range"); range && !f.no_ranges && !plan.chunked && !plan.unframed)
    apply_range(plan, *range);
  if (f.content_encoding) add_header(plan, "Content-Encoding", *f.content_encoding);
  if (f.content_length) {
    plan.content_length = *f.content_length;
    plan.close = true;
  }
  plan.send_body = request.method != "HEAD";
  plan.successful_body = true;
  if (plan.send_body) {
    plan.trickle_bytes_per_sec = f.trickle.value_or(0);
    plan.reset_after = f.reset_after;
  }
  return plan;
}

}  // namespace

BodySource BodySource::text(std::string text, bool endless) {
  BodySource b;
  b.text_ = std::move(text);
  b.endless_ = endless && !b.text_.empty();
  return b;
}

BodySource BodySource::image(const ImageSpec& spec, bool endless) {
  BodySource b;
  b.image_.emplace(spec, endless);
  b.endless_ = endless;
  return b;
}

std::optional<std::uint64_t> BodySource::size() const {
  if (image_) return image_->size();
  if (endless_) return std::nullopt;
  return text_.size();
}

std::size_t BodySource::read(std::uint64_t offset, char* out, std::size_t n) const {
  if (image_) return image_->read(offset, out, n);
  if (text_.empty()) return 0;
  if (!endless_) {
    if (offset >= text_.size()) return 0;
    n = std::min<std::size_t>(n, text_.size() - static_cast<std::size_t>(offset));
    text_.copy(out, n, static_cast<std::size_t>(offset));
    return n;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = text_[static_cast<std::size_t>((offset + i) % text_.size())];
  return n;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 418:
      return "I'm a teapot";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

ResponsePlan plan_text(int status, std::string_view detail, bool close) {
  ResponsePlan plan;
  plan.status = status;
  plan.close = close;
  if (has_no_body(status)) {
    plan.send_body = false;
    return plan;
  }
  std::string text = std::to_string(status) + " " + std::string(reason_phrase(status));
  if (!detail.empty()) text += ": " + std::string(detail);
  text += "\n";
  add_header(plan, "Content-Type", "text/plain; charset=utf-8");
  plan.body = BodySource::text(std::move(text));
  return plan;
}

ResponsePlan plan_parse_error(ParseStatus status) {
  if (status == ParseStatus::kHeadTooLarge) return plan_text(431, "request head too large", true);
  return plan_text(400, "malformed request", true);
}

ResponsePlan plan_response(const Request& request, SharedState& state, std::chrono::milliseconds default_latency,
                           std::int64_t now_unix) {
  const bool http10 = request.version_minor == 0;
  auto finish = [&](ResponsePlan plan) {
    plan.http10 = http10;
    if (!request.keep_alive) plan.close = true;
    if (request.method == "HEAD") plan.send_body = false;
    return plan;
  };

  // The stats endpoints are how tests observe the counters, so they do not move them.
  if (request.path == "/stats" || request.path == "/stats/reset") {
    const bool reset = request.path == "/stats/reset";
    const bool allowed = request.method == "GET" || request.method == "HEAD" || (reset && request.method == "POST");
    ResponsePlan plan;
    if (!allowed) {
      plan = plan_text(405, "use GET" + std::string(reset ? " or POST" : ""));
      add_header(plan, "Allow", reset ? "GET, HEAD, POST" : "GET, HEAD");
    } else {
      if (reset) {
        state.stats.reset();
        state.fail_first.reset();
      }
      add_header(plan, "Content-Type", "application/json");
      add_header(plan, "Cache-Control", "no-store");
      plan.body = BodySource::text(reset ? std::string("{\"reset\":true}\n") : state.stats.to_json());
    }
    plan.counted = false;
    return finish(std::move(plan));
  }

  const std::uint64_t index = state.stats.count_request();
  if (request.header("if-none-match") || request.header("if-modified-since")) state.stats.count_conditional();

  const auto params = QueryParams::parse(request.query);
  if (!params) return finish(plan_text(400, "malformed percent-escape in the query string"));
  ParamReader reader(*params);
  Faults f;
  if (const auto bad = read_faults(reader, f)) return finish(plan_text(400, bad->message));
  const auto latency = f.latency_ms ? std::chrono::milliseconds(*f.latency_ms) : default_latency;
  auto delayed = [&](ResponsePlan plan) {
    plan.latency = latency;
    return finish(std::move(plan));
  };

  if (request.method != "GET" && request.method != "HEAD") {
    ResponsePlan plan = plan_text(405, "only GET and HEAD are served");
    add_header(plan, "Allow", "GET, HEAD");
    return delayed(std::move(plan));
  }
  if (request.method == "HEAD") {
    state.stats.count_head();
    // Servers that refuse HEAD, or never answer it, while GET works.
    if (f.head_status) {
      ResponsePlan plan = plan_text(static_cast<int>(*f.head_status), "HEAD is not served here");
      if (*f.head_status == 405) add_header(plan, "Allow", "GET");
      return delayed(std::move(plan));
    }
    if (f.head_hang) {
      ResponsePlan plan = plan_text(200, "");
      plan.latency = std::chrono::hours(1);
      return finish(std::move(plan));
    }
  }
  const auto route = match_image_route(request.path);
  if (!route) return delayed(plan_text(404, "no such route; try /img/<name>.jpg|png|gif|webp or /stats"));

  // Faults that replace success: fail_first (per key), then ratio (hash of the request index),
  // then an unconditional status.
  bool failing = false;
  int fail_status = static_cast<int>(f.status.value_or(503));
  if (f.fail_first) {
    const std::string_view key = f.key.value_or(std::string_view(request.path));
    failing = state.fail_first.next(key) < *f.fail_first;
  }
  if (!failing && f.ratio) {
    const double draw = static_cast<double>(mix64(index) >> 11) * 0x1.0p-53;
    failing = draw < *f.ratio;
    fail_status = static_cast<int>(f.status.value_or(500));
  }
  if (!failing && !f.fail_first && !f.ratio && f.status && *f.status != 200) {
    failing = true;
    fail_status = static_cast<int>(*f.status);
  }
  if (failing) {
    ResponsePlan plan = plan_text(fail_status, "injected by the query string");
    add_retry_after(plan, f, now_unix);
    if (f.redirect && fail_status >= 300 && fail_status < 400) add_header(plan, "Location", *f.redirect);
    return delayed(std::move(plan));
  }

  if (f.redirect) {
    const int status = static_cast<int>(f.redirect_status.value_or(302));
    ResponsePlan plan = plan_text(status, "redirecting to " + *f.redirect);
    add_header(plan, "Location", *f.redirect);
    if (f.endless && request.version_minor >= 1) {
      plan.body = BodySource::text("redirecting to " + *f.redirect + "\n", true);
      plan.chunked = true;
    }
    if (f.header_bytes) add_header(plan, "X-Padding", std::string(static_cast<std::size_t>(*f.header_bytes), 'p'));
    return delayed(std::move(plan));
  }
  ResponsePlan plan = plan_image(request, *route, f);
  if (f.header_bytes) add_header(plan, "X-Padding", std::string(static_cast<std::size_t>(*f.header_bytes), 'p'));
  return delayed(std::move(plan));
}

std::string render_head(const ResponsePlan& plan, std::string_view date) {
  std::string head;
  head.reserve(256 + plan.headers.size());
  head += "HTTP/1.1 ";
  head += std::to_string(plan.status);
  head += ' ';
  head += reason_phrase(plan.status);
  head += "\r\nDate: ";
  head += date;
  head += "\r\nServer: sluice-fixture\r\n";
  head += plan.headers;
  if (!has_no_body(plan.status)) {
    if (plan.content_length) {
      head += "Content-Length: " + *plan.content_length + "\r\n";
    } else if (plan.unframed) {
    } else if (plan.chunked) {
      head += "Transfer-Encoding: chunked\r\n";
    } else if (const auto size = plan.body.size()) {
      head += "Content-Length: ";
      head += std::to_string(*size);
      head += "\r\n";
    }
  }
  if (plan.close)
    head += "Connection: close\r\n";
  else if (plan.http10)
    head += "Connection: keep-alive\r\n";
  head += "\r\n";
  return head;
}

}  // namespace sluice::fixture
