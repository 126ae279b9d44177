#!/usr/bin/env bash
# The live restore against its physical limits, on a 3,000,000-key dataset
# (DEBUG POPULATE 3000000 key 100, about 112 MB) into a local Redis 7.0:
#   - `kubectl redis restore --method live --url ... --yes` (FLUSHALL ASYNC,
#     RESTORE payloads pipelined, key counts checked)
#   - the same server loading the same file at startup (its own log's
#     "DB loaded from disk" time)                           (goal: live <= 3x)
#   - `redis-cli --pipe` feeding the equivalent SET commands from a
#     prepared file, the documented fastest bulk load       (goal: live <= 1.25x)
#   - peak RSS of the plugin                                (goal: <= 64 MB)
#   KEYS=3000000 RUNS=3 scripts/bench-restore.sh
# Prints every run, then medians side by side with the ratios. Needs the
# release build, redis-server and redis-cli (Debian redis-server,
# redis-tools), python3 and /usr/bin/time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-3}
PORT=${PORT:-6396}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli python3 /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools python3 time)" >&2; exit 1; }
done

work=$(mktemp -d)
stop() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 || return 0; sleep 0.1; done; }
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
start() { # dbfilename (loaded at startup when it exists)
  stop
  : >"$work/redis.log"
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$work" --dbfilename "$1" --save '' \
    --appendonly no --daemonize yes --enable-debug-command yes --logfile "$work/redis.log"
  for _ in $(seq 600); do
    [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  echo "redis did not start" >&2; cat "$work/redis.log" >&2; exit 1
}
start none.rdb
redis-cli -p "$PORT" DEBUG POPULATE "$KEYS" key 100 >/dev/null
redis-cli -p "$PORT" SAVE >/dev/null
mv "$work/none.rdb" "$work/dump.rdb"
file=$work/dump.rdb
# The equivalent SET commands, as redis-cli --pipe takes them (RESP). DEBUG
# POPULATE's values are "value:N" padded with NULs to 100 bytes.
python3 - "$KEYS" "$work/sets.resp" <<'EOF'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "wb", buffering=1 << 20) as f:
    for i in range(n):
        k = b"key:%d" % i
        v = (b"value:%d" % i).ljust(100, b"\0")
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(k), k, v))
EOF
echo "dataset: $KEYS keys, $(stat -c %s "$file") bytes, Redis $(redis-server --version | grep -o 'v=[0-9.]*'); $RUNS runs each"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
for n in live startup pipe; do : >"$work/$n.ms"; done
: >"$work/live.kb"
check_keys() {
  local got; got=$(redis-cli -p "$PORT" DBSIZE)
  [ "$got" = "$KEYS" ] || { echo "$1: $got keys instead of $KEYS" >&2; exit 1; }
}
for i in $(seq "$RUNS"); do
  echo "run $i:"
  # Live restore into a server that holds the dataset already (it flushes).
  start none.rdb
  redis-cli -p "$PORT" DEBUG POPULATE 1000 other 10 >/dev/null
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/t" "$BIN" restore --method live --url "redis://127.0.0.1:$PORT" \
    --file "$file" --yes --color never >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t=$(ms "$t0"); kb=$(tail -1 "$work/t")
  check_keys live
  echo "$t" >>"$work/live.ms"; echo "$kb" >>"$work/live.kb"
  printf '  %-34s %6d ms  %7d KB peak\n' "kubectl redis restore --method live" "$t" "$kb"
  # The server loading the file at startup: its own measure.
  start dump.rdb
  s=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$work/redis.log" | grep -o '[0-9.]*' | tail -1)
  t=$(awk -v s="$s" 'BEGIN { printf "%d", s * 1000 }')
  check_keys startup
  echo "$t" >>"$work/startup.ms"
  printf '  %-34s %6d ms\n' "redis-server loading at startup" "$t"
  # redis-cli --pipe into an empty server.
  start none.rdb
  t0=$(date +%s%N)
  redis-cli -p "$PORT" --pipe <"$work/sets.resp" >"$work/pipe.out" 2>&1 || { cat "$work/pipe.out" >&2; exit 1; }
  t=$(ms "$t0")
  check_keys pipe
  echo "$t" >>"$work/pipe.ms"
  printf '  %-34s %6d ms\n' "redis-cli --pipe (SET commands)" "$t"
done
echo
printf '%-36s %12s %14s\n' "median of $RUNS" "time (ms)" "peak RSS (KB)"
printf '%-36s %12s %14s\n' "restore --method live" "$(median <"$work/live.ms")" "$(median <"$work/live.kb")"
printf '%-36s %12s %14s\n' "redis-server loading at startup" "$(median <"$work/startup.ms")" "-"
printf '%-36s %12s %14s\n' "redis-cli --pipe" "$(median <"$work/pipe.ms")" "-"
l=$(median <"$work/live.ms"); s=$(median <"$work/startup.ms"); p=$(median <"$work/pipe.ms"); kb=$(median <"$work/live.kb")
awk -v l="$l" -v s="$s" -v p="$p" -v kb="$kb" 'BEGIN {
  printf "ratio live / startup load: %.2fx (goal <= 3.00x)\n", l / s
  printf "ratio live / redis-cli --pipe: %.2fx (goal <= 1.25x)\n", l / p
  printf "plugin peak RSS: %.1f MB (goal <= 64 MB)\n", kb / 1024
}'
