#!/usr/bin/env bash
# Installs what building and testing kubectl-redis needs on a Debian 12
# machine (as root): Debian packages, rustup targets, Kubernetes binaries.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$REPO/scripts/cluster.sh" deps
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
command -v node >/dev/null || { apt-get install -y -qq nodejs >/dev/null; }
"$REPO/scripts/cluster.sh" build
"$REPO/scripts/stores.sh" deps
