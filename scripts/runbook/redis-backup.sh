#!/usr/bin/env bash
# The runbook's backup, as its users run it today (reference for benchmarks):
# find the pod by label, LASTSAVE, BGSAVE, poll LASTSAVE until it advances,
# `kubectl cp` the dump out. Rebuilt from the runbook's documented steps and
# output lines (the script itself is not in shared/); it polls every 0.2 s,
# which favours it over a once-a-second loop.
#   NS=october OUT_DIR=./backups APP_LABEL=app=redis REDIS_PORT=6379 scripts/runbook/redis-backup.sh
set -euo pipefail
NS=${NS:-october}
OUT_DIR=${OUT_DIR:-${BACKUPS_DIR:-./backups}}
APP_LABEL=${APP_LABEL:-app=redis}
REDIS_PORT=${REDIS_PORT:-6379}
TIMEOUT=${TIMEOUT:-30}
echo "[backup] detecting redis pod in ns=$NS label $APP_LABEL..."
pod=$(kubectl -n "$NS" get pods -l "$APP_LABEL" -o jsonpath='{.items[0].metadata.name}')
[ -n "$pod" ] || { echo "redis pod not found" >&2; exit 2; }
cli() { kubectl -n "$NS" exec "$pod" -- redis-cli -p "$REDIS_PORT" "$@"; }
echo "[backup] LASTSAVE (before)"
before=$(cli LASTSAVE); echo "  $before"
echo "[backup] BGSAVE..."
cli BGSAVE >/dev/null
echo "[backup] waiting for LASTSAVE to advance..."
deadline=$(( $(date +%s) + TIMEOUT ))
while now=$(cli LASTSAVE); [ "$now" = "$before" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "BGSAVE timeout" >&2; exit 3; }
  sleep 0.2
done
echo "  done ($now)"
mkdir -p "$OUT_DIR"
dest="$OUT_DIR/redis-backup-$(date -u +%Y%m%d_%H%M%S).rdb"
echo "[backup] copying /data/dump.rdb -> $dest"
kubectl -n "$NS" cp "$pod:/data/dump.rdb" "$dest" >/dev/null
[ -s "$dest" ] || { echo "backup file empty" >&2; exit 4; }
echo "[backup] OK"
echo "$dest"
