#!/usr/bin/env bash
# The core must stay pure: no async runtime, no Kubernetes client, no HTTP,
# and no file, network, process, clock or environment access in its code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fail=0
tree=$(cargo tree -p kubectl-redis-core -e normal --prefix none)
for banned in tokio kube kube-client hyper k8s-openapi reqwest mio socket2; do
  if grep -qE "^$banned v" <<<"$tree"; then
    echo "core depends on $banned:"; cargo tree -p kubectl-redis-core -e normal -i "$banned"; fail=1
  fi
done
if grep -rnE 'std::(fs|net|process|env|thread)|SystemTime|Instant::now|tokio|unsafe *\{' core/src; then
  echo "core/src must not do I/O, read clocks or use unsafe (lines above)"; fail=1
fi
[ $fail = 0 ] && echo "core: pure ($(wc -l <<<"$tree") crates in its tree, none of them I/O)"
exit $fail
