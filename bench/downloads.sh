#!/usr/bin/env bash
# Download benchmark: whole runs (csv_source -> validate -> http_fetch -> price -> ndjson_sink) against the fixture image
# server on 127.0.0.1 with a fixed latency, at several max_in_flight settings (wall time against the
# ideal rows x latency / C, client CPU per transfer, peak RSS, connections the server accepted), and
# the time from a deadline to process exit with 1,000 transfers in flight.
#
#   bench/downloads.sh [ROWS] [LATENCY_MS]     (defaults 10000 and 200)
#   SLUICE_BENCH_C="64 256" bench/downloads.sh  only some settings
#   SLUICE_BENCH_RUNS=5 bench/downloads.sh       every setting 5 times
#   SLUICE_BENCH_STORY=1 bench/downloads.sh     also the story: graphs/products_with_images.yaml at
#                                                max_in_flight 1024 into a throwaway PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000}
latency=${2:-200}
settings=${SLUICE_BENCH_C:-16 64 256 1024 2048 4096}
runs=${SLUICE_BENCH_RUNS:-1}
work=build/bench-downloads
# The previous benchmark's images are set aside and deleted only once this one has measured: for
# minutes after many files are deleted, ext4 searches past their inodes whenever it makes a new one
# (recently_deleted() in perf), which doubled the CPU of a run that followed the deletion of 100,000
# images. Nightly runs, which keep their store, never meet that.
if [ -d "$work" ]; then mv "$work" "$work.old.$$"; fi
mkdir -p "$work"
scripts/setup
cmake --preset release >/dev/null
cmake --build --preset release --target sluice sluice_fixture_server >/dev/null
ulimit -n "$(ulimit -Hn)"

build/release/sluice_fixture_server --port 0 --port-file "$work/port" --threads 2 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

cat >"$work/graph.yaml" <<YAML
run: {batch_size: 200, in_flight: 20000, threads: 2, rejects: $work/rejects.ndjson}
nodes:
  - {id: read, type: csv_source}
  - {id: check, type: validate}
  - {id: images, type: http_fetch, image_dir: $work/images, max_in_flight: 64, timeout: 60s}
  - {id: price, type: price}
  - {id: out, type: ndjson_sink, path: $work/out.ndjson}
edges: [read -> check, check -> images, images -> price, price -> out]
YAML
feed() {  # feed NAME QUERY: every row has an image, all URLs distinct
  python3 scripts/gen_feed.py --rows "$rows" --seed 5 --all-images --image-base "http://127.0.0.1:$port/img/$1" \
    --image-query "$2" >"$work/$1.csv"
}

echo "rows: $rows, latency: $latency ms, cores: $(nproc)"
printf '%6s %4s %8s %8s %8s %6s %7s %8s %8s %7s\n' C io images ideal_s wall_s ratio cpu_s us/xfer rss_mib conns
stat() { curl -s "http://127.0.0.1:$port/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
run_one() {  # run_one C IO_THREADS RUN
  local c=$1 io=$2 name="c$1-io$2-$3"
  feed "$name" "?latency=$latency"
  n=$(($(wc -l <"$work/$name.csv") - 1))
  # A new image folder per run: no run finds the images of another.
  curl -s "http://127.0.0.1:$port/stats/reset" >/dev/null
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S %M' -o "$work/$name.time" \
    build/release/sluice run "$work/graph.yaml" -s config/suppliers/acme_local_images.yaml -i "$work/$name.csv" \
    --set "nodes.images.max_in_flight=$c" --set "nodes.images.io_threads=$io" \
    --set "nodes.images.image_dir=$work/images-$name" --progress never 2>"$work/$name.log"
  t1=$(date +%s.%N)
  read -r user sys rss_kb <"$work/$name.time"
  # conns: connections the image server accepted (keep-alive reuse makes it max_in_flight at most),
  # less the one that asks for the count.
  python3 -c "
n, c, lat, wall = $n, $c, $latency / 1000, $t1 - $t0
ideal, cpu = n * lat / c, $user + $sys
print(f'{c:6d} {\"$io\":>4} {n:8d} {ideal:8.2f} {wall:8.2f} {ideal / wall:6.2f} {cpu:7.2f} {cpu / n * 1e6:8.0f} '
      f'{$rss_kb / 1024:8.1f} {$(stat connections_accepted) - 1:7d}')"
  grep -q ': holds' "$work/$name.log" || { echo "identity did not hold:"; cat "$work/$name.log"; exit 1; }
  stored=$(grep -c '"image_sha256":"' "$work/out.ndjson")
  [ "$stored" -eq "$n" ] || { echo "only $stored of $n images stored"; exit 1; }
}
for c in $settings; do
  # From 2048 on, one and two I/O threads are compared with the default (one per 256 transfers, up to 8).
  ios=auto
  [ "$c" -ge 2048 ] && ios="1 2 auto"
  for io in $ios; do
    for run in $(seq 1 "$runs"); do run_one "$c" "$io" "$run"; done
  done
done

# The story: the shipped graph (validate, download, price, upsert) into an empty product table of a
# throwaway cluster, every run with new URLs and a new image folder.
if [ -n "${SLUICE_BENCH_STORY:-}" ]; then
  pg_dir=$work/pg
  scripts/pg destroy "$pg_dir"
  export SLUICE_DB
  SLUICE_DB=$(scripts/pg start "$pg_dir")
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; scripts/pg destroy "$pg_dir"' EXIT
  build/release/sluice db migrate >/dev/null
  echo "story: graphs/products_with_images.yaml, max_in_flight 1024, into PostgreSQL"
  printf '%4s %8s %8s %8s %6s %7s %8s\n' run images ideal_s wall_s ratio cpu_s rss_mib
  for run in $(seq 1 "$runs"); do
    name=story$run
    feed "$name" "?latency=$latency"
    n=$(($(wc -l <"$work/$name.csv") - 1))
    psql "$SLUICE_DB" -qAt -c "TRUNCATE product, image_cache" >/dev/null
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$work/$name.time" \
      build/release/sluice run graphs/products_with_images.yaml -s config/suppliers/acme_local_images.yaml \
      -i "$work/$name.csv" --set nodes.images.max_in_flight=1024 --set "nodes.images.image_dir=$work/images-$name" \
      --set "run.rejects=$work/$name.rejects.ndjson" --progress never 2>"$work/$name.log"
    t1=$(date +%s.%N)
    read -r user sys rss_kb <"$work/$name.time"
    python3 -c "
n, lat, wall = $n, $latency / 1000, $t1 - $t0
ideal = n * lat / 1024
print(f'{$run:4d} {n:8d} {ideal:8.2f} {wall:8.2f} {ideal / wall:6.2f} {$user + $sys:7.2f} {$rss_kb / 1024:8.1f}')"
    grep -q ': holds' "$work/$name.log" || { echo "identity did not hold:"; cat "$work/$name.log"; exit 1; }
    stored=$(psql "$SLUICE_DB" -qAt -c "SELECT count(*) FROM product p JOIN image_cache i ON i.url = p.image_url WHERE i.sha256 IS NOT NULL")
    [ "$stored" -eq "$n" ] || { echo "only $stored of $n products have their image"; exit 1; }
  done
fi

# Deadline to exit: 1,000 transfers of 10 s each in flight when a 2 s deadline passes.
feed slow "?latency=10000"
head -n 1001 "$work/slow.csv" >"$work/slow1000.csv"
echo "deadline 2s with 1000 transfers in flight (10 s each): time from deadline to exit"
for i in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  set +e
  build/release/sluice run "$work/graph.yaml" -s config/suppliers/acme_local_images.yaml -i "$work/slow1000.csv" \
    --set nodes.images.max_in_flight=1000 --deadline 2s --progress never 2>"$work/deadline$i.log"
  rc=$?
  set -e
  t1=$(date +%s.%N)
  python3 -c "print(f'  run $i: exit $rc, {($t1 - $t0 - 2) * 1000:.0f} ms after the deadline')"
done

# Deleted last, for the reason given at the top.
rm -rf "$work".old.*
