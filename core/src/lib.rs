//! The sans-I/O core of `kubectl redis`.
//!
//! Nothing in this crate touches the network, the file system or the clock:
//! the backup is a state machine ([`backup::Backup`]) that takes inputs (the
//! results of work the shell did, plus the current monotonic time) and
//! returns effects (work for the shell to do). File formats (the RDB header,
//! backup file names) and the parsing of `redis-cli` output live here too, so
//! that every decision the plugin makes is deterministic and snapshot-tested,
//! on the host and under wasm.
#![forbid(unsafe_code)]

pub mod backup;
pub mod crc64;
pub mod exit;
pub mod human;
pub mod inspect;
pub mod list;
pub mod lock;
pub mod lzf;
pub mod manifest;
pub mod metrics;
pub mod names;
pub mod packed;
pub mod pods;
pub mod rdb;
pub mod reader;
pub mod repl;
pub mod reply;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod status;
