//! The continuous archive (point-in-time recovery): the archiver and the
//! archive's objects in a repository. The decisions (segments, chains,
//! plans) are the core's `pitr`.

pub mod events;
pub mod metrics;
pub mod replay;
pub mod run;
pub mod state;
pub mod store;
