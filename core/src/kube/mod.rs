//! Kubernetes decisions with no client in sight: which pod is Redis
//! ([`pods`]) and who holds the lock Lease ([`lock`]), and
//! what a probe of the container's tools means ([`probe`]).
pub mod lock;
pub mod pods;
pub mod probe;
pub mod tls;
