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
#     and, for what cluster mode costs Redis itself, into one server in
#     cluster mode owning every slot.
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
ports="$BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) $((BASE + 4))"
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
# One server in cluster mode owning every slot: what cluster mode costs
# Redis itself, without a second server on the cores.
onenode=$((BASE + 4))
start "$onenode" --cluster-enabled yes --cluster-config-file "$work/nodes-4.conf"
redis-cli -p "$onenode" CLUSTER ADDSLOTSRANGE 0 16383 >/dev/null
for _ in $(seq 600); do
  ok=1
  for i in 1 2 3 4; do redis-cli -p $((BASE + i)) CLUSTER INFO | grep -q cluster_state:ok || ok=0; done
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
# CPU seconds the servers on these ports and their forks have used so far.
cpu() {
  local p s=0
  for p in "$@"; do
    s=$(redis-cli -p "$p" INFO cpu | tr -d '\r' | awk -F: -v s="$s" '/^used_cpu_(sys|user)(_children)?:/ {s += $2} END {printf "%.3f", s}')
  done
  echo "$s"
}
# The servers' own time per RESTORE (INFO commandstats, summed over PORTS)
# since the last `CONFIG RESETSTAT`, in microseconds.
restore_usec() {
  local p u=0 c=0 line
  for p in "$@"; do
    line=$(redis-cli -p "$p" INFO commandstats | tr -d '\r' | grep '^cmdstat_restore:' || true)
    u=$((u + $(echo "$line" | sed -n 's/.*[:,]usec=\([0-9]*\).*/\1/p' | grep . || echo 0)))
    c=$((c + $(echo "$line" | sed -n 's/^cmdstat_restore:calls=\([0-9]*\).*/\1/p' | grep . || echo 0)))
  done
  awk -v u="$u" -v c="$c" 'BEGIN {printf "%.2f", (c ? u / c : 0)}'
}
reset_stats() { local p; for p in "$@"; do redis-cli -p "$p" CONFIG RESETSTAT >/dev/null; done; }
# measure NAME "PORTS" COMMAND...: wall time (ms) into NAME.ms; CPU time
# (the plugin's, from the shell's `times`, plus the servers' and their
# forks', from INFO cpu) into NAME.cpu. Prints both.
measure() {
  local name=$1 ports=$2 label=$3; shift 3
  local c0 t0 t pc c1 all us
  # shellcheck disable=SC2086
  reset_stats $ports
  # shellcheck disable=SC2086
  c0=$(cpu $ports)
  t0=$(date +%s%N)
  pc=$( ( "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; times ) | tail -1 |
    awk '{n = 0; for (i = 1; i <= 2; i++) {split($i, a, /[ms]/); n += a[1] * 60 + a[2]} printf "%.3f", n}')
  t=$(ms "$t0")
  # shellcheck disable=SC2086
  c1=$(cpu $ports)
  all=$(awk -v a="$pc" -v b="$c0" -v c="$c1" 'BEGIN {printf "%.2f", a + c - b}')
  echo "$t" >>"$work/$name.ms"
  echo "$all" >>"$work/$name.cpu"
  # shellcheck disable=SC2086
  us=$(restore_usec $ports)
  [ "$us" = 0.00 ] || echo "$us" >>"$work/$name.us"
  printf '  %-40s %6d ms  cpu %5.2f s (plugin %.2f)%s%s\n' "$label" "$t" "$all" "$pc" \
    "$([ "$us" = 0.00 ] || echo "  server: $us us per RESTORE")" \
    "$(grep -o 'snapshots in [0-9.]*[a-z]*\|merged and stored in [0-9.]*[a-z]*' "$work/err" | paste -sd, - | sed 's/^./  (&/; s/.$/&)/')"
}
for n in restore_single restore_cluster restore_onenode backup_single backup_cluster; do : >"$work/$n.ms"; : >"$work/$n.cpu"; : >"$work/$n.us"; done
total() { # keys in the cluster
  local n=0
  for i in 1 2 3; do n=$((n + $(redis-cli -p $((BASE + i)) DBSIZE))); done
  echo $n
}
cluster_ports="$((BASE + 1)) $((BASE + 2)) $((BASE + 3))"
for r in $(seq "$RUNS"); do
  echo "run $r:"
  measure restore_single "$single" "restore --method live, one server" \
    "$BIN" restore --method live --url "redis://127.0.0.1:$single" --file "$file" --yes --color never
  measure restore_cluster "$cluster_ports" "restore --method live, cluster" \
    "$BIN" restore --method live --url "redis://127.0.0.1:$((BASE + 1))" --file "$file" --yes --color never
  [ "$(total)" = "$KEYS" ] || { echo "the cluster holds $(total) keys, not $KEYS" >&2; exit 1; }
  measure restore_onenode "$onenode" "restore --method live, one-node cluster" \
    "$BIN" restore --method live --url "redis://127.0.0.1:$onenode" --file "$file" --yes --color never
  redis-cli -p "$onenode" FLUSHALL >/dev/null
  rm -rf "$work/o"; mkdir -p "$work/o"
  measure backup_single "$single" "backup, one server" \
    "$BIN" backup --url "redis://127.0.0.1:$single" --out-dir "$work/o" --color never
  rm -rf "$work/o"; mkdir -p "$work/o"
  measure backup_cluster "$cluster_ports" "backup, cluster (3 shards, merged)" \
    "$BIN" backup --url "redis://127.0.0.1:$((BASE + 1))" --out-dir "$work/o" --color never
done
m() { median <"$work/$1"; }
echo
echo "medians ($(nproc) cores; cpu: the plugin's plus the servers' and their forks'):"
printf '  %-12s %10s %10s %8s   %10s %10s %8s\n' "" "one server" "cluster" "ratio" "cpu one" "cpu clus." "ratio"
for what in backup restore; do
  a=$(m "${what}_single.ms"); b=$(m "${what}_cluster.ms")
  ca=$(m "${what}_single.cpu"); cb=$(m "${what}_cluster.cpu")
  printf '  %-12s %8s ms %8s ms %7.2fx   %8s s %8s s %7.2fx\n' "$what" "$a" "$b" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')" "$ca" "$cb" \
    "$(awk -v a="$ca" -v b="$cb" 'BEGIN {print b / a}')"
done
printf '  server time per RESTORE (INFO commandstats): one server %s us, cluster %s us\n' \
  "$(m restore_single.us)" "$(m restore_cluster.us)"
printf '  one server in cluster mode owning every slot: restore %s ms, %s us per RESTORE\n' \
  "$(m restore_onenode.ms)" "$(m restore_onenode.us)"
