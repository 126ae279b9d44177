//! Before anything changes: the backup file checked, the pod and the
//! server found and judged (version, role, where it loads from, the tools a
//! swap runs), the Lease taken, the writers read, the plan shown and
//! confirmed, and the writers scaled to 0 with their replicas recorded.

use super::{
    first_line, replica_refusal, say, Answer, Effect, Layout, LocalFile, Method, Restore, Step,
    Undo, WriterState, CLUSTER_SWAP, REPLICAS_ANNOTATION,
};
use crate::backup::{join, CliOutput, Endpoint, Line};
use crate::exit::Exit;
use crate::human;
use crate::kube::lock::{self, lease_name, Decision, LeaseError, LeaseState, Request};
use crate::kube::pods::{self, PodInfo, Wanted};
use crate::kube::probe;
use crate::rdb::{self, Server};
use crate::wire::reply::{self, Reply};
use std::collections::BTreeMap;

impl Restore {
    pub(super) fn on_local(&mut self, r: Result<LocalFile, String>, out: &mut Vec<Effect>) {
        let path = self.plan.file.clone();
        let f = match r {
            Ok(f) => f,
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!("cannot read backup file {path}: {e}"),
                    Some("list backups with `kubectl redis list`".into()),
                )
            }
        };
        if !f.is_file {
            return self.fail(
                out,
                Exit::Invalid,
                format!("{path} is not a regular file"),
                None,
            );
        }
        if f.bytes == 0 {
            return self.fail(
                out,
                Exit::Invalid,
                format!("backup file {path} is empty; nothing was changed"),
                None,
            );
        }
        match rdb::parse_header(&f.head) {
            Ok(h) => self.header = Some(h),
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!("{path} is not a valid RDB file: {e}; nothing was changed"),
                    None,
                )
            }
        }
        match &f.verified {
            Ok(s) => {
                say(
                    out,
                    Line::Detail(format!(
                        "verified: {} keys in {} database(s), {}",
                        s.keys(),
                        s.dbs.len(),
                        crate::rdb::inspect::checksum_text(&s.checksum)
                    )),
                );
                self.counts = Some(s.dbs.clone());
            }
            Err(e) if self.plan.force_unverified => say(
                out,
                Line::Warn(format!(
                    "{path} FAILED VERIFICATION ({e}); restoring it anyway because of --force-unverified: Redis may refuse it or load only part of it"
                )),
            ),
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Corrupt,
                    format!("{path} failed verification: {e}; nothing was changed"),
                    Some("restore a backup that `kubectl redis verify` accepts (`kubectl redis list` shows them); --force-unverified restores this one anyway".into()),
                )
            }
        }
        self.prelude = rdb::scan_prelude(&f.head);
        self.report.bytes = f.bytes;
        // Before the load: what the backup holds, over the databases the
        // counts after it will cover (every one once the file verified).
        match &self.counts {
            Some(c) => {
                let expected = c.iter().map(|(db, c)| (*db, (c.keys, c.expires))).collect();
                self.count_report(&expected, None, None);
            }
            None => match self.prelude.first_db {
                Some(d) => {
                    let expected = BTreeMap::from([(d.db, (d.keys, d.expires))]);
                    self.count_report(&expected, None, Some(d.db));
                }
                None => self.report.keys_expected = self.prelude.empty.then_some(0),
            },
        }
        self.file = Some(f);
        if let Some(u) = self.plan.url.clone() {
            self.live = true;
            self.report.pod = format!("{}:{}", u.host, u.port);
            if self.plan.method == Method::Auto {
                self.report.method_reason =
                    Some("--url: only a live restore works without the pod".into());
            }
            say(out, Line::Step(format!("connect to {}:{}", u.host, u.port)));
            let to = Endpoint::Url(u);
            return self.ask(Step::Connect, |id| Effect::Connect { id, to }, out);
        }
        let what = match &self.plan.pod {
            Some(p) => format!("pod {p}"),
            None => format!("label {}", self.plan.selector),
        };
        say(
            out,
            Line::Step(format!(
                "detect redis pod in ns={} {what}...",
                self.plan.namespace
            )),
        );
        self.list_pods(Step::Pods, out);
    }

    pub(super) fn on_pods(&mut self, r: Result<Vec<PodInfo>, String>, out: &mut Vec<Effect>) {
        let q = pods::Query {
            namespace: &self.plan.namespace,
            selector: &self.plan.selector,
            wanted: Wanted {
                pod: self.plan.pod.as_deref(),
                container: self.plan.container.as_deref(),
                port: self.plan.port,
            },
        };
        match pods::choose(r, &q) {
            Ok((t, pod)) => {
                if let Some(w) = pods::port_reason(&pod, &t) {
                    say(
                        out,
                        Line::Detail(format!(
                            "{}/{} port {}: {w}",
                            self.plan.namespace, t.pod, t.port
                        )),
                    );
                }
                if let Some(tls) = pods::tls_reason(&pod, &t) {
                    say(
                        out,
                        Line::Detail(format!(
                            "{}/{} port {} speaks TLS: {tls}",
                            self.plan.namespace, t.pod, t.port
                        )),
                    );
                }
                self.lease = lease_name(&pod.owner, &t.pod);
                self.report.pod = t.pod.clone();
                let sentinel = pods::sentinel_watching(&pod);
                self.pod_before = Some(pod);
                self.target = Some(t.clone());
                if let Some(w) = sentinel.filter(|_| self.plan.method == Method::Swap) {
                    return self.fail(
                        out,
                        Exit::Invalid,
                        format!("Sentinel runs {w}: stopping this Redis for a file swap makes Sentinel fail over, and the full resync that follows erases the restore; nothing was changed"),
                        Some("restore it live instead: --method live (or auto)".into()),
                    );
                }
                if self.plan.method == Method::Swap {
                    return self.redis(Step::InfoServer, &["INFO"], out);
                }
                self.live = true;
                say(out, Line::Step(format!("connect to {}:{}", t.pod, t.port)));
                let to = Endpoint::Pod(t);
                self.ask(Step::Connect, |id| Effect::Connect { id, to }, out);
            }
            Err(r) => self.fail(
                out,
                r.exit,
                format!("{}; nothing was changed", r.message),
                Some(r.hint),
            ),
        }
    }

    pub(super) fn next_writer(&mut self, i: usize, out: &mut Vec<Effect>) {
        if i < self.writers.len() {
            let writer = self.writers[i].writer.clone();
            return self.ask(Step::Writer(i), |id| Effect::GetWriter { id, writer }, out);
        }
        self.show_plan(out);
    }

    pub(super) fn get_lease(&mut self, out: &mut Vec<Effect>) {
        if self.plan.locked_outside {
            say(
                out,
                Line::Detail(format!(
                    "lock: Lease {} is held by the run that started this Job",
                    self.lease
                )),
            );
            return self.next_writer(0, out);
        }
        let request = Request::Get {
            name: self.lease.clone(),
        };
        self.ask(Step::GetLease, |id| Effect::Lock { id, request }, out);
    }

    pub(super) fn take_lease(&mut self, replaces: Option<String>, out: &mut Vec<Effect>) {
        // Registered before asking: a create cut short by Ctrl-C may still
        // have happened. Releasing a Lease we do not hold does nothing.
        self.undo.push(Undo::Release);
        let (name, holder, duration_s) = (
            self.lease.clone(),
            self.plan.holder.clone(),
            self.plan.lease_s,
        );
        self.ask(
            Step::TakeLease,
            |id| Effect::Lock {
                id,
                request: Request::Take {
                    name,
                    holder,
                    duration_s,
                    replaces,
                },
            },
            out,
        );
    }

    /// What the restore runs in the container besides `sh`: redis-cli, the
    /// upload (head, cat), the install (mv; rm and mkdir for a multi-part
    /// AOF) and the clean-up (rm).
    pub(super) fn tools(&self) -> Vec<String> {
        let mut t = vec!["redis-cli", "head", "cat", "mv", "rm"];
        if matches!(self.layout(), Layout::AofMultiPart { .. }) {
            t.push("mkdir");
        }
        t.into_iter().map(str::to_string).collect()
    }

    pub(super) fn show_plan(&mut self, out: &mut Vec<Effect>) {
        let t = self.target();
        let bytes = self.report.bytes;
        let keys = match (self.prelude.first_db, self.prelude.empty) {
            (Some(d), _) => format!(", db{}: {} keys", d.db, d.keys),
            (None, true) => ", no keys".to_string(),
            _ => String::new(),
        };
        let server = self
            .server
            .as_ref()
            .map(|s| {
                format!(
                    "{:?} {}.{}.{}",
                    s.flavor, s.version.0, s.version.1, s.version.2
                )
            })
            .unwrap_or_default();
        let live_into = self.live.then(|| {
            let mut t = String::from(if self.cluster {
                "the Redis Cluster this node belongs to: each key to the primary owning its slot, MOVED and ASK followed (RESTORE payloads; no exec, no restart)"
            } else {
                "the running server, over one connection (RESTORE payloads; no exec, no restart)"
            });
            if self.plan.merge {
                t.push_str("; --merge: other keys are kept");
            } else if self.cluster {
                t.push_str("; all current keys are deleted first (FLUSHALL ASYNC on every primary)");
            } else {
                t.push_str("; all current keys are deleted first (FLUSHALL ASYNC)");
            }
            t
        });
        let (method, into) = match self.layout() {
            _ if self.live => ("live", live_into.unwrap_or_default()),
            Layout::Rdb => ("rdb", join(&self.dir, &self.dbfilename)),
            Layout::AofMultiPart { dirname, filename } => (
                "aof",
                format!(
                    "{} (appendonly yes: as the base of a new multi-part AOF)",
                    join(
                        &join(&self.dir, &dirname),
                        &format!("{filename}.1.base.rdb")
                    )
                ),
            ),
            Layout::AofPreamble { filename } => (
                "aof-preamble",
                format!(
                    "{} (appendonly yes: as the AOF)",
                    join(&self.dir, &filename)
                ),
            ),
        };
        self.report.method = Some(method.to_string());
        say(
            out,
            Line::Step("WARNING: This will REPLACE current Redis data!".into()),
        );
        say(
            out,
            Line::Plain(format!(
                "Backup {} ({}{keys})",
                self.plan.file,
                human::bytes(bytes)
            )),
        );
        let target = match &self.plan.url {
            Some(u) => format!("Target: redis://{}:{} ({server})", u.host, u.port),
            None => format!(
                "Target: {} / {} ({server}, port {})",
                self.plan.namespace, t.pod, t.port
            ),
        };
        say(out, Line::Plain(target));
        say(out, Line::Plain(format!("Into:   {into}")));
        let writers: Vec<String> = self
            .writers
            .iter()
            .filter_map(|w| {
                w.state.as_ref().map(|s| {
                    format!(
                        "{} ({} replica{})",
                        w.writer,
                        s.replicas,
                        if s.replicas == 1 { "" } else { "s" }
                    )
                })
            })
            .collect();
        say(
            out,
            Line::Plain(format!(
                "Stop:   {}",
                if writers.is_empty() {
                    "no writers".to_string()
                } else {
                    writers.join(", ")
                }
            )),
        );
        if self.live {
            say(out, Line::Plain("Note:   a live restore cannot be rolled back: take a backup first if the current data matters (--backup-first does)".into()));
        }
        if self.plan.dry_run {
            say(out, Line::Step("dry run: nothing was changed".into()));
            return self.wind_down_ok(out);
        }
        if self.plan.yes {
            self.begin(out);
            return self.annotate_next(self.now, 0, out);
        }
        self.ask(Step::Confirm, |id| Effect::Confirm { id }, out);
    }

    /// Says that changes start now ([`Effect::Begin`]).
    fn begin(&self, out: &mut Vec<Effect>) {
        out.push(Effect::Begin {
            namespace: self.report.namespace.clone(),
            pod: self.report.pod.clone(),
        });
    }

    pub(super) fn annotate_next(&mut self, now: u64, from: usize, out: &mut Vec<Effect>) {
        let next = (from..self.writers.len()).find(|&i| self.writers[i].state.is_some());
        match next {
            Some(i) => {
                let w = self.writers[i].writer.clone();
                let replicas = self.writers[i]
                    .state
                    .as_ref()
                    .map(|s| s.replicas)
                    .unwrap_or(0);
                let holder = self.plan.holder.clone();
                self.report.changed = true;
                self.undo.push(Undo::Unannotate(i));
                self.ask(
                    Step::Annotate(i),
                    |id| Effect::Annotate {
                        id,
                        writer: w,
                        record: Some(replicas),
                        holder,
                    },
                    out,
                );
            }
            None => {
                // Every writer is scaled to 0: wait until their pods are gone.
                self.deadline_ms = now + self.plan.scale_timeout_ms;
                self.count_next(0, out);
            }
        }
    }

    pub(super) fn count_next(&mut self, from: usize, out: &mut Vec<Effect>) {
        match (from..self.writers.len()).find(|&i| self.writers[i].state.is_some()) {
            Some(i) => self.count(i, out),
            None if self.live => self.flush(out),
            None => self.upload(out),
        }
    }

    pub(super) fn count(&mut self, i: usize, out: &mut Vec<Effect>) {
        let selector = self.writers[i]
            .state
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        self.ask(Step::Count(i), |id| Effect::CountPods { id, selector }, out);
    }

    pub(super) fn on_info_server(&mut self, r: Result<CliOutput, String>, out: &mut Vec<Effect>) {
        let Some(reply) = self.reply(r, out) else {
            return;
        };
        let fields = match &reply {
            Reply::Text(t) => reply::info_fields(t),
            _ => Default::default(),
        };
        let Some(server) = Server::from_info(&fields) else {
            return self.fail(
                out,
                Exit::Error,
                format!(
                    "cannot tell the server's version from INFO ({})",
                    first_line(&reply)
                ),
                None,
            );
        };
        if let Some(e) = replica_refusal(&fields, &self.report.pod) {
            return self.fail(
                out,
                Exit::Invalid,
                e,
                Some("restore into the primary (--pod NAME); its replicas follow".into()),
            );
        }
        if fields.get("cluster_enabled").map(|v| v.trim()) == Some("1") {
            return self.fail(
                out,
                Exit::Invalid,
                CLUSTER_SWAP.into(),
                Some(
                    "use --method live (or auto): each key goes to the primary that owns its slot"
                        .into(),
                ),
            );
        }
        if let Some(h) = self.header {
            if let Err(e) = server.can_load(&h) {
                return self.fail(
                    out,
                    Exit::Invalid,
                    format!("{e}; nothing was changed"),
                    Some(
                        "restore into a server at least as new as the one that wrote the backup"
                            .into(),
                    ),
                );
            }
        }
        self.server = Some(server);
        self.redis(Step::Config("dir"), &["CONFIG", "GET", "dir"], out);
    }

    pub(super) fn on_config(
        &mut self,
        name: &'static str,
        r: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
        let Some(reply) = self.reply(r, out) else {
            return;
        };
        let value = reply.config_value(name);
        match (name, value) {
            ("dir", Some(v)) if !v.is_empty() => self.dir = v,
            ("dbfilename", Some(v)) if !v.is_empty() && !v.contains('/') => self.dbfilename = v,
            ("appendonly", Some(v)) => self.appendonly = v == "yes",
            ("appenddirname", Some(v)) if !v.is_empty() && !v.contains('/') => {
                self.appenddirname = Some(v)
            }
            ("appendfilename", Some(v)) if !v.is_empty() && !v.contains('/') => self.appendfilename = v,
            // appenddirname does not exist before 7.0.
            ("appenddirname", _) => {}
            (n, _) => {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("CONFIG GET {n} gave no usable answer ({})", first_line(&reply)),
                    Some("restore needs CONFIG GET (dir, dbfilename, appendonly) to know where Redis loads from; check that CONFIG is not renamed or blocked".into()),
                )
            }
        }
        match name {
            "dir" => self.redis(
                Step::Config("dbfilename"),
                &["CONFIG", "GET", "dbfilename"],
                out,
            ),
            "dbfilename" => self.redis(
                Step::Config("appendonly"),
                &["CONFIG", "GET", "appendonly"],
                out,
            ),
            "appendonly" if self.appendonly => self.redis(
                Step::Config("appenddirname"),
                &["CONFIG", "GET", "appenddirname"],
                out,
            ),
            "appenddirname" => self.redis(
                Step::Config("appendfilename"),
                &["CONFIG", "GET", "appendfilename"],
                out,
            ),
            _ => {
                let target = self.target();
                let tools = self.tools();
                self.ask(Step::Probe, |id| Effect::Probe { id, target, tools }, out);
            }
        }
    }

    pub(super) fn on_probed(&mut self, r: Result<Vec<String>, String>, out: &mut Vec<Effect>) {
        if self.plan.method == Method::Auto && r.as_ref().map_or(true, |m| !m.is_empty()) {
            let why = match &r {
                Ok(m) => format!("the container lacks {}", m.join(", ")),
                Err(e) => format!("no exec into the pod ({})", e.lines().next().unwrap_or("")),
            };
            self.choose_live(why, out);

            return;
        }
        let needs = probe::Needs {
            what: "a file-swap restore",
            tools_hint: format!(
                "a file-swap restore runs sh, {} in the Redis container: use an image that has them (coreutils or busybox), or choose the Redis container with --container",
                self.tools().join(", ")
            ),
            without_exec: "",
            suffix: "; nothing was changed",
        };
        match probe::verdict(r, &self.plan.namespace, &self.target(), &needs) {
            Ok(()) if !self.shutdown_checked => self.check_shutdown(out),
            Ok(()) => self.swap_can_run(out),
            Err((message, hint)) => self.fail(out, Exit::Error, message, Some(hint)),
        }
    }

    /// Whether this server lets the swap's `SHUTDOWN NOSAVE` run, asked
    /// before anything changes: a swap that installs the backup and then
    /// cannot restart Redis leaves it to load at some later restart.
    /// `ACL DRYRUN` for the user redis-cli runs as (7.0 and later), else
    /// `COMMAND INFO SHUTDOWN` (renamed or removed shows as nil).
    fn check_shutdown(&mut self, out: &mut Vec<Effect>) {
        let acl = self
            .server
            .as_ref()
            .is_some_and(|s| s.flavor == crate::rdb::Flavor::Valkey || s.version.0 >= 7);
        if acl {
            self.redis(Step::ShutdownWho, &["ACL", "WHOAMI"], out);
        } else {
            self.redis(Step::ShutdownKnown, &["COMMAND", "INFO", "SHUTDOWN"], out);
        }
    }

    pub(super) fn on_shutdown_check(
        &mut self,
        step: Step,
        r: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
        // redis-cli that cannot run fails the restore, as anywhere else.
        let Some(reply) = self.reply(r, out) else {
            return;
        };
        let reply = Some(match reply {
            Reply::Bulk(b) => Reply::Text(String::from_utf8_lossy(&b).into_owned()),
            other => other,
        });
        let refused = match (step, reply) {
            (Step::ShutdownWho, Some(Reply::Text(user))) if !user.trim().is_empty() => {
                let user = user.trim().to_string();
                return self.redis(
                    Step::ShutdownDry,
                    &["ACL", "DRYRUN", &user, "SHUTDOWN", "NOSAVE"],
                    out,
                );
            }
            (Step::ShutdownDry, Some(Reply::Text(t))) if t.trim() == "OK" => None,
            // A denial is a plain string naming the command.
            (Step::ShutdownDry, Some(Reply::Text(t))) => Some(t.trim().to_string()),
            (Step::ShutdownDry, Some(Reply::Error(e))) if e.contains("not found") => {
                Some(format!("{e} (renamed or removed)"))
            }
            (Step::ShutdownKnown, Some(Reply::Nil)) => {
                Some("SHUTDOWN is renamed or removed".into())
            }
            (Step::ShutdownKnown, Some(Reply::Array(a)))
                if a.is_empty() || a.iter().all(|x| *x == Reply::Nil) =>
            {
                Some("SHUTDOWN is renamed or removed".into())
            }
            // Cannot tell (ACL itself not allowed, an older server): the
            // undo kept after the install covers a refusal.
            _ => None,
        };
        self.shutdown_checked = true;
        let Some(why) = refused else {
            return self.swap_can_run(out);
        };
        if self.plan.method == Method::Auto && self.report.method_reason.is_none() && self.connected
        {
            return self.choose_live(
                format!("this server would refuse the swap's SHUTDOWN NOSAVE: {why}"),
                out,
            );
        }
        self.fail(
            out,
            Exit::Invalid,
            format!("a file swap needs SHUTDOWN NOSAVE, which this server refuses: {why}; nothing was changed"),
            Some("restore with --method live, or allow SHUTDOWN for the user redis-cli runs as (ACL SETUSER NAME +shutdown)".into()),
        )
    }

    /// The probe passed and SHUTDOWN may run: on to the swap (or, for
    /// auto, to deciding it).
    fn swap_can_run(&mut self, out: &mut Vec<Effect>) {
        if self.plan.method == Method::Auto && self.report.method_reason.is_none() {
            let why =
                "the server loads this file and the pod allows exec with the tools a swap needs"
                    .to_string();
            say(out, Line::Step(format!("auto: swap ({why})")));
            self.report.method_reason = Some(why);
            // The swap talks to Redis through exec only.
            if self.connected {
                self.connected = false;
                out.push(Effect::Disconnect);
            }
            self.redis(Step::Config("dir"), &["CONFIG", "GET", "dir"], out);
        } else {
            self.get_lease(out);
        }
    }

    pub(super) fn on_writer(
        &mut self,
        i: usize,
        r: Result<Option<WriterState>, String>,
        out: &mut Vec<Effect>,
    ) {
        match r {
            Err(e) => {
                let w = self.writers[i].writer.to_string();
                self.fail(out, Exit::Error, format!("cannot read {w}: {e}"), None)
            }
            Ok(None) if self.writers[i].writer.explicit => {
                let w = self.writers[i].writer.to_string();
                let ns = self.plan.namespace.clone();
                self.fail(
                out,
                Exit::Invalid,
                format!("{w} does not exist in namespace {ns}; nothing was changed"),
                Some(format!("list writers with `kubectl -n {ns} get deploy,sts`; name them with --scale-down")),
            )
            }
            Ok(None) => {
                let w = self.writers[i].writer.to_string();
                say(
                    out,
                    Line::Warn(format!("{w} not found; no writer will be scaled down")),
                );
                self.next_writer(i + 1, out)
            }
            Ok(Some(s)) if s.recorded.is_some() => {
                let w = self.writers[i].writer.to_string();
                self.fail(
                out,
                Exit::Error,
                format!(
                    "{w} carries a replica record from an earlier restore that did not finish ({REPLICAS_ANNOTATION}={}; that restore no longer holds the lock); nothing was changed",
                    s.recorded.unwrap_or_default()
                ),
                Some("put it back first with `kubectl redis restore --recover`".into()),
            )
            }
            Ok(Some(s)) => {
                self.writers[i].state = Some(s);
                self.next_writer(i + 1, out)
            }
        }
    }

    pub(super) fn on_lease_found(
        &mut self,
        now: u64,
        r: Result<Option<LeaseState>, LeaseError>,
        out: &mut Vec<Effect>,
    ) {
        match r {
        Err(e) => self.fail(
            out,
            Exit::Error,
            format!("cannot read the lock Lease {}: {e}", self.lease),
            Some("the plugin needs get/create/update on leases.coordination.k8s.io in the namespace".into()),
        ),
        Ok(found) => match lock::decide(found.as_ref(), &self.lease, &self.plan.holder, self.wall(now)) {
            Decision::Take { replaces, warning } => {
                if let Some(w) = warning {
                    say(out, Line::Warn(w));
                }
                self.take_lease(replaces, out)
            }
            Decision::Held { message, hint } => self.fail(out, Exit::Locked, message, Some(hint)),
        },
    }
    }

    pub(super) fn on_lease_taken(&mut self, r: Result<(), LeaseError>, out: &mut Vec<Effect>) {
        match r {
        Ok(()) => self.next_writer(0, out),
        Err(LeaseError::Conflict) => self.fail(
            out,
            Exit::Locked,
            format!("another backup or restore took the lock Lease {} just now; nothing was changed", self.lease),
            Some("wait for it to finish".into()),
        ),
        Err(LeaseError::Other(e) | LeaseError::Forbidden(e)) => self.fail(
            out,
            Exit::Error,
            format!("cannot take the lock Lease {}: {e}", self.lease),
            Some("the plugin needs get/create/update on leases.coordination.k8s.io in the namespace".into()),
        ),
    }
    }

    pub(super) fn on_confirm(&mut self, now: u64, a: Answer, out: &mut Vec<Effect>) {
        match a {
        Answer::Yes => {
            self.begin(out);
            self.annotate_next(now, 0, out)
        }
        Answer::No => self.fail(out, Exit::Aborted, "aborted; nothing was changed".into(), None),
        Answer::NoTerminal => self.fail(
            out,
            Exit::Aborted,
            "refusing to replace all data without confirmation: standard input is not a terminal; nothing was changed".into(),
            Some("pass --yes to confirm non-interactively (or --dry-run to see the plan)".into()),
        ),
    }
    }

    pub(super) fn on_annotated(&mut self, i: usize, r: Result<(), String>, out: &mut Vec<Effect>) {
        match r {
            Ok(()) => {
                let w = self.writers[i].writer.clone();
                say(
                    out,
                    Line::Step(format!("scale {} to 0 (prevent writes)", w.name)),
                );
                // Registered before asking: a request cut short by Ctrl-C
                // may still have been applied.
                self.undo.push(Undo::ScaleUp(i));
                self.ask(
                    Step::ScaleDown(i),
                    |id| Effect::Scale {
                        id,
                        writer: w,
                        replicas: 0,
                    },
                    out,
                );
            }
            Err(e) => {
                let w = self.writers[i].writer.to_string();
                self.fail(
                    out,
                    Exit::Error,
                    format!("cannot record the replicas of {w}: {e}"),
                    None,
                )
            }
        }
    }

    pub(super) fn on_scaled_down(
        &mut self,
        now: u64,
        i: usize,
        r: Result<(), String>,
        out: &mut Vec<Effect>,
    ) {
        match r {
            Ok(()) => self.annotate_next(now, i + 1, out),
            Err(e) => {
                let w = self.writers[i].writer.to_string();
                self.fail(
                    out,
                    Exit::Error,
                    format!("cannot scale {w} to 0: {e}"),
                    None,
                )
            }
        }
    }

    pub(super) fn on_counted(
        &mut self,
        now: u64,
        i: usize,
        r: Result<usize, String>,
        out: &mut Vec<Effect>,
    ) {
        match r {
            Ok(0) => self.count_next(i + 1, out),
            Ok(n) if now >= self.deadline_ms => {
                let w = self.writers[i].writer.to_string();
                self.fail(
                out,
                Exit::Error,
                format!(
                    "{n} pod(s) of {w} still exist after {}; Redis was not touched",
                    human::millis(self.plan.scale_timeout_ms)
                ),
                Some("pods with a long terminationGracePeriodSeconds need more time: --scale-timeout".into()),
            )
            }
            Ok(_) => self.timer(Step::CountTimer(i), out),
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!("cannot list the writers' pods: {e}"),
                None,
            ),
        }
    }
}
