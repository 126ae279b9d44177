//! The sans-I/O core of `kubectl redis`.
//!
//! Nothing in this crate touches the network, the file system or the clock.
//! Every job is a state machine ([`backup::Backup`], [`restore::Restore`])
//! that takes inputs (the results of work the shell did, plus the current
//! monotonic time) and returns effects (work for the shell to do). File
//! formats and the Redis wire protocol live here too, so that every decision
//! the plugin makes is deterministic and snapshot-tested, on the host and
//! under wasm. `ARCHITECTURE.md` at the repository root maps the folders.
#![forbid(unsafe_code)]

/// Jobs: one state machine each.
pub mod backup;
pub mod restore;

/// Point-in-time recovery: the replication stream archived as segments.
pub mod pitr;

/// Kubernetes decisions: which pod, and the lock protocol.
pub mod kube;
/// The daily commands' logic: listing, retention, schedule, status, metrics.
pub mod ops;
/// The RDB file format: header, streaming reader, packed encodings, LZF,
/// CRC-64, inspection.
pub mod rdb;
/// Backup files as stored: names and manifests.
pub mod store;
/// Replicas, Sentinel and Redis Cluster: roles, health, slots.
pub mod topo;
/// The Redis wire: RESP replies, `redis-cli` output, the replication stream.
pub mod wire;

pub mod exit;
pub mod human;
