//! `INFO replication`: a server's role, and whether a replica is healthy
//! enough to back up from.

use crate::kube::pods::{self, PodInfo, PodRole, Roles};
use crate::wire::reply;

/// The longest a healthy replica goes without hearing from its primary. A
/// primary pings its replicas every `repl-ping-replica-period` (10 s by
/// default), so an idle, healthy link stays under it; a few seconds more
/// absorb a slow ping.
pub const MAX_SILENCE_S: i64 = 15;

/// One replica as its primary lists it (`slaveN:ip=..,port=..,...`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attached {
    /// Address the replica announced.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `online`, `wait_bgsave`, `send_bulk`...
    pub state: String,
    /// Replication offset it acknowledged.
    pub offset: i64,
    /// Seconds since its last acknowledgement.
    pub lag_s: i64,
}

/// What `INFO replication` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replication {
    /// `master`, `slave` (a replica), or what the server said.
    pub role: String,
    /// A replica's primary: host and port.
    pub master: Option<(String, u16)>,
    /// A replica's `master_link_status` is `up`.
    pub link_up: bool,
    /// A replica is loading a full copy (`master_sync_in_progress:1`).
    pub syncing: bool,
    /// A replica's `master_last_io_seconds_ago` (-1 when the link is down).
    pub last_io_s: Option<i64>,
    /// `master_repl_offset`: how far this server's stream is.
    pub offset: Option<i64>,
    /// `master_replid`: the history the offset counts in. A replica that
    /// has synced shares its primary's (along a chain of replicas too), so
    /// offsets compare only between servers with the same one.
    pub replid: Option<String>,
    /// A primary's replicas.
    pub replicas: Vec<Attached>,
}

impl Replication {
    /// Parses the text of `INFO replication` (or a whole `INFO`).
    pub fn parse(info: &str) -> Self {
        let f = reply::info_fields(info);
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string());
        let int = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
        let master = match (get("master_host"), int("master_port")) {
            (Some(h), Some(p)) => u16::try_from(p).ok().map(|p| (h, p)),
            _ => None,
        };
        let mut replicas: Vec<(u32, Attached)> = f
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix("slave")?.parse::<u32>().ok()?;
                let kv: std::collections::BTreeMap<&str, &str> = v
                    .trim()
                    .split(',')
                    .filter_map(|p| p.split_once('='))
                    .collect();
                let num = |k: &str| kv.get(k).and_then(|v| v.parse::<i64>().ok());
                Some((
                    n,
                    Attached {
                        ip: kv.get("ip")?.to_string(),
                        port: u16::try_from(num("port")?).ok()?,
                        state: kv.get("state").unwrap_or(&"").to_string(),
                        offset: num("offset").unwrap_or(0),
                        lag_s: num("lag").unwrap_or(-1),
                    },
                ))
            })
            .collect();
        replicas.sort_by_key(|(n, _)| *n);
        Replication {
            role: get("role").unwrap_or_default(),
            master,
            link_up: get("master_link_status").as_deref() == Some("up"),
            syncing: int("master_sync_in_progress").unwrap_or(0) != 0,
            last_io_s: int("master_last_io_seconds_ago"),
            offset: int("master_repl_offset"),
            replid: get("master_replid").filter(|r| !r.is_empty()),
            replicas: replicas.into_iter().map(|(_, a)| a).collect(),
        }
    }

    /// Whether this server is a replica.
    pub fn is_replica(&self) -> bool {
        self.role == "slave" || self.role == "replica"
    }

    /// Why this server is not a replica fit to back up from, or `None`: it
    /// must be a replica, linked to its primary, not loading a full copy,
    /// and have heard from the primary within [`MAX_SILENCE_S`].
    pub fn unfit_replica(&self) -> Option<String> {
        if !self.is_replica() {
            return Some(format!(
                "it is not a replica (role {})",
                if self.role.is_empty() {
                    "unknown"
                } else {
                    &self.role
                }
            ));
        }
        let of = self
            .master
            .as_ref()
            .map(|(h, p)| format!(" to {h}:{p}"))
            .unwrap_or_default();
        if !self.link_up {
            return Some(format!("its link{of} is down"));
        }
        if self.syncing {
            return Some(format!("it is loading a full copy{of}"));
        }
        match self.last_io_s {
            Some(s) if (0..=MAX_SILENCE_S).contains(&s) => None,
            Some(s) => Some(format!(
                "it last heard from its primary{of} {s}s ago (more than {MAX_SILENCE_S}s)"
            )),
            None => Some("it does not say when it last heard from its primary".into()),
        }
    }

    /// A replica's one-line description, for progress output.
    pub fn describe_replica(&self) -> String {
        let of = self
            .master
            .as_ref()
            .map(|(h, p)| format!(" of {h}:{p}"))
            .unwrap_or_default();
        let last = self
            .last_io_s
            .map(|s| format!(", last heard {s}s ago"))
            .unwrap_or_default();
        let off = self
            .offset
            .map(|o| format!(", offset {o}"))
            .unwrap_or_default();
        format!("replica{of}: link up{last}{off}")
    }
}

/// One pod's answer to `INFO replication`, asked because neither its labels
/// nor a Sentinel said its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The pod.
    pub pod: String,
    /// What it answered, or why it could not be asked.
    pub info: Result<Replication, String>,
}

impl Asked {
    /// Its role in words: `primary with 2 replica(s)`, `replica of
    /// 10.0.0.5:6379`, `no answer (why)`.
    pub fn role(&self) -> String {
        match &self.info {
            Err(e) => format!("no answer ({e})"),
            Ok(r) if r.is_replica() => match &r.master {
                Some((h, p)) => format!("replica of {h}:{p}"),
                None => "replica".into(),
            },
            Ok(r) if r.role == "master" => {
                format!("primary with {} replica(s)", r.replicas.len())
            }
            Ok(r) if r.role.is_empty() => "unknown role".into(),
            Ok(r) => format!("role {}", r.role),
        }
    }

    /// Whether this pod replicates from `primary`: the primary lists a
    /// replica at an address this pod serves, or this replica names an
    /// address the primary's pod serves (matched to pods by IP and port,
    /// as Sentinel's addresses are; a replica naming its primary by a
    /// Service name is settled by the primary's list).
    fn replicates_from(&self, primary: &Asked, listing: &[PodInfo]) -> bool {
        let (Ok(me), Ok(p)) = (&self.info, &primary.info) else {
            return false;
        };
        let served_by = |ip: &str, port: u16, pod: &str| {
            pods::serving(listing, ip, port).is_some_and(|s| s.name == pod)
        };
        me.is_replica()
            && (p
                .replicas
                .iter()
                .any(|a| served_by(&a.ip, a.port, &self.pod))
                || me
                    .master
                    .as_ref()
                    .is_some_and(|(h, port)| served_by(h, *port, &primary.pod)))
    }
}

/// The primary among pods asked for their `INFO replication`: exactly one
/// says `role:master` and every other one is its replica. Else why not,
/// naming each pod's role (several independent primaries, none, a pod that
/// did not answer or follows another server).
pub fn primary_among<'a>(listing: &[PodInfo], asked: &'a [Asked]) -> Result<&'a Asked, String> {
    let roles = || {
        asked
            .iter()
            .map(|a| format!("{}: {}", a.pod, a.role()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let primaries: Vec<&Asked> = asked
        .iter()
        .filter(|a| a.info.as_ref().is_ok_and(|r| r.role == "master"))
        .collect();
    let primary = match primaries.as_slice() {
        [one] => *one,
        [] => return Err(format!("none of them says it is a primary ({})", roles())),
        many => {
            return Err(format!(
                "{} of them are primaries, independent servers rather than one primary and its replicas ({})",
                many.len(),
                roles()
            ))
        }
    };
    let strays: Vec<&Asked> = asked
        .iter()
        .filter(|a| a.pod != primary.pod && !a.replicates_from(primary, listing))
        .collect();
    if !strays.is_empty() {
        return Err(format!(
            "{} is a primary, but {} {} ({})",
            primary.pod,
            strays
                .iter()
                .map(|a| a.pod.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if strays.len() == 1 {
                "is not its replica"
            } else {
                "are not its replicas"
            },
            roles()
        ));
    }
    Ok(primary)
}

/// Each Ready pod's answer applied: the primary [`primary_among`] finds is
/// marked so and the others replicas; else nothing changes and the reason
/// is kept. Either way the roles as asked.
///
pub fn apply_asked(pods: &mut [PodInfo], asked: &[Asked]) -> Roles {
    let found = primary_among(pods, asked).map(|p| p.pod.clone());
    if let Ok(primary) = &found {
        for p in pods.iter_mut() {
            if asked.iter().any(|a| a.pod == p.name) {
                p.primary = Some(p.name == *primary);
            }
        }
    }
    let mut roles: Vec<PodRole> = asked
        .iter()
        .map(|a| PodRole {
            pod: a.pod.clone(),
            role: match (&found, &a.info) {
                (Ok(p), _) if *p == a.pod => "primary",
                (Ok(_), _) => "replica",
                (Err(_), _) => "unknown",
            }
            .into(),
            detail: Some(a.role()),
        })
        .collect();
    roles.sort_by(|a, b| a.pod.cmp(&b.pod));
    Roles {
        how: "info".into(),
        pods: roles,
        unsettled: found.err(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLICA: &str = "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.5\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:3\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:1234\r\nslave_repl_offset:1234\r\nmaster_repl_offset:1234\r\n";

    #[test]
    fn a_linked_replica_is_fit() {
        let r = Replication::parse(REPLICA);
        assert!(r.is_replica());
        assert_eq!(r.master, Some(("10.0.0.5".into(), 6379)));
        assert_eq!(r.offset, Some(1234));
        assert_eq!(r.replid, None);
        assert_eq!(r.unfit_replica(), None);
        let with_id = REPLICA.replace("slave_read", "master_replid:ab12\r\nslave_read");
        assert_eq!(Replication::parse(&with_id).replid.as_deref(), Some("ab12"));
        let empty = REPLICA.replace("slave_read", "master_replid:\r\nslave_read");
        assert_eq!(Replication::parse(&empty).replid, None);
        assert_eq!(
            r.describe_replica(),
            "replica of 10.0.0.5:6379: link up, last heard 3s ago, offset 1234"
        );
    }

    #[test]
    fn unfit_replicas_say_why() {
        let down = REPLICA
            .replace("link_status:up", "link_status:down")
            .replace("io_seconds_ago:3", "io_seconds_ago:-1");
        assert_eq!(
            Replication::parse(&down).unfit_replica().as_deref(),
            Some("its link to 10.0.0.5:6379 is down")
        );
        let loading = REPLICA.replace("sync_in_progress:0", "sync_in_progress:1");
        assert_eq!(
            Replication::parse(&loading).unfit_replica().as_deref(),
            Some("it is loading a full copy to 10.0.0.5:6379")
        );
        let silent = REPLICA.replace("io_seconds_ago:3", "io_seconds_ago:40");
        assert!(Replication::parse(&silent)
            .unfit_replica()
            .is_some_and(|w| w.contains("40s ago")));
        let master = "role:master\r\nconnected_slaves:0\r\n";
        assert_eq!(
            Replication::parse(master).unfit_replica().as_deref(),
            Some("it is not a replica (role master)")
        );
    }

    #[test]
    fn a_primary_lists_its_replicas_in_order() {
        let info = "role:master\r\nconnected_slaves:2\r\nslave1:ip=10.0.0.7,port=6379,state=wait_bgsave,offset=0,lag=-1\r\nslave0:ip=10.0.0.6,port=6380,state=online,offset=99,lag=1\r\nmaster_repl_offset:120\r\n";
        let r = Replication::parse(info);
        assert!(!r.is_replica());
        assert_eq!(r.offset, Some(120));
        assert_eq!(
            r.replicas,
            vec![
                Attached {
                    ip: "10.0.0.6".into(),
                    port: 6380,
                    state: "online".into(),
                    offset: 99,
                    lag_s: 1
                },
                Attached {
                    ip: "10.0.0.7".into(),
                    port: 6379,
                    state: "wait_bgsave".into(),
                    offset: 0,
                    lag_s: -1
                },
            ]
        );
    }

    fn asked(pod: &str, info: &str) -> Asked {
        Asked {
            pod: pod.into(),
            info: Ok(Replication::parse(info)),
        }
    }

    /// Pods by name and IP, Redis on 6379.
    fn listing(pods: &[(&str, &str)]) -> Vec<PodInfo> {
        pods.iter()
            .map(|(name, ip)| PodInfo {
                name: name.to_string(),
                ip: ip.to_string(),
                containers: vec![crate::kube::pods::ContainerInfo {
                    name: "redis".into(),
                    ports: vec![(Some("redis".into()), 6379)],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect()
    }

    const PRIMARY: &str = "role:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.6,port=6379,state=online,offset=10,lag=0\r\nmaster_repl_offset:10\r\n";

    #[test]
    fn the_primary_is_the_one_whose_replicas_are_the_others() {
        // The replica names its primary by a Service name: the primary's
        // list of replicas (by IP) settles it.
        let by_service = REPLICA.replace("10.0.0.5", "redis-primary.ns.svc");
        let a = [
            asked("redis-replica-7f", &by_service),
            asked("redis-primary-5c", PRIMARY),
        ];
        let pods = listing(&[
            ("redis-replica-7f", "10.0.0.6"),
            ("redis-primary-5c", "10.0.0.5"),
        ]);
        assert_eq!(
            primary_among(&pods, &a).map(|p| p.pod.as_str()),
            Ok("redis-primary-5c")
        );
        // The primary lists nobody yet, the replica names its IP.
        let quiet = "role:master\r\nconnected_slaves:0\r\n";
        let b = [asked("a", quiet), asked("b", REPLICA)];
        assert_eq!(
            primary_among(&listing(&[("a", "10.0.0.5"), ("b", "10.0.0.6")]), &b)
                .map(|p| p.pod.as_str()),
            Ok("a")
        );
        // Pods on the host's network share its IP and talk over loopback:
        // told apart by their ports.
        let mut host = listing(&[("p", "10.1.1.1"), ("r", "10.1.1.1")]);
        for (pod, port) in host.iter_mut().zip([6501u16, 6502]) {
            pod.host_ip = "10.1.1.1".into();
            pod.containers[0].ports = vec![(Some("redis".into()), port)];
        }
        let c = [
            asked("p", "role:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=6502,state=online,offset=1,lag=0\r\n"),
            asked("r", &REPLICA.replace("10.0.0.5", "127.0.0.1").replace("master_port:6379", "master_port:6501")),
        ];
        assert_eq!(primary_among(&host, &c).map(|p| p.pod.as_str()), Ok("p"));
        // A replica of a primary elsewhere, on the same host: not this one's.
        let d = [
            asked("p", "role:master\r\nconnected_slaves:0\r\n"),
            asked(
                "r",
                &REPLICA
                    .replace("10.0.0.5", "127.0.0.1")
                    .replace("master_port:6379", "master_port:7000"),
            ),
        ];
        assert!(primary_among(&host, &d).is_err());
    }

    #[test]
    fn anything_else_is_refused_naming_each_role() {
        let two = [
            asked("a", PRIMARY),
            asked("b", "role:master\r\nconnected_slaves:0\r\n"),
        ];
        assert_eq!(
            primary_among(&listing(&[("a", "10.0.0.5"), ("b", "10.0.0.7")]), &two),
            Err("2 of them are primaries, independent servers rather than one primary and its replicas (a: primary with 1 replica(s), b: primary with 0 replica(s))".into())
        );
        let none = [asked("b", REPLICA)];
        assert_eq!(
            primary_among(&listing(&[("b", "10.0.0.6")]), &none),
            Err("none of them says it is a primary (b: replica of 10.0.0.5:6379)".into())
        );
        // A replica of some other server, and a pod that did not answer.
        let stray = [
            asked("a", PRIMARY),
            asked("c", &REPLICA.replace("10.0.0.5", "10.0.0.99")),
            Asked {
                pod: "d".into(),
                info: Err("NOAUTH Authentication required.".into()),
            },
        ];
        assert_eq!(
            primary_among(&listing(&[("a", "10.0.0.5"), ("c", "10.0.0.9"), ("d", "10.0.0.8")]), &stray),
            Err("a is a primary, but c, d are not its replicas (a: primary with 1 replica(s), c: replica of 10.0.0.99:6379, d: no answer (NOAUTH Authentication required.))".into())
        );
    }
}
