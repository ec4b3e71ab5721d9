#!/usr/bin/env bash
# Peak RSS against feed size: the same pipeline over 10,000 / 100,000 / 1,000,000 rows.
# Bounded memory means the three peaks are nearly equal (in-flight rows, not the feed, set them).
set -euo pipefail
cd "$(dirname "$0")/.."
work=build/bench-memory
mkdir -p "$work"
scripts/setup
cmake --preset release >/dev/null
cmake --build --preset release --target sluice >/dev/null
for rows in 10000 100000 1000000; do
  python3 scripts/gen_feed.py --rows "$rows" --seed 3 --bad 0.01 >"$work/feed.csv"
  /usr/bin/time -v -o "$work/time.txt" build/release/sluice run graphs/products_to_file.yaml \
    -s config/suppliers/acme.yaml -i "$work/feed.csv" --set "nodes.out.path=$work/out.ndjson" \
    --rejects "$work/rejects.ndjson" --progress never 2>"$work/run.log"
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed/ {print $2}' "$work/time.txt")
  printf '%9s rows  peak RSS %7s KiB  wall %s  %s\n' "$rows" "$rss" "$wall" "$(grep -o 'identity: .*' "$work/run.log")"
done
