//! The live restore: its steps (the connection, the server's checks, a
//! Redis Cluster's slot map and pods, `FLUSHALL` or SCAN + UNLINK, the load,
//! `WAIT` for replicas) here, its data plane in [`plane`] (re-exported).

mod plane;
pub use plane::*;

use super::{
    first_line, replica_refusal, say, Effect, Loaded, Method, Restore, Step, CLUSTER_SWAP,
};
use crate::backup::{ConnectError, Line};
use crate::exit::Exit;
use crate::human;
use crate::kube::lock;
use crate::kube::pods::{self, PodInfo};
use crate::rdb::Server;
use crate::topo::cluster::SlotMap;
use crate::wire::reply::{self, Reply};

impl Restore {
    pub(super) fn on_connected(
        &mut self,
        r: Result<Option<String>, ConnectError>,
        out: &mut Vec<Effect>,
    ) {
        match r {
            Ok(how) => {
                self.connected = true;
                if let Some(h) = how {
                    say(out, Line::Detail(h));
                }
                self.redis(Step::LiveInfo, &["INFO"], out);
            }
            Err(ConnectError::Tls(m)) => self.fail(
                out,
                Exit::Invalid,
                format!("{m}; nothing was changed"),
                None,
            ),
            Err(e) if self.plan.method == Method::Auto && self.plan.url.is_none() => {
                let why = match e {
                    ConnectError::Forbidden(m) | ConnectError::Failed(m) | ConnectError::Tls(m) => {
                        m
                    }
                };
                self.report.method_reason =
                    Some(format!("no connection for a live restore ({why})"));
                say(
                    out,
                    Line::Step(format!(
                        "auto: swap (no connection for a live restore: {why})"
                    )),
                );
                self.live = false;
                self.redis(Step::InfoServer, &["INFO"], out);
            }
            Err(ConnectError::Forbidden(m)) => self.fail(
                out,
                Exit::Error,
                format!("cannot port-forward to Redis: {m}; nothing was changed"),
                Some(format!(
                    "a live restore needs `create pods/portforward` in namespace {}; or use --url",
                    self.plan.namespace
                )),
            ),
            Err(ConnectError::Failed(m)) => {
                let exit = if m.contains("NOAUTH") || m.contains("WRONGPASS") {
                    Exit::Invalid
                } else {
                    Exit::Error
                };
                self.fail(
                    out,
                    exit,
                    format!("cannot connect to Redis: {m}; nothing was changed"),
                    Some("check the address and port; give the password in $REDISCLI_AUTH or --password-from-secret".into()),
                )
            }
        }
    }

    pub(super) fn on_live_info(&mut self, r: Result<Reply, String>, out: &mut Vec<Effect>) {
        let text = match r {
            Ok(Reply::Bulk(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Reply::Text(t)) => t,
            Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!("Redis wants a password: {e}; nothing was changed"),
                    Some(
                        "give it in $REDISCLI_AUTH or with --password-from-secret NAME/KEY".into(),
                    ),
                )
            }
            Ok(Reply::Error(e)) => {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("INFO refused: {e}; nothing was changed"),
                    Some("the restore needs INFO to know the server".into()),
                )
            }
            Ok(other) => format!("{other:?}"),
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("the connection to Redis failed: {e}; nothing was changed"),
                    None,
                )
            }
        };
        let fields = reply::info_fields(&text);
        let Some(server) = Server::from_info(&fields) else {
            return self.fail(
                out,
                Exit::Error,
                "cannot tell the server's version from INFO".into(),
                None,
            );
        };
        let get = |k: &str| fields.get(k).map(|v| v.trim().to_string());
        if let Some(e) = replica_refusal(&fields, &self.report.pod) {
            return self.fail(
                out,
                Exit::Invalid,
                e,
                Some("restore into the primary; its replicas follow".into()),
            );
        }
        if get("cluster_enabled").as_deref() == Some("1") {
            let other: Vec<String> = self
                .counts
                .iter()
                .flatten()
                .filter(|(db, c)| **db != 0 && c.keys > 0)
                .map(|(db, c)| format!("db{db} ({} keys)", c.keys))
                .collect();
            if !other.is_empty() {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!(
                        "the server runs in cluster mode, which has only database 0, and the backup has keys in {}; nothing was changed",
                        other.join(", ")
                    ),
                    Some("restore this backup into a standalone server".into()),
                );
            }
            if self.plan.method == Method::Swap {
                return self.fail(
                    out,
                    Exit::Invalid,
                    CLUSTER_SWAP.into(),
                    Some("use --method live (or auto): each key goes to the primary that owns its slot".into()),
                );
            }
            self.cluster = true;
        }
        let older = self.header.map(|h| server.can_load(&h));
        self.caps = Some(Caps {
            server: server.clone(),
        });
        self.server = Some(server);
        self.replicas = get("connected_slaves")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0);
        if self.cluster {
            // Replicas are per shard; WAIT on one node would say nothing.
            self.replicas = 0;
        }
        if self.plan.method == Method::Auto && self.plan.url.is_none() {
            if self.cluster {
                return self.choose_live(
                    "the server runs in cluster mode: each key goes to the primary owning its slot"
                        .into(),
                    out,
                );
            }
            if let Some(Err(e)) = older {
                return self.choose_live(e, out);
            }
            if let Some(w) = self.pod_before.as_ref().and_then(pods::sentinel_watching) {
                return self.choose_live(
                    format!("Sentinel runs {w}: a restart would make Sentinel fail over and the resync erase the restore"),
                    out,
                );
            }
            let replicas = self.replicas;
            if replicas > 0 {
                return self.choose_live(
                    format!("{replicas} replica(s) attached: a restart would make them resync from a primary that is not serving"),
                    out,
                );
            }
            // A swap is possible if exec and the tools are there.
            self.live = false;
            let target = self.target();
            let mut tools = self.tools();
            tools.push("mkdir".into());
            return self.ask(Step::Probe, |id| Effect::Probe { id, target, tools }, out);
        }
        self.redis(
            Step::LiveConfig,
            &["CONFIG", "GET", "proto-max-bulk-len"],
            out,
        );
    }

    pub(super) fn choose_live(&mut self, why: String, out: &mut Vec<Effect>) {
        say(out, Line::Step(format!("auto: live restore ({why})")));
        self.report.method_reason = Some(why);
        if !self.connected {
            return self.fail(
                out,
                Exit::Error,
                "a live restore needs a connection, and none is open".into(),
                None,
            );
        }
        self.live = true;
        self.redis(
            Step::LiveConfig,
            &["CONFIG", "GET", "proto-max-bulk-len"],
            out,
        );
    }

    /// The biggest value sent as one payload.
    pub(super) fn payload_limit(&self) -> u64 {
        let proto = self.proto_max_bulk.unwrap_or(512 << 20);
        self.plan
            .big_value_bytes
            .min(proto.saturating_sub(64))
            .max(64)
    }

    pub(super) fn live_route(&mut self, out: &mut Vec<Effect>) {
        let (Some(caps), Some(f), Some(h)) = (self.caps.clone(), self.file.as_ref(), self.header)
        else {
            return self.fail(
                out,
                Exit::Error,
                "internal error: no server or file".into(),
                None,
            );
        };
        let max_string = self.proto_max_bulk.unwrap_or(512 << 20);
        match check(&f.survey, h.flavor, &caps, self.payload_limit(), max_string) {
            Ok(notes) => {
                for n in notes {
                    say(out, Line::Detail(n));
                }
            }
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!("{e}; nothing was changed"),
                    Some("restore into a server that knows these types (the same version as the source, or newer)".into()),
                )
            }
        }
        if self.plan.url.is_some() {
            return self.next_writer(0, out);
        }
        if self.cluster {
            // One Lease for the whole cluster, whichever node was named: it
            // needs the nodes, then the pods serving them.
            return self.redis(Step::ClusterNodes, &["CLUSTER", "SHARDS"], out);
        }
        self.get_lease(out);
    }

    /// `CLUSTER SHARDS` (or, before 7.0, `CLUSTER SLOTS`) answered: list the
    /// namespace's pods to find the cluster's Lease. A map that cannot be
    /// read leaves the named pod's Lease, with a warning.
    pub(super) fn on_cluster_nodes(
        &mut self,
        shards: bool,
        r: Result<Reply, String>,
        out: &mut Vec<Effect>,
    ) {
        let map = match r {
            Ok(Reply::Error(_)) if shards => {
                return self.redis(Step::ClusterSlots, &["CLUSTER", "SLOTS"], out)
            }
            Ok(reply) if shards => SlotMap::from_shards(&reply),
            Ok(reply) => SlotMap::from_slots(&reply),
            Err(e) => Err(e),
        };
        match map {
            Ok(mut m) => {
                if let Some(p) = &self.pod_before {
                    m.resolve_unknown(&p.ip);
                }
                self.cluster_map = Some(m);
                let namespace = self.plan.namespace.clone();
                self.ask(
                    Step::ClusterPods,
                    |id| Effect::ListPods {
                        id,
                        namespace,
                        selector: String::new(),
                        name: None,
                    },
                    out,
                );
            }
            Err(e) => {
                say(
                    out,
                    Line::Warn(format!(
                        "cannot read the cluster's nodes ({e}): locking with {} only",
                        self.lease
                    )),
                );
                self.get_lease(out);
            }
        }
    }

    pub(super) fn on_cluster_pods(
        &mut self,
        r: Result<Vec<PodInfo>, String>,
        out: &mut Vec<Effect>,
    ) {
        let name = match (&r, self.cluster_map.take()) {
            (Ok(pods), Some(m)) => lock::cluster_lease_name(&m, pods),
            _ => None,
        };
        match (name, r) {
            (Some(n), _) => {
                if n != self.lease {
                    say(
                        out,
                        Line::Detail(format!(
                            "lock: Lease {n}, the cluster's (one for all its nodes)"
                        )),
                    );
                    self.lease = n;
                }
            }
            (None, Err(e)) => say(
                out,
                Line::Warn(format!(
                    "cannot list the pods serving the cluster ({e}): locking with {} only",
                    self.lease
                )),
            ),
            (None, Ok(_)) => {}
        }
        self.get_lease(out);
    }

    pub(super) fn flush(&mut self, out: &mut Vec<Effect>) {
        self.report.changed = true;
        if self.plan.merge {
            return self.load(out);
        }
        if self.cluster {
            // The load flushes every primary it finds first.
            say(
                out,
                Line::Step("FLUSHALL ASYNC on every primary of the cluster, as the load starts (the backup replaces every key)".into()),
            );
            return self.load(out);
        }
        say(
            out,
            Line::Step("FLUSHALL ASYNC (the backup replaces every key)".into()),
        );
        self.redis(Step::Flush, &["FLUSHALL", "ASYNC"], out);
    }

    pub(super) fn load(&mut self, out: &mut Vec<Effect>) {
        let (Some(caps), Some(h)) = (self.caps.clone(), self.header) else {
            return self.fail(out, Exit::Error, "internal error: no server".into(), None);
        };
        say(out, Line::Step("load the backup into Redis".into()));
        let options = Options {
            caps,
            src: h.flavor,
            now_ms: self.wall(self.now).saturating_mul(1000),
            merge: self.plan.merge,
            limit: usize::try_from(self.payload_limit()).unwrap_or(usize::MAX),
            batch: 1000,
            batch_bytes: 1 << 20,
            cluster: self.cluster,
        };
        let (path, bytes) = (self.plan.file.clone(), self.report.bytes);
        let entry = match (&self.plan.url, &self.pod_before) {
            (Some(u), _) => u.host.clone(),
            (None, Some(p)) => p.ip.clone(),
            (None, None) => String::new(),
        };
        self.ask(
            Step::Load,
            |id| Effect::Load {
                id,
                path,
                bytes,
                options,
                entry,
            },
            out,
        );
    }

    pub(super) fn on_loaded(&mut self, l: Loaded, out: &mut Vec<Effect>) {
        let r = l.report.clone();
        self.report.load = Some(Box::new(l.report));
        let total = self
            .counts
            .as_ref()
            .map_or(0, |c| c.values().map(|d| d.keys).sum::<u64>());
        let got = format!(
            "{} of {total} keys restored ({} as payloads, {} as commands), {} skipped as expired",
            r.keys_restored, r.keys_by_payload, r.keys_by_commands, r.keys_expired
        );
        if l.interrupted {
            return self.fail(
                out,
                Exit::Interrupted,
                format!("interrupted during the load: {got}"),
                Some(
                    "the server holds part of the backup: run the restore again to complete it"
                        .into(),
                ),
            );
        }
        if let Some(e) = l.error {
            let hint = if e.contains("OOM") {
                "the server reached maxmemory: raise it (CONFIG SET maxmemory) or free memory, then run the restore again".to_string()
            } else {
                "the server holds part of the backup: fix the cause and run the restore again"
                    .to_string()
            };
            return self.fail(
                out,
                Exit::Error,
                format!("the load stopped: {e}; {got}"),
                Some(hint),
            );
        }
        say(
            out,
            Line::Detail(format!(
                "{got}; {} commands in {}",
                r.commands,
                human::millis(l.elapsed_ms)
            )),
        );
        if self.cluster {
            return match l.keyspace {
                Some(text) => self.keyspace_check(text, out),
                None => self.fail(
                    out,
                    Exit::VerifyFailed,
                    "the cluster's key counts could not be read after the load".into(),
                    None,
                ),
            };
        }
        if self.replicas > 0 {
            // Every write so far acknowledged by the replicas, or a deadline.
            let (n, ms) = (
                self.replicas.to_string(),
                // Well inside the shell's 60 s stall timeout for one reply.
                self.plan.restart_timeout_ms.min(30_000).to_string(),
            );
            return self.redis(Step::WaitReplicas, &["WAIT", &n, &ms], out);
        }
        self.redis(Step::Keyspace, &["INFO", "keyspace"], out);
    }

    pub(super) fn on_live_config(&mut self, r: Result<Reply, String>, out: &mut Vec<Effect>) {
        match r {
            // CONFIG may be blocked: then the default limit holds.
            Ok(rep) => {
                self.proto_max_bulk = rep
                    .config_value("proto-max-bulk-len")
                    .and_then(|v| v.parse().ok());
                self.live_route(out)
            }
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!("the connection to Redis failed: {e}; nothing was changed"),
                None,
            ),
        }
    }

    pub(super) fn on_flushed(&mut self, r: Result<Reply, String>, out: &mut Vec<Effect>) {
        match r {
            Ok(Reply::Error(e)) if e.to_ascii_lowercase().contains("unknown command") => {
                say(
                    out,
                    Line::Step("FLUSHALL is renamed away: delete keys with SCAN + UNLINK".into()),
                );
                self.ask(Step::Wipe, |id| Effect::Wipe { id }, out);
            }
            Ok(Reply::Error(e)) => self.fail(
                out,
                Exit::Error,
                format!("FLUSHALL ASYNC refused: {e}; nothing was loaded"),
                Some("use --merge to keep existing keys, or allow FLUSHALL for this user".into()),
            ),
            Ok(_) => self.load(out),
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!("FLUSHALL ASYNC failed: {e}"),
                None,
            ),
        }
    }

    pub(super) fn on_wiped(&mut self, r: Result<(), String>, out: &mut Vec<Effect>) {
        match r {
            Ok(()) => self.load(out),
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!(
                    "deleting the old keys failed: {e}; the server may hold part of its old data"
                ),
                None,
            ),
        }
    }

    pub(super) fn on_replicas_waited(&mut self, r: Result<Reply, String>, out: &mut Vec<Effect>) {
        let want = self.replicas;
        match r {
            Ok(Reply::Integer(n)) if n >= i64::from(want) => {
                say(out, Line::Detail(format!("{n} of {want} replica(s) caught up (WAIT)")));
            }
            Ok(Reply::Integer(n)) => say(
                out,
                Line::Warn(format!(
                    "only {n} of {want} replica(s) acknowledged the restore within {}; check `INFO replication` on the primary",
                    human::millis(self.plan.restart_timeout_ms.min(60_000))
                )),
            ),
            Ok(other) => say(out, Line::Warn(format!("WAIT for the replicas answered {}", first_line(&other)))),
            Err(e) => return self.fail(out, Exit::Error, format!("the connection to Redis failed: {e}"), None),
        }
        self.redis(Step::Keyspace, &["INFO", "keyspace"], out);
    }
}
