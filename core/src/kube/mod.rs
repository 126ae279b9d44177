//! Kubernetes decisions with no client in sight: which pod is Redis
//! ([`pods`]) and who holds the lock Lease ([`lock`]).
pub mod lock;
pub mod pods;
