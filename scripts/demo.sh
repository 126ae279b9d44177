#!/usr/bin/env bash
# The main job end to end on the local cluster, as a user would type it:
# set a key, `kubectl redis backup`, prove the file holds the key with
# redis-check-rdb and by loading it into a fresh redis-server; then change
# the key and `kubectl redis restore` the backup.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
export KUBECONFIG
KUBECONFIG=$("$REPO/scripts/cluster.sh" kubeconfig)
PORT=${KR_REDIS_PORT:-6390}

# kubectl finds plugins on PATH by their name.
bindir=$(mktemp -d)
work=$(mktemp -d)
trap 'redis-cli -p 7399 shutdown nosave >/dev/null 2>&1 || true; rm -rf "$bindir" "$work"' EXIT
ln -s "$TARGET/release/kubectl-redis" "$bindir/kubectl-redis"
export PATH=$bindir:$PATH

value="backup-$(date +%s)"
echo "+ kubectl -n october exec deploy/redis -- redis-cli -p $PORT SET test-backup $value"
kubectl -n october exec deploy/redis -- redis-cli -p "$PORT" SET test-backup "$value"

echo "+ kubectl redis backup -n october"
file=$(kubectl redis backup -n october)
echo "+ kubectl redis list"
kubectl redis list

echo "+ redis-check-rdb $file"
redis-check-rdb "$file" | tail -4

echo "+ load $file into a fresh redis-server"
cp "$file" "$work/dump.rdb"
redis-server --port 7399 --bind 127.0.0.1 --dir "$work" --dbfilename dump.rdb --save '' \
  --daemonize yes --logfile "$work/redis.log"
for _ in $(seq 50); do redis-cli -p 7399 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
got=$(redis-cli -p 7399 GET test-backup)
if [ "$got" != "$value" ]; then
  echo "demo FAILED: the backup holds test-backup=$got, expected $value" >&2
  exit 1
fi
echo "backup OK: $file holds test-backup=$value (mode $(stat -c %a "$file"))"

echo "+ kubectl -n october exec deploy/redis -- redis-cli -p $PORT SET test-backup modified"
kubectl -n october exec deploy/redis -- redis-cli -p "$PORT" SET test-backup modified
echo "+ kubectl redis restore -n october --file $file --yes"
kubectl redis restore -n october --file "$file" --yes
got=$(kubectl -n october exec deploy/redis -- redis-cli -p "$PORT" GET test-backup)
if [ "$got" != "$value" ]; then
  echo "demo FAILED: after the restore test-backup=$got, expected $value" >&2
  exit 1
fi
echo "demo OK: backed up, changed, restored: test-backup=$got"
