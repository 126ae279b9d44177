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

/// The warning of a backup that cannot use the Lease `name` and goes on
/// without it (a backup changes nothing in the cluster).
pub fn backing_up_without(name: &str, e: LeaseError) -> String {
    let why = match e {
        LeaseError::Forbidden(m) => format!("no permission to use the lock Lease {name} ({m})"),
        LeaseError::Other(m) => format!("the lock Lease {name} is unavailable ({m})"),
        LeaseError::Conflict => format!("the lock Lease {name} changed under us"),
    };
    format!("{why}; backing up without it (a concurrent restore would not be detected)")
}

/// A backup's refusal when another run took the Lease `name` between its
/// read and its write: the message and the hint.
pub fn taken_meanwhile(name: &str) -> (String, String) {
    (
        format!("another backup or restore took the lock Lease {name} just now"),
        "wait for it to finish".into(),
    )
}

/// A Redis Cluster's Lease, the same whichever node is asked: the smallest
/// of the Lease names of the pods serving its nodes (primaries and
/// replicas), so a backup of the whole cluster and a restore through any
/// one node exclude each other. With every node in one StatefulSet (the
/// Bitnami `redis-cluster` chart) it is that StatefulSet's Lease. `None`
/// when no node is served by one of `pods`.
pub fn cluster_lease_name(
    map: &crate::topo::cluster::SlotMap,
    pods: &[crate::kube::pods::PodInfo],
) -> Option<String> {
    map.nodes
        .iter()
        .chain(map.replicas.values().flatten().map(|r| &r.node))
        .filter_map(|n| crate::kube::pods::serving(pods, &n.host, n.port))
        .map(|p| lease_name(&p.owner, &p.name))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::pods::{ContainerInfo, PodInfo};
    use crate::topo::cluster::SlotMap;
    use crate::wire::reply::Reply;

    fn pod(name: &str, owner: &str, ip: &str) -> PodInfo {
        PodInfo {
            name: name.into(),
            owner: owner.into(),
            ip: ip.into(),
            containers: vec![ContainerInfo {
                name: "redis".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn slots(ranges: &[(i64, i64, &str, &str)]) -> SlotMap {
        let bulk = |s: &str| Reply::Bulk(s.as_bytes().to_vec());
        SlotMap::from_slots(&Reply::Array(
            ranges
                .iter()
                .map(|(a, b, primary, replica)| {
                    Reply::Array(vec![
                        Reply::Integer(*a),
                        Reply::Integer(*b),
                        Reply::Array(vec![bulk(primary), Reply::Integer(6379)]),
                        Reply::Array(vec![bulk(replica), Reply::Integer(6379)]),
                    ])
                })
                .collect(),
        ))
        .unwrap_or_default()
    }

    #[test]
    fn a_cluster_has_one_lease_whichever_node_is_asked() {
        // One StatefulSet for every node (the Bitnami chart): its name.
        let chart: Vec<PodInfo> = (0..4)
            .map(|i| pod(&format!("rc-{i}"), "StatefulSet/rc", &format!("10.0.0.{i}")))
            .collect();
        let map = slots(&[
            (0, 8191, "10.0.0.0", "10.0.0.2"),
            (8192, 16383, "10.0.0.1", "10.0.0.3"),
        ]);
        assert_eq!(
            cluster_lease_name(&map, &chart).as_deref(),
            Some("kubectl-redis-rc")
        );
        // One workload per node: the smallest name, replicas included, and
        // the same after a failover swaps a primary with its replica.
        let own: Vec<PodInfo> = ["d", "c", "b", "a"]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                pod(
                    &format!("{n}-0"),
                    &format!("StatefulSet/{n}"),
                    &format!("10.0.0.{i}"),
                )
            })
            .collect();
        let after = slots(&[
            (0, 8191, "10.0.0.2", "10.0.0.0"),
            (8192, 16383, "10.0.0.1", "10.0.0.3"),
        ]);
        assert_eq!(
            cluster_lease_name(&map, &own).as_deref(),
            Some("kubectl-redis-a")
        );
        assert_eq!(
            cluster_lease_name(&after, &own),
            cluster_lease_name(&map, &own)
        );
        // No node served by a listed pod (a cluster outside Kubernetes).
        assert_eq!(cluster_lease_name(&map, &[]), None);
    }
}
