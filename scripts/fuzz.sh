#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/fuzz_targets) for N seconds each with
# cargo-fuzz on the nightly toolchain, seeded from the real-server fixtures.
# The reader target also asserts that allocation stays within a bound set by
# the input's size; libFuzzer's -timeout catches endless loops.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${1:-60}
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 1; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$REPO/fuzz"
# Nightly builds kept apart from the stable ones, outside the repository.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-/var/cache/kubectl-redis/fuzz-target}
mkdir -p corpus/reader corpus/repl corpus/router
# Seeds: the first byte picks the chunk size (0xbf: 64-byte chunks, no header added).
for f in "$REPO"/core/tests/fixtures/*.rdb; do
  { printf '\xbf'; cat "$f"; } >"corpus/reader/$(basename "$f")"
done
f=$REPO/core/tests/fixtures/two-dbs-function-7.0.rdb
{ printf '\x0f$%s\r\n' "$(stat -c %s "$f")"; cat "$f"; } >corpus/repl/disk
# The router: node 2 answers MOVED for foo's slot, then OK.
printf '\x02\x1d-MOVED 12182 127.0.0.1:7009\r\n\x03\x05+OK\r\n' >corpus/router/moved
for t in reader repl router; do
  echo "fuzz: $t for ${SECS}s"
  cargo +nightly fuzz run "$t" -- -max_total_time="$SECS" -timeout=5 -rss_limit_mb=1024 2>&1 | tail -3
done
