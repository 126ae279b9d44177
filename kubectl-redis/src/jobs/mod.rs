//! The interpreters of the core's state machines: each effect a machine can
//! ask for has exactly one arm here, doing it through `kube/`, `redis/` or
//! `store/`, and feeding the result back as an input.
pub mod backup;
pub mod backup_set;
pub mod cluster_backup;
pub mod in_cluster;
pub mod restore;
