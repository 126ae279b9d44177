//! The deployments Redis runs in: replication roles, Sentinel, Redis
//! Cluster. Parsers of what the servers say, and the decisions made on them.

pub mod cluster;
pub mod hosts;
pub mod replication;
pub mod sentinel;
