// pg_sink: idempotent upserts into PostgreSQL through COPY into a staging table and one merge per batch.
#include "nodes/sink/pg_sink.hpp"

#include <random>
#include <thread>
#include <unordered_map>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"table", Kind::string, "products table (created by `sluice db migrate`)", false, "product"},
      {"title_field", Kind::string, "field stored in the title column", false, "title"},
      {"category_field", Kind::string, "field stored in the category column", false, "category"},
      {"image_field", Kind::string, "field stored in the image_url column", false, "image_url"},
      {"max_attempts", Kind::integer, "tries of a batch when the database is unavailable", false, "5", 1, 100},
      {"retry_backoff_ms", Kind::integer, "first wait between tries; doubles up to 10 s", false, "200", 1, 60000},
  }};
  return s;
}

using Opt = std::optional<std::string>;
using OptInt = std::optional<std::int64_t>;

// One staged row: what COPY sends, plus where it came from for a reject.
struct Row {
  std::size_t record;  // index in the batch
  std::string key;
  Opt title, category, currency, image_url;
  OptInt net, tax, gross;
  std::string data;
};

class PgSink final : public SinkNode {
 public:
  PgSink(std::string id, const Settings& settings, const Supplier& supplier, Schema& schema)
      : id_(std::move(id)),
        table_(settings.string("table")),
        supplier_(supplier.name),
        atomic_(supplier.mode == "atomic"),
        max_attempts_(static_cast<int>(settings.integer("max_attempts"))),
        backoff_ms_(settings.integer("retry_backoff_ms")),
        schema_(schema) {
    key_ = schema.add(supplier.key);
    title_ = settings.string("title_field");
    category_ = settings.string("category_field");
    image_ = settings.string("image_field");
  }

  void open(const RunContext& ctx) override {
    ctx_ = ctx;
    auto find = [&](const std::string& name) -> std::optional<std::size_t> {
      return name.empty() ? std::nullopt : schema_.find(name);
    };
    title_index_ = find(title_);
    category_index_ = find(category_);
    image_index_ = find(image_);
    net_index_ = schema_.find("net_minor");
    tax_index_ = schema_.find("tax_minor");
    gross_index_ = schema_.find("gross_minor");
    currency_index_ = schema_.find("currency");
    for (const auto& name : schema_.names()) {
      std::string key;
      append_json_string(key, name);
      json_keys_.push_back(key + ":");
    }
    connect_session();
    require_current_schema(*conn_);
    if (atomic_) run_tx_ = std::make_unique<pqxx::work>(*conn_, "sluice_run");
  }

  WriteCounts write(Batch& batch) override {
    // A key given twice in one batch would make the merge fail (21000); the last occurrence wins
    // and the earlier ones are rejected, so every row is still accounted for.
    std::unordered_map<std::string_view, std::size_t> last;
    std::vector<std::string> keys(batch.records.size());
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      keys[i] = value_text(batch.records[i].values[key_]);
      if (!keys[i].empty()) last[keys[i]] = i;
    }
    std::vector<Row> rows;
    rows.reserve(batch.records.size());
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      Record& r = batch.records[i];
      if (keys[i].empty()) {
        reject(batch, i, "missing_key", "the key field '" + schema_.names()[key_] + "' is empty");
      } else if (last[keys[i]] != i) {
        reject(batch, i, "duplicate_key",
               "key '" + keys[i] + "' appears again on line " + std::to_string(batch.records[last[keys[i]]].line) +
                   ", which wins");
      } else {
        rows.push_back(make_row(r, i, std::move(keys[i])));
      }
    }
    WriteCounts counts;
    merge(rows, 0, rows.size(), batch, counts);
    staged_ += counts;
    return counts;
  }

  WriteCounts close(bool complete) override {
    if (!run_tx_) return {};
    // All or nothing: only a run that completed keeps what it wrote.
    if (complete && !ctx_.dry_run) {
      run_tx_->commit();
      run_tx_.reset();
      return {};
    }
    run_tx_->abort();
    run_tx_.reset();
    return staged_;
  }

 private:
  void reject(Batch& batch, std::size_t i, std::string code, std::string message) {
    const Record& r = batch.records[i];
    batch.rejects.push_back(Reject{r.line, id_, std::move(code), std::move(message), r.raw});
  }

  Row make_row(const Record& r, std::size_t index, std::string key) const {
    auto text = [&](std::optional<std::size_t> i) -> Opt {
      if (!i || is_null(r.values[*i])) return std::nullopt;
      return value_text(r.values[*i]);
    };
    auto integer = [&](std::optional<std::size_t> i) -> OptInt {
      if (!i) return std::nullopt;
      if (const auto* v = std::get_if<std::int64_t>(&r.values[*i])) return *v;
      return std::nullopt;
    };
    Row row{index, std::move(key), text(title_index_), text(category_index_), text(currency_index_),
            text(image_index_), integer(net_index_), integer(tax_index_), integer(gross_index_), {}};
    row.data.push_back('{');
    for (std::size_t i = 0; i < json_keys_.size(); ++i) {
      if (i) row.data.push_back(',');
      row.data += json_keys_[i];
      append_json_value(row.data, r.values[i]);
    }
    row.data.push_back('}');
    return row;
  }

  void connect_session() {
    conn_ = connect(ctx_.db);
    pqxx::nontransaction n{*conn_};
    n.exec0(
        "CREATE TEMP TABLE IF NOT EXISTS sluice_staging (sku text, title text, category text, net_minor bigint, "
        "tax_minor bigint, gross_minor bigint, currency text, image_url text, data jsonb) ON COMMIT DELETE ROWS");
    merge_sql_ =
        "WITH m AS (INSERT INTO " + n.quote_name(table_) +
        " AS p (supplier, sku, title, category, net_minor, tax_minor, gross_minor, currency, image_url, data, "
        "first_run_id, last_run_id) "
        "SELECT $1, sku, title, category, net_minor, tax_minor, gross_minor, currency, image_url, data, "
        "nullif($2, 0), nullif($2, 0) FROM sluice_staging "
        "ON CONFLICT (supplier, sku) DO UPDATE SET title = EXCLUDED.title, category = EXCLUDED.category, "
        "net_minor = EXCLUDED.net_minor, tax_minor = EXCLUDED.tax_minor, gross_minor = EXCLUDED.gross_minor, "
        "currency = EXCLUDED.currency, image_url = EXCLUDED.image_url, data = EXCLUDED.data, "
        "last_run_id = EXCLUDED.last_run_id, updated_at = now() "
        "WHERE (p.title, p.category, p.net_minor, p.tax_minor, p.gross_minor, p.currency, p.image_url, p.data) "
        "IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.category, EXCLUDED.net_minor, EXCLUDED.tax_minor, "
        "EXCLUDED.gross_minor, EXCLUDED.currency, EXCLUDED.image_url, EXCLUDED.data) "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM m";
  }

  WriteCounts merge_once(const std::vector<Row>& rows, std::size_t begin, std::size_t end, pqxx::transaction_base& t) {
    if (atomic_) t.exec0("TRUNCATE sluice_staging");
    {
      pqxx::stream_to s{t, "sluice_staging",
                        std::vector<std::string>{"sku", "title", "category", "net_minor", "tax_minor", "gross_minor",
                                                 "currency", "image_url", "data"}};
      for (std::size_t i = begin; i < end; ++i) {
        const Row& r = rows[i];
        s << std::make_tuple(r.key, r.title, r.category, r.net, r.tax, r.gross, r.currency, r.image_url, r.data);
      }
      s.complete();
    }
    auto res = t.exec_params1(merge_sql_, supplier_, ctx_.run_id);
    WriteCounts c;
    c.inserted = res[0].as<std::uint64_t>();
    c.updated = res[1].as<std::uint64_t>();
    c.unchanged = (end - begin) - c.inserted - c.updated;
    return c;
  }

  // Merges rows[begin, end) in one transaction (a savepoint in atomic mode). Rows the database refuses
  // are found by splitting the range in halves until each bad row is alone; the rest commit.
  void merge(const std::vector<Row>& rows, std::size_t begin, std::size_t end, Batch& batch, WriteCounts& out) {
    if (begin == end) return;
    for (int attempt = 1;; ++attempt) {
      try {
        if (atomic_) {
          pqxx::subtransaction sub{*run_tx_, "sluice_batch"};
          WriteCounts c = merge_once(rows, begin, end, sub);
          sub.commit();
          out += c;
        } else {
          pqxx::work t{*conn_, "sluice_batch"};
          WriteCounts c = merge_once(rows, begin, end, t);
          if (ctx_.dry_run) t.abort();
          else t.commit();
          out += c;
        }
        return;
      } catch (const std::exception& e) {
        if (is_data_error(e)) {
          if (end - begin == 1) {
            reject(batch, rows[begin].record, "database", first_line(e.what()));
            return;
          }
          std::size_t mid = begin + (end - begin) / 2;
          merge(rows, begin, mid, batch, out);
          merge(rows, mid, end, batch, out);
          return;
        }
        // An all-or-nothing run cannot survive losing its transaction; a per-batch run retries the batch,
        // which the idempotent merge makes safe even when the commit's fate was unknown.
        if (!is_transient(e) || atomic_ || attempt >= max_attempts_) throw;
        std::this_thread::sleep_for(backoff(attempt));
        try {
          connect_session();
        } catch (const std::exception&) {
          // Still down: the next attempt fails fast and counts.
        }
      }
    }
  }

  std::chrono::milliseconds backoff(int attempt) {
    std::int64_t cap = std::min<std::int64_t>(10000, backoff_ms_ << std::min(attempt - 1, 16));
    std::uniform_int_distribution<std::int64_t> jitter(cap / 2, cap);
    return std::chrono::milliseconds(jitter(rng_));
  }

  static std::string first_line(const std::string& s) {
    std::string line = s.substr(0, s.find('\n'));
    return line.rfind("ERROR:  ", 0) == 0 ? line.substr(8) : line;
  }

  std::string id_;
  std::string table_;
  std::string supplier_;
  bool atomic_;
  int max_attempts_;
  std::int64_t backoff_ms_;
  const Schema& schema_;
  std::size_t key_;
  std::string title_, category_, image_;
  std::optional<std::size_t> title_index_, category_index_, image_index_, net_index_, tax_index_, gross_index_,
      currency_index_;
  std::vector<std::string> json_keys_;
  RunContext ctx_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> run_tx_;
  std::string merge_sql_;
  WriteCounts staged_;
  std::mt19937_64 rng_{std::random_device{}()};
};

NodeBody make(NodeBuildContext& ctx) {
  return std::make_unique<PgSink>(ctx.entry.id, ctx.settings, ctx.supplier, ctx.schema);
}

}  // namespace

const NodeType& pg_sink_type() {
  static const NodeType type{
      "pg_sink",
      NodeRole::sink,
      true,
      "Upserts records into PostgreSQL keyed by (supplier, key field): each batch is COPYed into a staging table "
      "and merged with one INSERT ... ON CONFLICT DO UPDATE that only touches rows that really changed, so a rerun "
      "writes nothing. Counts inserted, updated and unchanged rows exactly. Rows the database refuses are "
      "isolated by splitting the batch and rejected with its message; the rest commit. The supplier's `mode: "
      "atomic` makes the whole run one transaction.",
      &spec,
      "id: db\ntype: pg_sink\n",
      &make,
      true,
  };
  return type;
}

}  // namespace sluice
