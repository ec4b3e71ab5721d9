#!/usr/bin/env bash
# End-to-end benchmark: whole runs of sluice against a throwaway PostgreSQL, beside psql's \copy.
#
#   bench/e2e.sh [ROWS]      (default 1000000)
#
# Reports, for the same generated feed (no broken rows):
#   file   csv_source -> validate -> price -> ndjson_sink, rows/s and peak RSS
#   first  ... -> pg_sink into an empty table
#   rerun  ... -> pg_sink with 10% of the prices changed (only those rows are written)
#   copy   psql \copy of the same file into an empty table with the feed's columns and a primary key
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
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

python3 scripts/gen_feed.py --rows "$rows" --seed 11 >"$work/feed.csv"
python3 scripts/gen_feed.py --rows "$rows" --seed 11 --vary 0.1 --vary-seed 3 >"$work/feed_changed.csv"
bytes=$(stat -c %s "$work/feed.csv")

now() { date +%s.%N; }
rate() { python3 -c "import sys; r, s = float(sys.argv[1]), float(sys.argv[2]); print(f'{r / s:,.0f}')" "$1" "$2"; }

timed_run() {  # timed_run LABEL GRAPH INPUT [--set ...]
  local label=$1 graph=$2 input=$3
  shift 3
  local t0 t1
  t0=$(now)
  /usr/bin/time -v -o "$work/$label.time" $sluice run "$graph" --supplier config/suppliers/acme.yaml --input "$input" \
    --rejects "$work/$label.rejects" "$@" 2>"$work/$label.log"
  t1=$(now)
  local secs rss
  secs=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/$label.time")
  printf '%-6s %10s rows  %8s s  %12s rows/s  peak RSS %8s KiB  %s\n' "$label" "$rows" "$secs" "$(rate "$rows" "$secs")" \
    "$rss" "$(grep -o 'identity: .*' "$work/$label.log")"
  eval "${label}_secs=$secs"
}

echo "feed: $rows rows, $bytes bytes; $(nproc) cores"
timed_run file graphs/products_to_file.yaml "$work/feed.csv" --set "nodes.out.path=$work/out.ndjson"
timed_run first graphs/products.yaml "$work/feed.csv"
timed_run rerun graphs/products.yaml "$work/feed_changed.csv"

psql "$SLUICE_DB" -q -c "DROP TABLE IF EXISTS copy_target" -c \
  "CREATE TABLE copy_target (sku text PRIMARY KEY, name text, category text, price numeric, stock text, image text)"
t0=$(now)
psql "$SLUICE_DB" -q -c "\\copy copy_target FROM '$work/feed.csv' WITH (FORMAT csv, HEADER true)"
t1=$(now)
copy_secs=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
printf '%-6s %10s rows  %8s s  %12s rows/s\n' copy "$rows" "$copy_secs" "$(rate "$rows" "$copy_secs")"
python3 -c "print(f'ratio to \\\\copy: first load {$copy_secs / $first_secs:.2f}, 10%-changed rerun {$copy_secs / $rerun_secs:.2f}')"
