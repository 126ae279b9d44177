//! The lock that makes a backup or restore the only one running against a
//! Redis: a `coordination.k8s.io` Lease named after the workload owning the
//! pod (so it survives the pod being replaced), renewed while held.

use crate::human;

/// A Lease as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// `spec.holderIdentity`.
    pub holder: String,
    /// `spec.renewTime` (or `acquireTime`), Unix seconds.
    pub renewed_unix: i64,
    /// `spec.leaseDurationSeconds`.
    pub duration_s: i64,
    /// Opaque: lets the shell replace exactly this version.
    pub resource_version: String,
}

/// Why writing the Lease failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseError {
    /// Someone else wrote it between our read and our write.
    Conflict,
    /// The user may not read or write Leases (HTTP 403).
    Forbidden(String),
    /// Anything else.
    Other(String),
}

impl core::fmt::Display for LeaseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LeaseError::Conflict => write!(f, "changed by someone else meanwhile"),
            LeaseError::Forbidden(m) | LeaseError::Other(m) => write!(f, "{m}"),
        }
    }
}

/// A request about the lock, for the shell (the same for backup and
/// restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Read the Lease `name`; answer [`Answer::Found`].
    Get {
        /// Lease name.
        name: String,
    },
    /// Create the Lease (`replaces` `None`) or replace exactly that version,
    /// with `holder`; keep renewing it every `duration_s / 3` until
    /// [`Request::Release`]. Answer [`Answer::Taken`].
    Take {
        /// Lease name.
        name: String,
        /// Our identity.
        holder: String,
        /// Lease duration.
        duration_s: i64,
        /// The version to replace.
        replaces: Option<String>,
    },
    /// Stop renewing; delete the Lease if we hold it. Answer
    /// [`Answer::Released`].
    Release {
        /// Lease name.
        name: String,
    },
}

/// The shell's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The Lease, or `None` when there is none.
    Found(Result<Option<LeaseState>, LeaseError>),
    /// Taken, or why not.
    Taken(Result<(), LeaseError>),
    /// Released (or not ours), or why it could not be deleted.
    Released(Result<(), String>),
}

/// What to do about the Lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Create it (`None`) or replace this version of it.
    Take {
        /// The version to replace.
        replaces: Option<String>,
        /// A warning to show (taking over a stale lock).
        warning: Option<String>,
    },
    /// Someone else holds it: refuse with this message and hint.
    Held {
        /// What to say.
        message: String,
        /// What to do.
        hint: String,
    },
}

/// Decides from the Lease found, our identity and the wall clock.
pub fn decide(found: Option<&LeaseState>, name: &str, holder: &str, now_unix: i64) -> Decision {
    let Some(l) = found else {
        return Decision::Take {
            replaces: None,
            warning: None,
        };
    };
    let age = now_unix - l.renewed_unix;
    if l.holder == holder || age > l.duration_s {
        let warning = (l.holder != holder).then(|| {
            format!(
                "taking over a stale lock from {} (last renewed {} ago)",
                l.holder,
                human::age(age)
            )
        });
        return Decision::Take {
            replaces: Some(l.resource_version.clone()),
            warning,
        };
    }
    Decision::Held {
        message: format!(
            "another backup or restore of this Redis is running: Lease {name} is held by {} (renewed {} ago); nothing was changed",
            l.holder,
            human::age(age.max(0))
        ),
        hint: format!(
            "wait for it to finish; a holder that died is taken over {}s after its last renewal",
            l.duration_s
        ),
    }
}

/// The Lease's name: `kubectl-redis-` + the owning workload's name (or the
/// pod's, for a bare pod).
pub fn lease_name(owner: &str, pod: &str) -> String {
    let base = match owner.split_once('/') {
        Some((_, name)) if !name.is_empty() => name,
        _ => pod,
    };
    let mut n = format!("kubectl-redis-{base}").to_ascii_lowercase();
    n.truncate(253);
    n
}
