#!/usr/bin/env bash
# A backup set (a Redis Cluster, one process per shard: what each shard's
# Job runs with `backup --in-cluster`) with its shards taken in parallel vs
# one after another, on the same 3-primary cluster and dataset
# (DEBUG POPULATE KEYS key 100, about 112 MB at 3,000,000 keys), with local
# Redis servers, into a local directory. Also the merged backup of the same
# cluster (one process, three snapshots in parallel, one file) for scale.
#   KEYS=3000000 RUNS=3 scripts/bench-set.sh
# Prints every run, then medians: parallel, sequential, their ratio on this
# machine, and what parallel would take with a core per shard (the slowest
# shard alone, from the sequential runs). Needs the release build,
# redis-server and redis-cli.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-3}
BASE=${BASE:-6740}
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
  echo "redis on $p did not start" >&2; exit 1
}
start "$BASE"
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
# The dataset, made on the single server and restored into the cluster.
redis-cli -p "$BASE" DEBUG POPULATE "$KEYS" key 100 >/dev/null
mkdir -p "$work/b"
file=$("$BIN" backup --url "redis://127.0.0.1:$BASE" --out-dir "$work/b" --color never 2>/dev/null)
"$BIN" restore --method live --url "redis://127.0.0.1:$((BASE + 1))" --file "$file" --yes --color never >/dev/null 2>&1
redis-cli -p "$BASE" shutdown nosave >/dev/null 2>&1 || true
echo "dataset: $KEYS keys, $(stat -c %s "$file") bytes in one file, Redis $(redis-server --version | grep -o 'v=[0-9.]*'); 3 primaries; $(nproc) cores; $RUNS runs each"
url="redis://127.0.0.1:$((BASE + 1))"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
shard() { # repo set slot
  "$BIN" backup --url "$url" --allow-host 127.0.0.1 --repo "$1" --set "$2" --shard "$3" \
    --set-shards 0,5461,10923 --color never >/dev/null 2>>"$work/err" || { cat "$work/err" >&2; exit 1; }
}
plan() { # repo
  "$BIN" backup --url "$url" --allow-host 127.0.0.1 --repo "$1" --set-plan --color never 2>>"$work/err"
}
for n in parallel sequential merged slowest; do : >"$work/$n.ms"; done
for r in $(seq "$RUNS"); do
  echo "run $r:"
  rm -rf "$work/o"; mkdir -p "$work/o"
  t0=$(date +%s%N)
  set=$(plan "$work/o")
  pids=()
  for s in 0 5461 10923; do shard "$work/o" "$set" "$s" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  t=$(ms "$t0")
  [ -f "$work/o/$set.json" ] || { echo "the set was not sealed" >&2; exit 1; }
  echo "$t" >>"$work/parallel.ms"
  printf '  %-44s %6d ms\n' "set, shards in parallel" "$t"
  rm -rf "$work/o"; mkdir -p "$work/o"
  t0=$(date +%s%N)
  set=$(plan "$work/o")
  slowest=0
  for s in 0 5461 10923; do
    s0=$(date +%s%N); shard "$work/o" "$set" "$s"; st=$(ms "$s0")
    [ "$st" -gt "$slowest" ] && slowest=$st
  done
  t=$(ms "$t0")
  [ -f "$work/o/$set.json" ] || { echo "the set was not sealed" >&2; exit 1; }
  echo "$t" >>"$work/sequential.ms"
  echo "$slowest" >>"$work/slowest.ms"
  printf '  %-44s %6d ms  (slowest shard alone %d ms)\n' "set, shards one after another" "$t" "$slowest"
  rm -rf "$work/o"; mkdir -p "$work/o"
  t0=$(date +%s%N)
  "$BIN" backup --url "$url" --allow-host 127.0.0.1 --repo "$work/o" --color never >/dev/null 2>>"$work/err"
  t=$(ms "$t0")
  echo "$t" >>"$work/merged.ms"
  printf '  %-44s %6d ms\n' "merged: one process, one file" "$t"
done
p=$(median <"$work/parallel.ms"); q=$(median <"$work/sequential.ms")
m=$(median <"$work/merged.ms"); w=$(median <"$work/slowest.ms")
echo
echo "medians:"
printf '  %-44s %6s ms\n' "set, shards in parallel" "$p"
printf '  %-44s %6s ms   %sx the parallel run\n' "set, shards one after another" "$q" "$(awk -v a="$q" -v b="$p" 'BEGIN {printf "%.2f", a / b}')"
printf '  %-44s %6s ms   (a core per shard: about the slowest shard alone, %sx faster than one after another)\n' \
  "set, parallel with a core per shard (est.)" "$w" "$(awk -v a="$q" -v b="$w" 'BEGIN {printf "%.2f", a / b}')"
printf '  %-44s %6s ms\n' "merged backup (for scale)" "$m"
