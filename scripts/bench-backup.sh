#!/usr/bin/env bash
# The whole backup a user waits for: `kubectl redis backup` with its
# defaults vs the runbook's script (scripts/runbook/redis-backup.sh: BGSAVE,
# poll LASTSAVE, kubectl cp), on the same 3,000,000-key Redis 7.0 (default
# repl-diskless-sync yes, delay 5 s) in the local cluster. Also the plugin
# with --diskless (waits out the delay) and --method bgsave, for context.
#   KEYS=3000000 RUNS=3 scripts/bench-backup.sh
# Goal (issue 10): default backup <= 1.0x the runbook's script (medians).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
# shellcheck source=scripts/bench-scene.sh
. "$REPO/scripts/bench-scene.sh"
echo "Redis $(cli INFO server | tr -d '\r' | sed -n 's/^redis_version://p'), $KEYS keys;" \
  "$(cli CONFIG GET repl-diskless-sync | tr '\n' ' ')$(cli CONFIG GET repl-diskless-sync-delay | tr '\n' ' '); $RUNS runs each"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
run_one() { # name, command...
  local name=$1; shift
  rm -rf "$work/out"
  local t0; t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/t" "$@" >"$work/stdout" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  local t; t=$(ms "$t0")
  local f; f=$(ls "$work"/out/redis-backup-*.rdb)
  [ -s "$f" ] || { echo "$name wrote no backup" >&2; exit 1; }
  echo "$t" >>"$work/$name.ms"; tail -1 "$work/t" >>"$work/$name.rss"
  printf '  %-22s %6d ms  %7d KB peak  %s\n' "$name" "$t" "$(tail -1 "$work/t")" "$(stat -c %s "$f") bytes"
}
names=(plugin-default runbook-script plugin-diskless plugin-bgsave)
for n in "${names[@]}"; do : >"$work/$n.ms"; : >"$work/$n.rss"; done
for i in $(seq "$RUNS"); do
  echo "run $i:"
  run_one plugin-default "$BIN" backup -n kr-bench --out-dir "$work/out" --color never
  run_one runbook-script env NS=kr-bench OUT_DIR="$work/out" REDIS_PORT=6391 "$REPO/scripts/runbook/redis-backup.sh"
  run_one plugin-diskless "$BIN" backup -n kr-bench --diskless --out-dir "$work/out" --color never
  run_one plugin-bgsave "$BIN" backup -n kr-bench --method bgsave --out-dir "$work/out" --color never
done
echo
printf '%-22s %12s %14s\n' "median of $RUNS" "time (ms)" "peak RSS (KB)"
for n in "${names[@]}"; do
  printf '%-22s %12s %14s\n' "$n" "$(median <"$work/$n.ms")" "$(median <"$work/$n.rss")"
done
d=$(median <"$work/plugin-default.ms"); r=$(median <"$work/runbook-script.ms")
awk -v d="$d" -v r="$r" 'BEGIN { printf "ratio default backup / runbook script: %.2fx (goal <= 1.00x)\n", d/r }'
