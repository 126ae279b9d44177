#!/usr/bin/env bash
# TLS against plain, on one local Redis 7.0 serving both (Debian's
# redis-server is built with TLS), 3,000,000 keys (DEBUG POPULATE 3000000
# key 100, about 112 MB):
#   - stream backup   `backup --url redis://` vs `--url rediss://` (mutual TLS)
#   - live restore    `restore --method live --url redis://` vs `rediss://`
#   goal: TLS <= 1.15x plain for each; the plugin's CPU seconds (user+sys)
#   and peak RSS are printed beside the wall time.
#   KEYS=3000000 RUNS=3 scripts/bench-tls.sh
# Needs the release build, redis-server, redis-cli, openssl and /usr/bin/time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-3}
PLAIN=${PLAIN:-6397}
TLS=${TLS:-6398}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
for c in redis-server redis-cli openssl /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install redis-server redis-tools openssl time)" >&2; exit 1; }
done
work=$(mktemp -d)
stop() { redis-cli -p "$PLAIN" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do redis-cli -p "$PLAIN" ping >/dev/null 2>&1 || return 0; sleep 0.1; done; }
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
# A CA, a server pair for 127.0.0.1 and a client pair (EC P-256).
(
  cd "$work"
  q() { openssl "$@" >/dev/null 2>&1; }
  q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
    -days 2 -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
  for n in server client; do
    q req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key -out $n.csr -subj /CN=$n
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n' >$n.ext
    q x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 -extfile $n.ext
  done
)
redis-server --port "$PLAIN" --tls-port "$TLS" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
  --tls-cert-file "$work/server.crt" --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.crt" \
  --tls-auth-clients yes --daemonize yes --enable-debug-command yes --logfile "$work/redis.log"
for _ in $(seq 600); do [ "$(redis-cli -p "$PLAIN" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
redis-cli -p "$PLAIN" debug populate "$KEYS" key 100 >/dev/null
tlsflags=(--cacert "$work/ca.crt" --cert "$work/client.crt" --key "$work/client.key")
measure() { # label, then the command; prints "label wall cpu rss_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall user sys rss <"$work/t"
  echo "$label $wall $(python3 -c "print(round($user+$sys,2))") $rss"
}
: >"$work/results"
for run in $(seq "$RUNS"); do
  rm -rf "$work/out" && mkdir -p "$work/out"
  measure backup-plain "$BIN" backup --url "redis://127.0.0.1:$PLAIN" --out-dir "$work/out" | tee -a "$work/results"
  rm -rf "$work/out" && mkdir -p "$work/out"
  measure backup-tls "$BIN" backup --url "rediss://127.0.0.1:$TLS" "${tlsflags[@]}" --out-dir "$work/out" | tee -a "$work/results"
  file=$(ls "$work"/out/*.rdb)
  measure restore-plain "$BIN" restore --method live --yes --url "redis://127.0.0.1:$PLAIN" --file "$file" | tee -a "$work/results"
  measure restore-tls "$BIN" restore --method live --yes --url "rediss://127.0.0.1:$TLS" "${tlsflags[@]}" --file "$file" | tee -a "$work/results"
done
python3 - "$work/results" "$KEYS" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = lambda label, i: statistics.median(float(r[i]) for r in rows if r[0] == label)
print(f"\n{int(sys.argv[2]):,} keys, medians of {len(rows)//4} run(s): wall s, plugin CPU s (user+sys), peak RSS MB")
for what in ["backup", "restore"]:
    p, t = f"{what}-plain", f"{what}-tls"
    ratio = med(t, 1) / med(p, 1)
    print(f"  {what:8} plain {med(p,1):6.2f} s  cpu {med(p,2):6.2f} s  rss {med(p,3)/1024:5.0f} MB | "
          f"TLS {med(t,1):6.2f} s  cpu {med(t,2):6.2f} s  rss {med(t,3)/1024:5.0f} MB | TLS/plain {ratio:.2f}x "
          f"({'within' if ratio <= 1.15 else 'OVER'} the 1.15x goal)")
PY
