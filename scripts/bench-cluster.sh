#!/usr/bin/env bash
# A Redis Cluster against one server holding the same data, on a
# 3,000,000-key dataset (DEBUG POPULATE 3000000 key 100, about 112 MB), with
# local Redis 7.0 servers: one standalone, and a cluster of 3 primaries.
#   - backup: `kubectl redis backup --url` of the cluster (3 snapshots in
#     parallel, merged into one file) vs of the single server
#                                                         (goal: <= 1.0x)
#   - restore: `kubectl redis restore --method live --url` of the same file
#     into the cluster (routed by slot) vs into the single server
#                                                         (goal: <= 1.0x)
#   KEYS=3000000 RUNS=3 scripts/bench-cluster.sh
# Prints every run, then medians side by side with the ratios. Needs the
# release build, redis-server and redis-cli (Debian redis-server,
# redis-tools).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-3}
BASE=${BASE:-6700}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
work=$(mktemp -d)
ports="$BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3))"
cleanup() {
  for p in $ports; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
start() { # port, extra args...
  local p=$1; shift
  mkdir -p "$work/$p"
  redis-server --port "$p" --bind 127.0.0.1 --dir "$work/$p" --save '' --appendonly no \
    --daemonize yes --enable-debug-command yes --logfile "$work/$p/log" "$@"
  for _ in $(seq 600); do
    [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  echo "redis on $p did not start" >&2; cat "$work/$p/log" >&2; exit 1
}
single=$BASE
start "$single"
for i in 1 2 3; do start $((BASE + i)) --cluster-enabled yes --cluster-config-file "$work/nodes-$i.conf"; done
for i in 2 3; do redis-cli -p $((BASE + 1)) CLUSTER MEET 127.0.0.1 $((BASE + i)) >/dev/null; done
redis-cli -p $((BASE + 1)) CLUSTER ADDSLOTSRANGE 0 5460 >/dev/null
redis-cli -p $((BASE + 2)) CLUSTER ADDSLOTSRANGE 5461 10922 >/dev/null
redis-cli -p $((BASE + 3)) CLUSTER ADDSLOTSRANGE 10923 16383 >/dev/null
for _ in $(seq 600); do
  ok=1
  for i in 1 2 3; do redis-cli -p $((BASE + i)) CLUSTER INFO | grep -q cluster_state:ok || ok=0; done
  [ $ok = 1 ] && break
  sleep 0.1
done
[ $ok = 1 ] || { echo "the cluster did not form" >&2; exit 1; }
redis-cli -p "$single" DEBUG POPULATE "$KEYS" key 100 >/dev/null
mkdir -p "$work/b"
file=$("$BIN" backup --url "redis://127.0.0.1:$single" --out-dir "$work/b" --color never 2>/dev/null)
echo "dataset: $KEYS keys, $(stat -c %s "$file") bytes, Redis $(redis-server --version | grep -o 'v=[0-9.]*'); 3 primaries; $RUNS runs each"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
for n in restore_single restore_cluster backup_single backup_cluster; do : >"$work/$n.ms"; done
total() { # keys in the cluster
  local n=0
  for i in 1 2 3; do n=$((n + $(redis-cli -p $((BASE + i)) DBSIZE))); done
  echo $n
}
for r in $(seq "$RUNS"); do
  echo "run $r:"
  t0=$(date +%s%N)
  "$BIN" restore --method live --url "redis://127.0.0.1:$single" --file "$file" --yes --color never >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t=$(ms "$t0"); echo "$t" >>"$work/restore_single.ms"
  printf '  %-40s %6d ms\n' "restore --method live, one server" "$t"
  t0=$(date +%s%N)
  "$BIN" restore --method live --url "redis://127.0.0.1:$((BASE + 1))" --file "$file" --yes --color never >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t=$(ms "$t0"); echo "$t" >>"$work/restore_cluster.ms"
  [ "$(total)" = "$KEYS" ] || { echo "the cluster holds $(total) keys, not $KEYS" >&2; exit 1; }
  printf '  %-40s %6d ms\n' "restore --method live, cluster" "$t"
  rm -rf "$work/o"; mkdir -p "$work/o"
  t0=$(date +%s%N)
  "$BIN" backup --url "redis://127.0.0.1:$single" --out-dir "$work/o" --color never >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t=$(ms "$t0"); echo "$t" >>"$work/backup_single.ms"
  printf '  %-40s %6d ms\n' "backup, one server" "$t"
  rm -rf "$work/o"; mkdir -p "$work/o"
  t0=$(date +%s%N)
  "$BIN" backup --url "redis://127.0.0.1:$((BASE + 1))" --out-dir "$work/o" --color never >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t=$(ms "$t0"); echo "$t" >>"$work/backup_cluster.ms"
  printf '  %-40s %6d ms  (%s)\n' "backup, cluster (3 shards, merged)" "$t" \
    "$(grep -o 'snapshots in [0-9.]*[a-z]*\|merged in [0-9.]*[a-z]*' "$work/err" | paste -sd, -)"
done
m() { median <"$work/$1.ms"; }
echo
echo "medians:"
printf '  %-12s %10s %10s %8s\n' "" "one server" "cluster" "ratio"
for what in backup restore; do
  a=$(m "${what}_single"); b=$(m "${what}_cluster")
  printf '  %-12s %8s ms %8s ms %7.2fx\n' "$what" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')"
done
