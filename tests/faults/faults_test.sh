#!/usr/bin/env bash
# Fault injection on whole runs: hostile image servers, SIGKILL at random points, PostgreSQL restarted
# and stopped during a run. After every fault the identity holds and a rerun converges to the table a
# fault-free run gives (the same md5 of the sorted dump).
set -u
: "${SLUICE:?path to the sluice binary}"
: "${SLUICE_FIXTURE_SERVER:?path to the fixture image server}"
: "${SLUICE_SOURCE_DIR:?path to the source tree}"
src=$SLUICE_SOURCE_DIR
work=$(mktemp -d)
pgdir=$work/pg
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  "$src/scripts/pg" destroy "$pgdir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$src/tests/support/checks.sh"

db=$("$src/scripts/pg" start "$pgdir") || { echo "cannot start PostgreSQL" >&2; exit 1; }
export SLUICE_DB=$db
"$SLUICE" db migrate >/dev/null || { echo "cannot migrate" >&2; exit 1; }
sql() { psql "$db" -qtAc "SET client_min_messages = warning; $1"; }
# The table as the supplier's rows hold it, without times and run ids, in a stable order.
dump() {
  sql "SELECT md5(string_agg(concat_ws('|', sku, title, category, net_minor, tax_minor, gross_minor, currency,
       image_url, attributes::text, row_hash), E'\\n' ORDER BY sku)) FROM product WHERE supplier = '$1'"
}
fresh() { sql "DELETE FROM product WHERE supplier = '$1'; DELETE FROM image_cache"; rm -rf images; }

# --- 1. Mixed HTTP faults over 10,000 rows --------------------------------------------------------
"$SLUICE_FIXTURE_SERVER" --port 0 --port-file port --threads 2 >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
port=$(cat port)
python3 "$src/scripts/gen_feed.py" --rows 10000 --seed 11 --all-images --image-base "http://127.0.0.1:$port/img" >plain.csv
# Every tenth row gets each fault: retried within the run, failing the whole first run but not the
# second, permanent (404, HTML instead of an image, a connection reset mid-body), chunked, 429 with
# Retry-After.
python3 - plain.csv >faulty.csv <<'PY'
import csv, sys
faults = ["fail_first=2", "fail_first=6&status=503", "status=404", "not_image=1", "reset_after=100",
          "chunked=1", "fail_first=1&status=429&retry_after=1", "latency=50", "", ""]
rows = list(csv.reader(open(sys.argv[1], newline="")))
head = rows[0]
col = head.index("Image")
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(head)
for i, r in enumerate(rows[1:]):
    q = faults[i % 10]
    if len(r) > col and r[col] and q:
        r[col] += "?" + q
    w.writerow(r)
PY
cat >images.yaml <<YAML
run: {batch_size: 500, in_flight: 20000, rejects: rejects.ndjson}
nodes:
  - {id: read, type: csv_source}
  - {id: check, type: validate}
  - {id: images, type: http_fetch, image_dir: images, max_in_flight: 256, timeout: 30s}
  - {id: price, type: price}
  - {id: db, type: pg_sink}
edges: [read -> check, check -> images, images -> price, price -> db]
YAML
supplier=$src/config/suppliers/acme_local_images.yaml
run_images() { "$SLUICE" run images.yaml -s "$supplier" -i faulty.csv --progress never 2>"$1"; }
run_images http1.err
check "faulty images, first run: exit 0" test $? -eq 0
check "faulty images, first run: identity holds" contains http1.err ": holds"
check "faulty images, first run: permanent faults rejected" test "$(grep -c '"code":"image"' rejects.ndjson)" -ge 2000
run_images http2.err
check "faulty images, rerun: exit 0" test $? -eq 0
check "faulty images, rerun: identity holds" contains http2.err ": holds"
after_faults=$(dump acme-local)
fresh acme-local
run_images http3.err  # every transient fault is used up: this run sees only the permanent ones
check "faulty images, fault-free run: exit 0" test $? -eq 0
check "a rerun after faults converges to the fault-free table" test "$after_faults" = "$(dump acme-local)"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=

# --- 2. SIGKILL at random points --------------------------------------------------------------------
python3 "$src/scripts/gen_feed.py" --rows 100000 --seed 12 --bad 0.01 >big.csv
graph=$src/graphs/products.yaml
acme=$src/config/suppliers/acme.yaml
run_db() { "$SLUICE" run "$graph" -s "$acme" -i big.csv --rejects rejects-big.ndjson --progress never "$@"; }
fresh acme
run_db 2>clean.err
check "clean run: exit 0" test $? -eq 0
reference=$(dump acme)
sql "DROP TABLE IF EXISTS reference; CREATE TABLE reference AS SELECT * FROM product WHERE supplier = 'acme'"
for seed in 1 2 3 4; do
  fresh acme
  delay=$(python3 -c "import random; random.seed($seed); print(round(random.uniform(0.05, 1.5), 3))")
  "$SLUICE" run "$graph" -s "$acme" -i big.csv --rejects rejects-big.ndjson --progress never 2>killed.err &
  pid=$!  # sluice itself, not a subshell around it
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  run_db 2>rerun.err
  check "killed after ${delay}s, rerun: exit 0" test $? -eq 0
  check "killed after ${delay}s, rerun: same table as a clean run" test "$(dump acme)" = "$reference"
done
check "a killed run is marked abandoned" test "$(sql "SELECT count(*) FROM sluice_run WHERE status = 'abandoned'")" -ge 1

# --- 3. PostgreSQL restarted twice during a run, then stopped for good ---------------------------
slow_feed() {  # the feed in pieces, so that the run is still going when the server restarts
  head -1 big.csv
  tail -n +2 big.csv | split -l 10000 --filter='cat; sleep 0.3' -
}
fresh acme
{ slow_feed | "$SLUICE" run "$graph" -s "$acme" -i - --rejects rejects-big.ndjson --progress never 2>restart.err; echo $? >restart.rc; } &
pid=$!
sleep 1
"$src/scripts/pg" restart "$pgdir"
sleep 1
"$src/scripts/pg" restart "$pgdir"
wait "$pid"
check "two restarts during a run: exit 0" test "$(cat restart.rc)" -eq 0
check "two restarts during a run: identity holds" contains restart.err ": holds"
check "two restarts during a run: same table as a clean run" test "$(dump acme)" = "$reference"

fresh acme
{ slow_feed | "$SLUICE" run "$graph" -s "$acme" -i - --rejects rejects-big.ndjson --progress never \
    --set nodes.db.max_attempts=3 2>stopped.err; echo $? >stopped.rc; } &
pid=$!
sleep 2.5
"$src/scripts/pg" stop "$pgdir"
wait "$pid"
check "server gone for good: exit 1" test "$(cat stopped.rc)" -eq 1
check "server gone for good: the error says so" grep -qiE "connect|server|database" stopped.err
"$src/scripts/pg" start "$pgdir" >/dev/null
committed=$(sql "SELECT count(*) FROM product WHERE supplier = 'acme'")
# What committed before the server went away is whole and correct: every row equals the reference.
check "server gone for good: committed rows are rows of the clean table" test "$(sql "
  SELECT count(*) FROM product p LEFT JOIN reference r USING (supplier, sku) WHERE p.supplier = 'acme'
  AND (p.title, p.category, p.net_minor, p.tax_minor, p.gross_minor, p.currency, p.image_url, p.attributes, p.row_hash)
  IS DISTINCT FROM (r.title, r.category, r.net_minor, r.tax_minor, r.gross_minor, r.currency, r.image_url,
  r.attributes, r.row_hash)")" -eq 0
run_db 2>after-stop.err
check "after the outage, a rerun converges to the clean table" test "$(dump acme)" = "$reference"
check "after the outage, the rerun completes" contains after-stop.err ": holds"
echo "committed before the server stopped: $committed rows" >&2

# --- 4. sync: full killed at random points, and its guard -----------------------------------------
# A killed run delists nothing, or (killed after its last commit) exactly what a completed run does.
sed 's/^mode: .*//' "$acme" >acme-full.yaml
printf 'sync: full\n' >>acme-full.yaml
run_full() { "$SLUICE" run "$graph" -s acme-full.yaml --rejects rejects-full.ndjson --progress never "$@"; }
delisted() { sql "SELECT count(*) FROM product WHERE supplier = 'acme' AND delisted_at IS NOT NULL"; }
head -n 90001 big.csv >most.csv   # the last tenth left the catalogue
head -n 40001 big.csv >truncated.csv
fresh acme
run_full -i big.csv 2>full.err
check "sync: full, first run: exit 0" test $? -eq 0
run_full -i most.csv 2>most.err
check "sync: full, a tenth left the feed: exit 0" test $? -eq 0
expected=$(delisted)
check "sync: full, a tenth left the feed: delisted" test "$expected" -gt 9000
check "sync: full, the summary counts them" contains most.err "$expected  (of "
for seed in 1 2 3; do
  run_full -i big.csv 2>relist.err
  check "sync: full, the whole feed again: nothing delisted" test "$(delisted)" -eq 0
  delay=$(python3 -c "import random; random.seed(20 + $seed); print(round(random.uniform(0.05, 1.5), 3))")
  "$SLUICE" run "$graph" -s acme-full.yaml -i most.csv --rejects rejects-full.ndjson --progress never 2>killed-full.err &
  pid=$!  # sluice itself: a function run in the background would be a subshell around it
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  now=$(delisted)
  check "sync: full killed after ${delay}s: nothing or all of it delisted ($now)" \
    test "$now" -eq 0 -o "$now" -eq "$expected"
  run_full -i most.csv 2>rerun-full.err
  rc=$?
  check "sync: full killed after ${delay}s, rerun: exit 0" test $rc -eq 0
  [ $rc -eq 0 ] || tail -n 5 rerun-full.err >&2
  check "sync: full killed after ${delay}s, rerun: the same products delisted" test "$(delisted)" -eq "$expected"
done
check "sync: full: no table of seen keys is left" \
  test "$(sql "SELECT count(*) FROM pg_class WHERE relname LIKE 'sluice_seen_%'")" -eq 0
run_full -i big.csv 2>relist.err
run_full -i truncated.csv 2>truncated.err
check "sync: full, a truncated feed: exit 6" test $? -eq 6
check "sync: full, a truncated feed: nothing delisted" test "$(delisted)" -eq 0
check "sync: full, a truncated feed: the error says how many" contains truncated.err "refused to delist"
run_full -i truncated.csv --allow-mass-delist 2>allowed.err
check "sync: full, --allow-mass-delist: exit 0" test $? -eq 0
check "sync: full, --allow-mass-delist: delisted" test "$(delisted)" -gt 50000

# --- 5. Four workers of one feed, one killed and run again ----------------------------------------
shard_run() {  # shard_run SUPPLIER FEED SHARD GROUP
  "$SLUICE" run "$graph" -s "$1" -i "$2" --shard "$3/4" --group "$4" --rejects "rejects-shard$3.ndjson" \
    --progress never 2>"shard$3.err"
}
kill_shard_3() {  # kill_shard_3 SUPPLIER FEED GROUP: workers 0-2 run while worker 3 is killed early
  for i in 0 1 2; do shard_run "$1" "$2" "$i" "$3" & done
  "$SLUICE" run "$graph" -s "$1" -i "$2" --shard 3/4 --group "$3" --rejects rejects-shard3.ndjson \
    --progress never 2>killed-shard.err &
  local victim=$!  # sluice itself
  sleep 0.4
  kill -9 "$victim" 2>/dev/null
  wait
}
fresh acme
for i in 0 1 2 3; do shard_run "$acme" big.csv "$i" k0 & done
wait
check "four workers at once: the same table as one run" test "$(dump acme)" = "$reference"
check "four workers at once: every identity holds" test "$(grep -l ': holds' shard[0-3].err | wc -l)" -eq 4
fresh acme
kill_shard_3 "$acme" big.csv k1
shard_run "$acme" big.csv 3 k1
check "four workers, one killed, rerun: exit 0" test $? -eq 0
check "four workers, one killed, rerun: same table as a clean run" test "$(dump acme)" = "$reference"
check "four workers: sluice runs shows the group done" sh -c "'$SLUICE' runs | grep -q ' 4/4 '"
# With sync: full, the group delists once its killed worker has been run again.
run_full -i big.csv 2>relist.err
kill_shard_3 acme-full.yaml most.csv k2
now=$(delisted)
check "sharded sync: full with a worker killed: nothing or all of it delisted ($now)" \
  test "$now" -eq 0 -o "$now" -eq "$expected"
shard_run acme-full.yaml most.csv 3 k2
check "sharded sync: full, the killed worker rerun: exit 0" test $? -eq 0
check "sharded sync: full, the killed worker rerun: the same products delisted as one run" \
  test "$(delisted)" -eq "$expected"
check "sharded sync: full: no table of seen keys is left" \
  test "$(sql "SELECT count(*) FROM pg_class WHERE relname LIKE 'sluice_seen_%'")" -eq 0

finish_checks
