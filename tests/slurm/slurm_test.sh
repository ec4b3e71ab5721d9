#!/usr/bin/env bash
# Opt-in integration test of deploy/slurm/array.sbatch, as root on Debian 12:
#
#   tests/slurm/slurm_test.sh build/release/sluice
#
# It brings up a one-node Slurm cluster of its own (munged, slurmctld, slurmd), runs a trivial job
# array to prove the cluster works, then imports one 20,000-row feed as a 4-task array (one shard per
# task) into one database and unsharded into another, and checks that both hold the same product
# table (the md5 of a sorted dump). Last, it reruns one shard by hand and checks that the table does
# not change.
#
# It installs slurm-wlm and munge when they are missing (apt-get); PostgreSQL 15 comes from
# scripts/setup. Nothing system-wide is configured or started: munged runs with a key and a socket of
# its own, slurmctld and slurmd read a slurm.conf in a temporary folder (SLURM_CONF) and listen on
# 127.0.0.1 ports SLUICE_SLURM_PORT and the one after it (default 16817); no cgroups are used
# (proctrack/linuxproc, task/none), so it runs in containers too. On exit, whether it passed or not,
# the jobs are cancelled, the daemons and PostgreSQL stopped and the temporary folder deleted.
# Not run by ctest: it installs packages and starts daemons.
set -u
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 /path/to/sluice" >&2
  exit 2
fi
SLUICE=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm_test: run as root (it installs packages and runs slurmd, which starts jobs as their users)" >&2
  exit 2
fi
if ! "$SLUICE" run --help | grep -q -- '--shard'; then
  echo "slurm_test: $SLUICE has no --shard option" >&2
  exit 2
fi

# --- Packages ---------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
  echo "slurm_test: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null; }; then
    echo "slurm_test: cannot install slurm-wlm and munge" >&2
    exit 1
  fi
fi

# Variables of a Slurm job this may run in would be taken for the test cluster's.
for v in $(compgen -e); do
  case $v in SLURM_* | SBATCH_* | SALLOC_* | SRUN_* | SLUICE_*) unset "$v" ;; esac
done

work=$(mktemp -d /tmp/sluice-slurm.XXXXXX)
chmod 755 "$work"  # munged (user munge) and PostgreSQL (user postgres) reach their folders inside
pgdir=$work/pg
munged_pid=
slurmctld_pid=
slurmd_pid=
waiting=  # a sbatch --wait in progress
cleanup() {
  [ -n "$waiting" ] && kill "$waiting" 2>/dev/null
  if [ -n "$slurmctld_pid" ] && kill -0 "$slurmctld_pid" 2>/dev/null; then
    # Only this test's jobs are known to this cluster.
    squeue -h -o %A 2>/dev/null | sort -u | xargs -r scancel 2>/dev/null
    for _ in $(seq 1 30); do
      [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
      sleep 1
    done
  fi
  local pid
  for pid in "$slurmd_pid" "$slurmctld_pid" "$munged_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  "$src/scripts/pg" destroy "$pgdir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work" || exit 1
# shellcheck source=tests/support/checks.sh
. "$src/tests/support/checks.sh"

fail_setup() {  # fail_setup MESSAGE LOG...
  echo "slurm_test: $1" >&2
  shift
  for f in "$@"; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}

# --- munged: a key and a socket of its own -------------------------------------------------------
mkdir -p munge slurm/state slurm/spool
chown munge: munge
chmod 755 munge  # munged wants the socket's folder readable and searchable by all
setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$work/munge/munge.key" ||
  fail_setup "cannot create a munge key"
# The daemons run in sessions of their own (setsid), so that a Ctrl-C reaches this script, whose
# cleanup cancels the jobs before it stops them.
setsid setpriv --reuid=munge --regid=munge --init-groups munged --foreground --socket="$work/munge/socket" \
  --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" \
  --log-file="$work/munge/munged.log" >munged.out 2>&1 &
munged_pid=$!
for _ in $(seq 1 50); do [ -S munge/socket ] && break; sleep 0.1; done
munge -S "$work/munge/socket" -n | unmunge -S "$work/munge/socket" >/dev/null 2>&1 ||
  fail_setup "munged does not answer" munged.out munge/munged.log

# --- slurmctld and slurmd on this host, with a private slurm.conf ----------------------------------
node=$(hostname -s)
port=${SLUICE_SLURM_PORT:-16817}
memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
export SLURM_CONF=$work/slurm/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=sluicetest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/slurmctld.log
SlurmdLogFile=$work/slurm/slurmd.log
# No cgroups: processes are tracked through /proc, tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# The node is what is written here, whatever the hardware says.
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay known, with their exit codes, for the whole test (no slurmdbd, so no sacct).
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=${memory:-2048} State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
setsid slurmctld -D -c -f "$SLURM_CONF" >slurmctld.out 2>&1 &
slurmctld_pid=$!
setsid slurmd -D -N "$node" -f "$SLURM_CONF" >slurmd.out 2>&1 &
slurmd_pid=$!
state=
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || fail_setup "the node is not idle after 60 s (sinfo: ${state:-no answer})" \
  slurmctld.out slurmd.out slurm/slurmctld.log slurm/slurmd.log

# Per-task exit codes of an array job from slurmctld's records: "TASK CODE:SIGNAL" lines.
task_exit_codes() {
  scontrol show job -o "$1" | sed -n 's/.*ArrayTaskId=\([0-9]*\) .*ExitCode=\([0-9]*:[0-9]*\).*/\1 \2/p' | sort -n
}
all_zero='0 0:0
1 0:0
2 0:0
3 0:0'
submit() {  # submit NAME SBATCH-ARGS...: waits for the job; its id goes to NAME.id, sbatch's status is returned
  local name=$1 rc
  shift
  # In the background: a signal to this script runs its trap at once instead of after the job.
  timeout 900 sbatch --wait --parsable --chdir="$work" "$@" >"$name.id" 2>"$name.err" &
  waiting=$!
  wait "$waiting"
  rc=$?
  waiting=
  return $rc
}

# --- 1. The cluster runs a job array ----------------------------------------------------------------
cat >trivial.sbatch <<'EOF'
#!/bin/bash
#SBATCH --array=0-3
#SBATCH --cpus-per-task=1
echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT, job $SLURM_ARRAY_JOB_ID"
EOF
submit trivial --output="$work/trivial-%A_%a.out" trivial.sbatch
check "trivial array: sbatch --wait exits 0" test $? -eq 0
job=$(head -n 1 trivial.id)
check "trivial array: four tasks, each exit 0" test "$(task_exit_codes "$job")" = "$all_zero"
for i in 0 1 2 3; do
  check "trivial array: task $i wrote its line" grep -qx "task $i of 4, job $job" "trivial-${job}_$i.out"
done

# --- 2. A database for the sharded run, another for the single run -----------------------------------
db=$("$src/scripts/pg" start "$pgdir") || fail_setup "cannot start PostgreSQL"
single_db=${db/dbname=sluice/dbname=sluice_single}
psql "${db/dbname=sluice/dbname=postgres}" -qc "CREATE DATABASE sluice_single" ||
  fail_setup "cannot create the second database"
SLUICE_DB=$db "$SLUICE" db migrate >/dev/null || fail_setup "cannot migrate"
SLUICE_DB=$single_db "$SLUICE" db migrate >/dev/null || fail_setup "cannot migrate the second database"
sql() { psql "$1" -qtAc "SET client_min_messages = warning; $2"; }
# The product table without times and run ids, in a stable order.
dump() {
  psql "$1" -qAt -c "COPY (SELECT supplier, sku, title, category, net_minor, tax_minor, gross_minor, currency,
    attributes::text, row_hash FROM product ORDER BY supplier, sku) TO STDOUT" | md5sum | cut -d' ' -f1
}
python3 "$src/scripts/gen_feed.py" --rows 20000 --seed 21 --bad 0.02 >feed.csv
graph=$src/graphs/products.yaml
supplier=$src/config/suppliers/acme.yaml

# --- 3. The feed in 4 shards, one array task each -----------------------------------------------------
SLUICE_BIN=$SLUICE SLUICE_GRAPH=$graph SLUICE_SUPPLIER=$supplier SLUICE_FEED=$work/feed.csv SLUICE_DB=$db \
  submit shards --output="$work/shard-%A_%a.out" --cpus-per-task=1 --mem=1G "$src/deploy/slurm/array.sbatch"
check "sharded: sbatch --wait exits 0" test $? -eq 0
job=$(head -n 1 shards.id)
group=slurm-$job
codes=$(task_exit_codes "$job")
check "sharded: four tasks, each exit 0" test "$codes" = "$all_zero"
[ "$codes" = "$all_zero" ] || echo "task exit codes: $codes" >&2
for i in 0 1 2 3; do
  out=shard-${job}_$i.out
  check "sharded: task $i: identity holds" contains "$out" ": holds"
  check "sharded: task $i: summary names shard $i/4 of group $group" contains "$out" "shard $i/4 of group $group"
  check "sharded: task $i: the other shards' rows are counted" contains "$out" "other shards"
  if ! contains "$out" ": holds"; then tail -n 20 "$out" >&2; fi
done
check "sharded: ledger has four runs of $group, one per shard" \
  test "$(sql "$db" "SELECT count(*) || ' ' || count(DISTINCT shard) FROM sluice_run WHERE group_id = '$group'")" = "4 4"
SLUICE_DB=$db "$SLUICE" runs >runs.txt
check "sharded: sluice runs shows the group as one run of 4/4 shards" \
  test "$(tail -n +2 runs.txt | wc -l) $(tail -n +2 runs.txt | grep -c ' 4/4 ')" = "1 1"

# --- 4. The same feed, unsharded, into the second database -------------------------------------------
"$SLUICE" run "$graph" -s "$supplier" -i feed.csv --db "$single_db" --rejects single-rejects.ndjson \
  --progress never 2>single.err
check "single: exit 0" test $? -eq 0
check "single: identity holds" contains single.err ": holds"
rows=$(sql "$single_db" "SELECT count(*) FROM product")
check "single: products written ($rows)" test "$rows" -gt 15000
check "sharded and single: the same number of products" test "$(sql "$db" "SELECT count(*) FROM product")" = "$rows"
sharded_md5=$(dump "$db")
check "sharded and single: the same product table (md5 of the sorted dump)" test "$sharded_md5" = "$(dump "$single_db")"
check "sharded and single: the same inserted and rejected counts" test \
  "$(sql "$db" "SELECT sum(rows_inserted) || ' ' || sum(rows_rejected) FROM sluice_run WHERE group_id = '$group'")" = \
  "$(sql "$single_db" "SELECT rows_inserted || ' ' || rows_rejected FROM sluice_run")"
check "sharded: each row read is another shard's in three of four tasks" test \
  "$(sql "$db" "SELECT sum(rows_other_shard) = 3 * min(rows_read) FROM sluice_run WHERE group_id = '$group'")" = t
check "sharded and single: the same rejects, each in one task's file" \
  test "$(cat rejects/sluice-acme-"${job}"_*.ndjson | wc -l)" -eq "$(wc -l <single-rejects.ndjson)"

# --- 5. One shard again, by hand, in the same group: nothing changes ---------------------------------
SLUICE_BIN=$SLUICE SLUICE_GRAPH=$graph SLUICE_SUPPLIER=$supplier SLUICE_FEED=$work/feed.csv SLUICE_DB=$db \
  SLUICE_SHARD=2/4 SLUICE_GROUP=$group \
  submit rerun --array=0 --output="$work/rerun-%A_%a.out" --cpus-per-task=1 --mem=1G "$src/deploy/slurm/array.sbatch"
check "rerun of shard 2/4: exit 0" test $? -eq 0
check "rerun of shard 2/4: every row unchanged" test "$(sql "$db" "SELECT rows_inserted + rows_updated || ' ' ||
  (rows_unchanged > 0) FROM sluice_run WHERE group_id = '$group' AND shard = 2 ORDER BY id DESC LIMIT 1")" = "0 true"
check "rerun of shard 2/4: the table is the same" test "$(dump "$db")" = "$sharded_md5"

finish_checks
