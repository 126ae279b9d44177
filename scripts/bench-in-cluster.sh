#!/usr/bin/env bash
# `backup --in-cluster` (a Job next to Redis, straight to S3) vs today's
# path through the plugin (a port-forward to this machine, then S3), on the
# same 3,000,000-key Redis 7.0 in the local cluster (scripts/bench.yaml),
# both to the local S3 server (moto, scripts/stores.sh), unencrypted.
# Reports each run's time, the bytes that crossed this machine's
# port-forwards (the local path: the whole snapshot; in the cluster: the
# count the run reports, `run.port_forward_bytes`), and what starting the
# Job's pod costs (the Job's creation to its container's start).
#   KEYS=3000000 RUNS=3 scripts/bench-in-cluster.sh
# Goal (issue 26): 0 bytes through this machine vs the whole dataset.
# The Job runs with a JSON patch this cluster needs (no CNI: host network,
# the local image, the API server on loopback); see docs/in-cluster.md.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
# shellcheck source=scripts/bench-scene.sh
. "$REPO/scripts/bench-scene.sh"
"$REPO/scripts/stores.sh" up >/dev/null
IMG=kubectl-redis/kubectl-redis:bench
"$REPO/scripts/cluster.sh" plugin-image "$BIN" "$IMG" >/dev/null
kubectl -n kr-bench delete secret s3 --ignore-not-found >/dev/null
kubectl -n kr-bench create secret generic s3 --from-literal=AWS_ACCESS_KEY_ID=test \
  --from-literal=AWS_SECRET_ACCESS_KEY=test --from-literal=AWS_ENDPOINT_URL=http://127.0.0.1:19000 \
  --from-literal=AWS_REGION=us-east-1 >/dev/null
server=$(sed -n 's#^ *server: https://##p' "$KUBECONFIG" | head -1)
ov=$(printf '[{"op":"add","path":"/hostNetwork","value":true},{"op":"add","path":"/containers/0/imagePullPolicy","value":"Never"},{"op":"add","path":"/containers/0/env/-","value":{"name":"KUBERNETES_SERVICE_HOST","value":"%s"}},{"op":"add","path":"/containers/0/env/-","value":{"name":"KUBERNETES_SERVICE_PORT","value":"%s"}}]' "${server%:*}" "${server##*:}")
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_ENDPOINT_URL=http://127.0.0.1:19000 AWS_REGION=us-east-1
echo "Redis $(cli INFO server | tr -d '\r' | sed -n 's/^redis_version://p'), $KEYS keys; $RUNS runs each"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
json_num() { sed -n "s/^ *\"$1\": \\([0-9]*\\),\\{0,1\\}$/\\1/p" "$2" | head -1; }
for n in local incluster start; do : >"$work/$n.ms"; done
: >"$work/local.bytes"; : >"$work/incluster.bytes"
stamp=$(date +%s)
for i in $(seq "$RUNS"); do
  t0=$(date +%s%N)
  "$BIN" backup -n kr-bench --repo "s3://backups/bench-local-$stamp-$i" --no-encrypt -o json >"$work/l.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  tl=$(ms "$t0")
  # The stream method moves the whole snapshot through the port-forward.
  bl=$(json_num bytes "$work/l.json")
  t0=$(date +%s%N)
  "$BIN" backup -n kr-bench --in-cluster --job-image "$IMG" --job-overrides "$ov" --repo-credentials-from-secret s3 \
    --repo "s3://backups/bench-ic-$stamp-$i" --no-encrypt -o json >"$work/c.json" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  tc=$(ms "$t0")
  bc=$(json_num port_forward_bytes "$work/c.json")
  run=$(sed -n 's/^ *"name": "\(kubectl-redis-backup-[^"]*\)",\{0,1\}$/\1/p' "$work/c.json" | head -1)
  created=$(kubectl -n kr-bench get job "$run" -o jsonpath='{.metadata.creationTimestamp}')
  started=$(kubectl -n kr-bench get pods -l "job-name=$run" -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.startedAt}')
  ts=$(( ($(date -d "$started" +%s) - $(date -d "$created" +%s)) * 1000 ))
  echo "$tl" >>"$work/local.ms"; echo "$tc" >>"$work/incluster.ms"; echo "$ts" >>"$work/start.ms"
  echo "$bl" >>"$work/local.bytes"; echo "$bc" >>"$work/incluster.bytes"
  printf 'run %d: through the plugin %6d ms (%d bytes through this machine)   in the cluster %6d ms (%d bytes; pod started %d s after the Job)\n' \
    "$i" "$tl" "$bl" "$tc" "$bc" "$((ts / 1000))"
  kubectl -n kr-bench delete job "$run" --wait=false >/dev/null
done
echo
printf '%-34s %16s %16s\n' "median of $RUNS" "through plugin" "in the cluster"
printf '%-34s %16s %16s\n' "backup to S3 (ms)" "$(median <"$work/local.ms")" "$(median <"$work/incluster.ms")"
printf '%-34s %16s %16s\n' "bytes through this machine" "$(median <"$work/local.bytes")" "$(median <"$work/incluster.bytes")"
printf '%-34s %16s %16s\n' "starting the Job's pod (s, 1 s steps)" "-" "$(( $(median <"$work/start.ms") / 1000 ))"
