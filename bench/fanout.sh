#!/usr/bin/env bash
# What a fan-out costs: the same run with one sink and with two (every record copied once more).
#
#   bench/fanout.sh [ROWS] [RUNS]      (defaults 1000000 and 3)
#
# Scenarios, each RUNS times on the same generated feed; the table gives the median wall time, the
# spread (min-max), rows/s against the same graph with one sink, and the median peak RSS:
#   file1   graphs/products_to_file.yaml: csv_source -> validate -> price -> ndjson_sink
#   file2   the same with a second ndjson_sink on price's port: twice the output work
#   filec   the same with the second branch a filter that drops every record: the copy alone
#   db1     graphs/products_and_export.yaml without its export: ... -> pg_sink into an empty table
#   db2     graphs/products_and_export.yaml: ... -> pg_sink and an ndjson_sink
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${2:-3}
work=build/bench/fanout
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
# The variants: a second sink on price's port, the same behind a filter that keeps nothing (sku is
# required, so never empty), and the database graph without its export.
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
base = open("graphs/products_to_file.yaml").read()
sink2 = "  - id: out2\n    type: ndjson_sink\n    path: out/products2.ndjson\n"
nodes_end = base.index("\nedges:")
open(f"{work}/two_files.yaml", "w").write(base[:nodes_end] + "\n" + sink2.rstrip("\n") + base[nodes_end:] + "  - price -> out2\n")
drop = "  - id: drop\n    type: filter\n    where: {field: sku, empty: true}\n"
open(f"{work}/copy_only.yaml", "w").write(
    base[:nodes_end] + "\n" + (drop + sink2).rstrip("\n") + base[nodes_end:] + "  - price -> drop\n  - drop -> out2\n")
db = open("graphs/products_and_export.yaml").read()
db = db.replace("  - id: export\n    type: ndjson_sink\n    path: out/search_index.ndjson\n", "")
open(f"{work}/one_sink.yaml", "w").write(db.replace("  - price -> export\n", ""))
PY
results=$work/results.txt
: >"$results"
now() { date +%s.%N; }

measure() {  # measure LABEL GRAPH [--set ...]
  local label=$1 graph=$2
  shift 2
  sql -c checkpoint
  local t0 t1
  t0=$(now)
  /usr/bin/time -v -o "$work/$label.time" $sluice run "$graph" --supplier config/suppliers/acme.yaml \
    --input "$work/feed.csv" --rejects "$work/$label.rejects" --progress never "$@" 2>"$work/$label.log" >/dev/null
  t1=$(now)
  local rss
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/$label.time")
  echo "$label $(python3 -c "print(f'{$t1 - $t0:.3f}')") $rss" >>"$results"
  printf '%-6s %s\n' "$label" "$(grep -o 'identity: .*' "$work/$label.log")"
}
empty_product() { sql -c "TRUNCATE product" -c "TRUNCATE sluice_run CASCADE" 2>/dev/null; }

echo "feed: $rows rows; $(nproc) cores; $runs runs each"
for ((i = 1; i <= runs; i++)); do
  measure file1 graphs/products_to_file.yaml --set "nodes.out.path=$work/out.ndjson"
  measure file2 "$work/two_files.yaml" --set "nodes.out.path=$work/out.ndjson" --set "nodes.out2.path=$work/out2.ndjson"
  measure filec "$work/copy_only.yaml" --set "nodes.out.path=$work/out.ndjson" --set "nodes.out2.path=$work/out2.ndjson"
  empty_product
  measure db1 "$work/one_sink.yaml"
  empty_product
  measure db2 graphs/products_and_export.yaml --set "nodes.export.path=$work/export.ndjson"
done

python3 - "$results" "$rows" <<'PY'
import sys, statistics
rows = int(sys.argv[2])
by = {}
for line in open(sys.argv[1]):
    label, secs, rss = line.split()
    by.setdefault(label, []).append((float(secs), int(rss)))
print(f"{'scenario':8} {'median s':>9} {'spread s':>13} {'rows/s':>10} {'vs one sink':>11} {'peak RSS MiB':>13}")
for label in ["file1", "file2", "filec", "db1", "db2"]:
    t = sorted(s for s, _ in by[label])
    med = statistics.median(t)
    base = statistics.median(s for s, _ in by["db1" if label.startswith("db") else "file1"])
    rss = statistics.median(r for _, r in by[label]) / 1024
    print(f"{label:8} {med:9.2f} {t[0]:6.2f}-{t[-1]:<6.2f} {rows / med:10.0f} {base / med:11.2f} {rss:13.0f}")
PY
