#!/usr/bin/env bash
# The RDB engine against the reference tools, on a 3,000,000-key dataset
# (DEBUG POPULATE 3000000 key 100, about 112 MB) in a local Redis 7.0:
#   - `kubectl redis verify FILE`  vs  `redis-check-rdb FILE`          (goal: <= 1/5 the time)
#   - `kubectl redis backup --method stream --diskless --url ...` (diskless, as redis-cli --rdb asks)  vs  `redis-cli --rdb`  (goal: <= 1.05x)
#   - peak RSS of both plugin commands (goal: < 32 MB)
#   - raw CRC-64 speed (`cargo bench --bench crc`, goal: >= 2.5 GB/s)
#   KEYS=3000000 RUNS=5 scripts/bench-rdb.sh
# Prints every run, then medians side by side with the ratios. Needs the
# release build, redis-server/redis-cli/redis-check-rdb (Debian redis-server,
# redis-tools) and /usr/bin/time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-5}
PORT=${PORT:-6398}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli redis-check-rdb /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools time)" >&2; exit 1; }
done

work=$(mktemp -d)
cleanup() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$work" --save '' --daemonize yes \
  --enable-debug-command yes --logfile "$work/redis.log" --pidfile "$work/redis.pid"
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" DEBUG POPULATE "$KEYS" key 100 >/dev/null
redis-cli -p "$PORT" SAVE >/dev/null
file=$work/dump.rdb
echo "dataset: $KEYS keys, $(stat -c %s "$file") bytes, Redis $(redis-server --version | grep -o 'v=[0-9.]*'); $RUNS runs each"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# timed NAME CMD...: appends seconds and peak KB to $work/NAME.{s,kb}
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/t" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r s kb <"$work/t"
  echo "$s" >>"$work/$name.s"; echo "$kb" >>"$work/$name.kb"
  printf '  %-22s %6.2f s %7d KB\n' "$name" "$s" "$kb"
}

echo "verify (every byte: structure, encodings, LZF, CRC-64) vs redis-check-rdb:"
for i in $(seq "$RUNS"); do
  timed plugin-verify "$BIN" verify "$file"
  timed redis-check-rdb redis-check-rdb "$file"
done
echo "stream backup (SYNC, verified while written) vs redis-cli --rdb:"
for i in $(seq "$RUNS"); do
  rm -rf "$work/b" "$work/cli.rdb"
  timed plugin-stream "$BIN" backup --method stream --diskless --url "redis://127.0.0.1:$PORT" --out-dir "$work/b" --color never
  timed redis-cli-rdb redis-cli -p "$PORT" --rdb "$work/cli.rdb"
  cmp -s "$work/cli.rdb" "$(ls "$work"/b/redis-backup-*.rdb)" \
    || echo "  note: the two files differ in bytes (each SYNC makes its own snapshot)"
done

m() { median <"$work/$1.$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo
echo "medians over $RUNS runs                 plugin            reference          ratio   goal"
printf 'verify vs redis-check-rdb          %6.2f s %6d KB   %6.2f s %6d KB   %5sx   <= 0.20x, < 32 MB\n' \
  "$(m plugin-verify s)" "$(m plugin-verify kb)" "$(m redis-check-rdb s)" "$(m redis-check-rdb kb)" \
  "$(ratio "$(m plugin-verify s)" "$(m redis-check-rdb s)")"
printf 'stream backup vs redis-cli --rdb   %6.2f s %6d KB   %6.2f s %6d KB   %5sx   <= 1.05x, < 32 MB\n' \
  "$(m plugin-stream s)" "$(m plugin-stream kb)" "$(m redis-cli-rdb s)" "$(m redis-cli-rdb kb)" \
  "$(ratio "$(m plugin-stream s)" "$(m redis-cli-rdb s)")"
echo
echo "raw CRC-64/REDIS:"
(cd "$REPO" && cargo bench -q -p kubectl-redis-core --bench crc 2>/dev/null)
