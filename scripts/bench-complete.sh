#!/usr/bin/env bash
# Completion latency: `kubectl_complete-redis backup -n ''` against the local
# cluster and against a cluster that never answers (a kubeconfig pointing at
# an unroutable address), next to kubectl's own `kubectl __complete get
# namespaces ''` on the local cluster. Goal (issue 5): well under 100 ms,
# from the kubeconfig alone when the cluster is slow.
#   RUNS=20 scripts/bench-complete.sh
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/kubectl_complete-redis
RUNS=${RUNS:-20}
[ -x "$BIN" ] && [ -x "$TARGET/release/kubectl-redis" ] || { echo "build first: cargo build --release -p kubectl-redis" >&2; exit 1; }
live=$("$REPO/scripts/cluster.sh" kubeconfig)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/dead" <<'KC'
apiVersion: v1
kind: Config
clusters:
- {name: dead, cluster: {server: "https://10.255.255.1:6443", insecure-skip-tls-verify: true}}
users:
- {name: u, user: {token: x}}
contexts:
- {name: prod, context: {cluster: dead, user: u, namespace: payments}}
current-context: prod
KC
ms() { local t0; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - t0) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for i in $(seq "$RUNS"); do
  KUBECONFIG=$live ms "$BIN" backup -n '' >>"$work/live"
  KUBECONFIG=$work/dead ms "$BIN" backup -n '' >>"$work/deadms"
  KUBECONFIG=$live ms kubectl __complete get namespaces '' >>"$work/kubectl"
done
printf 'median of %d runs (ms)    kubectl_complete-redis   kubectl __complete get ns\n' "$RUNS"
printf 'live local cluster        %22s   %25s\n' "$(median <"$work/live")" "$(median <"$work/kubectl")"
printf 'cluster never answers     %22s   %25s\n' "$(median <"$work/deadms")" "-"
echo "goal: well under 100 ms in both cases (the cluster gets 60 ms, then the kubeconfig answers)"
