//! The daily commands' logic: the backup listing ([`list`]), retention
//! ([`retention`]), the CronJob ([`schedule`]), health ([`status`]) and
//! Prometheus metrics ([`metrics`]).
pub mod list;
pub mod metrics;
pub mod retention;
pub mod schedule;
pub mod status;
