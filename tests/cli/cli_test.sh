#!/usr/bin/env bash
# The command line as users run it: exit codes, compiler-style errors, and the README's examples.
set -u
: "${SLUICE:?path to the sluice binary}"
: "${SLUICE_SOURCE_DIR:?path to the source tree}"
: "${SLUICE_FIXTURE_SERVER:?path to the fixture image server}"
src=$SLUICE_SOURCE_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$src/tests/support/checks.sh"

python3 "$src/scripts/gen_feed.py" --supplier acme --rows 5000 --seed 7 --bad 0.03 >feed.csv

# A real run: exit 0, the summary's identity holds, output and rejects add up.
"$SLUICE" run "$src/graphs/products_to_file.yaml" --supplier "$src/config/suppliers/acme.yaml" --input feed.csv \
  --set nodes.out.path=out/products.ndjson --rejects out/rejects.ndjson 2>run.err
rc=$?
check "run exits 0" test "$rc" -eq 0
check "summary states the identity" contains run.err "identity: read 5000 = written"
check "summary says it holds" contains run.err ": holds"
written=$(wc -l <out/products.ndjson)
rejected=$(wc -l <out/rejects.ndjson)
check "written + rejected = read" test $((written + rejected)) -eq 5000
check "some rows were rejected" test "$rejected" -gt 0
check "no partial files left" test -z "$(find out -name '*.partial')"

# Three workers of a sharded run, each writing its own output: together they give one run's rows,
# and each has its own rejects file named after its shard.
for i in 0 1 2; do
  "$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
    --set "nodes.out.path=shard$i.ndjson" --set "run.rejects=sharded/rejects.ndjson" --shard "$i/3" 2>"shard$i.err"
  check "shard $i/3: exit 0" test $? -eq 0
  check "shard $i/3: its identity holds" contains "shard$i.err" ": holds"
  check "shard $i/3: its own rejects file" test -f "sharded/rejects.shard-$i-of-3.ndjson"
done
check "three shards: no shared rejects file" test ! -e sharded/rejects.ndjson
check "three shards write what one run writes" test "$(cat shard0.ndjson shard1.ndjson shard2.ndjson | sort | md5sum)" = \
  "$(sort out/products.ndjson | md5sum)"
check "three shards reject what one run rejects" test "$(cat sharded/rejects.shard-*.ndjson | wc -l)" -eq "$rejected"
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv --shard 3/3 \
  2>badshard.err
check "--shard 3/3: exit 2" test $? -eq 2
check "--shard 3/3: says shards are numbered from 0" contains badshard.err "numbered from 0"

# Standard input works as a feed.
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i - \
  --set nodes.out.path=stdin.ndjson --rejects stdin_rejects.ndjson <feed.csv 2>/dev/null
check "stdin run exits 0" test $? -eq 0
check "stdin gives the same output" cmp -s stdin.ndjson out/products.ndjson

# Outputs never replace what is not a regular file: a link to a device is written through, a FIFO is
# written into, a symbolic link stays a link.
ln -s /dev/null null-link
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=linked.ndjson --rejects null-link 2>/dev/null
check "rejects to a link to /dev/null: exit 0" test $? -eq 0
check "the link to /dev/null stays a link" test -L null-link
check "/dev/null stays a character device" test -c /dev/null
mkfifo out.fifo
timeout 120 sh -c "wc -l <out.fifo" >fifo.count &
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=out.fifo --rejects fifo_rejects.ndjson 2>/dev/null
check "output into a FIFO: exit 0" test $? -eq 0
wait
check "the FIFO got every written row" test "$(cat fifo.count)" -eq "$written"
check "the FIFO stays a FIFO" test -p out.fifo
mkdir real && ln -s real/products.ndjson products-link.ndjson
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=products-link.ndjson --rejects link_rejects.ndjson 2>/dev/null
check "the output link stays a link" test -L products-link.ndjson
check "the link's target holds the output" cmp -s real/products.ndjson out/products.ndjson

# A closed pipe on standard output is an error of the output, with a summary, not a silent death.
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=- --rejects pipe_rejects.ndjson 2>pipe.err | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
check "stdout closed early: exit 1" test "$rc" -eq 1
check "stdout closed early: the summary is printed" contains pipe.err "identity:"
check "stdout closed early: the error names the pipe" contains pipe.err "Broken pipe"

# A start-up error leaves no output folder behind.
printf 'NOPE,COLUMNS\n1,2\n' >wrong_header.csv
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i wrong_header.csv \
  --set nodes.out.path=never/products.ndjson --rejects never/rejects.ndjson 2>startup.err
check "wrong header: exit 2" test $? -eq 2
check "wrong header: no output folder created" test ! -e never

# check: all problems at once, file:line:col, exit 2.
cat >bad_graph.yaml <<'YAML'
run:
  threads: lots
nodes:
  - id: read
    type: csv_source
  - id: price
    type: prise
  - id: out
    type: ndjson_sink
    pth: x.ndjson
edges:
  - read -> price
  - price -> outt
YAML
"$SLUICE" check bad_graph.yaml --supplier "$src/config/suppliers/acme.yaml" 2>check.err
rc=$?
check "check exits 2 on bad config" test "$rc" -eq 2
check "wrong type positioned" contains check.err "bad_graph.yaml:2:12: run.threads: expected integer or auto, got 'lots'"
check "unknown key with suggestion" contains check.err "bad_graph.yaml:10:5: nodes[2] (out).pth: unknown key 'pth' (did you mean 'path'?)"
check "unknown type with suggestion" contains check.err "bad_graph.yaml:7:11: nodes[1] (price).type: unknown node type 'prise' (did you mean 'price'?)"
check "missing key positioned at its parent" contains check.err "bad_graph.yaml:8:5: nodes[2] (out).path: missing required key 'path'"
check "problem count" contains check.err "problems found"

"$SLUICE" check "$src/graphs/products_to_file.yaml" --supplier "$src/config/suppliers/nordlys.yaml" 2>ok.err
check "check of a good pair exits 0" test $? -eq 0
"$SLUICE" check "$src/graphs/products_to_file.yaml" --supplier "$src/config/suppliers/acme.yaml" \
  --set supplier.pricing.rounding=half_evn 2>set.err
check "bad --set exits 2" test $? -eq 2
check "bad --set names the override" contains set.err "--set supplier.pricing.rounding=half_evn:1:27: pricing.rounding: unknown value 'half_evn'"

# Configuration that is not a map, or that run would fail on: exit 2 from check and from run, never a crash.
printf 'hello' >scalar.yaml
for cmd in check run; do
  input=()
  [ "$cmd" = run ] && input=(-i "$work/feed.csv")
  "$SLUICE" $cmd scalar.yaml -s "$src/config/suppliers/acme.yaml" "${input[@]}" 2>scalar_graph.err
  check "$cmd of a bare scalar graph exits 2" test $? -eq 2
  check "$cmd of a bare scalar graph says so" contains scalar_graph.err "scalar.yaml:1:1: expected a map with run, nodes and edges, got a scalar"
  "$SLUICE" $cmd "$src/graphs/products_to_file.yaml" -s scalar.yaml "${input[@]}" 2>scalar_supplier.err
  check "$cmd of a bare scalar supplier exits 2" test $? -eq 2
  check "$cmd of a bare scalar supplier says so" contains scalar_supplier.err "scalar.yaml:1:1: expected a map, got a scalar"
  mkdir -p empty_rejects
  (cd empty_rejects && "$SLUICE" $cmd "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" \
    "${input[@]}" --set run.rejects= --set nodes.out.path=o.ndjson 2>../empty_rejects.err)
  check "$cmd with an empty rejects path exits 2" test $? -eq 2
  check "$cmd with an empty rejects path says so" contains empty_rejects.err "--set run.rejects=:1:13: run.rejects: the file name is empty"
  check "$cmd with an empty rejects path leaves nothing" test -z "$(ls -A empty_rejects)"
  "$SLUICE" $cmd "$src/graphs/ndjson_products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" "${input[@]}" \
    --set nodes.out.path=mismatch.ndjson 2>mismatch.err
  check "$cmd of an ndjson source with a csv supplier exits 2" test $? -eq 2
  check "$cmd of an ndjson source with a csv supplier says where" contains mismatch.err \
    "config/suppliers/acme.yaml:7:11: feed.format: node 'read' (ndjson_source) reads ndjson feeds; this supplier's format is 'csv'"
done
check "no output from refused runs" test ! -e mismatch.ndjson

# A mapped column missing from the feed: a start-up error naming the column and the closest header.
printf 'Sku,Name,Category,Price,Stock,Image\nA,b,tools,1,1,\n' >renamed.csv
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i renamed.csv \
  --set nodes.out.path=x.ndjson 2>missing.err
check "missing column exits 2" test $? -eq 2
check "missing column named with closest" contains missing.err \
  "config/suppliers/acme.yaml:16:24: fields.sku.column: column 'SKU' is not in the header of renamed.csv; closest header names: 'Sku', 'Name', 'Stock'"
check "no output on start-up error" test ! -e x.ndjson

# Bad rules and unknown currencies in a supplier file: each reported at its file:line:col, all at once.
cat >badrules.yaml <<'YAML'
supplier: bad
currency: EURO
fields:
  sku:   { column: SKU, required: true, pattern: "[A-Z" }
  price: { column: Price, type: money, min: 0 }
  when:  { column: When, type: datetime, zone: "+25:00" }
pricing:
  amount_field: price
  exchange_rates: { XYZ: "1.5" }
  discounts:
    - { name: half, percent: "1.5" }
YAML
"$SLUICE" check "$src/graphs/products_to_file.yaml" -s badrules.yaml 2>badrules.err
check "bad rules exit 2" test $? -eq 2
check "unknown currency at line:col" contains badrules.err "badrules.yaml:2:11: currency: unknown currency 'EURO'"
check "invalid pattern at line:col" contains badrules.err "badrules.yaml:4:50: fields.sku.pattern: invalid regular expression: missing ]"
check "bad zone at line:col" contains badrules.err "badrules.yaml:6:48: fields.when.zone: '+25:00' is not a UTC offset"
check "unknown rate currency at line:col" contains badrules.err "badrules.yaml:9:21: pricing.exchange_rates.XYZ: unknown currency 'XYZ'"
check "bad discount at line:col" contains badrules.err "badrules.yaml:11:30: pricing.discounts[0]: a percent discount is a fraction"

# Usage errors and other commands.
"$SLUICE" run 2>/dev/null
check "missing arguments exit 2" test $? -eq 2
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i nope.csv 2>nope.err
check "unreadable input exits 2" test $? -eq 2
check "unreadable input message" contains nope.err "nope.csv: cannot open input"
"$SLUICE" --version >version.out
check "--version" contains version.out "sluice "
"$SLUICE" nodes >nodes.out
for t in csv_source validate price ndjson_sink csv_sink; do
  check "nodes lists $t" grep -q "^$t (" nodes.out
done
"$SLUICE" graph "$src/graphs/products_to_file.yaml" --dot >graph.dot
check "dot output" contains graph.dot '"check" -> "price";'
check "dot shows the rejects output" contains graph.dot '"check" -> "rejects"'

# Run controls. A feed that stalls after 3,000 rows: the deadline cancels the read that waits for more.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
# The feeder writes 3,000 rows into a FIFO, then holds it open without writing; it is killed afterwards.
slow_feed() {
  rm -f slow.fifo
  mkfifo slow.fifo
  { head -n 3001 feed.csv; exec sleep 60; } >slow.fifo 2>/dev/null &
  feeder=$!
}
slow_feed
start=$(date +%s%N)
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i slow.fifo --deadline 1s \
  --set nodes.out.path=deadline.ndjson --rejects deadline_rejects.ndjson --report deadline.json --metrics deadline.prom \
  --progress never 2>deadline.err
rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill "$feeder" 2>/dev/null
check "deadline exits 3" test "$rc" -eq 3
check "deadline leaves no half output in place" test ! -e deadline.ndjson
check "deadline leaves no temp file" test ! -e deadline.ndjson.partial
check "deadline stops the process well before the stalled input ends ($elapsed_ms ms)" test "$elapsed_ms" -lt 30000
check "deadline report says so" grep -q '"status": "deadline"' deadline.json
check "deadline report keeps the identity" grep -q '"identity_holds": true' deadline.json
check "deadline counts the stalled rows as not processed" grep -Eq '"not_processed": [1-9]' deadline.json
check "report validates against its schema" "$py" -c "
import json, sys, jsonschema
schema = json.load(open('$src/docs/report.schema.json'))
jsonschema.Draft202012Validator(schema).validate(json.load(open('deadline.json')))"
check "metrics are Prometheus text" grep -q '^sluice_run_exit_code{supplier="acme"} 3$' deadline.prom
check "metrics carry the identity's buckets" grep -q '^sluice_run_rows{supplier="acme",outcome="not_processed"} [1-9]' deadline.prom

# SIGTERM: the same graceful stop, exit 130, report written; the previous output stays as it was.
slow_feed
echo '{"previous":"export"}' >term.ndjson
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i slow.fifo \
  --set nodes.out.path=term.ndjson --rejects term_rejects.ndjson --report term.json --progress never 2>term.err &
pid=$!
# Once rows reach the output (its .partial file exists), so that some are in flight when the signal
# comes, however slow the build (ThreadSanitizer).
for _ in $(seq 1 300); do [ -e term.ndjson.partial ] && break; sleep 0.1; done
sleep 0.2
kill -TERM "$pid"
wait "$pid"
rc=$?
kill "$feeder" 2>/dev/null
check "SIGTERM exits 130" test "$rc" -eq 130
check "SIGTERM report says interrupted" grep -q '"status": "interrupted"' term.json
check "SIGTERM keeps the identity" grep -q '"identity_holds": true' term.json
check "SIGTERM leaves the previous output as it was" test "$(cat term.ndjson)" = '{"previous":"export"}'
check "SIGTERM counts the rows it did not finish as not processed" grep -Eq '"not_processed": [1-9]' term.json

# A node that fails at run time (its output device is full) fails the run, names the node, writes the report.
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=- --rejects full_rejects.ndjson --report full.json --progress never >/dev/full 2>full.err
rc=$?
check "a failing node exits 1" test "$rc" -eq 1
check "the error names the node" grep -q "node 'out': cannot write" full.err
check "the failed run's report is written" grep -q '"status": "failed"' full.json
check "the failed run's report keeps the identity" grep -q '"identity_holds": true' full.json

# JSON logs and the graph drawn with a run's counts.
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/acme.yaml" -i feed.csv \
  --set nodes.out.path=json.ndjson --rejects json_rejects.ndjson --report run.json --log-format json 2>json.log
check "json logs are JSON lines" "$py" -c "
import json
lines = [json.loads(l) for l in open('json.log') if l.strip()]
assert lines and all('message' in l and 'level' in l for l in lines)
assert lines[-1]['message'] == 'run finished' and lines[-1]['identity_holds'] is True"
"$SLUICE" graph "$src/graphs/products_to_file.yaml" --dot --report run.json >counted.dot
check "dot edges carry the run's counts" grep -Eq '"check" -> "price" \[label="[0-9]+"\];' counted.dot

# The example suppliers' sample feeds are what their seeded generator writes, byte for byte.
for pair in merchant:merchant_center.tsv shopify:shopify.csv woocommerce:woocommerce.csv retail:retail_api.ndjson; do
  "$py" "$src/scripts/gen_supplier_feed.py" --format "${pair%%:*}" -o "gen_${pair##*:}"
  check "sample ${pair##*:} is reproducible" cmp -s "gen_${pair##*:}" "$src/config/suppliers/samples/${pair##*:}"
done

# A Shopify export through the command line: image-only rows are counted as skipped, in the summary and report.
"$SLUICE" run "$src/graphs/products_to_file.yaml" -s "$src/config/suppliers/shopify.yaml" \
  -i "$src/config/suppliers/samples/shopify.csv" --as-of 2026-06-15T12:00:00Z --set nodes.out.path=shop.ndjson \
  --rejects shop_rejects.ndjson --report shop.json 2>shop.err
check "shopify sample exits 0" test $? -eq 0
check "skipped rows are in the identity" contains shop.err "identity: read 40 = written 28 + rejected 5 + skipped 7 + not processed 0: holds"
check "the report counts skipped rows" grep -q '"skipped": 7' shop.json
check "the report still validates" "$py" -c "
import json, jsonschema
jsonschema.validate(json.load(open('shop.json')), json.load(open('$src/docs/report.schema.json')))"

# A URL check needs no supplier file: the shipped graph as the README runs it, against the fixture
# server on loopback (allowed for this run only).
"$SLUICE_FIXTURE_SERVER" --port 0 --port-file fixture.port >/dev/null 2>&1 &
fixture=$!
for _ in $(seq 1 100); do [ -s fixture.port ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat fixture.port)/img"
printf '# images\n%s\n\n%s\n%s\n%s\n%s\n' "$base/a.jpg" "$base/b.png?status=500" "$base/a.jpg" \
  "$base/c.gif?head=405" "ftp://example.com/x" >urls.txt
"$SLUICE" check "$src/graphs/url_health.yaml" 2>uh_check.err
check "url_health checks without a supplier file" test $? -eq 0
"$SLUICE" run "$src/graphs/url_health.yaml" --input urls.txt --set 'nodes.check.allow_networks=[127.0.0.1/32]' \
  --set nodes.out.path=uh.ndjson --set run.rejects=uh_rejects.ndjson --report uh.json --metrics uh.prom 2>uh.err
rc=$?
kill "$fixture" 2>/dev/null
check "a server_error with fail_on naming it exits 7" test "$rc" -eq 7
check "the summary names the run after the graph" contains uh.err "sluice run: url_health (no supplier file)"
check "a repeated URL is checked once and counted as skipped" contains uh.err \
  "identity: read 5 = written 4 + rejected 0 + skipped 1 + not processed 0: holds"
check "the summary counts the classes" grep -Eq '^ +up +2$' uh.err
check "the summary counts server errors" grep -Eq '^ +server_error +1$' uh.err
check "the summary counts invalid URLs" grep -Eq '^ +invalid_url +1$' uh.err
check "the summary says why it failed" contains uh.err "1 of 4 URLs checked are server_error"
check "every URL is in the output" test "$(wc -l <uh.ndjson)" -eq 4
check "HEAD refused: checked with a one-byte GET" grep -q '"check_outcome":"up","check_status":206' uh.ndjson
check "the repeated URL has its count" grep -q '"url":"'"$base"'/a.jpg","occurrences":2' uh.ndjson
check "the report carries the checks and validates" "$py" -c "
import json, jsonschema
r = json.load(open('uh.json'))
jsonschema.Draft202012Validator(json.load(open('$src/docs/report.schema.json'))).validate(r)
assert r['checks']['outcomes']['server_error'] == 1 and r['checks']['failing'] == 1, r['checks']
assert r['supplier_file'] is None and r['exit_code'] == 7"
check "metrics count the classes" grep -q '^sluice_url_checks{supplier="url_health",outcome="up"} 2$' uh.prom
printf 'nodes:\n  - {id: read, type: url_list}\n  - {id: v, type: validate}\n  - {id: out, type: ndjson_sink, path: x}\nedges: [read -> v, v -> out]\n' >needs_supplier.yaml
"$SLUICE" check needs_supplier.yaml 2>needs_supplier.err
check "a node that reads supplier rules needs the file: exit 2" test $? -eq 2
check "and says so at the node" contains needs_supplier.err "needs_supplier.yaml:3:5: nodes[1] (v): a validate node reads the supplier's rules"

finish_checks
