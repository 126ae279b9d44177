#!/usr/bin/env bash
# Object storage and encryption, side by side, on a 3,000,000-key dump
# (DEBUG POPULATE 3000000 key 100, about 112 MB) in a local redis-server:
#   backup --repo s3://... (s3s-fs on loopback)  vs  backup --out-dir DIR
#   backup --encrypt-to age1...                    vs  backup without
#   copy DIR -> s3://...                           vs  aws s3 cp (PyPI awscli)
#   copy DIR -> DIR2 --encrypt-to age1...          vs  age -r (Debian's CLI)
# Medians of RUNS runs, with peak RSS.
#   KEYS=3000000 RUNS=3 scripts/bench-storage.sh
# Goals (issues 11, 21): S3 <= 1.15x local, RSS < 48 MiB; encrypt <= 1.10x;
# copy <= 1.0x aws s3 cp; copy --encrypt-to <= 1.0x age -r.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
KEYS=${KEYS:-3000000}
PORT=${PORT:-16390}
BIN=${BIN:-$REPO/target/release/kubectl-redis}
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p kubectl-redis" >&2; exit 1; }
"$REPO/scripts/stores.sh" up
command -v aws >/dev/null || pip install -q --disable-pip-version-check 'awscli==1.42.5' 2>&1 | grep -v '^WARNING: Running pip' || true

work=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --enable-debug-command yes --dir "$work" --daemonize yes \
  --pidfile "$work/redis.pid" >/dev/null
trap 'kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" DEBUG POPULATE "$KEYS" key 100 >/dev/null
age-keygen -o "$work/id.txt" 2>/dev/null
R=$(age-keygen -y "$work/id.txt")
export AWS_ACCESS_KEY_ID=kubectl-redis-test AWS_SECRET_ACCESS_KEY=kubectl-redis-test-secret \
  AWS_ENDPOINT_URL=http://127.0.0.1:19001 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
S3ROOT=/tmp/kubectl-redis-stores/s3s/backups
URL=redis://127.0.0.1:$PORT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run_one() { # name, command...
  local name=$1; shift
  local t0; t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/t" "$@" >"$work/stdout" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  local t=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "$t" >>"$work/$name.ms"; tail -1 "$work/t" >>"$work/$name.rss"
  printf '  %-26s %6d ms  %7d KB peak\n' "$name" "$t" "$(tail -1 "$work/t")"
}
names=(backup-local backup-s3 backup-local-encrypted copy-to-s3 aws-s3-cp copy-encrypt age-r)
for n in "${names[@]}"; do : >"$work/$n.ms"; : >"$work/$n.rss"; done
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $KEYS keys; $RUNS runs each; S3: s3s-fs on loopback"
for i in $(seq "$RUNS"); do
  echo "run $i:"
  rm -rf "$work/local" "$work/enc" "$work/copyenc" "$S3ROOT/bench-$i" "$S3ROOT/bench-copy-$i" "$S3ROOT/bench-cli-$i"
  run_one backup-local "$BIN" backup --url "$URL" --out-dir "$work/local" --color never
  run_one backup-s3 "$BIN" backup --url "$URL" --repo "s3://backups/bench-$i" --no-encrypt --color never
  run_one backup-local-encrypted "$BIN" backup --url "$URL" --out-dir "$work/enc" --encrypt-to "$R" --color never
  f=$(ls "$work"/local/redis-backup-*.rdb | head -1)
  run_one copy-to-s3 "$BIN" copy "$work/local" "s3://backups/bench-copy-$i" --no-encrypt --color never
  run_one aws-s3-cp aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --quiet "$f" "s3://backups/bench-cli-$i/x.rdb"
  run_one copy-encrypt "$BIN" copy "$work/local" "$work/copyenc" --encrypt-to "$R" --color never
  run_one age-r age -r "$R" -o "$work/age-r.age" "$f"
done
rm -rf "$S3ROOT"/bench-*
echo
printf '%-26s %12s %14s\n' "median of $RUNS" "time (ms)" "peak RSS (KB)"
for n in "${names[@]}"; do
  printf '%-26s %12s %14s\n' "$n" "$(median <"$work/$n.ms")" "$(median <"$work/$n.rss")"
done
ratio() { awk -v a="$(median <"$work/$1.ms")" -v b="$(median <"$work/$2.ms")" -v g="$3" -v l="$4" \
  'BEGIN { printf "%-44s %.2fx (goal <= %s)\n", l, a/b, g }'; }
ratio backup-s3 backup-local 1.15 "backup to S3 / backup to a directory:"
ratio backup-local-encrypted backup-local 1.10 "backup encrypted / not:"
ratio copy-to-s3 aws-s3-cp 1.00 "copy DIR -> S3 / aws s3 cp:"
ratio copy-encrypt age-r 1.00 "copy --encrypt-to / age -r:"
echo "peak RSS of backup to S3: $(median <"$work/backup-s3.rss") KB (goal < 49152 KB, 48 MiB)"
