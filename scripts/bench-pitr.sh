#!/usr/bin/env bash
# Point-in-time recovery, on local Debian Redis 7.0 servers:
#   1. keeping up: the archiver follows a primary while
#      `redis-benchmark -t set,incr,lpush -P 16` runs at full speed; prints
#      the lag when the load ends (bytes, and the seconds until the archiver
#      has received / stored everything), its peak RSS (goal <= 64 MB) and
#      CPU seconds beside the server's.
#   2. replay: `restore --to-time latest` of an archive whose base is empty
#      (so the time is the replay's) vs `redis-cli --pipe` of the same
#      commands (goal: ratio <= 1.1).
#   3. restore --to-time of a 3M-key base plus 1M archived writes vs the
#      live restore of the base plus `redis-cli --pipe` of the writes
#      (goal: <= 1.2x their sum).
#   KEYS=3000000 WRITES=1000000 RUNS=1 scripts/bench-pitr.sh
# Needs the release build, redis-server, redis-cli, redis-benchmark and /usr/bin/time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
WRITES=${WRITES:-1000000}
P1=${P1:-6501}
P2=${P2:-6502}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli redis-benchmark /usr/bin/time python3; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools time)" >&2; exit 1; }
done
work=$(mktemp -d)
archiver=
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 || return 0; sleep 0.1; done; }
cleanup() { [ -n "$archiver" ] && kill "$archiver" 2>/dev/null; stop "$P1"; stop "$P2"; rm -rf "$work"; }
trap cleanup EXIT
start() { # port
  redis-server --port "$1" --bind 127.0.0.1 --dir "$work" --dbfilename "d$1.rdb" --save '' --appendonly no \
    --daemonize yes --enable-debug-command yes --logfile "$work/redis-$1.log" --repl-backlog-size 64mb
  for _ in $(seq 600); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.05; done
  echo "redis on $1 did not start" >&2; exit 1
}
info() { redis-cli -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
slave_offset() { redis-cli -p "$1" info replication | tr -d '\r' | sed -n 's/^slave0:.*offset=\([0-9]*\).*/\1/p'; }
now() { date +%s.%N; }
cpu_of() { # pid -> user+sys seconds
  awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }
hwm_of() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
follow() { # port repo ack -> starts the archiver, waits until it follows
  "$BIN" archive run --url "redis://127.0.0.1:$1" --repo "$2" --ack "$3" 2>"$work/archiver.log" &
  archiver=$!
  for _ in $(seq 600); do grep -q following "$work/archiver.log" && return 0; sleep 0.1; done
  cat "$work/archiver.log" >&2; exit 1
}
halt() { kill -TERM "$archiver"; wait "$archiver" || true; archiver=; }
# Commands of a repository's segments in order, for redis-cli --pipe (the
# #TS: annotations are not commands).
pipe_input() { find "$1/pitr" -name '*.aof' | sort | xargs cat | python3 -c '
import sys
data = sys.stdin.buffer.read()
out, at = [], 0
while at < len(data):
    if data[at:at+1] == b"#":
        at = data.index(b"\r\n", at) + 2
        continue
    start = at
    n = int(data[at+1:data.index(b"\r\n", at)]); at = data.index(b"\r\n", at) + 2
    for _ in range(n):
        l = int(data[at+1:data.index(b"\r\n", at)]); at = data.index(b"\r\n", at) + 2 + l + 2
    out.append(data[start:at])
sys.stdout.buffer.write(b"".join(out))'; }
count_cmds() { python3 -c 'import sys; d=sys.stdin.buffer.read(); print(d.count(b"\r\n*") + (1 if d.startswith(b"*") else 0))'; }

echo "== 1. keeping up with redis-benchmark -t set,incr,lpush -P 16 (n=$WRITES each)"
start "$P1"
for ack in received stored; do
  redis-cli -p "$P1" flushall >/dev/null
  rm -rf "$work/repo-keep"
  follow "$P1" "$work/repo-keep" "$ack"
  srv_pid=$(info "$P1" server process_id)
  srv_cpu0=$(info "$P1" cpu used_cpu_user); srv_sys0=$(info "$P1" cpu used_cpu_sys)
  a_cpu0=$(cpu_of "$archiver")
  t0=$(now)
  redis-benchmark -p "$P1" -t set,incr,lpush -P 16 -n "$WRITES" -r 100000 -q >"$work/bench.txt" 2>&1
  t1=$(now)
  master=$(info "$P1" replication master_repl_offset)
  behind=$(( master - $(slave_offset "$P1") ))
  while [ "$(slave_offset "$P1")" -lt "$master" ]; do sleep 0.01; done
  t2=$(now)
  srv_cpu=$(python3 -c "print(round($(info "$P1" cpu used_cpu_user)+$(info "$P1" cpu used_cpu_sys)-$srv_cpu0-$srv_sys0,2))")
  a_cpu=$(python3 -c "print(round($(cpu_of "$archiver")-$a_cpu0,2))")
  rss=$(hwm_of "$archiver")
  halt
  printf '  --ack %-8s load %5.1f s (%s) | at its end %8d bytes behind, %s %5.2f s later | archiver rss %3d MB cpu %5.2f s | server cpu %5.2f s\n' \
    "$ack" "$(python3 -c "print($t1-$t0)")" "$(tr '\r' '\n' <"$work/bench.txt" | grep -c 'requests per second') loads" \
    "$behind" "$([ "$ack" = received ] && echo received || echo 'stored  ')" "$(python3 -c "print($t2-$t1)")" \
    "$((rss / 1024))" "$a_cpu" "$srv_cpu"
  tr '\r' '\n' <"$work/bench.txt" | grep 'requests per second' | sed 's/^/      /'
done

echo "== 2. replay: restore --to-time (an empty base, then $WRITES x3 archived writes) vs redis-cli --pipe"
redis-cli -p "$P1" flushall >/dev/null
rm -rf "$work/repo-replay"
follow "$P1" "$work/repo-replay" stored
redis-benchmark -p "$P1" -t set,incr,lpush -P 16 -n "$WRITES" -r 100000 -q >/dev/null 2>&1
master=$(info "$P1" replication master_repl_offset)
while [ "$(slave_offset "$P1")" -lt "$master" ]; do sleep 0.05; done
halt
digest=$(redis-cli -p "$P1" debug digest)
pipe_input "$work/repo-replay" >"$work/cmds.resp"
ncmds=$(count_cmds <"$work/cmds.resp")
start "$P2"
measure() { # label, then the command; prints "label wall cpu rss_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall user sys rss <"$work/t"
  echo "$label $wall $(python3 -c "print(round($user+$sys,2))") $rss"
}
redis-cli -p "$P2" flushall >/dev/null
r_pipe=$(measure pipe sh -c "redis-cli -p $P2 --pipe <'$work/cmds.resp'")
[ "$(redis-cli -p "$P2" debug digest)" = "$digest" ] || { echo "pipe: digest differs" >&2; exit 1; }
redis-cli -p "$P2" flushall >/dev/null
r_pitr=$(measure pitr "$BIN" restore --url "redis://127.0.0.1:$P2" --repo "$work/repo-replay" --to-time latest --yes)
[ "$(redis-cli -p "$P2" debug digest)" = "$digest" ] || { echo "restore --to-time: digest differs" >&2; exit 1; }
# The replay alone, as the restore reports it ("... replayed in X s").
r_only=$(sed -n 's/.*commands replayed in \([0-9.]*\) s.*/\1/p' "$work/err")
python3 - "$r_pipe" "$r_pitr" "$ncmds" "$r_only" <<'PY'
import sys
p, t, n, only = sys.argv[1].split(), sys.argv[2].split(), int(sys.argv[3]), float(sys.argv[4])
ratio = only / float(p[1])
print(f"  {n:,} commands: redis-cli --pipe {float(p[1]):6.2f} s | the replay {only:6.2f} s: ratio {ratio:.2f} "
      f"({'within' if ratio <= 1.1 else 'OVER'} the 1.1 goal)")
print(f"  the whole restore --to-time {float(t[1]):6.2f} s (cpu {t[2]} s, rss {int(t[3])//1024} MB), which also fetches "
      f"and checks every segment first (sha256, every command parsed): {float(t[1])/float(p[1]):.2f}x --pipe")
PY

echo "== 3. restore --to-time of a $KEYS-key base + $WRITES writes vs live restore of the base + --pipe of the writes"
redis-cli -p "$P1" flushall >/dev/null
redis-cli -p "$P1" debug populate "$KEYS" key 100 >/dev/null
rm -rf "$work/repo-big"
follow "$P1" "$work/repo-big" stored
redis-benchmark -p "$P1" -t set -P 16 -n "$WRITES" -r "$KEYS" -q >/dev/null 2>&1
master=$(info "$P1" replication master_repl_offset)
while [ "$(slave_offset "$P1")" -lt "$master" ]; do sleep 0.05; done
halt
digest=$(redis-cli -p "$P1" debug digest)
base=$(ls "$work"/repo-big/redis-backup-*.rdb)
pipe_input "$work/repo-big" >"$work/writes.resp"
# Both restores start from an empty server (flushed synchronously, not
# timed): a FLUSHALL ASYNC of millions of keys would free them on the
# second core while the load runs.
redis-cli -p "$P2" flushall >/dev/null
r_live=$(measure live "$BIN" restore --method live --url "redis://127.0.0.1:$P2" --file "$base" --yes)
r_pipe=$(measure pipe sh -c "redis-cli -p $P2 --pipe <'$work/writes.resp'")
[ "$(redis-cli -p "$P2" debug digest)" = "$digest" ] || { echo "live + pipe: digest differs" >&2; exit 1; }
redis-cli -p "$P2" flushall >/dev/null
r_pitr=$(measure pitr "$BIN" restore --url "redis://127.0.0.1:$P2" --repo "$work/repo-big" --to-time latest --yes)
[ "$(redis-cli -p "$P2" debug digest)" = "$digest" ] || { echo "restore --to-time: digest differs" >&2; exit 1; }
python3 - "$r_live" "$r_pipe" "$r_pitr" <<'PY'
import sys
l, p, t = (a.split() for a in sys.argv[1:4])
s = float(l[1]) + float(p[1])
ratio = float(t[1]) / s
print(f"  live restore {float(l[1]):6.2f} s + --pipe {float(p[1]):6.2f} s = {s:6.2f} s | restore --to-time {float(t[1]):6.2f} s "
      f"(cpu {t[2]} s, rss {int(t[3])//1024} MB) | ratio {ratio:.2f} ({'within' if ratio <= 1.2 else 'OVER'} the 1.2 goal)")
PY
