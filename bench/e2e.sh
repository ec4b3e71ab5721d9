#!/usr/bin/env bash
# End-to-end benchmark: whole runs of sluice against a throwaway PostgreSQL, beside psql's \copy.
#
#   bench/e2e.sh [ROWS] [RUNS]      (defaults 1000000 and 3)
#
# Every scenario runs RUNS times on the same generated feed (no broken rows); the table gives the
# median wall time, the spread (min-max), rows/s, the ratio to \copy and the median peak RSS:
#   file       csv_source -> validate -> price -> ndjson_sink
#   first      ... -> pg_sink into an empty product table
#   rerun10    right after `first`: the feed with 10% of the prices changed (only those rows are written)
#   unchanged  the same feed again: nothing to write
#   copy       psql \copy of the feed into a table with the feed's columns and a primary key
#   copy_rows  psql \copy of the rows sluice stores (its product table's columns) into the product table:
#              the bare bulk load of the same table
# Then once each: the first load at 10,000 rows (for the memory ratio), and rerun10 / unchanged in a
# table that holds ten times as many rows of other suppliers, with fresh statistics nowhere.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${2:-3}
work=build/bench
mkdir -p "$work"
scripts/setup
cmake --preset release >/dev/null
cmake --build --preset release --target sluice >/dev/null
sluice=build/release/sluice

pg_dir=$work/pg
scripts/pg destroy "$pg_dir"
export SLUICE_DB
SLUICE_DB=$(scripts/pg start "$pg_dir")
trap 'scripts/pg destroy "$pg_dir"' EXIT
$sluice db migrate >/dev/null
sql() { psql "$SLUICE_DB" -qAt -v ON_ERROR_STOP=1 "$@"; }

python3 scripts/gen_feed.py --rows "$rows" --seed 11 >"$work/feed.csv"
python3 scripts/gen_feed.py --rows "$rows" --seed 11 --vary 0.1 --vary-seed 3 >"$work/feed_changed.csv"
python3 scripts/gen_feed.py --rows 10000 --seed 11 >"$work/feed_10k.csv"
bytes=$(stat -c %s "$work/feed.csv")
results=$work/e2e_results.txt
: >"$results"

now() { date +%s.%N; }

# measure LABEL COMMAND...: runs it, appends "LABEL seconds rss_kib" to the results.
measure() {
  local label=$1
  shift
  local t0 t1
  sql -c checkpoint  # every run starts without the previous one's dirty pages to write
  t0=$(now)
  /usr/bin/time -v -o "$work/$label.time" "$@" 2>"$work/$label.log" >/dev/null
  t1=$(now)
  local rss
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/$label.time")
  echo "$label $(python3 -c "print(f'{$t1 - $t0:.3f}')") $rss" >>"$results"
  if grep -q 'identity:' "$work/$label.log"; then
    printf '%-10s %s\n' "$label" "$(grep -o 'identity: .*' "$work/$label.log")"
  fi
}

run_sluice() {  # run_sluice LABEL GRAPH INPUT [--set ...]
  local label=$1 graph=$2 input=$3
  shift 3
  measure "$label" $sluice run "$graph" --supplier config/suppliers/acme.yaml --input "$input" \
    --rejects "$work/$label.rejects" --progress never "$@"
}

empty_product() { sql -c "TRUNCATE product" -c "TRUNCATE sluice_run CASCADE" 2>/dev/null; }

echo "feed: $rows rows, $bytes bytes; $(nproc) cores; $runs runs each"
sql -c "CREATE TABLE copy_target (sku text PRIMARY KEY, name text, category text, price numeric, stock text, image text)"
sql -c "CREATE TABLE copy_rows (LIKE product INCLUDING ALL)"
for ((i = 1; i <= runs; i++)); do
  run_sluice file graphs/products_to_file.yaml "$work/feed.csv" --set "nodes.out.path=$work/out.ndjson"
  empty_product
  run_sluice first graphs/products.yaml "$work/feed.csv"
  run_sluice rerun10 graphs/products.yaml "$work/feed_changed.csv"
  run_sluice unchanged graphs/products.yaml "$work/feed_changed.csv"
  [ "$i" = 1 ] && sql -c "\\copy (SELECT supplier, sku, title, category, net_minor, tax_minor, gross_minor, currency, image_url, attributes, row_hash, first_run_id, last_run_id FROM product) TO '$work/rows.copy'"
  sql -c "TRUNCATE copy_target"
  measure copy psql "$SLUICE_DB" -q -c "\\copy copy_target FROM '$work/feed.csv' WITH (FORMAT csv, HEADER true)"
  sql -c "TRUNCATE copy_rows"
  measure copy_rows psql "$SLUICE_DB" -q -c "\\copy copy_rows (supplier, sku, title, category, net_minor, tax_minor, gross_minor, currency, image_url, attributes, row_hash, first_run_id, last_run_id) FROM '$work/rows.copy'"
done
empty_product
run_sluice first_10k graphs/products.yaml "$work/feed_10k.csv"

# Ten times as many rows of other suppliers, loaded first; nothing analyzed since.
empty_product
sql -c "ALTER TABLE product SET (autovacuum_enabled = false)"
sql -c "INSERT INTO product (supplier, sku, title, category, net_minor, tax_minor, gross_minor, currency, attributes, row_hash)
        SELECT 'other' || s, sku, title, category, net_minor, tax_minor, gross_minor, currency, attributes, row_hash
        FROM copy_rows, generate_series(1, 10) s"
run_sluice first_others graphs/products.yaml "$work/feed.csv"
run_sluice rerun10_others graphs/products.yaml "$work/feed_changed.csv"
run_sluice unchanged_others graphs/products.yaml "$work/feed_changed.csv"
sql -c "ALTER TABLE product RESET (autovacuum_enabled)"

python3 - "$results" "$rows" <<'EOF'
import statistics, sys
rows = int(sys.argv[2])
by = {}
for line in open(sys.argv[1]):
    label, secs, rss = line.split()
    by.setdefault(label, []).append((float(secs), int(rss)))
copy = statistics.median(s for s, _ in by["copy"])
print(f"\n| run | wall (median, min-max) | rows/s | ratio to \\copy | peak RSS (median) |")
print("|---|---|---|---|---|")
for label, vals in by.items():
    secs = sorted(s for s, _ in vals)
    med = statistics.median(secs)
    spread = f"{secs[0]:.2f}-{secs[-1]:.2f}" if len(secs) > 1 else "one run"
    n = 10000 if label.endswith("10k") else rows
    print(f"| {label} | {med:.2f} s ({spread}) | {n / med:,.0f} | {copy / med:.2f} | "
          f"{statistics.median(r for _, r in vals) / 1024:.0f} MiB |")
first = statistics.median(r for _, r in by["first"])
small = statistics.median(r for _, r in by["first_10k"])
print(f"\npeak RSS of the first load, {rows:,} rows / 10,000 rows: {first / small:.2f}")
EOF
