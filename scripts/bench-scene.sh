# Sourced by the cluster benchmarks (bench-copy.sh, bench-backup.sh): the
# release binary, the local cluster's kubeconfig, and the kr-bench Redis
# (scripts/bench.yaml) filled with $KEYS keys (DEBUG POPULATE KEYS key 100).
# Sets BIN, KUBECONFIG, pod, and cli() (redis-cli in that pod).
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl-redis
KEYS=${KEYS:-3000000}
export KUBECONFIG
KUBECONFIG=$("$REPO/scripts/cluster.sh" kubeconfig)
IMAGE=${KR_REDIS_IMAGE:-kubectl-redis/redis:7.0}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

sed "s#@REDIS_IMAGE@#$IMAGE#" "$REPO/scripts/bench.yaml" | kubectl apply -f - >/dev/null
kubectl -n kr-bench rollout status deploy/redis --timeout=120s >/dev/null
pod=$(kubectl -n kr-bench get pods -l app=redis -o jsonpath='{.items[0].metadata.name}')
cli() { kubectl -n kr-bench exec "$pod" -- redis-cli -p 6391 "$@"; }
if [ "$(cli DBSIZE)" != "$KEYS" ]; then
  cli FLUSHALL >/dev/null
  cli DEBUG POPULATE "$KEYS" key 100 >/dev/null
fi
