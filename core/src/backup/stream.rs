//! The stream method's steps: connect, authenticate, tell Valkey our
//! version, `REPLCONF capa eof`, `REPLCONF rdb-only 1`, then `SYNC` into the
//! temporary file. A refusal by the server or the cluster is exit 9, or,
//! with `--method auto`, a warning and the bgsave steps under the same lock.

use super::{
    say, Backup, Checked, ConnectError, Effect, Endpoint, Line, Method, Pending, SyncError,
    SyncReport,
};
use crate::exit::Exit;
use crate::rdb::{self, inspect};
use crate::wire::repl::{self, Framing};
use crate::wire::reply::{self, Reply};
use crate::{human, rdb::Flavor};

/// Which reply is awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    Auth,
    Replication,
    InfoServer,
    Version,
    DisklessDelay,
    Capa,
    RdbOnly,
}

fn auth_hint() -> String {
    "give the password with --password-from-secret NAME/KEY, $REDISCLI_AUTH, or a REDIS_PASSWORD env on the Redis container (and --user-name for an ACL user)".into()
}

fn needs_password(e: &str) -> bool {
    e.starts_with("NOAUTH") || e.starts_with("WRONGPASS")
}

/// A reply's text (a status line or a bulk string).
pub(super) fn text(r: &Reply) -> String {
    match r {
        Reply::Text(t) => t.clone(),
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

const AGAIN: &str = "nothing was saved; run the backup again";

impl Backup {
    /// `pod october/redis-0:6379` or `redis://127.0.0.1:6390`.
    fn origin(&self) -> String {
        match (&self.plan.url, &self.target) {
            (Some(u), _) => format!("redis://{}:{}", u.host, u.port),
            (None, Some(t)) => format!("pod {}/{}:{}", self.plan.namespace, t.pod, t.port),
            (None, None) => "Redis".into(),
        }
    }

    pub(super) fn connect(&mut self, now: u64, to: Endpoint, out: &mut Vec<Effect>) {
        self.sync_started_ms = now;
        let id = self.id();
        self.pending = Pending::Connect(id);
        out.push(Effect::Connect { id, to });
    }

    pub(super) fn on_connected(&mut self, r: Result<(), ConnectError>, out: &mut Vec<Effect>) {
        let pod = self
            .target
            .as_ref()
            .map(|t| t.pod.clone())
            .unwrap_or_default();
        match (r, &self.plan.url) {
            (Ok(()), _) => {
                self.connected = true;
                if self.plan.check_only {
                    say(
                        out,
                        Line::Step(format!(
                            "streaming a snapshot (SYNC) from {} to check it; nothing is saved",
                            self.origin()
                        )),
                    );
                    self.authenticate(out);
                } else if self.temp.is_some() {
                    // Another pod after an unfit replica: the same file.
                    self.stream_temp_created(out);
                } else {
                    self.create_temp(out);
                }
            }
            (Err(ConnectError::Tls(m)), _) => self.fail(out, Exit::Invalid, m, None),
            (Err(e), Some(u)) => {
                let e = match e {
                    ConnectError::Forbidden(m) | ConnectError::Failed(m) | ConnectError::Tls(m) => {
                        m
                    }
                };
                let (host, port) = (u.host.clone(), u.port);
                self.fail(
                    out,
                    Exit::Error,
                    format!("cannot connect to {host}:{port}: {e}"),
                    Some(
                        "check the address; for a pod, use `kubectl port-forward` or drop --url"
                            .into(),
                    ),
                )
            }
            (Err(ConnectError::Forbidden(m)), None) => self.forward_forbidden(&pod, &m, out),
            (Err(ConnectError::Failed(m)), None) => self.refused(
                format!("port-forward to {pod} failed: {m}"),
                "check the pod's port with --redis-port".into(),
                out,
            ),
        }
    }

    /// After the temporary file exists (or at once when only checking).
    pub(super) fn stream_temp_created(&mut self, out: &mut Vec<Effect>) {
        say(
            out,
            Line::Step(format!(
                "streaming a snapshot (SYNC) from {} -> {}",
                self.origin(),
                self.dest_path()
            )),
        );
        self.authenticate(out);
    }

    fn authenticate(&mut self, out: &mut Vec<Effect>) {
        if self.has_password {
            let user = self.plan.credentials.user.clone();
            say(
                out,
                Line::Detail(format!(
                    "AUTH{} with the password from {}",
                    user.as_deref()
                        .map(|u| format!(" as {u}"))
                        .unwrap_or_default(),
                    self.plan
                        .credentials
                        .password_from
                        .as_deref()
                        .unwrap_or("the container's REDIS_PASSWORD")
                )),
            );
            let id = self.id();
            self.pending = Pending::Reply(id, Ask::Auth);
            out.push(Effect::Auth { id, user });
        } else {
            self.after_auth(out);
        }
    }

    /// A replica target is checked first; then the server's version.
    fn after_auth(&mut self, out: &mut Vec<Effect>) {
        if self.check_replica {
            self.send(Ask::Replication, &["INFO", "replication"], out);
        } else {
            self.send(Ask::InfoServer, &["INFO", "server"], out);
        }
    }

    pub(super) fn send(&mut self, ask: Ask, args: &[&str], out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Reply(id, ask);
        out.push(Effect::Send {
            id,
            args: args.iter().map(|s| s.to_string()).collect(),
        });
    }

    pub(super) fn on_reply(&mut self, ask: Ask, r: Result<Reply, String>, out: &mut Vec<Effect>) {
        let reply = match r {
            Ok(r) => r,
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Error,
                    e,
                    Some(
                        "check --redis-port (or the port in --url) and that this is a Redis server; nothing was saved"
                            .into(),
                    ),
                )
            }
        };
        let error = match &reply {
            Reply::Error(e) => Some(e.clone()),
            _ => None,
        };
        match (ask, error) {
            (Ask::Auth, None) => self.after_auth(out),
            (Ask::Replication, Some(e)) if needs_password(&e) => self.fail(
                out,
                Exit::Invalid,
                format!("Redis needs a password: {e}"),
                Some(auth_hint()),
            ),
            (Ask::Replication, e) => {
                let info = match e {
                    None => Ok(text(&reply)),
                    Some(e) => Err(e),
                };
                match self.replica_checked(info, out) {
                    Checked::Fit => self.send(Ask::InfoServer, &["INFO", "server"], out),
                    Checked::Switched => {
                        // Another pod: a new connection, the same temporary file.
                        self.disconnect(out);
                        let t = self.target_or_default();
                        self.connect(self.sync_started_ms, Endpoint::Pod(t), out);
                    }
                    Checked::Waiting | Checked::Failed => {}
                }
            }
            // The server's words, which never contain the password.
            (Ask::Auth, Some(e)) => self.fail(
                out,
                Exit::Invalid,
                format!("Redis refused the credentials: {e}"),
                Some(auth_hint()),
            ),
            (Ask::InfoServer, None) => {
                let info = text(&reply);
                let server = rdb::Server::from_info(&reply::info_fields(&info));
                if let Some(server) = server {
                    let (a, b, c) = server.version;
                    say(
                        out,
                        Line::Detail(format!("{:?} {a}.{b}.{c}", server.flavor)),
                    );
                    // Valkey sends its own format only to a replica that
                    // announces its version.
                    if server.flavor == Flavor::Valkey {
                        let v = format!("{a}.{b}.{c}");
                        return self.send(Ask::Version, &["REPLCONF", "version", &v], out);
                    }
                }
                self.ask_delay(out)
            }
            (Ask::InfoServer, Some(e)) if needs_password(&e) => self.fail(
                out,
                Exit::Invalid,
                format!("Redis needs a password: {e}"),
                Some(auth_hint()),
            ),
            // INFO renamed or refused: the version is only informative.
            (Ask::InfoServer | Ask::Version, _) => self.ask_delay(out),
            (Ask::DisklessDelay, e) => {
                // CONFIG renamed or not allowed: ask as before, diskless.
                let c = if e.is_none() {
                    reply.config_map()
                } else {
                    Default::default()
                };
                let diskless = c.get("repl-diskless-sync").map(String::as_str) == Some("yes");
                let delay = c
                    .get("repl-diskless-sync-delay")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                // With max-replicas 1 the server starts as soon as we wait.
                let at_once =
                    c.get("repl-diskless-sync-max-replicas").map(String::as_str) == Some("1");
                if diskless && delay > 0 && !at_once && !self.plan.diskless {
                    say(
                        out,
                        Line::Detail(format!(
                            "the server delays diskless snapshots by {delay}s (repl-diskless-sync-delay); asking for one written to its disk first, which starts at once (--diskless waits instead)"
                        )),
                    );
                    self.send(Ask::RdbOnly, &["REPLCONF", "rdb-only", "1"], out)
                } else {
                    self.send(Ask::Capa, &["REPLCONF", "capa", "eof"], out)
                }
            }
            (Ask::Capa, None) => self.send(Ask::RdbOnly, &["REPLCONF", "rdb-only", "1"], out),
            (Ask::Capa, Some(e)) if needs_password(&e) => self.fail(
                out,
                Exit::Invalid,
                format!("Redis needs a password: {e}"),
                Some(auth_hint()),
            ),
            (Ask::Capa, Some(e)) => self.refused(
                format!("Redis refused REPLCONF capa eof: {e}"),
                "replication commands are blocked here; use --method bgsave".into(),
                out,
            ),
            // Before 7.0 rdb-only is unknown; the snapshot comes anyway.
            (Ask::RdbOnly, _) => {
                let id = self.id();
                self.pending = Pending::Sync(id);
                out.push(Effect::Sync {
                    id,
                    local_path: self.temp.clone(),
                    label: if self.plan.check_only {
                        self.origin()
                    } else {
                        self.dest_path()
                    },
                    timeout_ms: self.plan.timeout_ms,
                });
            }
        }
    }

    /// How long the server waits before a diskless snapshot decides how we
    /// ask for one: a replica that does not announce `capa eof` gets a
    /// snapshot written to the server's disk first, started at once.
    fn ask_delay(&mut self, out: &mut Vec<Effect>) {
        self.send(
            Ask::DisklessDelay,
            &["CONFIG", "GET", "repl-diskless-sync*"],
            out,
        )
    }

    pub(super) fn on_synced(
        &mut self,
        now: u64,
        r: Result<SyncReport, SyncError>,
        out: &mut Vec<Effect>,
    ) {
        self.disconnect(out);
        self.sync_ms = now.saturating_sub(self.sync_started_ms);
        let r = match r {
            Ok(r) => r,
            Err(SyncError::Timeout) => {
                return self.fail(
                    out,
                    Exit::BgsaveTimeout,
                    format!(
                        "Redis did not start sending the snapshot within {}",
                        human::millis(self.plan.timeout_ms)
                    ),
                    Some("raise --timeout for a large dataset; nothing was saved".into()),
                )
            }
            Err(SyncError::Io(e)) => {
                return self.fail(
                    out,
                    Exit::Error,
                    e,
                    Some("check the connection and run the backup again; nothing was saved".into()),
                )
            }
            Err(SyncError::Stream(repl::Error::Refused(m))) => {
                let hint = if m.starts_with("NOAUTH") {
                    format!("{}; or use --method bgsave", auth_hint())
                } else if m.starts_with("NOPERM") {
                    "the ACL user lacks +sync; or use --method bgsave".into()
                } else {
                    "SYNC is renamed or blocked on this server; use --method bgsave".into()
                };
                return self.refused(format!("Redis refused SYNC: {m}"), hint, out);
            }
            Err(SyncError::Stream(repl::Error::Rdb(e))) => {
                return self.fail(
                    out,
                    Exit::Corrupt,
                    format!("the snapshot is corrupt: {e}"),
                    Some(AGAIN.into()),
                )
            }
            Err(SyncError::Stream(e)) => {
                return self.fail(out, Exit::Error, e.to_string(), Some(AGAIN.into()))
            }
        };
        say(
            out,
            Line::Detail(format!(
                "{} ({}), verified: {} keys in {} database(s), {}",
                human::bytes(r.bytes),
                match r.framing {
                    Framing::Diskless => "diskless: nothing written on the server",
                    Framing::Disk(_) => "the server wrote it to its disk first",
                },
                r.summary.keys(),
                r.summary.dbs.len(),
                inspect::checksum_text(&r.summary.checksum)
            )),
        );
        self.bytes = r.bytes;
        self.header = Some(r.summary.header);
        self.framing = Some(r.framing);
        self.checked = Some((r.summary, r.sha256));
        if self.plan.check_only {
            let report = self.report(now);
            say(out, Line::Step("OK".to_string()));
            self.end(
                out,
                super::Finish {
                    exit: Exit::Ok,
                    report: Some(report),
                    error: None,
                },
            );
        } else {
            self.commit(out);
        }
    }

    /// RBAC does not allow a port-forward to `pod`.
    pub(super) fn forward_forbidden(&mut self, pod: &str, m: &str, out: &mut Vec<Effect>) {
        let ns = self.plan.namespace.clone();
        self.refused(
            format!("port-forward to {pod} is not allowed: {m}"),
            format!(
                "it needs create on pods/portforward (get before Kubernetes 1.31): `kubectl auth can-i get pods/portforward -n {ns}`; `kubectl redis status` shows every permission"
            ),
            out,
        )
    }

    /// The server or the cluster does not allow streaming: exit 9, or with
    /// auto (and a pod to fall back on) a warning and bgsave.
    pub(super) fn refused(&mut self, message: String, hint: String, out: &mut Vec<Effect>) {
        if self.plan.method == Method::Auto && self.plan.url.is_none() {
            say(
                out,
                Line::Warn(format!(
                    "stream backup not possible ({message}); using --method bgsave"
                )),
            );
            say(out, Line::Detail(format!("({hint})")));
            self.disconnect(out);
            self.method = Method::Bgsave;
            match self.temp.clone() {
                // Discarded, then bgsave (see the Discarded arm).
                Some(path) => {
                    let id = self.id();
                    self.pending = Pending::Discard(id);
                    out.push(Effect::Discard { id, path });
                }
                None => self.start_bgsave(out),
            }
        } else {
            self.fail(out, Exit::SyncRefused, message, Some(hint));
        }
    }
}
