#!/usr/bin/env bash
# A Redis Cluster of 3 primaries (Redis 7.0, in the local Kubernetes, host
# network, ports 6392-6394) holding $KEYS keys (DEBUG POPULATE on a local
# server, restored into the cluster routed by slot): backup and restore
# through the plugin (port-forwards to this machine; one merged file) vs
# `--in-cluster` (a backup set: the first Job plans it, then one Job per
# shard; the restore one Job reading the set), all to the local S3 server
# (moto, scripts/stores.sh), unencrypted. Reports each run's time, the bytes
# through this machine, and the pods' start (Job created to container
# started, kubelet timestamps in 1 s steps).
#   KEYS=3000000 RUNS=1 scripts/bench-in-cluster-set.sh
# Goal (issue 26): 0 bytes through this machine vs the whole dataset.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
RUNS=${RUNS:-1}
NS=kr-bench-rc
IMAGE=${KR_REDIS_IMAGE:-kubectl-redis/redis:7.0}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
export KUBECONFIG
KUBECONFIG=$("$REPO/scripts/cluster.sh" kubeconfig)
"$REPO/scripts/stores.sh" up >/dev/null
IMG=kubectl-redis/kubectl-redis:bench
"$REPO/scripts/cluster.sh" plugin-image "$BIN" "$IMG" >/dev/null
work=$(mktemp -d)
src=6749
cleanup() { redis-cli -p "$src" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
kubectl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$NS" >/dev/null
for i in 0 1 2; do
  port=$((6392 + i))
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: rc-$i, namespace: $NS, labels: {app: rc}}
spec:
  serviceName: rc-$i
  replicas: 1
  selector: {matchLabels: {app: rc, node: n$i}}
  template:
    metadata: {labels: {app: rc, node: n$i}}
    spec:
      hostNetwork: true
      terminationGracePeriodSeconds: 5
      containers:
      - name: redis
        image: $IMAGE
        imagePullPolicy: Never
        command: ["sh", "-c", "exec redis-server --port $port --bind 127.0.0.1 --save '' --cluster-enabled yes --cluster-config-file /conf/nodes.conf --dir /conf"]
        ports: [{name: redis, containerPort: $port}]
        readinessProbe: {exec: {command: ["redis-cli", "-p", "$port", "ping"]}, periodSeconds: 1}
        volumeMounts: [{name: conf, mountPath: /conf}]
      volumes: [{name: conf, emptyDir: {}}]
YAML
done
for i in 0 1 2; do kubectl -n "$NS" rollout status "sts/rc-$i" --timeout=120s >/dev/null; done
for p in 6393 6394; do redis-cli -p 6392 CLUSTER MEET 127.0.0.1 "$p" >/dev/null; done
redis-cli -p 6392 CLUSTER ADDSLOTSRANGE 0 5460 >/dev/null
redis-cli -p 6393 CLUSTER ADDSLOTSRANGE 5461 10922 >/dev/null
redis-cli -p 6394 CLUSTER ADDSLOTSRANGE 10923 16383 >/dev/null
for _ in $(seq 600); do
  ok=1
  for p in 6392 6393 6394; do redis-cli -p "$p" CLUSTER INFO | grep -q cluster_state:ok || ok=0; done
  [ $ok = 1 ] && break
  sleep 0.1
done
[ $ok = 1 ] || { echo "the cluster did not form" >&2; exit 1; }
# The dataset: made on a local server, restored into the cluster.
mkdir -p "$work/s" "$work/b"
redis-server --port "$src" --bind 127.0.0.1 --dir "$work/s" --save '' --daemonize yes \
  --enable-debug-command yes --logfile "$work/s/log"
for _ in $(seq 100); do [ "$(redis-cli -p "$src" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
redis-cli -p "$src" DEBUG POPULATE "$KEYS" key 100 >/dev/null
file=$("$BIN" backup --url "redis://127.0.0.1:$src" --out-dir "$work/b" --color never 2>/dev/null)
total() { echo $(( $(redis-cli -p 6392 DBSIZE) + $(redis-cli -p 6393 DBSIZE) + $(redis-cli -p 6394 DBSIZE) )); }
load() { "$BIN" restore --method live --url redis://127.0.0.1:6392 --file "$file" --yes --color never >/dev/null 2>&1; }
flush() { for p in 6392 6393 6394; do redis-cli -p "$p" FLUSHALL >/dev/null; done; }
load
[ "$(total)" = "$KEYS" ] || { echo "the cluster holds $(total) keys, not $KEYS" >&2; exit 1; }
kubectl -n "$NS" create secret generic s3 --from-literal=AWS_ACCESS_KEY_ID=test \
  --from-literal=AWS_SECRET_ACCESS_KEY=test --from-literal=AWS_ENDPOINT_URL=http://127.0.0.1:19000 \
  --from-literal=AWS_REGION=us-east-1 >/dev/null
server=$(sed -n 's#^ *server: https://##p' "$KUBECONFIG" | head -1)
ov=$(printf '[{"op":"add","path":"/hostNetwork","value":true},{"op":"add","path":"/containers/0/imagePullPolicy","value":"Never"},{"op":"add","path":"/containers/0/env/-","value":{"name":"KUBERNETES_SERVICE_HOST","value":"%s"}},{"op":"add","path":"/containers/0/env/-","value":{"name":"KUBERNETES_SERVICE_PORT","value":"%s"}}]' "${server%:*}" "${server##*:}")
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_ENDPOINT_URL=http://127.0.0.1:19000 AWS_REGION=us-east-1
echo "Redis Cluster of 3 primaries, Redis $(redis-cli -p 6392 INFO server | tr -d '\r' | sed -n 's/^redis_version://p'), $KEYS keys ($(stat -c %s "$file") bytes as one file); $(nproc) cores; $RUNS run(s) each"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
json_num() { sed -n "s/^ *\"$1\": \\([0-9]*\\),\\{0,1\\}$/\\1/p" "$2" | head -1; }
# Job created to its container started, for every Job of the runs in $work/c.json.
starts() {
  local j c st out=""
  for j in $(sed -n 's/^ *"\(kubectl-redis-[a-z]*-[0-9a-z-]*\)",\{0,1\}$/\1/p; s/^ *"name": "\(kubectl-redis-[a-z]*-[^"]*\)",\{0,1\}$/\1/p' "$1" | sort -u); do
    c=$(kubectl -n "$NS" get job "$j" -o jsonpath='{.metadata.creationTimestamp}' 2>/dev/null) || continue
    st=$(kubectl -n "$NS" get pods -l "job-name=$j" -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.startedAt}')
    out="$out $(( $(date -d "$st" +%s) - $(date -d "$c" +%s) ))"
  done
  echo "${out# }"
}
stamp=$(date +%s)
for i in $(seq "$RUNS"); do
  echo "run $i:"
  t0=$(date +%s%N)
  "$BIN" backup -n "$NS" -l app=rc --repo "s3://backups/rc-local-$stamp-$i" --no-encrypt -o json >"$work/l.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  tl=$(ms "$t0"); bl=$(json_num bytes "$work/l.json")
  lpath=$(sed -n 's/^ *"path": "\([^"]*\)",\{0,1\}$/\1/p' "$work/l.json" | head -1)
  printf '  %-46s %7d ms  %11d bytes through this machine\n' "backup through the plugin (merged)" "$tl" "$bl"
  t0=$(date +%s%N)
  "$BIN" backup -n "$NS" -l app=rc --in-cluster --job-image "$IMG" --job-overrides "$ov" --repo-credentials-from-secret s3 \
    --repo "s3://backups/rc-ic-$stamp-$i" --no-encrypt -o json >"$work/c.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  tc=$(ms "$t0"); bc=$(json_num port_forward_bytes "$work/c.json")
  set=$(sed -n 's/^ *"path": "\(s3:[^"]*\.set\)",\{0,1\}$/\1/p' "$work/c.json" | head -1)
  printf '  %-46s %7d ms  %11d bytes through this machine; the pods of the shard Jobs started (s after each Job): %s\n' \
    "backup --in-cluster (set: plan + 3 shard Jobs)" "$tc" "$bc" "$(starts "$work/c.json")"
  flush
  t0=$(date +%s%N)
  "$BIN" restore -n "$NS" -l app=rc --file "$lpath" --no-scale-down --yes -o json >"$work/r.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  tr=$(ms "$t0")
  [ "$(total)" = "$KEYS" ] || { echo "restored $(total) keys, not $KEYS" >&2; exit 1; }
  printf '  %-46s %7d ms  %11d bytes fetched to this machine (then every key sent on through port-forwards, not counted)\n' "restore through the plugin (merged file)" "$tr" "$bl"
  flush
  t0=$(date +%s%N)
  "$BIN" restore -n "$NS" -l app=rc --in-cluster --job-image "$IMG" --job-overrides "$ov" --repo-credentials-from-secret s3 \
    --file "$set" --no-scale-down --yes -o json >"$work/rc.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  trc=$(ms "$t0"); brc=$(json_num port_forward_bytes "$work/rc.json")
  [ "$(total)" = "$KEYS" ] || { echo "restored $(total) keys, not $KEYS" >&2; exit 1; }
  printf '  %-46s %7d ms  %11d bytes through this machine; the pods of the Jobs per primary started (s after each Job): %s\n' \
    "restore --in-cluster of the set (plan + 1 Job per primary)" "$trc" "$brc" "$(starts "$work/rc.json")"
done
kubectl delete namespace "$NS" --wait=false >/dev/null
