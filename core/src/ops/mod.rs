//! The daily commands' logic: the backup listing ([`list`]), retention
//! ([`retention`]), the CronJob ([`schedule`]), health ([`status`]) and
//! Prometheus metrics ([`metrics`]), the restore drill ([`drill`]), and a
//! run as a Kubernetes Job ([`job`]).
pub mod archive;
pub mod audit;
pub mod drill;
pub mod job;
pub mod list;
pub mod metrics;
pub mod retention;
pub mod schedule;
pub mod status;
