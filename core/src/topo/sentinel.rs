//! Sentinel: what `SENTINEL MASTERS`, `SENTINEL REPLICAS` and `SENTINEL
//! SENTINELS` say, and which pod is the primary Sentinel names.

use crate::kube::pods::{self, PodInfo};
use crate::wire::reply::Reply;
use serde::Serialize;
use std::collections::BTreeMap;

/// One monitored master set, as one Sentinel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Master {
    /// The master set's name (`mymaster`).
    pub name: String,
    /// The primary's address as Sentinel knows it.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `master`, `s_down`, `o_down`, `failover_in_progress`...
    pub flags: Vec<String>,
    /// Replicas Sentinel knows.
    pub replicas: u32,
    /// Sentinels watching it, this one included.
    pub sentinels: u32,
    /// Sentinels that must agree it is down.
    pub quorum: u32,
    /// `failover-state` when a failover runs.
    pub failover_state: Option<String>,
}

/// One replica or Sentinel listed by `SENTINEL REPLICAS|SENTINELS`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Peer {
    /// Address.
    pub ip: String,
    /// Port.
    pub port: u16,
    /// Its flags (`slave`, `s_down`, `disconnected`...).
    pub flags: Vec<String>,
}

/// What `status` shows of Sentinel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct View {
    /// The pod whose Sentinel answered.
    pub asked: String,
    /// The master set.
    pub master: Master,
    /// The pod serving that primary, when one matches.
    pub primary_pod: Option<String>,
    /// Its replicas.
    pub replicas: Vec<Peer>,
    /// The other Sentinels.
    pub sentinels: Vec<Peer>,
}

impl Master {
    /// A failover is running.
    pub fn failing_over(&self) -> bool {
        self.flags.iter().any(|f| f.starts_with("failover"))
            || self
                .failover_state
                .as_deref()
                .is_some_and(|s| !s.is_empty() && s != "none")
    }

    /// Sentinel thinks the primary is down (subjectively or by quorum).
    pub fn down(&self) -> bool {
        self.flags.iter().any(|f| f == "s_down" || f == "o_down")
    }
}

/// A RESP2 array of alternating names and values (or a RESP3 map read as
/// such) as a map.
fn fields(r: &Reply) -> BTreeMap<String, String> {
    let Reply::Array(items) = r else {
        return BTreeMap::new();
    };
    let text = |r: &Reply| match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Text(t) => t.clone(),
        Reply::Integer(n) => n.to_string(),
        _ => String::new(),
    };
    items
        .chunks(2)
        .filter_map(|p| match p {
            [k, v] => Some((text(k), text(v))),
            _ => None,
        })
        .collect()
}

fn flags(f: &BTreeMap<String, String>) -> Vec<String> {
    f.get("flags")
        .map(|s| {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn num<T: std::str::FromStr + Default>(f: &BTreeMap<String, String>, k: &str) -> T {
    f.get(k).and_then(|v| v.parse().ok()).unwrap_or_default()
}

/// Parses `SENTINEL MASTERS`.
pub fn masters(r: &Reply) -> Vec<Master> {
    let Reply::Array(items) = r else {
        return Vec::new();
    };
    items
        .iter()
        .map(fields)
        .filter(|f| f.contains_key("name"))
        .map(|f| Master {
            name: f.get("name").cloned().unwrap_or_default(),
            ip: f.get("ip").cloned().unwrap_or_default(),
            port: num(&f, "port"),
            flags: flags(&f),
            replicas: num(&f, "num-slaves"),
            sentinels: num::<u32>(&f, "num-other-sentinels") + 1,
            quorum: num(&f, "quorum"),
            failover_state: f.get("failover-state").cloned(),
        })
        .collect()
}

/// Parses `SENTINEL REPLICAS name` or `SENTINEL SENTINELS name`.
pub fn peers(r: &Reply) -> Vec<Peer> {
    let Reply::Array(items) = r else {
        return Vec::new();
    };
    items
        .iter()
        .map(fields)
        .filter(|f| f.contains_key("ip"))
        .map(|f| Peer {
            ip: f.get("ip").cloned().unwrap_or_default(),
            port: num(&f, "port"),
            flags: flags(&f),
        })
        .collect()
}

/// The master set these pods serve: the one whose primary is one of them,
/// else the only one Sentinel monitors.
pub fn master_of<'a>(masters: &'a [Master], pods: &[PodInfo]) -> Option<&'a Master> {
    masters
        .iter()
        .find(|m| pods::serving(pods, &m.ip, m.port).is_some())
        .or(match masters {
            [one] => Some(one),
            _ => None,
        })
}

/// Sets every Sentinel-managed pod's role from Sentinel's word: the pod
/// serving the primary is the primary, the others replicas. Returns the
/// primary's name, and whether that overrode a label that said otherwise.
pub fn apply_roles(pods: &mut [PodInfo], master: &Master) -> Option<(String, bool)> {
    let name = pods::serving(pods, &master.ip, master.port)?.name.clone();
    let mut overrode = false;
    for p in pods.iter_mut() {
        let is = p.name == name;
        if p.primary.is_some_and(|was| was != is) {
            overrode = true;
        }
        if is || pods::has_sentinel(p) || p.primary.is_some() {
            p.primary = Some(is);
        }
    }
    Some((name, overrode))
}

/// A Sentinel running on its own (in pod `asked`) watches the pods
/// serving its primary and its replicas: each is marked so (a restart of
/// it fails over), and the replicas' roles set from Sentinel's word.
/// Returns how many pods it watches.
pub fn mark_watched(pods: &mut [PodInfo], v: &View) -> usize {
    let mut watched: Vec<(String, bool)> = Vec::new();
    if let Some(p) = pods::serving(pods, &v.master.ip, v.master.port) {
        watched.push((p.name.clone(), true));
    }
    for r in &v.replicas {
        if let Some(p) = pods::serving(pods, &r.ip, r.port) {
            watched.push((p.name.clone(), false));
        }
    }
    for p in pods.iter_mut() {
        if let Some((_, primary)) = watched.iter().find(|(n, _)| *n == p.name) {
            p.sentinel_pod = Some(v.asked.clone());
            p.primary = Some(*primary);
        }
    }
    watched.len()
}

/// The Sentinel port of a pod: a port named like `sentinel`, else 26379
/// declared, else `--port N` in its command, else 26379.
pub fn sentinel_port(p: &PodInfo) -> Option<(String, u16)> {
    let c = p.containers.iter().find(|c| pods::is_sentinel(c))?;
    let port = c
        .ports
        .iter()
        .find(|(n, _)| n.as_deref().is_some_and(|n| n.contains("sentinel")))
        .or_else(|| c.ports.iter().find(|(_, p)| *p == 26379))
        .map(|(_, p)| *p)
        .or(c.argv_port)
        .unwrap_or(26379);
    Some((c.name.clone(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::pods::ContainerInfo;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    fn map(kv: &[(&str, &str)]) -> Reply {
        Reply::Array(kv.iter().flat_map(|(k, v)| [bulk(k), bulk(v)]).collect())
    }

    fn pod(name: &str, ip: &str, port: u16) -> PodInfo {
        PodInfo {
            name: name.into(),
            ip: ip.into(),
            host_ip: "192.168.1.10".into(),
            containers: vec![
                ContainerInfo {
                    name: "redis".into(),
                    ports: vec![(Some("redis".into()), port)],
                    ..ContainerInfo::default()
                },
                ContainerInfo {
                    name: "sentinel".into(),
                    ports: vec![(Some("redis-sentinel".into()), 26379)],
                    ..ContainerInfo::default()
                },
            ],
            ..PodInfo::default()
        }
    }

    #[test]
    fn masters_are_read_with_their_counts() {
        let r = Reply::Array(vec![map(&[
            ("name", "mymaster"),
            ("ip", "10.244.0.12"),
            ("port", "6379"),
            ("flags", "master"),
            ("num-slaves", "2"),
            ("num-other-sentinels", "2"),
            ("quorum", "2"),
        ])]);
        let m = masters(&r);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (
                m[0].name.as_str(),
                m[0].port,
                m[0].replicas,
                m[0].sentinels,
                m[0].quorum
            ),
            ("mymaster", 6379, 2, 3, 2)
        );
        assert!(!m[0].failing_over() && !m[0].down());
        let busy = Reply::Array(vec![map(&[
            ("name", "m"),
            ("flags", "master,o_down,failover_in_progress"),
            ("failover-state", "wait_promotion"),
        ])]);
        let b = &masters(&busy)[0];
        assert!(b.failing_over() && b.down());
    }

    #[test]
    fn the_primary_is_the_pod_sentinel_names() {
        let mut pods = vec![
            pod("node-0", "10.244.0.11", 6379),
            pod("node-1", "10.244.0.12", 6379),
            PodInfo {
                primary: Some(true),
                ..pod("node-2", "10.244.0.13", 6379)
            },
        ];
        let m = Master {
            ip: "10.244.0.12".into(),
            port: 6379,
            ..Master::default()
        };
        assert_eq!(apply_roles(&mut pods, &m), Some(("node-1".into(), true)));
        let roles: Vec<Option<bool>> = pods.iter().map(|p| p.primary).collect();
        assert_eq!(roles, vec![Some(false), Some(true), Some(false)]);
        // Unknown address: no role is set.
        let gone = Master {
            ip: "10.9.9.9".into(),
            ..m.clone()
        };
        assert_eq!(apply_roles(&mut pods, &gone), None);
    }

    #[test]
    fn host_network_pods_match_by_port_on_loopback() {
        let pods = vec![
            pod("a-0", "192.168.1.10", 6501),
            pod("b-0", "192.168.1.10", 6502),
        ];
        assert_eq!(
            pods::serving(&pods, "127.0.0.1", 6502).map(|p| p.name.as_str()),
            Some("b-0")
        );
        assert_eq!(
            pods::serving(&pods, "192.168.1.10", 6501).map(|p| p.name.as_str()),
            Some("a-0")
        );
        assert_eq!(pods::serving(&pods, "10.0.0.1", 6501), None);
        assert_eq!(sentinel_port(&pods[0]), Some(("sentinel".into(), 26379)));
    }

    /// A Sentinel on its own watches the primary and the replica it lists
    /// (marked, with their roles), not a Redis it does not name.
    #[test]
    fn a_sentinel_on_its_own_marks_what_it_watches() {
        let redis = |name: &str, ip: &str| PodInfo {
            containers: vec![ContainerInfo {
                name: "redis".into(),
                ports: vec![(Some("redis".into()), 6379)],
                ..ContainerInfo::default()
            }],
            ..pod(name, ip, 6379)
        };
        let mut pods = vec![
            redis("rfr-a", "10.244.0.11"),
            redis("rfr-b", "10.244.0.12"),
            redis("other", "10.244.0.13"),
        ];
        let v = View {
            asked: "rfs-x".into(),
            master: Master {
                ip: "10.244.0.12".into(),
                port: 6379,
                ..Master::default()
            },
            primary_pod: Some("rfr-b".into()),
            replicas: vec![Peer {
                ip: "10.244.0.11".into(),
                port: 6379,
                flags: vec!["slave".into()],
            }],
            sentinels: Vec::new(),
        };
        assert_eq!(mark_watched(&mut pods, &v), 2);
        let seen: Vec<(Option<bool>, Option<&str>)> = pods
            .iter()
            .map(|p| (p.primary, p.sentinel_pod.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Some(false), Some("rfs-x")),
                (Some(true), Some("rfs-x")),
                (None, None)
            ]
        );
        assert_eq!(
            pods::sentinel_watching(&pods[1]).as_deref(),
            Some("in pod rfs-x, watching it")
        );
        assert_eq!(pods::sentinel_watching(&pods[2]), None);
    }
}
