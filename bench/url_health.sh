#!/usr/bin/env bash
# URL health benchmark: graphs/url_health.yaml (url_list -> http_check -> ndjson_sink) against the
# fixture server on 127.0.0.1 with a fixed latency. Reports URLs/s and the wall time against the
# ideal URLs x latency / C, and then the per-host rate limit as the server saw it: requests it
# received over the span from the first to the last.
#
#   bench/url_health.sh [URLS] [LATENCY_MS]     (defaults 10000 and 200)
#   SLUICE_BENCH_C="256 1024" bench/url_health.sh   only some settings
#   SLUICE_BENCH_RUNS=5 bench/url_health.sh         every setting 5 times
#   SLUICE_BENCH_RATES="10 50" bench/url_health.sh  per_host_rate settings measured (requests/s)
set -euo pipefail
cd "$(dirname "$0")/.."
urls=${1:-10000}
latency=${2:-200}
settings=${SLUICE_BENCH_C:-256 1024}
runs=${SLUICE_BENCH_RUNS:-3}
rates=${SLUICE_BENCH_RATES:-10 50 200}
work=build/bench-url-health
rm -rf "$work"
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
stat() { curl -s "http://127.0.0.1:$port/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
list() {  # list N NAME QUERY: N distinct URLs
  python3 -c "import sys
for i in range($1): print(f'http://127.0.0.1:$port/img/$2/{i}.jpg$3')" >"$work/$2.txt"
}
check() {  # check LIST C [extra --set ...]
  local list=$1 c=$2
  shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" build/release/sluice run graphs/url_health.yaml --input "$list" \
    --set 'nodes.check.allow_networks=[127.0.0.1/32]' --set "nodes.check.max_in_flight=$c" \
    --set "nodes.check.max_per_host=$c" --set nodes.check.timeout=60s --set "nodes.out.path=$work/out.ndjson" \
    --set "run.rejects=$work/rejects.ndjson" --progress never "$@" 2>"$work/summary" || {
    cat "$work/summary" >&2
    exit 1
  }
  grep -q "up  *$(wc -l <"$list")\$" "$work/summary" || {
    echo "not every URL was up:" >&2
    cat "$work/summary" >&2
    exit 1
  }
}

echo "urls: $urls, latency: $latency ms, cores: $(nproc)"
printf '%6s %8s %8s %6s %9s %7s %8s %7s\n' C ideal_s wall_s ratio urls/s cpu_s rss_mib conns
for c in $settings; do
  for run in $(seq 1 "$runs"); do
    list "$urls" "c$c-$run" "?latency=$latency"
    curl -s "http://127.0.0.1:$port/stats/reset" >/dev/null
    check "$work/c$c-$run.txt" "$c"
    read -r wall user sys rss <"$work/time"
    python3 -c "
urls, latency, c, wall, cpu, rss, conns = $urls, $latency, $c, $wall, $user + $sys, $rss, $(stat connections_accepted)
ideal = urls * latency / 1000 / c
print(f'{c:6d} {ideal:8.2f} {wall:8.2f} {ideal / wall:6.2f} {urls / wall:9.0f} {cpu:7.2f} {rss / 1024:8.1f} {conns:7d}')"
  done
done

echo
echo "per-host rate limit: 200 URLs on one host, no latency, max_in_flight 64"
printf '%10s %10s %12s %10s\n' limit requests observed/s span_s
for rate in $rates; do
  list 200 "rate$rate" ""
  curl -s "http://127.0.0.1:$port/stats/reset" >/dev/null
  check "$work/rate$rate.txt" 64 --set "nodes.check.per_host_rate=$rate"
  python3 -c "
requests, span = $(stat requests), $(stat request_span_us) / 1e6
print(f'{$rate:10d} {requests:10d} {(requests - 1) / span if span else 0:12.1f} {span:10.2f}')"
done
