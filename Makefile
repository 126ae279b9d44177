# kubectl-redis: the two commands the README promises are `make demo` (set up
# this machine, start the local cluster, run a real backup end to end) and
# `make test` (every check CI runs).
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
WASI_RUNNER := node $(CURDIR)/scripts/wasi-runner.mjs

.PHONY: setup build stores-up cluster-up cluster-down cluster-kubeconfig demo test lint test-core-wasm test-all bench bench-backup bench-copy bench-rdb bench-complete bench-storage bench-restore bench-cluster bench-tls bench-pitr bench-sanitize bench-kms bench-in-cluster bench-in-cluster-set bench-set fuzz completions

## setup: install what the build and tests need (Debian packages, rustup targets, Kubernetes binaries)
setup:
	scripts/setup.sh

build:
	$(CARGO) build --workspace --all-targets

## cluster-up: start the local single-node cluster and deploy the runbook's scene (idempotent)
cluster-up:
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

## cluster-kubeconfig: print the path of the local cluster's kubeconfig (use with make -s)
cluster-kubeconfig:
	@scripts/cluster.sh kubeconfig

## demo: fresh machine -> cluster -> key -> backup -> file checked by redis-check-rdb and a fresh redis-server
demo: setup cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/demo.sh

lint:
	scripts/check-core.sh
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-core-wasm:
	$(CARGO) build -p kubectl-redis-core --target wasm32-unknown-unknown
	# 128 MiB of initial memory: Node 20's WASI segfaults when the test
	# binary's memory has grown past a few MiB by its exit (all tests pass
	# first; seen with node 20.20.2, not with the memory reserved up front).
	CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C link-arg=--initial-memory=134217728" \
	CARGO_TARGET_WASM32_WASIP1_RUNNER="$(WASI_RUNNER)" INSTA_UPDATE=no INSTA_WORKSPACE_ROOT=$(CURDIR) \
	  $(CARGO) test -p kubectl-redis-core --target wasm32-wasip1

## stores-up: start the local object stores the tests use (moto, s3s-fs, Azurite; idempotent)
stores-up:
	scripts/stores.sh up

## test: lint, core tests on the host and under wasm, then every test against the real cluster and object stores
test: setup lint test-core-wasm cluster-up stores-up
	$(CARGO) build --workspace --bins
	KUBECONFIG_E2E="$$(scripts/cluster.sh kubeconfig)" INSTA_UPDATE=no \
	  $(CARGO) nextest run --workspace --no-fail-fast

## bench: every benchmark, each printing the plugin and the reference tool side by side
bench: bench-backup bench-rdb bench-copy bench-complete bench-storage bench-restore bench-cluster bench-tls bench-pitr bench-sanitize bench-kms bench-in-cluster bench-set

## bench-backup: the whole default backup vs the runbook's script (BGSAVE, poll, kubectl cp) on a ~112 MB dataset
bench-backup: cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-backup.sh

## bench-complete: completion latency, live and unreachable cluster, vs kubectl's own
bench-complete: cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-complete.sh

## bench-copy: bgsave copy speed and memory vs kubectl cp on a ~112 MB dump (real cluster)
bench-copy: cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-copy.sh

## bench-storage: backup to S3 vs a directory, encrypted vs not, copy vs aws s3 cp, copy --encrypt-to vs age -r
bench-storage:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-storage.sh

## bench-restore: live restore vs the server's own startup load and redis-cli --pipe on a ~112 MB dataset
bench-restore:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-restore.sh

## bench-cluster: a Redis Cluster of 3 primaries vs one server with the same ~112 MB: backup and live restore
bench-cluster:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-cluster.sh

## bench-tls: stream backup and live restore of 3M keys over mutual TLS vs plain (goal: <= 1.15x), with the plugin's CPU
bench-tls:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-tls.sh

## bench-pitr: the archiver under redis-benchmark -P 16 (lag, RSS, CPU), replay vs redis-cli --pipe, restore --to-time vs live restore + --pipe
bench-pitr:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-pitr.sh

## bench-sanitize: copy --sanitize of a 3M-key backup (a third masked, a third dropped) vs a plain copy: time and peak RSS
bench-sanitize:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-sanitize.sh

## bench-in-cluster-set: a 3-primary cluster in Kubernetes: backup and restore through the plugin vs --in-cluster (a backup set), bytes through this machine
bench-in-cluster-set: cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-in-cluster-set.sh

## bench-set: a backup set's shards (one process each, as their Jobs) in parallel vs one after another, 3 primaries, ~112 MB
bench-set:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-set.sh

## bench-in-cluster: backup --in-cluster (a Job, straight to S3) vs through the plugin: time, bytes through this machine, pod start
bench-in-cluster: cluster-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-in-cluster.sh

## bench-kms: a backup encrypted to a KMS key (moto) vs to an age recipient
bench-kms: stores-up
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-kms.sh

## bench-rdb: verify vs redis-check-rdb, stream backup vs redis-cli --rdb, raw CRC-64 speed
bench-rdb:
	$(CARGO) build --release -p kubectl-redis
	scripts/bench-rdb.sh

## fuzz: the RDB reader, the replication decoder and the cluster router under cargo fuzz (nightly), FUZZ_SECONDS each
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

## completions: regenerate the committed completion scripts (a test checks they are current)
completions:
	$(CARGO) build -p kubectl-redis
	for s in bash:kubectl-redis.bash zsh:_kubectl-redis fish:kubectl-redis.fish powershell:kubectl-redis.ps1; do \
	  "$${CARGO_TARGET_DIR:-target}/debug/kubectl-redis" completion $${s%%:*} > completions/$${s#*:}; done
