//! Which hosts may receive the password and the data when the user named a
//! server by `--url`.
//!
//! A Redis Cluster names its nodes itself (`CLUSTER SHARDS`/`SLOTS`, and
//! `MOVED`/`ASK` replies). Reached through a tunnel to one node, a cluster
//! that announces pod addresses would otherwise make the plugin dial
//! whatever answers at those addresses and send it `AUTH` and the backup.
//! So with `--url` only the URL's host is allowed, plus what the user adds
//! with `--allow-host` (a host name, an address, or a network such as
//! `10.0.0.0/8`). Pods found through Kubernetes are not subject to this:
//! their addresses come from the API server, and they are reached by
//! port-forward to a named pod.

use core::net::IpAddr;

/// The flag that adds a host.
pub const FLAG: &str = "--allow-host";

/// One allowed host: a name (compared without case) or a network.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Name(String),
    Net(IpAddr, u8),
}

/// The hosts allowed for this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    url_host: String,
    entries: Vec<Entry>,
}

fn bare(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn entry(s: &str) -> Result<Entry, String> {
    let s = bare(s.trim());
    if s.is_empty() {
        return Err(format!(
            "{FLAG} takes a host, an address or a network, got ''"
        ));
    }
    if let Some((addr, len)) = s.split_once('/') {
        let ip: IpAddr = bare(addr).parse().map_err(|_| {
            format!("{FLAG} {s}: '{addr}' before the / is not an IP address (a network is ADDRESS/LENGTH, as 10.0.0.0/8)")
        })?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("{FLAG} {s}: the prefix length must be 0 to {max}"))?;
        return Ok(Entry::Net(ip, len));
    }
    if s.contains(char::is_whitespace) || s.contains(['/', '@', '?', '#']) || s.contains("://") {
        return Err(format!(
            "{FLAG} '{s}' is not a host: give a name or an address without a scheme or port (as 10.0.0.5, redis-0.redis or 10.0.0.0/8)"
        ));
    }
    match s.parse::<IpAddr>() {
        Ok(ip) => Ok(Entry::Net(ip, if ip.is_ipv4() { 32 } else { 128 })),
        Err(_) if s.contains(':') => Err(format!(
            "{FLAG} '{s}': give the host without a port (every port of an allowed host is allowed)"
        )),
        Err(_) => Ok(Entry::Name(s.to_ascii_lowercase())),
    }
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(_)) => match a.to_ipv4_mapped() {
            Some(v4) => return in_net(IpAddr::V4(v4), net, len),
            None => return false,
        },
        (IpAddr::V4(a), IpAddr::V6(_)) => return in_net(IpAddr::V6(a.to_ipv6_mapped()), net, len),
    };
    if len == 0 {
        return true;
    }
    let shift = bits - u32::from(len);
    (a >> shift) == (b >> shift)
}

impl Allowed {
    /// The URL's host, and the `--allow-host` values.
    pub fn new(url_host: &str, extra: &[String]) -> Result<Allowed, String> {
        let mut entries = vec![entry(url_host)?];
        for e in extra {
            entries.push(entry(e)?);
        }
        Ok(Allowed {
            url_host: bare(url_host).to_string(),
            entries,
        })
    }

    /// Whether `host` (a name or an address, as a server announced it) may
    /// be connected to.
    pub fn allows(&self, host: &str) -> bool {
        let host = bare(host.trim());
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|e| match (e, ip) {
            (Entry::Net(net, len), Some(ip)) => in_net(ip, *net, *len),
            (Entry::Name(n), None) => n.eq_ignore_ascii_case(host),
            _ => false,
        })
    }

    /// `Ok` when `host` is allowed, else the refusal naming it and the flag.
    pub fn check(&self, host: &str, port: u16, why: &str) -> Result<(), String> {
        if self.allows(host) {
            return Ok(());
        }
        let shown = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Err(format!(
            "{why} names {shown}, a host --url did not name: the password and the data go only to {} and the hosts given with {FLAG}; nothing was sent there. If {shown} is truly this server's node, add {FLAG} {host} (or its network, as {FLAG} 10.0.0.0/8)",
            self.url_host
        ))
    }

    /// Every address in `nodes` not allowed, each refused once, as
    /// `check` words it; `Ok` when all are allowed.
    pub fn check_all<'a>(
        &self,
        nodes: impl IntoIterator<Item = (&'a str, u16)>,
        why: &str,
    ) -> Result<(), String> {
        let mut refused: Vec<String> = Vec::new();
        for (h, p) in nodes {
            if !self.allows(h) {
                let a = if h.contains(':') {
                    format!("[{h}]:{p}")
                } else {
                    format!("{h}:{p}")
                };
                if !refused.contains(&a) {
                    refused.push(a);
                }
            }
        }
        match refused.as_slice() {
            [] => Ok(()),
            [one] => {
                let (h, p) = one
                    .rsplit_once(':')
                    .map(|(h, p)| (bare(h).to_string(), p.parse().unwrap_or(0)))
                    .unwrap_or_default();
                self.check(&h, p, why)
            }
            many => Err(format!(
                "{why} names {}, hosts --url did not name: the password and the data go only to {} and the hosts given with {FLAG}; nothing was sent there. If these are truly this server's nodes, add {FLAG} for each (or their network, as {FLAG} 10.0.0.0/8)",
                many.join(", "),
                self.url_host
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(extra: &[&str]) -> Allowed {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        match Allowed::new("127.0.0.1", &extra) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn only_the_url_host_by_default() {
        let a = allowed(&[]);
        assert!(a.allows("127.0.0.1"));
        assert!(!a.allows("10.244.0.7"));
        assert!(!a.allows("localhost"));
        assert!(!a.allows("127.0.0.2"));
        let e = a
            .check("10.244.0.7", 6379, "the cluster's slot map")
            .unwrap_err();
        assert!(e.contains("10.244.0.7:6379"), "{e}");
        assert!(e.contains("--allow-host 10.244.0.7"), "{e}");
        assert!(e.contains("nothing was sent"), "{e}");
    }

    #[test]
    fn names_addresses_and_networks() {
        let a = allowed(&["Redis-0.Redis", "10.0.0.0/8", "fd00::/8", "192.168.1.4"]);
        assert!(a.allows("redis-0.redis"));
        assert!(!a.allows("redis-1.redis"));
        assert!(a.allows("10.255.1.2"));
        assert!(!a.allows("11.0.0.1"));
        assert!(a.allows("[fd00::5]"));
        assert!(a.allows("fd12:3456::1"));
        assert!(!a.allows("fe80::1"));
        assert!(a.allows("192.168.1.4"));
        assert!(!a.allows("192.168.1.5"));
        assert!(
            a.allows("::ffff:10.1.2.3"),
            "a mapped IPv4 address is in the v4 network"
        );
        // A name is never taken for an address that looks like it.
        assert!(!a.allows("10.0.0.1.example.com"));
    }

    #[test]
    fn all_at_once_names_each_refused_node() {
        let a = allowed(&[]);
        assert!(a
            .check_all([("127.0.0.1", 7000), ("127.0.0.1", 7001)], "x")
            .is_ok());
        let e = a
            .check_all(
                [
                    ("127.0.0.1", 7000),
                    ("10.0.0.2", 6379),
                    ("10.0.0.3", 6379),
                    ("10.0.0.2", 6379),
                ],
                "the slot map",
            )
            .unwrap_err();
        assert!(e.contains("10.0.0.2:6379, 10.0.0.3:6379"), "{e}");
        assert_eq!(e.matches("10.0.0.2").count(), 1, "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "",
            "redis://h",
            "h:6379/0",
            "h:6379",
            "10.0.0.0/33",
            "x/8",
            "a b",
            "u@h",
        ] {
            assert!(Allowed::new("h", &[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
