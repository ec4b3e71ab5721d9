// before_importer: the "before" of the benchmark story, the original importer that handled one row at a time.
//
// For each data row of the feed it parses the row, validates it, downloads the product's image with
// libcurl's easy interface (a blocking curl_easy_perform on one reused handle), prices it in integer
// cents, and upserts it with a single-row INSERT in autocommit; only then does it read the next row.
// Nothing overlaps: every row waits for its image's full latency and for its own commit. That design
// is what the benchmark measures, so the code is otherwise written plainly and correctly.
//
// It is standalone on purpose and shares no code with sluice: libcurl, libpq's C API and OpenSSL only.
// Its inputs and rules match sluice's for config/suppliers/acme_local_images.yaml (a feed from
// scripts/gen_feed.py --supplier acme), and it writes to its own table, peer_product.
//
//   before_importer --input feed.csv --image-dir DIR [--limit N]
//
// PEER_DB holds the libpq connection string (keywords or URI). scripts/bench runs it on a small feed
// (its images behind the fixture server's latency), times it and extrapolates the time to the story's
// row count. At the end it prints one line of JSON to stdout:
//   {"mode":"before","rows":N,"stored":N,"rejected":N,"seconds":S}
// Each rejected row gets one line on stderr. Exit status: 0 when every row read was stored or rejected,
// 1 on a fatal error (database unreachable, unreadable input, missing column), 2 on a usage error.

#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>
// Debian keeps libpq's header in /usr/include/postgresql, which the build finds through pkg-config but
// a bare compiler command does not.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---- The supplier's rules (config/suppliers/acme_local_images.yaml) ----

constexpr const char* currency = "EUR";
constexpr std::array<std::string_view, 4> categories{"tools", "garden", "books", "food"};
// Tax rates in hundredths of a percent, so 5.5% stays an integer.
constexpr std::int64_t default_tax_bp = 2000;
constexpr std::int64_t reduced_tax_bp = 550;  // books and food

// Download limits: the same defaults sluice's image fetch uses.
constexpr long download_timeout_s = 30;
constexpr long max_redirects = 5;
constexpr std::size_t max_image_bytes = 10 * 1024 * 1024;

// A fatal error: the run cannot go on (as opposed to a row that is rejected).
struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- CSV (RFC 4180) ----

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // line the record starts on
  std::string problem;   // non-empty when the record is malformed
};

// Reads one record at a time: quoted fields may hold delimiters, doubled quotes and line breaks.
// LF, CRLF and a lone CR all end a record; blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(std::FILE* in) : in_(in) {
    // Excel writes a UTF-8 byte-order mark; it is not part of the first header name.
    if (!(get() == 0xEF && get() == 0xBB && get() == 0xBF)) {
      std::rewind(in_);
    }
  }

  bool next(CsvRecord& rec) {
    for (;;) {  // skip blank lines
      const int c = peek();
      if (c == EOF) return false;
      if (c != '\r' && c != '\n') break;
      end_line(get());
    }
    rec.fields.clear();
    rec.problem.clear();
    rec.line = line_;
    std::string field;
    for (;;) {
      int c = get();
      if (c == '"') {
        const std::size_t opened = line_;
        for (;;) {
          c = get();
          if (c == EOF) {
            note(rec, "quote opened on line " + std::to_string(opened) + " is never closed");
            rec.fields.push_back(std::move(field));
            return true;
          }
          if (c == '"') {
            if (peek() != '"') break;
            get();
          }
          if (c == '\n' || (c == '\r' && peek() != '\n')) ++line_;
          field.push_back(static_cast<char>(c));
        }
        c = get();
        if (c != ',' && c != '\r' && c != '\n' && c != EOF) {
          note(rec, "unexpected character after a closing quote in field " + std::to_string(rec.fields.size() + 1));
          c = read_unquoted(c, field, rec);
        }
      } else {
        c = read_unquoted(c, field, rec);
      }
      rec.fields.push_back(std::move(field));
      field.clear();
      if (c != ',') {
        if (c != EOF) end_line(c);
        return true;
      }
    }
  }

  bool failed() const { return std::ferror(in_) != 0; }

 private:
  // Appends characters up to the next delimiter or line end and returns the one that stopped it.
  int read_unquoted(int c, std::string& field, CsvRecord& rec) {
    for (; c != ',' && c != '\r' && c != '\n' && c != EOF; c = get()) {
      if (c == '"') note(rec, "a quote inside unquoted field " + std::to_string(rec.fields.size() + 1));
      field.push_back(static_cast<char>(c));
    }
    return c;
  }

  // Consumes the LF of a CRLF pair and counts the line.
  void end_line(int c) {
    if (c == '\r' && peek() == '\n') get();
    ++line_;
  }

  static void note(CsvRecord& rec, std::string problem) {
    if (rec.problem.empty()) rec.problem = std::move(problem);
  }

  int get() { return std::getc(in_); }
  int peek() {
    const int c = std::getc(in_);
    if (c != EOF) std::ungetc(c, in_);
    return c;
  }

  std::FILE* in_;
  std::size_t line_ = 1;
};

// ---- Field checks ----

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// The feed's null values: an empty cell or "N/A" means "no value".
bool is_null(const std::string& v) {
  return v.empty() || v == "N/A";
}

// Number of characters (code points) in valid UTF-8, or nothing: overlong forms, surrogates, values
// above U+10FFFF and NUL bytes (which a C string passed to libpq would cut short) are refused.
std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == 0) return std::nullopt;
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    const std::uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += len;
  }
  return count;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// An exact decimal like "63.29" or "12.345" in cents, rounded half up at the third decimal; nothing
// for text that is not a plain decimal or a value outside 0..1000000. Integers only: a float would
// misround prices such as 1.005.
std::optional<std::int64_t> parse_price_cents(std::string_view s, std::string& why) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::size_t i = 0;
  std::int64_t whole = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    // Anything past 10^7 is out of range already; stop counting before int64 could overflow.
    if (whole <= 10000000) whole = whole * 10 + (s[i] - '0');
  }
  if (i == 0) {
    why = "expected a decimal number";
    return std::nullopt;
  }
  std::int64_t cents = 0;
  bool any_fraction = false;  // a non-zero digit after the point
  bool round_up = false;
  if (i < s.size() && s[i] == '.') {
    const std::size_t first = ++i;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      const std::size_t k = i - first;
      const int d = s[i] - '0';
      if (d != 0) any_fraction = true;
      if (k < 2)
        cents += d * (k == 0 ? 10 : 1);
      else if (k == 2)
        round_up = d >= 5;  // the first dropped digit alone decides half up
    }
    if (i == first) {
      why = "expected digits after the decimal point";
      return std::nullopt;
    }
  }
  if (i != s.size()) {
    why = "expected a decimal number";
    return std::nullopt;
  }
  if (negative && (whole != 0 || any_fraction)) {
    why = "below the minimum 0";
    return std::nullopt;
  }
  // Compared before rounding, as the rule is on the value written: 1000000.001 is above the maximum.
  if (whole > 1000000 || (whole == 1000000 && any_fraction)) {
    why = "above the maximum 1000000";
    return std::nullopt;
  }
  cents += whole * 100 + (round_up ? 1 : 0);
  return cents;
}

// A whole number >= 0 that fits the table's integer column.
std::optional<std::int32_t> parse_stock(std::string_view s, std::string& why) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) {
    why = "expected an integer";
    return std::nullopt;
  }
  std::int64_t v = 0;
  for (char c : s) {
    v = v * 10 + (c - '0');
    if (v > std::numeric_limits<std::int32_t>::max()) {
      why = "too large for the stock column";
      return std::nullopt;
    }
  }
  if (negative && v != 0) {
    why = "below the minimum 0";
    return std::nullopt;
  }
  return static_cast<std::int32_t>(v);
}

// An http or https URL with a host, no credentials and no characters a URL may not contain.
bool valid_url(std::string_view u) {
  std::string_view rest;
  if (u.rfind("http://", 0) == 0)
    rest = u.substr(7);
  else if (u.rfind("https://", 0) == 0)
    rest = u.substr(8);
  else
    return false;
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  return std::none_of(u.begin(), u.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\';
  });
}

// round_half_up(net * rate) with the rate in hundredths of a percent; net is never negative.
std::int64_t tax_cents(std::int64_t net, const std::string& category) {
  const std::int64_t bp = category == "books" || category == "food" ? reduced_tax_bp : default_tax_bp;
  return (net * bp + 5000) / 10000;
}

// ---- Images ----

// The file extension for a body that starts with a JPEG, PNG, GIF or WebP signature, else nothing.
const char* image_extension(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return "jpg";
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return "png";
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return "gif";
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return "webp";
  return nullptr;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr) != 1) throw Fatal("SHA-256 failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 15]);
  }
  return out;
}

// Writes the image to DIR/<first 2 hex>/<sha256>.<ext>. Through a temporary file and a rename, so a
// reader (or a crash) never sees half an image under the final name. Files are named by content, so
// one that exists already holds these very bytes.
bool store_image(const std::string& dir, const std::string& sha, const char* ext, const std::string& body,
                 std::string& why) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(dir) / sha.substr(0, 2);
  const fs::path final_path = folder / (sha + "." + ext);
  std::error_code ec;
  if (fs::exists(final_path, ec)) return true;
  fs::create_directories(folder, ec);
  if (ec) {
    why = "cannot create " + folder.string() + ": " + ec.message();
    return false;
  }
  const std::string temp = final_path.string() + ".tmp" + std::to_string(::getpid());
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) {
    why = "cannot write " + temp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(body.data(), 1, body.size(), f) == body.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(temp.c_str(), final_path.c_str()) != 0) {
    why = "cannot write " + final_path.string() + ": " + std::strerror(errno);
    std::remove(temp.c_str());
    return false;
  }
  return true;
}

struct Image {
  std::string sha256;
  std::size_t bytes = 0;
};

// Downloads one image at a time on a single easy handle, which keeps the connection to the image
// server alive between rows as a simple importer would.
class Downloader {
 public:
  Downloader() : curl_(curl_easy_init(), &curl_easy_cleanup) {
    CURL* e = curl_.get();
    if (!e || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, max_redirects) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT, download_timeout_s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "before_importer") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Downloader::on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, this) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_) != CURLE_OK) {
      throw Fatal("cannot set up libcurl");
    }
  }

  // Fetches, checks and stores the image; nothing (with the reason in why) when any step fails.
  std::optional<Image> fetch(const std::string& url, const std::string& image_dir, std::string& why) {
    body_.clear();
    too_large_ = false;
    error_[0] = '\0';
    CURL* e = curl_.get();
    if (curl_easy_setopt(e, CURLOPT_URL, url.c_str()) != CURLE_OK) {
      why = "cannot use the URL";
      return std::nullopt;
    }
    const CURLcode rc = curl_easy_perform(e);  // blocks for the whole transfer: the point of this program
    if (too_large_) {
      why = "image larger than " + std::to_string(max_image_bytes) + " bytes";
      return std::nullopt;
    }
    if (rc != CURLE_OK) {
      why = std::string("download failed: ") + (error_[0] ? error_ : curl_easy_strerror(rc));
      return std::nullopt;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      why = "HTTP status " + std::to_string(status);
      return std::nullopt;
    }
    const char* ext = image_extension(body_);
    if (!ext) {
      why = "body is not a JPEG, PNG, GIF or WebP image";
      return std::nullopt;
    }
    Image img{sha256_hex(body_), body_.size()};
    if (!store_image(image_dir, img.sha256, ext, body_, why)) return std::nullopt;
    return img;
  }

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<Downloader*>(user);
    const std::size_t n = size * count;
    if (self->body_.size() + n > max_image_bytes) {
      self->too_large_ = true;
      return 0;  // makes libcurl stop the transfer
    }
    self->body_.append(data, n);
    return n;
  }

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
  std::string body_;
  bool too_large_ = false;
  char error_[CURL_ERROR_SIZE] = {};
};

// ---- Database ----

constexpr const char* create_table_sql =
    "CREATE TABLE IF NOT EXISTS peer_product (sku text PRIMARY KEY, title text NOT NULL, category text NOT NULL, "
    "net_minor bigint NOT NULL, tax_minor bigint NOT NULL, gross_minor bigint NOT NULL, currency char(3) NOT NULL, "
    "stock integer, image_url text, image_sha256 text, image_bytes bigint, "
    "updated_at timestamptz NOT NULL DEFAULT now())";

constexpr const char* upsert_sql =
    "INSERT INTO peer_product (sku, title, category, net_minor, tax_minor, gross_minor, currency, stock, "
    "image_url, image_sha256, image_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (sku) DO UPDATE SET title = EXCLUDED.title, category = EXCLUDED.category, "
    "net_minor = EXCLUDED.net_minor, tax_minor = EXCLUDED.tax_minor, gross_minor = EXCLUDED.gross_minor, "
    "currency = EXCLUDED.currency, stock = EXCLUDED.stock, image_url = EXCLUDED.image_url, "
    "image_sha256 = EXCLUDED.image_sha256, image_bytes = EXCLUDED.image_bytes, updated_at = now()";

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string pg_message(const PGconn* conn) {
  std::string m = PQerrorMessage(conn);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// "CREATE TABLE IF NOT EXISTS" reports an existing table as a notice; it is expected, not news.
void ignore_notice(void*, const char*) {}

// ---- The importer ----

struct Product {
  std::string sku, title, category;
  std::optional<std::int32_t> stock;
  std::string image_url;  // empty: no image
  std::int64_t net = 0, tax = 0, gross = 0;
  Image image;
};

struct Columns {
  std::size_t sku, name, category, price, stock, image, count;
};

Columns find_columns(const CsvRecord& header) {
  auto find = [&](std::string_view name) {
    for (std::size_t i = 0; i < header.fields.size(); ++i)
      if (trim(header.fields[i]) == name) return i;
    throw Fatal("the feed has no column '" + std::string(name) + "'");
  };
  return Columns{find("SKU"),   find("Name"),  find("Category"),         find("Price"),
                 find("Stock"), find("Image"), header.fields.size()};
}

// Checks a record against the supplier's rules and fills the product; false (with why) when it breaks one.
bool validate(const CsvRecord& rec, const Columns& cols, Product& p, std::string& why) {
  if (!rec.problem.empty()) {
    why = rec.problem;
    return false;
  }
  if (rec.fields.size() != cols.count) {
    why = "row has " + std::to_string(rec.fields.size()) + " fields, the header has " + std::to_string(cols.count);
    return false;
  }
  for (const auto& f : rec.fields) {
    if (!utf8_length(f)) {
      why = "invalid UTF-8 or a NUL byte";
      return false;
    }
  }
  auto value = [&](std::size_t column) {
    std::string v = trim(rec.fields[column]);
    return is_null(v) ? std::string() : v;
  };
  p.sku = value(cols.sku);
  p.title = value(cols.name);
  p.category = value(cols.category);
  const std::string price = value(cols.price);
  const std::string stock = value(cols.stock);
  p.image_url = value(cols.image);

  const std::size_t sku_len = *utf8_length(p.sku);
  if (sku_len == 0) {
    why = "SKU is required";
    return false;
  }
  if (sku_len > 64) {
    why = "SKU has " + std::to_string(sku_len) + " characters, at most 64 allowed";
    return false;
  }
  if (p.title.empty()) {
    why = "Name is required";
    return false;
  }
  if (const std::size_t n = *utf8_length(p.title); n > 200) {
    why = "Name has " + std::to_string(n) + " characters, at most 200 allowed";
    return false;
  }
  if (std::find(categories.begin(), categories.end(), p.category) == categories.end()) {
    why = p.category.empty() ? "Category is required" : "Category '" + p.category + "' is not one of tools, garden, books, food";
    return false;
  }
  if (price.empty()) {
    why = "Price is required";
    return false;
  }
  std::string reason;
  const auto cents = parse_price_cents(price, reason);
  if (!cents) {
    why = "Price '" + price + "': " + reason;
    return false;
  }
  p.stock.reset();
  if (!stock.empty()) {
    p.stock = parse_stock(stock, reason);
    if (!p.stock) {
      why = "Stock '" + stock + "': " + reason;
      return false;
    }
  }
  if (!p.image_url.empty() && !valid_url(p.image_url)) {
    why = "Image '" + p.image_url + "' is not an http or https URL with a host";
    return false;
  }
  p.net = *cents;
  p.tax = tax_cents(p.net, p.category);
  p.gross = p.net + p.tax;
  return true;
}

// One INSERT ... ON CONFLICT in autocommit: each row is its own transaction and its own round trip.
// False (with why) when the server refuses the row; a lost connection is fatal.
bool upsert(PGconn* conn, const Product& p, std::string& why) {
  const std::string net = std::to_string(p.net), tax = std::to_string(p.tax), gross = std::to_string(p.gross);
  const std::string stock = p.stock ? std::to_string(*p.stock) : std::string();
  const bool has_image = !p.image_url.empty();
  const std::string bytes = std::to_string(p.image.bytes);
  const std::array<const char*, 11> params{
      p.sku.c_str(),
      p.title.c_str(),
      p.category.c_str(),
      net.c_str(),
      tax.c_str(),
      gross.c_str(),
      currency,
      p.stock ? stock.c_str() : nullptr,
      has_image ? p.image_url.c_str() : nullptr,
      has_image ? p.image.sha256.c_str() : nullptr,
      has_image ? bytes.c_str() : nullptr,
  };
  PgResult res(PQexecParams(conn, upsert_sql, static_cast<int>(params.size()), nullptr, params.data(), nullptr,
                            nullptr, 0),
               &PQclear);
  if (res && PQresultStatus(res.get()) == PGRES_COMMAND_OK) return true;
  if (PQstatus(conn) != CONNECTION_OK) throw Fatal("lost the database connection: " + pg_message(conn));
  why = "database refused the row: " + pg_message(conn);
  return false;
}

struct Options {
  std::string input, image_dir;
  std::optional<std::size_t> limit;
};

const char* usage =
    "usage: before_importer --input feed.csv --image-dir DIR [--limit N]\n"
    "Imports the feed one row at a time into peer_product; PEER_DB holds the libpq connection string.\n";

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string v = argv[++i];
    if (a == "--input") {
      o.input = v;
    } else if (a == "--image-dir") {
      o.image_dir = v;
    } else if (a == "--limit") {
      if (v.empty() || !std::all_of(v.begin(), v.end(), is_digit) || v.size() > 18) return std::nullopt;
      o.limit = std::stoull(v);
    } else {
      return std::nullopt;
    }
  }
  if (o.input.empty() || o.image_dir.empty()) return std::nullopt;
  return o;
}

struct Counts {
  std::size_t rows = 0, stored = 0, rejected = 0;
};

Counts run(const Options& opt) {
  const char* conninfo = std::getenv("PEER_DB");
  if (!conninfo || !*conninfo) throw Fatal("PEER_DB is not set (a libpq connection string)");
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw Fatal("cannot connect to the database: " + (conn ? pg_message(conn.get()) : std::string("out of memory")));
  PQsetNoticeProcessor(conn.get(), &ignore_notice, nullptr);
  // The feed is UTF-8 and checked as such; the server must not read it in another encoding.
  if (PQsetClientEncoding(conn.get(), "UTF8") != 0) throw Fatal("cannot set client encoding: " + pg_message(conn.get()));
  {
    PgResult res(PQexec(conn.get(), create_table_sql), &PQclear);
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK)
      throw Fatal("cannot create peer_product: " + pg_message(conn.get()));
  }

  std::unique_ptr<std::FILE, decltype(&std::fclose)> in(std::fopen(opt.input.c_str(), "rb"), &std::fclose);
  if (!in) throw Fatal("cannot open " + opt.input + ": " + std::strerror(errno));
  CsvReader reader(in.get());
  CsvRecord rec;
  if (!reader.next(rec)) throw Fatal(opt.input + " has no header row");
  if (!rec.problem.empty()) throw Fatal(opt.input + ": header row: " + rec.problem);
  const Columns cols = find_columns(rec);

  Downloader downloader;
  Counts counts;
  Product p;
  while ((!opt.limit || counts.rows < *opt.limit) && reader.next(rec)) {
    ++counts.rows;
    std::string why;
    bool ok = validate(rec, cols, p, why);
    if (ok && !p.image_url.empty()) {
      std::optional<Image> img = downloader.fetch(p.image_url, opt.image_dir, why);
      ok = img.has_value();
      if (ok) p.image = *img;
    }
    if (ok) ok = upsert(conn.get(), p, why);
    if (ok) {
      ++counts.stored;
    } else {
      ++counts.rejected;
      std::fprintf(stderr, "line %zu: rejected: %s\n", rec.line, why.c_str());
    }
  }
  if (reader.failed()) throw Fatal("cannot read " + opt.input);
  return counts;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_args(argc, argv);
  if (!options) {
    std::fputs(usage, stderr);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::fputs("before_importer: cannot initialise libcurl\n", stderr);
    return 1;
  }
  int status = 0;
  try {
    const Counts c = run(*options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"mode\":\"before\",\"rows\":%zu,\"stored\":%zu,\"rejected\":%zu,\"seconds\":%.3f}\n", c.rows,
                c.stored, c.rejected, seconds);
    status = c.stored + c.rejected == c.rows ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "before_importer: %s\n", e.what());
    status = 1;
  }
  curl_global_cleanup();
  return status;
}
