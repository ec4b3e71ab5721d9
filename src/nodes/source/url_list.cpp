// url_list: the URLs to check, each once with how often the input names it, from a file or a table.
#include "nodes/source/url_list.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <istream>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "clients/pg.hpp"
#include "core/utf8.hpp"
#include "nodes/sink/pg_target.hpp"
#include "nodes/source/csv_reader.hpp"
#include "nodes/source/fd_input.hpp"

namespace sluice {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;  // a longer line, or URL cell, is rejected
constexpr std::size_t kRawPrefix = 256;      // bytes of an oversized line kept for the rejects output
constexpr std::size_t kChunk = 1 << 16;      // bytes asked of the input at a time
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::chrono::seconds kConnectTimeout{10};

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::path, "file of URLs; `sluice run --input` overrides it; '-' reads standard input"},
      {"format",
       Kind::choice,
       "lines: one URL per line, blank lines and lines starting with '#' skipped; csv: a header row and a column of "
       "URLs",
       false,
       "lines",
       {},
       {},
       {"lines", "csv"}},
      {"column", Kind::string, "format: csv: the header name of the column that holds the URLs", false, "url"},
      {"delimiter", Kind::character, "format: csv: field separator: a character, or tab/comma/semicolon/pipe", false,
       "','"},
      {"table", Kind::string,
       "read the URLs from this PostgreSQL table (schema.table allowed) instead of a file; --input is then not read"},
      {"columns", Kind::string_list, "with table: the table's columns that hold URLs", false, "[image_url]"},
      {"page_size", Kind::integer, "with table: rows fetched from the database per round trip", false, "5000", 1,
       1000000},
  }};
  return s;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Offset of the first byte that does not start a well-formed UTF-8 sequence, or npos.
std::size_t find_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const int n = utf8_sequence(s, i);
    if (n <= 0) return i;
    i += static_cast<std::size_t>(n);
  }
  return std::string_view::npos;
}

// The first bytes of s, cut at a character boundary so the rejects output shows no broken character.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

// The Record::raw header of every batch: records carry their URL, rejects the text that was refused.
std::shared_ptr<const std::vector<std::string>> raw_header() {
  static const auto header =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{std::string(url_fields::url)});
  return header;
}

// What the factory resolved, and where in the graph file the settings stand that start-up errors are about.
struct Config {
  std::string id;
  std::size_t url = 0, occurrences = 0;  // record fields
  std::string path;
  bool csv = false;
  std::string column;
  char delimiter = ',';
  std::string table;
  std::vector<std::string> columns;
  std::size_t page_size = 5000;
  Diagnostic column_at, table_at, columns_at;
};

Record url_record(const Config& config, std::size_t width, std::string url, std::uint64_t line,
                  std::uint64_t occurrences) {
  Record r;
  r.line = line;
  r.values.resize(width);
  r.values[config.occurrences] = static_cast<std::int64_t>(occurrences);
  r.raw.push_back(url);
  r.values[config.url] = std::move(url);
  return r;
}

// A URL's repeats are counted as skipped on the batch that carries its record. The run's identity
// (read = written + rejected + skipped + not processed) then holds batch by batch, max_records bounds
// the records and rejects a batch holds (skipped rows take no memory), and a run stopped early counts
// the repeats of a URL it did not hand on as not read, like the URL itself.
void add_url(Batch& out, Record record, std::uint64_t occurrences) {
  out.records.push_back(std::move(record));
  out.skipped += occurrences - 1;
}

class UrlFile final : public SourceNode {
 public:
  UrlFile(Config config, const Schema& schema) : config_(std::move(config)), schema_(schema) {}

  void open(const RunContext& ctx) override {
    width_ = schema_.size();  // final by now: later nodes have added the fields they produce
    input_name_ = open_feed(input_, ctx.input, config_.path, config_.id);
    total_ = input_.size();
    if (config_.csv)
      read_csv();
    else
      read_lines();
    if (input_.aborted()) {
      // A cut-off list is not the input: nothing is handed on, and the cancelled run reads nothing.
      release();
      return;
    }
    total_ = consumed_;
  }

  void abort() override { input_.abort(); }

  bool next(Batch& out, std::size_t max_records) override {
    out.raw_header = raw_header();
    std::size_t n = 0;
    // Records come in order of first appearance and rejects in line order: merged, batches follow the input.
    for (; n < max_records; ++n) {
      const bool urls_left = next_url_ < order_.size();
      const bool rejects_left = next_reject_ < rejects_.size();
      if (!urls_left && !rejects_left) break;
      if (rejects_left && (!urls_left || rejects_[next_reject_].line < order_[next_url_]->second.line)) {
        out.rejects.push_back(std::move(rejects_[next_reject_++]));
        ++handed_on_;
        continue;
      }
      const auto& [url, seen] = *order_[next_url_++];
      add_url(out, url_record(config_, width_, url, seen.line, seen.count), seen.count);
      handed_on_ += seen.count;
    }
    if (next_url_ == order_.size() && next_reject_ == rejects_.size()) release();
    return n > 0;
  }

  // The file is read whole at open() and the work is in checking the URLs, so progress is the share of
  // the input that has been handed on.
  std::uint64_t bytes_read() const override {
    if (handed_on_ >= rows_) return consumed_;
    return static_cast<std::uint64_t>(static_cast<double>(consumed_) * static_cast<double>(handed_on_) /
                                      static_cast<double>(rows_));
  }
  std::optional<std::uint64_t> bytes_total() const override { return total_; }

 private:
  struct Seen {
    std::uint64_t line;   // of the first occurrence
    std::uint64_t count;  // occurrences
  };
  using Entry = std::pair<const std::string, Seen>;

  void add(std::string_view url, std::uint64_t line) {
    ++rows_;
    key_.assign(url);  // reused, so that a repeat costs no allocation
    auto it = seen_.find(key_);
    if (it == seen_.end()) {
      it = seen_.emplace(key_, Seen{line, 0}).first;
      order_.push_back(&*it);  // map nodes stay where they are when the table grows
    }
    ++it->second.count;
  }

  void reject(std::uint64_t line, std::string code, std::string message, std::vector<std::string> raw) {
    ++rows_;
    rejects_.push_back(Reject{line, config_.id, std::move(code), std::move(message), std::move(raw)});
  }

  void release() {
    std::unordered_map<std::string, Seen>().swap(seen_);
    std::vector<const Entry*>().swap(order_);
    std::vector<Reject>().swap(rejects_);
    next_url_ = next_reject_ = 0;
  }

  // A read error must not pass for the end of the input: the URLs after it would go unchecked.
  [[noreturn]] void read_error(const std::runtime_error& e) const {
    throw std::runtime_error("read error on " + input_name_ + " after " + std::to_string(consumed_) +
                             " bytes: " + e.what());
  }

  // Splits the input at LF, keeping at most the first kMaxLine + 4 bytes of a line (room for a byte-order
  // mark and a CR): a longer line is rejected, and holding it whole would let one line of garbage take
  // any amount of memory.
  void read_lines() {
    constexpr std::size_t keep = kMaxLine + kBom.size() + 1;
    std::vector<char> chunk(kChunk);
    std::string line;
    bool long_line = false;
    std::uint64_t number = 0;
    auto append = [&](std::string_view part) {
      if (long_line) return;
      if (part.size() > keep - line.size()) {
        part = part.substr(0, keep - line.size());
        long_line = true;
      }
      line.append(part);
    };
    for (;;) {
      std::streamsize got = 0;
      try {
        got = input_.sgetn(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      } catch (const std::runtime_error& e) {
        read_error(e);
      }
      if (got <= 0 || input_.aborted()) break;
      consumed_ += static_cast<std::uint64_t>(got);
      std::string_view data(chunk.data(), static_cast<std::size_t>(got));
      for (std::size_t nl; (nl = data.find('\n')) != std::string_view::npos; data.remove_prefix(nl + 1)) {
        append(data.substr(0, nl));
        take_line(line, long_line, ++number);
        line.clear();
        long_line = false;
      }
      append(data);
    }
    if (!line.empty()) take_line(line, long_line, ++number);
  }

  void take_line(std::string_view text, bool long_line, std::uint64_t number) {
    if (number == 1 && text.starts_with(kBom)) text.remove_prefix(kBom.size());
    if (!long_line && text.ends_with('\r')) text.remove_suffix(1);
    const std::string_view url = trim(text);
    if (!url.empty() && url.front() == '#') return;
    if (long_line || text.size() > kMaxLine) {
      reject(number, "url_line",
             "the line is longer than " + std::to_string(kMaxLine) + " bytes; raw holds its first bytes",
             {utf8_prefix(text, kRawPrefix)});
      return;
    }
    if (url.empty()) return;
    const auto at = [&](std::size_t offset) { return std::to_string(url.data() - text.data() + offset + 1); };
    if (std::size_t nul = url.find('\0'); nul != std::string_view::npos) {
      reject(number, "url_line", "the line holds a NUL byte at byte " + at(nul), {std::string(text)});
      return;
    }
    if (std::size_t bad = find_invalid_utf8(url); bad != std::string_view::npos) {
      reject(number, "url_line", "invalid UTF-8 at byte " + at(bad), {std::string(text)});
      return;
    }
    add(url, number);
  }

  void read_csv() {
    Diagnostics diags;
    std::istream in(&input_);
    CsvDialect dialect;
    dialect.delimiter = config_.delimiter;
    // Only the URL column has to be text: a feed whose other columns are Latin-1 still lists its URLs.
    dialect.check_utf8 = false;
    std::unique_ptr<CsvReader> reader;
    try {
      reader = std::make_unique<CsvReader>(in, dialect);
    } catch (const std::invalid_argument& e) {
      diags.add(Diagnostic{input_name_, 0, 0, "", e.what()});
      throw StartupError(diags);
    }
    CsvRecord head;
    if (!reader->next(head)) {
      consumed_ = reader->bytes_consumed();
      if (reader->io_error()) read_error(std::runtime_error("the stream failed"));
      if (input_.aborted()) return;
      diags.add(Diagnostic{input_name_, 0, 0, "",
                           "the input is empty: expected a header row naming the column '" + config_.column + "'"});
      throw StartupError(diags);
    }
    if (head.error != CsvErrorCode::none) {
      diags.add(Diagnostic{input_name_, static_cast<int>(head.line), 1, "header", head.message});
      throw StartupError(diags);
    }
    const std::size_t column = find_column(head.fields);
    const std::size_t width = head.fields.size();

    CsvRecord rec;
    while (reader->next(rec)) {
      // A reject shows the URL cell as read; its line number puts it in context.
      auto raw = [&] {
        return column < rec.fields.size() ? std::vector<std::string>{utf8_prefix(rec.fields[column], kRawPrefix)}
                                          : std::vector<std::string>{};
      };
      if (rec.error != CsvErrorCode::none) {
        reject(rec.line, std::string(to_string(rec.error)), rec.message, raw());
        continue;
      }
      if (rec.fields.size() != width) {
        reject(rec.line, "ragged_row",
               "row has " + std::to_string(rec.fields.size()) + " fields, the header has " + std::to_string(width),
               raw());
        continue;
      }
      const std::string_view url = trim(rec.fields[column]);
      if (url.empty()) continue;
      if (url.size() > kMaxLine) {
        reject(rec.line, "field_too_large",
               "the URL in column '" + config_.column + "' is longer than " + std::to_string(kMaxLine) + " bytes",
               raw());
        continue;
      }
      if (std::size_t bad = find_invalid_utf8(url); bad != std::string_view::npos) {
        reject(rec.line, "invalid_utf8",
               "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the URL in column '" + config_.column + "'",
               raw());
        continue;
      }
      add(url, rec.line);
    }
    consumed_ = reader->bytes_consumed();
    if (reader->io_error()) read_error(std::runtime_error("the stream failed"));
  }

  // The position of the URL column in the header; a start-up error when it is missing or named twice.
  std::size_t find_column(const std::vector<std::string>& header) const {
    std::vector<std::size_t> hits;
    std::string names;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == config_.column) hits.push_back(i);
      names += (i ? ", '" : "'") + header[i] + "'";
    }
    if (hits.size() == 1) return hits[0];
    Diagnostic d = config_.column_at;
    if (hits.empty())
      d.message = "column '" + config_.column + "' is not in the header of " + input_name_ + " (" + names + ")";
    else
      d.message = "column '" + config_.column + "' appears more than once in the header of " + input_name_ +
                  " (columns " + std::to_string(hits[0] + 1) + " and " + std::to_string(hits[1] + 1) + ")";
    Diagnostics diags;
    diags.add(std::move(d));
    throw StartupError(diags);
  }

  Config config_;
  const Schema& schema_;
  std::size_t width_ = 0;
  FdInput input_;
  std::string input_name_;
  std::optional<std::uint64_t> total_;
  std::uint64_t consumed_ = 0;  // input bytes
  std::unordered_map<std::string, Seen> seen_;
  std::vector<const Entry*> order_;  // distinct URLs in order of first appearance
  std::vector<Reject> rejects_;      // in line order
  std::string key_;
  std::size_t next_url_ = 0, next_reject_ = 0;
  std::uint64_t rows_ = 0;       // URL lines and rejects: what the run counts as read
  std::uint64_t handed_on_ = 0;  // of rows_
};

class UrlTable final : public SourceNode {
 public:
  UrlTable(Config config, const Schema& schema) : config_(std::move(config)), schema_(schema) {}

  ~UrlTable() override { close_session(); }

  void open(const RunContext& ctx) override {
    width_ = schema_.size();
    try {
      auto c = connect(ctx.db, ConnectOptions{kConnectTimeout, {}, &aborted_, "sluice url_list"});
      std::lock_guard l(socket_mutex_);
      conn_ = std::move(c);
      socket_ = conn_->sock();
    } catch (const pqxx::failure& e) {
      throw std::runtime_error("node '" + config_.id + "': " + e.what());
    }
    try {
      tx_ = std::make_unique<pqxx::read_transaction>(*conn_, "url_list");
      // DECLARE plans the query, so a missing table or column is found here, before any row is read.
      tx_->exec0("DECLARE url_list NO SCROLL CURSOR FOR " + query());
    } catch (const pqxx::sql_error& e) {
      Diagnostic d = e.sqlstate() == "42703" ? config_.columns_at : config_.table_at;  // undefined_column
      d.message = "cannot read the URLs of table '" + config_.table + "': " + server_message(e.what());
      Diagnostics diags;
      diags.add(std::move(d));
      throw StartupError(diags);
    } catch (const pqxx::failure& e) {
      throw std::runtime_error("node '" + config_.id + "': " + server_message(e.what()));
    }
  }

  // Shuts the session's socket down: that ends a FETCH in progress (the first one aggregates the whole
  // table and can take minutes), and the read-only transaction has nothing to undo. libpq's cancel
  // request would touch the connection from a second thread while next() uses it.
  void abort() override {
    aborted_ = true;
    std::lock_guard l(socket_mutex_);
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  }

  bool next(Batch& out, std::size_t max_records) override {
    out.raw_header = raw_header();
    std::size_t n = 0;
    while (n < max_records && !aborted_) {
      if (row_ == page_.size() && !fetch()) break;
      const pqxx::row row = page_[static_cast<pqxx::result::size_type>(row_++)];
      std::string url(row[0].c_str(), row[0].size());
      const auto occurrences = row[1].as<std::uint64_t>();
      url_bytes_ += url.size();
      add_url(out, url_record(config_, width_, std::move(url), ++ordinal_, occurrences), occurrences);
      ++n;
    }
    return n > 0;
  }

  std::uint64_t bytes_read() const override { return url_bytes_; }

 private:
  std::string query() const {
    std::string table;
    std::string_view rest = config_.table;
    for (std::size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1))
      table += conn_->quote_name(std::string(rest.substr(0, dot))) + ".";
    table += conn_->quote_name(std::string(rest));
    std::string urls;
    for (const auto& c : config_.columns) {
      const std::string column = conn_->quote_name(c);
      if (!urls.empty()) urls += " UNION ALL ";
      urls +=
          "SELECT " + column + " AS url FROM " + table + " WHERE " + column + " IS NOT NULL AND " + column + " <> ''";
    }
    return "SELECT url, count(*) FROM (" + urls + ") u GROUP BY url ORDER BY url";
  }

  // The next page into page_; false at the end of the table.
  bool fetch() {
    if (!tx_) return false;
    try {
      page_ = tx_->exec("FETCH FORWARD " + std::to_string(config_.page_size) + " FROM url_list");
    } catch (const pqxx::failure& e) {
      if (aborted_) throw RunCancelled();
      throw std::runtime_error("reading the URLs of table '" + config_.table + "': " + server_message(e.what()));
    }
    row_ = 0;
    // A short page is the last one: the session is not held while the run checks the last URLs.
    if (page_.size() < config_.page_size) close_session();
    return !page_.empty();
  }

  void close_session() {
    if (tx_) {
      try {
        tx_->commit();
      } catch (const std::exception&) {
        // A read-only transaction: however it ends, nothing is lost.
      }
      tx_.reset();
    }
    {
      std::lock_guard l(socket_mutex_);
      socket_ = -1;
    }
    conn_.reset();
  }

  Config config_;
  const Schema& schema_;
  std::size_t width_ = 0;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<pqxx::read_transaction> tx_;
  pqxx::result page_;
  std::size_t row_ = 0;  // in page_
  std::uint64_t ordinal_ = 0;
  std::uint64_t url_bytes_ = 0;
  std::mutex socket_mutex_;
  int socket_ = -1;
  std::atomic<bool> aborted_{false};
};

NodeBody make(NodeBuildContext& ctx) {
  const Settings& s = ctx.settings;
  auto where = [&](const std::string& key) {
    return ctx.graph_doc.at(s.node(key), ctx.entry.path() + "." + key, "", ctx.entry.settings);
  };
  auto error = [&](const std::string& key, const std::string& message) { ctx.error(s.node(key), key, message); };

  Config c;
  c.id = ctx.entry.id;
  c.url = ctx.schema.add(url_fields::url);
  c.occurrences = ctx.schema.add(url_fields::occurrences);
  c.path = s.string("path");
  c.column = s.string("column");
  c.delimiter = s.character("delimiter");
  c.table = s.string("table");
  c.columns = s.string_list("columns");
  c.page_size = static_cast<std::size_t>(s.integer("page_size"));
  c.column_at = where("column");
  c.table_at = where("table");
  c.columns_at = where("columns");
  const std::string format = s.string("format");
  c.csv = format == "csv";

  if (s.has("table")) {
    for (const char* key : {"path", "format", "column", "delimiter"})
      if (s.has(key)) error(key, std::string(key) + ": is for file input; this node reads the table '" + c.table + "'");
    if (!valid_identifier(c.table, true))
      error("table", "'" + c.table + "' is not a plain identifier (letters, digits and _, optionally schema.table)");
    if (c.columns.empty()) error("columns", "name at least one column that holds URLs");
    const YAML::Node list = s.node("columns");
    for (std::size_t i = 0; i < c.columns.size(); ++i) {
      const auto before = c.columns.begin() + static_cast<std::ptrdiff_t>(i);
      const std::string path = ctx.entry.path() + ".columns[" + std::to_string(i) + "]";
      const YAML::Node at = list.IsSequence() ? list[i] : list;
      if (!valid_identifier(c.columns[i]))
        ctx.diags.add(ctx.graph_doc.at(
            at, path, "'" + c.columns[i] + "' is not a plain identifier (letters, digits and _)", ctx.entry.settings));
      else if (std::find(c.columns.begin(), before, c.columns[i]) != before)
        ctx.diags.add(ctx.graph_doc.at(at, path, "column '" + c.columns[i] + "' is named twice", ctx.entry.settings));
    }
    return std::make_unique<UrlTable>(std::move(c), ctx.schema);
  }

  for (const char* key : {"columns", "page_size"})
    if (s.has(key)) error(key, std::string(key) + ": goes with table:, which reads the URLs from PostgreSQL");
  if (format == "lines") {
    for (const char* key : {"column", "delimiter"})
      if (s.has(key)) error(key, std::string(key) + ": is for format: csv; format: lines reads one URL per line");
  } else if (c.csv) {
    if (c.column.empty()) error("column", "the column name cannot be empty");
    if (c.delimiter == '"' || c.delimiter == '\r' || c.delimiter == '\n' || c.delimiter == '\0')
      error("delimiter", "the delimiter cannot be a quote, CR, LF or none");
  }
  return std::make_unique<UrlFile>(std::move(c), ctx.schema);
}

}  // namespace

const NodeType& url_list_type() {
  static const NodeType type{
      "url_list",
      NodeRole::source,
      true,
      "Lists the URLs to check, each once: from a file with one URL per line (surrounding spaces trimmed; blank "
      "lines and '#' comments skipped; CRLF and a UTF-8 byte-order mark accepted), from a CSV column named by its "
      "header, or from the URL columns of a PostgreSQL table (`table:`, read through a cursor a page at a time; "
      "`--input` is then not read). Each distinct URL becomes one record with `url` and `occurrences`, how many "
      "times the input names it; its repeats count as skipped rows. A file is read whole at start-up (about 120 "
      "bytes plus the URL per distinct URL) and its URLs follow in order of first appearance, each with the line "
      "that first names it; a table's follow in URL order, numbered 1, 2, ... URLs are not validated here. Lines "
      "longer than 64 KiB or holding a NUL byte or invalid UTF-8 are rejected (url_line), as are CSV rows that "
      "are broken or ragged.",
      &spec,
      "id: urls\ntype: url_list\n",
      &make,
      false,
      false,
  };
  return type;
}

}  // namespace sluice
