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
    /// How long this process watched the Lease stay exactly this version
    /// (its own monotonic clock), when it watched: a Lease taken over must
    /// have been seen unrenewed for a whole duration here, whatever its
    /// `renewTime` says (another machine's clock). `None`: not watched.
    pub unchanged_ms: Option<u64>,
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
    /// Record `value` under the annotation `key` on the Lease we hold (what
    /// `--recover` needs to finish or undo a step if this run dies).
    /// Answer [`Answer::Noted`].
    Note {
        /// Lease name.
        name: String,
        /// Annotation key.
        key: String,
        /// Its value.
        value: String,
    },
}

/// The annotation a swap restore records on its Lease just before it
/// installs the backup: what `restore --recover` needs to finish or undo
/// the install if the run dies before SHUTDOWN is answered.
pub const INSTALL_NOTE: &str = "kubectl-redis.io/installing";

/// What [`INSTALL_NOTE`] records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Installing {
    /// The Redis pod and container.
    pub pod: String,
    pub container: String,
    /// The pod's uid and the container's restart count at the install:
    /// another uid or a higher count means Redis restarted onto the backup.
    pub uid: String,
    pub restarts: u32,
    /// The file or directory installed (the previous one beside it as
    /// `PATH.kr-old`).
    pub path: String,
}

/// What `--recover` does about an install a dead run left: the backup is
/// loaded (Redis restarted since) and only the kept old file goes, or it
/// is not, and the old file comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallFix {
    /// Restarted onto the backup: remove `PATH.kr-old`.
    Finish,
    /// Not restarted: put `PATH.kr-old` back.
    Revert,
}

/// Decides from the pod as it is now (`None`: gone).
pub fn install_fix(note: &Installing, uid: Option<&str>, restarts: u32) -> Option<InstallFix> {
    let uid = uid?;
    Some(if uid != note.uid || restarts > note.restarts {
        InstallFix::Finish
    } else {
        InstallFix::Revert
    })
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
    /// Noted, or why not.
    Noted(Result<(), String>),
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

/// Whether the Lease found must be watched before [`decide`] can take it
/// over: held by another holder whose last renewal, by its own clock, is
/// older than the duration. A Lease renewed recently by that clock is
/// refused at once (the safe side of a wrong clock); one that looks stale
/// is taken only once this process has seen it unrenewed for a whole
/// duration, as client-go's leader election does.
pub fn worth_watching(found: Option<&LeaseState>, holder: &str, now_unix: i64) -> bool {
    found.is_some_and(|l| l.holder != holder && now_unix - l.renewed_unix > l.duration_s)
}

/// How long to watch a Lease (milliseconds): one duration and a second,
/// so a holder renewing every third of it is seen renewing.
pub fn watch_ms(l: &LeaseState) -> u64 {
    u64::try_from(l.duration_s.max(1)).unwrap_or(15) * 1000 + 1000
}

/// Decides from the Lease found (watched when [`worth_watching`] said so),
/// our identity and the wall clock.
pub fn decide(found: Option<&LeaseState>, name: &str, holder: &str, now_unix: i64) -> Decision {
    let Some(l) = found else {
        return Decision::Take {
            replaces: None,
            warning: None,
        };
    };
    let age = now_unix - l.renewed_unix;
    if l.holder == holder {
        return Decision::Take {
            replaces: Some(l.resource_version.clone()),
            warning: None,
        };
    }
    let watched_ms = l.unchanged_ms.unwrap_or(0);
    let whole = u64::try_from(l.duration_s.max(0)).unwrap_or(0) * 1000;
    if age > l.duration_s && watched_ms >= whole {
        return Decision::Take {
            replaces: Some(l.resource_version.clone()),
            warning: Some(format!(
                "taking over a stale lock from {} (last renewed {} ago; not renewed during the {} watched here)",
                l.holder,
                human::age(age),
                human::age(i64::try_from(watched_ms / 1000).unwrap_or(i64::MAX))
            )),
        };
    }
    let renewed = match l.unchanged_ms {
        // Stale by its clock, yet renewed while watched: the clocks differ.
        Some(0) if age > l.duration_s => format!(
            "renewed while watched here, though its renewTime says {} ago: the two machines' clocks differ",
            human::age(age)
        ),
        Some(ms) if age > l.duration_s => format!(
            "last renewed {} ago by its clock, watched unrenewed here for only {} of the {}s needed to take it over",
            human::age(age),
            human::age(i64::try_from(ms / 1000).unwrap_or(0)),
            l.duration_s
        ),
        None if age > l.duration_s => format!(
            "last renewed {} ago by its clock, not yet watched here",
            human::age(age)
        ),
        _ => format!("renewed {} ago", human::age(age.max(0))),
    };
    Decision::Held {
        message: format!(
            "another backup or restore of this Redis is running: Lease {name} is held by {} ({renewed}); nothing was changed",
            l.holder
        ),
        hint: format!(
            "wait for it to finish; a holder that died is taken over once it has not renewed for {}s",
            l.duration_s
        ),
    }
}

/// What this process saw of a Lease it watched from `first`: the state to
/// decide on, with `unchanged_ms` set. `latest` is the last read and
/// `watched_ms` how long (monotonic) since `first` was read.
pub fn watched(
    first: &LeaseState,
    latest: Option<LeaseState>,
    watched_ms: u64,
) -> Option<LeaseState> {
    let mut l = latest?;
    l.unchanged_ms = Some(if l.resource_version == first.resource_version {
        watched_ms
    } else {
        0
    });
    Some(l)
}

/// Why a renewal loop gives the Lease up, judged by this process: the
/// Lease gone, written by someone else, or not renewed by us for longer
/// than is safe (`since_ok_ms` on a clock that counts a sleeping laptop's
/// sleep). `None`: still ours.
pub fn lost(
    found: Result<Option<&LeaseState>, &str>,
    ours: &str,
    our_version: &str,
    since_ok_ms: u64,
    duration_s: i64,
) -> Option<String> {
    // Past two thirds of the duration without a renewal, another process
    // judging by its own observation may take it over soon: stop first.
    let limit = u64::try_from(duration_s.max(1)).unwrap_or(15) * 1000 * 2 / 3;
    match found {
        Ok(None) => Some("it was deleted".into()),
        Ok(Some(l)) if l.holder != ours => Some(format!("{} holds it now", l.holder)),
        Ok(Some(l)) if !our_version.is_empty() && l.resource_version != our_version => {
            Some("someone else wrote it".into())
        }
        Ok(Some(_)) if since_ok_ms > limit => Some(format!(
            "it was not renewed for {} (this machine slept, or the API server was unreachable)",
            human::age(i64::try_from(since_ok_ms / 1000).unwrap_or(i64::MAX))
        )),
        Err(e) if since_ok_ms > limit => Some(format!(
            "it could not be renewed for {}: {e}",
            human::age(i64::try_from(since_ok_ms / 1000).unwrap_or(i64::MAX))
        )),
        _ => None,
    }
}

/// The message of a run stopped because its Lease was lost.
pub fn lost_message(name: &str, why: &str) -> String {
    format!("the lock Lease {name} was lost ({why}): another backup or restore may run now")
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

    fn lease(holder: &str, renewed: i64, version: &str) -> LeaseState {
        LeaseState {
            holder: holder.into(),
            renewed_unix: renewed,
            duration_s: 15,
            resource_version: version.into(),
            unchanged_ms: None,
        }
    }

    #[test]
    fn a_stale_lease_is_taken_only_after_watching_it_unrenewed() {
        let now = 1_000_000;
        let fresh = lease("bob", now - 3, "7");
        let stale = lease("bob", now - 600, "7");
        assert!(!worth_watching(Some(&fresh), "me", now));
        assert!(worth_watching(Some(&stale), "me", now));
        assert!(!worth_watching(
            Some(&lease("me", now - 600, "7")),
            "me",
            now
        ));
        assert!(matches!(
            decide(Some(&fresh), "l", "me", now),
            Decision::Held { .. }
        ));
        // Its clock alone is not enough.
        assert!(matches!(
            decide(Some(&stale), "l", "me", now),
            Decision::Held { .. }
        ));
        // Watched a whole duration, unchanged: taken, replacing that version.
        let w = watched(&stale, Some(stale.clone()), 16_000);
        match decide(w.as_ref(), "l", "me", now) {
            Decision::Take { replaces, warning } => {
                assert_eq!(replaces.as_deref(), Some("7"));
                assert!(warning.is_some_and(|w| w.contains("not renewed during the 16s")));
            }
            d => panic!("{d:?}"),
        }
        // Renewed while watched (a holder whose clock is behind): held.
        let renewed = watched(&stale, Some(lease("bob", now - 599, "8")), 16_000);
        match decide(renewed.as_ref(), "l", "me", now) {
            Decision::Held { message, .. } => {
                assert!(message.contains("clocks differ"), "{message}")
            }
            d => panic!("{d:?}"),
        }
        // Gone while watched: created afresh.
        assert_eq!(watched(&stale, None, 16_000), None);
    }

    #[test]
    fn a_lease_is_lost_when_someone_else_writes_it_or_renewals_stop() {
        let mine = lease("me", 0, "7");
        assert_eq!(lost(Ok(Some(&mine)), "me", "7", 1_000, 15), None);
        assert_eq!(
            lost(Err("timeout"), "me", "7", 9_000, 15),
            None,
            "one failure is tolerated"
        );
        assert!(lost(Err("timeout"), "me", "7", 10_001, 15).is_some_and(|w| w.contains("timeout")));
        assert!(lost(Ok(Some(&mine)), "me", "7", 3_600_000, 15)
            .is_some_and(|w| w.contains("1h") && w.contains("slept")));
        assert!(lost(Ok(Some(&lease("bob", 0, "8"))), "me", "7", 0, 15)
            .is_some_and(|w| w.contains("bob holds it")));
        assert!(lost(Ok(Some(&lease("me", 0, "8"))), "me", "7", 0, 15)
            .is_some_and(|w| w.contains("someone else wrote it")));
        assert_eq!(
            lost(Ok(None), "me", "7", 0, 15).as_deref(),
            Some("it was deleted")
        );
    }
}
