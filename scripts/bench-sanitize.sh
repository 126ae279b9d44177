#!/usr/bin/env bash
# A sanitized copy against a plain one, on a local Debian Redis 7.0 backup of
# KEYS keys: a third are user hashes (email, phone, name) whose email and
# phone are masked, a third session strings that are dropped, a third other
# strings copied as they are. Both copies go from one local repository to
# another (the backup read, checked, written, read back).
#   KEYS=3000000 RUNS=3 scripts/bench-sanitize.sh
# Prints each run, then medians side by side with the ratio. Goal (issue
# 25): sanitized copy <= 1.3x the plain copy, peak RSS <= 64 MB. Also timed,
# to show where the time goes: a plain copy that reads every byte as RDB
# (its source has no manifest to trust), and a sanitized copy that only
# drops keys (no masks).
# Needs the release build, redis-server, redis-cli and /usr/bin/time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-3}
PORT=${PORT:-6511}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools time)" >&2; exit 1; }
done
work=$(mktemp -d)
cleanup() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
  --daemonize yes --enable-debug-command yes --logfile "$work/redis.log"
for _ in $(seq 600); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
third=$((KEYS / 3))
# Strings: DEBUG POPULATE (key:N, 32-byte values) and sessions.
redis-cli -p "$PORT" debug populate "$third" key 32 >/dev/null
redis-cli -p "$PORT" debug populate "$third" session 48 >/dev/null
# User hashes through redis-cli --pipe.
awk -v n="$third" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = "user:" i; e = "user" i "@example.com"; p = "+1 555 " sprintf("%07d", i); m = "Name " i
    printf "*8\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$5\r\nemail\r\n$%d\r\n%s\r\n$5\r\nphone\r\n$%d\r\n%s\r\n$4\r\nname\r\n$%d\r\n%s\r\n",
      length(k), k, length(e), e, length(p), p, length(m), m
  } }' | redis-cli -p "$PORT" --pipe >/dev/null
keys=$(redis-cli -p "$PORT" dbsize)
"$BIN" backup --url "redis://127.0.0.1:$PORT" --out-dir "$work/full" -o json >"$work/b.json" 2>/dev/null
size=$(sed -n 's/^ *"bytes": \([0-9]*\),$/\1/p' "$work/b.json" | head -1)
head -c 32 /dev/urandom | base64 >"$work/mask.key"
mkdir "$work/nomanifest" && cp "$work"/full/*.rdb "$work/nomanifest/"
printf 'rules:\n  - keys: "session:*"\n    action: drop\n' >"$work/drop.yaml"
cat >"$work/rules.yaml" <<'EOF'
rules:
  - keys: "session:*"
    action: drop
  - keys: "user:*"
    fields: [email]
    action: mask
    format: email
  - keys: "user:*"
    fields: [phone]
    action: mask
    format: digits
EOF
echo "backup: $keys keys, $size bytes; $RUNS runs each"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/plain_ms"; : >"$work/plain_rss"; : >"$work/san_ms"; : >"$work/san_rss"; : >"$work/every_ms"; : >"$work/drop_ms"
run() { # dest src extra...
  local dest=$1; shift
  rm -rf "$dest"
  local t0; t0=$(date +%s%N)
  local src=$1; shift
  /usr/bin/time -f '%M' -o "$work/t" "$BIN" copy "$src" "$dest" --no-encrypt "$@" >/dev/null 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  echo "$(( ($(date +%s%N) - t0) / 1000000 )) $(tail -1 "$work/t")"
}
for i in $(seq "$RUNS"); do
  read -r pm pr < <(run "$work/plain" "$work/full")
  read -r em _ < <(run "$work/every" "$work/nomanifest")
  read -r dm _ < <(run "$work/drop" "$work/full" --sanitize "$work/drop.yaml" --sanitize-key-file "$work/mask.key")
  read -r sm sr < <(run "$work/san" "$work/full" --sanitize "$work/rules.yaml" --sanitize-key-file "$work/mask.key")
  echo "$pm" >>"$work/plain_ms"; echo "$pr" >>"$work/plain_rss"; echo "$sm" >>"$work/san_ms"; echo "$sr" >>"$work/san_rss"
  echo "$em" >>"$work/every_ms"; echo "$dm" >>"$work/drop_ms"
  printf 'run %d: plain copy %6d ms (%6d KB peak; reading every byte %6d ms)   sanitized copy %6d ms (%6d KB peak; dropping only %6d ms)\n' \
    "$i" "$pm" "$pr" "$em" "$sm" "$sr" "$dm"
done
out=$(ls "$work"/san/*-sanitized.rdb)
echo "sanitized copy: $(stat -c %s "$out") bytes, $(sed -n 's/^  "keys": \([0-9]*\),$/\1/p' "$out.json") keys"
p=$(median <"$work/plain_ms"); s=$(median <"$work/san_ms"); pr=$(median <"$work/plain_rss"); sr=$(median <"$work/san_rss")
echo
printf '%-24s %14s %14s\n' "median of $RUNS" "plain copy" "sanitized copy"
printf '%-24s %14s %14s\n' "time (ms)" "$p" "$s"
printf '%-24s %14s %14s\n' "peak RSS (KB)" "$pr" "$sr"
printf '%-24s %14s %14s\n' "time, variants (ms)" "$(median <"$work/every_ms") every byte" "$(median <"$work/drop_ms") drop only"
awk -v p="$p" -v s="$s" -v r="$sr" 'BEGIN {
  printf "ratio sanitized/plain: %.2fx (goal <= 1.30x); sanitized peak RSS %.1f MB (goal <= 64 MB)\n", s/p, r/1024 }'
