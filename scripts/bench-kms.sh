#!/usr/bin/env bash
# A backup encrypted to a KMS key (moto's KMS, from scripts/stores.sh)
# against the same backup encrypted to an age recipient, on a local Debian
# Redis 7.0 with KEYS keys, into a local directory. One KMS Encrypt per
# backup (per key): the wrapped key is made once per run, before the snapshot.
#   KEYS=3000000 RUNS=5 scripts/bench-kms.sh
# Goal (issue 25): KMS-encrypted <= 1.05x age-encrypted; one KMS call per
# backup, not per part. Needs the release build, redis-server, redis-cli,
# age-keygen, python3 with boto3, and `scripts/stores.sh up`.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-5}
PORT=${PORT:-6513}
MOTO=${MOTO:-http://127.0.0.1:19000}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
curl -s -o /dev/null "$MOTO" || { echo "moto is not running at $MOTO: scripts/stores.sh up" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
  --daemonize yes --enable-debug-command yes --logfile "$work/redis.log"
for _ in $(seq 600); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
redis-cli -p "$PORT" debug populate "$KEYS" key 32 >/dev/null
export AWS_ACCESS_KEY_ID=t AWS_SECRET_ACCESS_KEY=t AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KMS=$MOTO
arn=$(python3 -c "
import boto3
c=boto3.client('kms',endpoint_url='$MOTO',region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t')
print(c.create_key()['KeyMetadata']['Arn'])")
age-keygen -o "$work/id.txt" 2>"$work/pub.txt"
pub=$(grep -o 'age1[a-z0-9]*' "$work/pub.txt")
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/age_ms"; : >"$work/kms_ms"
run() { # recipient
  rm -rf "$work/out"
  local t0; t0=$(date +%s%N)
  "$BIN" backup --url "redis://127.0.0.1:$PORT" --out-dir "$work/out" --encrypt-to "$1" >/dev/null 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
for i in $(seq "$RUNS"); do
  a=$(run "$pub"); k=$(run "awskms://$arn")
  echo "$a" >>"$work/age_ms"; echo "$k" >>"$work/kms_ms"
  printf 'run %d: age %6d ms   kms %6d ms\n' "$i" "$a" "$k"
done
size=$(stat -c %s "$work"/out/*.age)
a=$(median <"$work/age_ms"); k=$(median <"$work/kms_ms")
echo "backup: $KEYS keys, $size bytes stored (encrypted)"
printf '%-20s %10s %10s\n' "median of $RUNS" "age" "kms"
printf '%-20s %10s %10s\n' "time (ms)" "$a" "$k"
awk -v a="$a" -v k="$k" 'BEGIN { printf "ratio kms/age: %.3fx (goal <= 1.05x)\n", k/a }'
