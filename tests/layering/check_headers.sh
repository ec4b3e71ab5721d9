#!/usr/bin/env bash
# Third-party types stay in the layer that owns them: TBB in graph (and nowhere else at all), libpqxx
# in clients, yaml-cpp in config. A header above the owner that names one fails this test; the
# exceptions below are the ones that remain, each with why, and the list may only shrink.
set -euo pipefail
src=${1:?usage: check_headers.sh SRC_DIR}
cd "$src"
status=0

# Node factories read their settings from the graph file's YAML nodes, which carry the positions
# that diagnostics report.
yaml_allowed="nodes/node_type.hpp nodes/condition.hpp"
# The database sink's pieces share one libpqxx transaction per batch.
pqxx_allowed="nodes/sink/pg_writer.hpp nodes/sink/pg_target.hpp nodes/sink/pg_sync.hpp"

check() {  # check PATTERN ALLOWED LAYERS...
  local pattern=$1 allowed=$2
  shift 2
  local f
  for f in $(grep -rlE "$pattern" "$@" --include='*.hpp' 2>/dev/null || true); do
    if [[ " $allowed " != *" $f "* ]]; then
      echo "$f: names $(grep -ohE "$pattern" "$f" | head -1) above the layer that owns it" >&2
      status=1
    fi
  done
  local a
  for a in $allowed; do
    if ! grep -qE "$pattern" "$a" 2>/dev/null; then
      echo "$a no longer names $pattern: remove it from the exceptions in $0" >&2
      status=1
    fi
  done
}

check 'YAML::|yaml-cpp/' "$yaml_allowed" nodes graph runtime cli
check 'pqxx::|<pqxx/' "$pqxx_allowed" nodes graph runtime cli
check 'tbb::|oneapi/tbb' "" core config clients nodes runtime cli
# TBB is private to graph: not even a source file elsewhere includes it, and graph's own headers
# do not either.
if grep -rlE 'oneapi/tbb|tbb::' core config clients nodes runtime cli graph/*.hpp; then
  echo "TBB is used outside graph's source files" >&2
  status=1
fi
exit $status
