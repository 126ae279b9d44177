//! TLS to Redis as the pod configures it: what a container's command line
//! and environment say about TLS (the Bitnami chart's `REDIS_TLS_*`
//! variables, `--tls-port` and the certificate options of `redis-server`,
//! a port named `tls`), whether the port the plugin connects to speaks TLS
//! and why, the names a server certificate may carry for a pod, the
//! arguments `redis-cli` needs inside the pod, and when a certificate's
//! expiry is worth a warning.
//!
//! Only names, ports and file paths are kept: never a key, and never the
//! command line itself (it may hold a password).

use serde::Serialize;

/// Days before its expiry at which a certificate is a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// What one container's spec says about TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsSpec {
    /// The TLS port: `--tls-port N` in the command line, else
    /// `REDIS_TLS_PORT` / `REDIS_TLS_PORT_NUMBER`.
    pub port: Option<u16>,
    /// `REDIS_TLS_ENABLED` is `yes`/`true`/`1` (the Bitnami chart).
    pub enabled: bool,
    /// The plain port is off: `--port 0`, or the Bitnami chart's TLS (its
    /// start script passes `--port 0` when `REDIS_TLS_ENABLED` is set).
    pub plain_off: bool,
    /// The server's certificate file (`--tls-cert-file`,
    /// `REDIS_TLS_CERT_FILE`): redis-cli in the pod presents it as its own
    /// client certificate when clients must have one.
    pub cert_file: Option<String>,
    /// Its key (`--tls-key-file`, `REDIS_TLS_KEY_FILE`).
    pub key_file: Option<String>,
    /// The CA clients are checked against (`--tls-ca-cert-file`,
    /// `REDIS_TLS_CA_FILE`).
    pub ca_file: Option<String>,
    /// Whether clients must present a certificate (`--tls-auth-clients`,
    /// `REDIS_TLS_AUTH_CLIENTS`): `None` when unsaid (Redis' default is
    /// yes).
    pub auth_clients: Option<bool>,
    /// The name of a declared port called `tls`, `redis-tls` or
    /// `tcp-redis-tls`, with its number.
    pub named_port: Option<(String, u16)>,
    /// Where the TLS port was learned, in words (empty: nowhere).
    pub port_source: String,
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "1" | "on"
    )
}

/// `$VAR` or `${VAR}` replaced by its literal value in `env`; other words
/// as they are.
fn resolve<'a>(word: &'a str, env: &'a [(String, String)]) -> Option<&'a str> {
    let name = word
        .strip_prefix("${")
        .and_then(|w| w.strip_suffix('}'))
        .or_else(|| word.strip_prefix('$'));
    match name {
        Some(n) => env.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()),
        None => Some(word),
    }
}

impl TlsSpec {
    /// From a container's command and args (`argv`, also inside `sh -c
    /// "..."`), its literal environment (`env`: values from Secrets and
    /// ConfigMaps are not there) and its declared ports.
    pub fn from_container(
        argv: &[String],
        env: &[(String, String)],
        ports: &[(Option<String>, u16)],
    ) -> TlsSpec {
        // The Bitnami chart's Sentinel container says the same with
        // REDIS_SENTINEL_TLS_*.
        let var = |n: &str| {
            let sentinel = n.replacen("REDIS_TLS_", "REDIS_SENTINEL_TLS_", 1);
            env.iter()
                .find(|(k, _)| k == n)
                .or_else(|| env.iter().find(|(k, _)| *k == sentinel))
                .map(|(_, v)| v.as_str())
        };
        let words: Vec<&str> = argv
            .iter()
            .flat_map(|a| a.split_whitespace())
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .collect();
        let opt = |name: &str| -> Option<&str> {
            let eq = format!("{name}=");
            words.iter().enumerate().find_map(|(i, w)| {
                let v = match w.strip_prefix(eq.as_str()) {
                    Some(v) => Some(v),
                    None if *w == name => words.get(i + 1).copied(),
                    None => None,
                }?;
                resolve(v, env)
            })
        };
        let mut s = TlsSpec {
            enabled: var("REDIS_TLS_ENABLED").is_some_and(truthy),
            ..TlsSpec::default()
        };
        let port = |v: &str| v.trim().parse::<u16>().ok().filter(|p| *p > 0);
        if let Some(p) = opt("--tls-port").and_then(port) {
            s.port = Some(p);
            s.port_source = "--tls-port in its command line".into();
        } else if let Some((n, p)) = [
            "REDIS_TLS_PORT",
            "REDIS_TLS_PORT_NUMBER",
            "REDIS_SENTINEL_TLS_PORT_NUMBER",
        ]
        .iter()
        .find_map(|n| Some((*n, port(env.iter().find(|(k, _)| k == n)?.1.as_str())?)))
        {
            s.port = Some(p);
            s.port_source = format!("its {n} environment variable");
        }
        s.plain_off = opt("--port").is_some_and(|v| v.trim() == "0") || s.enabled;
        let file = |flag: &str, env_name: &str| {
            opt(flag)
                .or_else(|| var(env_name))
                .map(str::to_string)
                .filter(|f| !f.is_empty())
        };
        s.cert_file = file("--tls-cert-file", "REDIS_TLS_CERT_FILE");
        s.key_file = file("--tls-key-file", "REDIS_TLS_KEY_FILE");
        s.ca_file = file("--tls-ca-cert-file", "REDIS_TLS_CA_FILE");
        s.auth_clients = opt("--tls-auth-clients")
            .or_else(|| var("REDIS_TLS_AUTH_CLIENTS"))
            .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "no" | "optional"));
        s.named_port = ports.iter().find_map(|(n, p)| {
            let n = n.as_deref()?;
            matches!(
                n.to_ascii_lowercase().as_str(),
                "tls" | "redis-tls" | "tcp-redis-tls"
            )
            .then(|| (n.to_string(), *p))
        });
        s
    }

    /// Whether the server speaks TLS at all.
    pub fn any(&self) -> bool {
        self.enabled || self.port.is_some() || self.named_port.is_some()
    }

    /// The port to use when the container declares no better one and the
    /// plain port is off: its TLS port, and why.
    pub fn only_port(&self) -> Option<(u16, String)> {
        if !self.plain_off {
            return None;
        }
        if let Some(p) = self.port {
            return Some((
                p,
                format!("its TLS port ({}; the plain port is off)", self.port_source),
            ));
        }
        self.named_port
            .as_ref()
            .map(|(n, p)| (*p, format!("the port named {n} (the plain port is off)")))
    }

    /// Whether `port` speaks TLS, and why; `None` for a plain port.
    pub fn on(&self, port: u16) -> Option<String> {
        if self.port == Some(port) {
            return Some(format!(
                "port {port} is its TLS port ({})",
                self.port_source
            ));
        }
        if let Some((n, p)) = &self.named_port {
            if *p == port {
                return Some(format!("port {port} is named {n}"));
            }
        }
        if self.enabled && self.port.is_none() {
            // The Bitnami chart serves TLS on its one Redis port.
            return Some("its REDIS_TLS_ENABLED environment variable".into());
        }
        None
    }

    /// The arguments redis-cli needs inside the pod to reach `port` over
    /// TLS, with the certificate files the server itself uses: the CA to
    /// check the server, and the server's own pair as the client's when
    /// clients must present one (any certificate the CA signed will do;
    /// redis-cli does not check names). `None` when the CA is unknown.
    pub fn cli_args(&self) -> Vec<String> {
        let mut a = vec!["--tls".to_string()];
        match &self.ca_file {
            Some(ca) => a.extend(["--cacert".into(), ca.clone()]),
            // No CA in the spec: the server is asked without a check, from
            // inside its own pod, over its loopback.
            None => a.push("--insecure".into()),
        }
        if self.auth_clients != Some(false) {
            if let (Some(c), Some(k)) = (&self.cert_file, &self.key_file) {
                a.extend(["--cert".into(), c.clone(), "--key".into(), k.clone()]);
            }
        }
        a
    }
}

/// The names a pod's server certificate may have been issued for, most
/// specific first: its stable DNS name behind a headless Service
/// (`HOSTNAME.SUBDOMAIN.NS.svc.DOMAIN`, as StatefulSets give), each Service
/// that selects it (`SVC`, `SVC.NS`, `SVC.NS.svc`, `SVC.NS.svc.DOMAIN`),
/// its address-based name (`A-B-C-D.NS.pod.DOMAIN`), its address and its
/// name. Through a port-forward the plugin checks the certificate against
/// these, never against `localhost`.
pub fn pod_names(
    pod: &str,
    hostname: Option<&str>,
    subdomain: Option<&str>,
    namespace: &str,
    ip: &str,
    services: &[String],
    domain: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    };
    if let Some(sub) = subdomain.filter(|s| !s.is_empty()) {
        let host = hostname.filter(|h| !h.is_empty()).unwrap_or(pod);
        add(format!("{host}.{sub}.{namespace}.svc.{domain}"));
        add(format!("{host}.{sub}.{namespace}.svc"));
        add(format!("{host}.{sub}.{namespace}"));
        add(format!("{host}.{sub}"));
    }
    for s in services {
        add(format!("{s}.{namespace}.svc.{domain}"));
        add(format!("{s}.{namespace}.svc"));
        add(format!("{s}.{namespace}"));
        add(s.clone());
    }
    if !ip.is_empty() {
        add(format!(
            "{}.{namespace}.pod.{domain}",
            ip.replace(['.', ':'], "-")
        ));
        add(ip.to_string());
    }
    add(pod.to_string());
    out
}

/// Whether a Service's selector selects a pod with `labels` (an empty
/// selector selects nothing: such Services have their endpoints set by
/// hand).
pub fn selects<'a>(
    selector: impl IntoIterator<Item = (&'a str, &'a str)>,
    labels: &[(&str, &str)],
) -> bool {
    let mut any = false;
    for (k, v) in selector {
        any = true;
        if !labels.iter().any(|(lk, lv)| *lk == k && *lv == v) {
            return false;
        }
    }
    any
}

/// How close a certificate is to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// It has ended: nothing that checks it will connect.
    Expired { days_ago: i64 },
    /// Within [`EXPIRY_WARNING_DAYS`] of its end.
    Soon { days_left: i64 },
    /// Further away.
    Fine { days_left: i64 },
    /// Not valid yet (its start is in the future).
    NotYet { days_until: i64 },
}

impl Expiry {
    /// From the certificate's validity (seconds since the epoch) and now.
    pub fn of(not_before: i64, not_after: i64, now: i64) -> Expiry {
        const DAY: i64 = 86_400;
        if now < not_before {
            return Expiry::NotYet {
                days_until: (not_before - now + DAY - 1) / DAY,
            };
        }
        if now > not_after {
            return Expiry::Expired {
                days_ago: (now - not_after) / DAY,
            };
        }
        let days_left = (not_after - now) / DAY;
        if days_left < EXPIRY_WARNING_DAYS {
            Expiry::Soon { days_left }
        } else {
            Expiry::Fine { days_left }
        }
    }

    /// A warning, when it is worth one.
    pub fn warning(&self, what: &str) -> Option<String> {
        match self {
            Expiry::Expired { days_ago } => Some(format!(
                "{what} expired {days_ago} day(s) ago: clients that check it cannot connect; renew it"
            )),
            Expiry::Soon { days_left } => Some(format!(
                "{what} expires in {days_left} day(s): renew it before clients stop connecting"
            )),
            Expiry::NotYet { days_until } => Some(format!(
                "{what} is not valid for {days_until} more day(s) (is a clock wrong?)"
            )),
            Expiry::Fine { .. } => None,
        }
    }
}

/// Why a TLS connection failed, as the shell classifies its TLS library's
/// error; each has a message naming the flag that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server's certificate is signed by a CA not given.
    UnknownCa,
    /// The server's certificate has expired (or is not valid yet).
    Expired,
    /// No name the plugin checked is in the certificate: the names tried
    /// and the names it has.
    NameMismatch {
        tried: Vec<String>,
        has: Vec<String>,
    },
    /// The server asked for a client certificate and none was given.
    NoClientCert,
    /// The server refused the client certificate given.
    ClientCertRefused,
    /// The server answered in plain text: it does not speak TLS there.
    NotTls,
    /// The server closed a plain connection at once, or sent TLS: it
    /// wants TLS there.
    WantsTls,
    /// Anything else, in the library's words.
    Other(String),
}

impl Failure {
    /// The message for `server` (a `host:port` or `pod P port N`).
    pub fn message(&self, server: &str) -> String {
        match self {
            Failure::UnknownCa => format!(
                "{server}: its TLS certificate is signed by a CA this run does not trust; give the CA with --cacert FILE or --tls-from-secret NAME (the Secret's ca.crt)"
            ),
            Failure::Expired => format!(
                "{server}: its TLS certificate has expired (or is not valid yet); renew it on the server (--insecure-skip-verify skips the check, and every other)"
            ),
            Failure::NameMismatch { tried, has } => format!(
                "{server}: its TLS certificate is for {} and not for {}; name the one to check with --tls-server-name NAME",
                if has.is_empty() { "no DNS name or address".to_string() } else { has.join(", ") },
                shown(tried)
            ),
            Failure::NoClientCert => format!(
                "{server} wants a client certificate; give one with --cert FILE --key FILE or --tls-from-secret NAME (a kubernetes.io/tls Secret)"
            ),
            Failure::ClientCertRefused => format!(
                "{server} refused the client certificate given: it is not signed by a CA the server trusts; give another with --cert FILE --key FILE or --tls-from-secret NAME"
            ),
            Failure::NotTls => format!(
                "{server} answered in plain text: it does not speak TLS on this port; drop --tls (use redis:// instead of rediss://) or name its TLS port"
            ),
            Failure::WantsTls => format!(
                "{server} closed the connection before answering: a server that speaks only TLS on this port does that; add --tls (or use rediss://)"
            ),
            Failure::Other(e) => format!("{server}: TLS failed: {e}"),
        }
    }
}

fn shown(names: &[String]) -> String {
    match names {
        [] => "(no name)".into(),
        [one] => one.clone(),
        more if more.len() <= 4 => more.join(", "),
        more => format!("{} (and {} more)", more[..4].join(", "), more.len() - 4),
    }
}
