#!/usr/bin/env bash
# Copy speed and peak memory: `kubectl redis backup` streaming the dump out of
# the pod vs `kubectl cp` of the same file, on the local cluster.
#   KEYS=3000000 RUNS=5 scripts/bench-copy.sh
# Prints each run, then medians side by side with the ratio. Goal (issue 2):
# plugin copy time <= 1.0x kubectl cp, plugin peak RSS < 32 MB.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
# shellcheck source=scripts/bench-scene.sh
. "$REPO/scripts/bench-scene.sh"
cli SAVE >/dev/null
size=$(kubectl -n kr-bench exec "$pod" -- stat -c %s /data/dump.rdb)
echo "dump: $KEYS keys, $size bytes; $RUNS runs each"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/plugin_ms"; : >"$work/plugin_total_ms"; : >"$work/plugin_rss"; : >"$work/cp_ms"; : >"$work/cp_rss"
for i in $(seq "$RUNS"); do
  rm -rf "$work/out" "$work/cp.rdb"
  /usr/bin/time -f '%M' -o "$work/t" "$BIN" backup --method bgsave -n kr-bench --out-dir "$work/out" -o json --color never \
    >"$work/r.json" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  copy_ms=$(jq .copy_ms "$work/r.json"); total_ms=$(jq .duration_ms "$work/r.json"); rss=$(tail -1 "$work/t")
  bytes=$(jq .bytes "$work/r.json")
  [ "$bytes" -gt 0 ] || { echo "plugin wrote no bytes" >&2; exit 1; }
  echo "$copy_ms" >>"$work/plugin_ms"; echo "$total_ms" >>"$work/plugin_total_ms"; echo "$rss" >>"$work/plugin_rss"
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/t" kubectl -n kr-bench cp "$pod:/data/dump.rdb" "$work/cp.rdb" >/dev/null 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  cp_ms=$(( ($(date +%s%N) - t0) / 1000000 )); cp_rss=$(tail -1 "$work/t")
  cmp -s "$work/cp.rdb" "$(ls "$work"/out/redis-backup-*.rdb)" || echo "note: run $i: files differ (a save happened in between)"
  echo "$cp_ms" >>"$work/cp_ms"; echo "$cp_rss" >>"$work/cp_rss"
  printf 'run %d: plugin copy %5d ms (whole backup %5d ms, %6d KB peak)   kubectl cp %5d ms (%6d KB peak)\n' \
    "$i" "$copy_ms" "$total_ms" "$rss" "$cp_ms" "$cp_rss"
done
p=$(median <"$work/plugin_ms"); c=$(median <"$work/cp_ms")
pr=$(median <"$work/plugin_rss"); cr=$(median <"$work/cp_rss")
pt=$(median <"$work/plugin_total_ms")
echo
printf '%-34s %12s %12s\n' "median of $RUNS" "kubectl-redis" "kubectl cp"
printf '%-34s %12s %12s\n' "copy time (ms)" "$p" "$c"
printf '%-34s %12s %12s\n' "whole backup incl. BGSAVE (ms)" "$pt" "-"
printf '%-34s %12s %12s\n' "peak RSS (KB)" "$pr" "$cr"
awk -v p="$p" -v c="$c" -v r="$pr" 'BEGIN {
  printf "ratio plugin/kubectl cp: %.2fx (goal <= 1.00x); plugin peak RSS %.1f MB (goal < 32 MB)\n", p/c, r/1024 }'
