//! `INFO replication`: a server's role, and whether a replica is healthy
//! enough to back up from.

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
}
