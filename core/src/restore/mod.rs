//! The restore as a state machine with no I/O.
//!
//! Same shape as [`crate::backup`]: the shell feeds [`Input`]s (results of
//! effects, Ctrl-C) with the monotonic time, and performs the [`Effect`]s.
//!
//! Nothing in the cluster changes before every check has passed: the file
//! (exists, regular, non-empty, RDB header), the pod, the server's version
//! against the file's RDB version, persistence settings, the writers, and the
//! Lease that makes this the only backup or restore of this Redis. Then, after
//! the user confirms: each writer's replica count is recorded in an annotation
//! on it (so `restore --recover` can repair a killed run), writers are scaled
//! to 0 and their pods waited out, the file is uploaded beside the dump under
//! a temporary name and moved into place (as the AOF base when `appendonly
//! yes`), Redis is stopped with `SHUTDOWN NOSAVE`, and the restarted server is
//! checked (`PING`, key count). Every step that changes something registers
//! its undo; success, failure and Ctrl-C all wind down through the same list,
//! so writers always get their recorded replicas back.

pub mod live;

use crate::backup::{join, CliOutput, ConnectError, Endpoint, Failure, Id, Line, Url};
use crate::exit::Exit;
use crate::human;
use crate::kube::lock::{self, Answer as LockAnswer, Decision, Request};
pub use crate::kube::lock::{lease_name, LeaseError, LeaseState};
use crate::kube::pods::{self, PodInfo, Target, Wanted};
use crate::kube::probe;
use crate::rdb::reader;
use crate::rdb::{self, Header, Prelude, Server};
use crate::topo::cluster::SlotMap;
use crate::wire::reply::{self, Reply};
use serde::Serialize;
use std::collections::BTreeMap;

/// Annotation on a writer holding its replica count while a restore runs.
pub const REPLICAS_ANNOTATION: &str = "kubectl-redis.io/restore-replicas";
/// Annotation on a writer naming the restore that scaled it down.
pub const HOLDER_ANNOTATION: &str = "kubectl-redis.io/restore-holder";

/// A workload that writes to Redis and is stopped during a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Writer {
    /// Deployment or StatefulSet.
    pub kind: WriterKind,
    /// Its name.
    pub name: String,
    /// Named by the user (a missing one is an error), not the default
    /// `worker` (a missing one is a warning).
    pub explicit: bool,
}

/// The kinds of writers that can be scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WriterKind {
    /// apps/v1 Deployment
    Deployment,
    /// apps/v1 StatefulSet
    StatefulSet,
}

impl Writer {
    /// `deploy/NAME`, `deployment/NAME`, `sts/NAME`, `statefulset/NAME`, or a
    /// bare `NAME` (a Deployment).
    pub fn parse(s: &str, explicit: bool) -> Result<Writer, String> {
        let (kind, name) = match s.split_once('/') {
            None => (WriterKind::Deployment, s),
            Some((k, n)) => match k.to_ascii_lowercase().as_str() {
                "deploy" | "deployment" | "deployments" | "deployment.apps"
                | "deployments.apps" => (WriterKind::Deployment, n),
                "sts" | "statefulset" | "statefulsets" | "statefulset.apps"
                | "statefulsets.apps" => (WriterKind::StatefulSet, n),
                _ => {
                    return Err(format!(
                        "'{s}': only deploy/NAME and sts/NAME can be scaled down"
                    ))
                }
            },
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err(format!("'{s}': '{name}' is not a valid object name"));
        }
        Ok(Writer {
            kind,
            name: name.to_string(),
            explicit,
        })
    }
}

impl core::fmt::Display for Writer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            WriterKind::Deployment => write!(f, "deploy/{}", self.name),
            WriterKind::StatefulSet => write!(f, "sts/{}", self.name),
        }
    }
}

/// What the cluster says about a writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterState {
    /// `spec.replicas`.
    pub replicas: i32,
    /// Its pod selector, as a label selector string.
    pub selector: String,
    /// [`REPLICAS_ANNOTATION`], if a restore left it there.
    pub recorded: Option<i32>,
}

/// The local backup file as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// A regular file (after following links).
    pub is_file: bool,
    /// Its size.
    pub bytes: u64,
    /// Its first bytes (64 KiB is plenty for the prelude).
    pub head: Vec<u8>,
    /// The RDB reader's verdict on every byte (and the manifest's, when the
    /// backup has one): the counts, or what is wrong.
    pub verified: Result<reader::Summary, String>,
    /// What the file holds by type (for a live restore's checks).
    pub survey: live::Survey,
}

/// How the backup gets into Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Copy the file into the pod and restart Redis (needs exec and tools).
    Swap,
    /// Replay the backup into the running server over one connection.
    Live,
    /// Live when a swap cannot be done or is unsafe, swap otherwise.
    Auto,
}

/// The user's answer to `Continue? (yes/no):`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Exactly `yes`.
    Yes,
    /// Anything else, or end of input.
    No,
    /// Standard input is not a terminal, so nobody can answer.
    NoTerminal,
}

/// Everything the restore needs to know up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Namespace.
    pub namespace: String,
    /// Label selector of the Redis pod.
    pub selector: String,
    /// `--pod`.
    pub pod: Option<String>,
    /// `--container`.
    pub container: Option<String>,
    /// `--redis-port`.
    pub port: Option<u16>,
    /// The backup file, as the user wrote it.
    pub file: String,
    /// Workloads to stop while restoring.
    pub writers: Vec<Writer>,
    /// `--yes`: do not ask.
    pub yes: bool,
    /// `--dry-run`: check and print the plan, change nothing.
    pub dry_run: bool,
    /// `--force-unverified`: restore a file that failed verification.
    pub force_unverified: bool,
    /// This run's identity in the Lease and annotations.
    pub holder: String,
    /// Wall clock at start, Unix seconds.
    pub started_unix: i64,
    /// Lease duration; the shell renews it at a third of that.
    pub lease_s: i64,
    /// How long writers' pods may take to go away.
    pub scale_timeout_ms: u64,
    /// How long Redis may take to come back.
    pub restart_timeout_ms: u64,
    /// Poll interval.
    pub poll_ms: u64,
    /// Swap, live or auto.
    pub method: Method,
    /// `--url`: this server instead of a pod (live only; no lock, no writers).
    pub url: Option<Url>,
    /// `--merge`: keep keys not in the backup.
    pub merge: bool,
    /// Values larger than this (bytes) go as commands, not one `RESTORE`.
    pub big_value_bytes: u64,
}

/// Results of effects, and events from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin.
    Start,
    /// Answer to [`Effect::ReadLocal`]; `Err` when it cannot be read at all.
    Local(Id, Result<LocalFile, String>),
    /// Answer to [`Effect::ListPods`].
    Pods(Id, Result<Vec<PodInfo>, String>),
    /// Answer to [`Effect::Redis`] and [`Effect::Exec`].
    Exec(Id, Result<CliOutput, String>),
    /// Answer to [`Effect::Probe`]: the tools the container lacks, or why
    /// not even `sh` ran.
    Probed(Id, Result<Vec<String>, String>),
    /// Answer to [`Effect::GetWriter`]: `None` when it does not exist.
    Writer(Id, Result<Option<WriterState>, String>),
    /// Answer to [`Effect::Lock`].
    Lock(Id, LockAnswer),
    /// Answer to [`Effect::Confirm`].
    Answer(Id, Answer),
    /// Answer to [`Effect::CountPods`].
    PodCount(Id, Result<usize, String>),
    /// Answer to [`Effect::Annotate`], [`Effect::Scale`], [`Effect::Upload`].
    Done(Id, Result<(), String>),
    /// A timer from [`Effect::Timer`] expired.
    Timer(Id),
    /// The user pressed Ctrl-C.
    Interrupt,
    /// Answer to [`Effect::Connect`]: how it authenticated (for the log).
    Connected(Id, Result<Option<String>, ConnectError>),
    /// Answer to [`Effect::Send`].
    Reply(Id, Result<Reply, String>),
    /// Answer to [`Effect::Load`].
    Loaded(Id, Loaded),
}

/// How a load ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// What was confirmed.
    pub report: live::LoadReport,
    /// A Redis Cluster: `INFO keyspace` summed over its primaries after the
    /// load (the count check compares it with the backup).
    pub keyspace: Option<String>,
    /// Why it stopped early (a server error, a broken connection, the file).
    pub error: Option<String>,
    /// Ctrl-C stopped it.
    pub interrupted: bool,
    /// Keys the verified file holds (for the message).
    pub elapsed_ms: u64,
}

/// Work for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Stat the local file and read its first 64 KiB.
    ReadLocal {
        /// Effect id.
        id: Id,
        /// The path.
        path: String,
    },
    /// As [`crate::backup::Effect::ListPods`].
    ListPods {
        /// Effect id.
        id: Id,
        /// Namespace.
        namespace: String,
        /// Selector.
        selector: String,
        /// Pod name.
        name: Option<String>,
    },
    /// Run `redis-cli --no-raw -p PORT ARGS...` in the container.
    Redis {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// Command.
        args: Vec<String>,
    },
    /// Ask the container which of `tools` it lacks (with `sh` alone).
    Probe {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// The programs the restore runs in the container.
        tools: Vec<String>,
    },
    /// Run `argv` in the container (no shell unless argv starts one).
    Exec {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// The command.
        argv: Vec<String>,
    },
    /// Read a writer's replicas, selector and annotations.
    GetWriter {
        /// Effect id.
        id: Id,
        /// Which.
        writer: Writer,
    },
    /// Something about the lock Lease.
    Lock {
        /// Effect id.
        id: Id,
        /// What.
        request: Request,
    },
    /// Ask `Continue? (yes/no):` on the terminal.
    Confirm {
        /// Effect id.
        id: Id,
    },
    /// Set (`Some`) or remove (`None`) the replica record on a writer.
    Annotate {
        /// Effect id.
        id: Id,
        /// Which.
        writer: Writer,
        /// Replicas to record, with our holder identity.
        record: Option<i32>,
        /// Our identity.
        holder: String,
    },
    /// Set a writer's replicas.
    Scale {
        /// Effect id.
        id: Id,
        /// Which.
        writer: Writer,
        /// How many.
        replicas: i32,
    },
    /// Count pods matching `selector` (terminating ones included).
    CountPods {
        /// Effect id.
        id: Id,
        /// Selector.
        selector: String,
    },
    /// Stream the local file into `remote` in the container and check that
    /// all of it arrived (size, and checksum where the image can compute it).
    Upload {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// Local path.
        local: String,
        /// Path in the container.
        remote: String,
        /// Bytes to send.
        bytes: u64,
    },
    /// Open a connection to Redis and authenticate (the shell holds the
    /// password: the user's, or the container's own).
    Connect {
        /// Effect id.
        id: Id,
        /// Where.
        to: Endpoint,
    },
    /// Send a command on the connection and read one reply.
    Send {
        /// Effect id.
        id: Id,
        /// Command and arguments.
        args: Vec<String>,
    },
    /// Delete every key with SCAN + UNLINK, database by database (FLUSHALL
    /// is renamed away).
    Wipe {
        /// Effect id.
        id: Id,
    },
    /// Replay the local file into the server ([`live::Loader`]), pipelined.
    /// Ctrl-C is handled inside: the load stops and reports how far it got.
    Load {
        /// Effect id.
        id: Id,
        /// The local file.
        path: String,
        /// Its size.
        bytes: u64,
        /// The loader's settings.
        options: live::Options,
        /// In a cluster: the address the connection reaches its node at, as
        /// the cluster knows it (`--url`'s host, or the pod's IP); a node
        /// listed without an address is that one.
        entry: String,
    },
    /// Close the connection (not answered).
    Disconnect,
    /// Answer with [`Input::Timer`] after `after_ms`.
    Timer {
        /// Effect id.
        id: Id,
        /// Delay.
        after_ms: u64,
    },
    /// A progress line.
    Say(Line),
    /// The end.
    Finish(Finish),
}

/// How a restore ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finish {
    /// Exit status.
    pub exit: Exit,
    /// What was done (also on failure: how far it got).
    pub report: Report,
    /// On failure.
    pub error: Option<Failure>,
}

/// What a restore did (`-o json` prints this).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The backup file.
    pub file: String,
    /// Its size.
    pub bytes: u64,
    /// Namespace.
    pub namespace: String,
    /// The pod before the restart.
    pub pod: String,
    /// The pod serving after the restart.
    pub pod_after: Option<String>,
    /// `rdb` (dump file) or `aof` (multi-part AOF base) or `aof-preamble`.
    pub method: Option<String>,
    /// Keys the backup holds in the databases of `databases`, when known:
    /// every database once the file verified, else only its first one.
    pub keys_expected: Option<u64>,
    /// Keys Redis serves afterwards in those same databases (and in any
    /// other database holding keys, which `databases` then lists with
    /// `keys_expected` 0).
    pub keys_loaded: Option<u64>,
    /// The same counts per database, in database order.
    pub databases: Vec<DbKeys>,
    /// Writers and the replicas they were given back.
    pub writers: Vec<WriterReport>,
    /// Nothing was changed (dry run, or refused before any change).
    pub changed: bool,
    /// A live restore: what was sent and confirmed.
    pub load: Option<Box<live::LoadReport>>,
    /// Why `--method auto` chose what it chose.
    pub method_reason: Option<String>,
    /// Whole run, milliseconds.
    pub duration_ms: u64,
}

/// One database's counts in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DbKeys {
    /// Database number.
    pub db: u64,
    /// Keys the backup holds there, when known.
    pub keys_expected: Option<u64>,
    /// Keys Redis serves there afterwards, once counted.
    pub keys_loaded: Option<u64>,
}

/// A writer in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriterReport {
    /// `deploy/worker`.
    pub name: String,
    /// Replicas before.
    pub replicas: i32,
    /// Scaled back to `replicas`.
    pub restored: bool,
}

/// How a restore will end, decided when winding down begins; the report is
/// built when the undos are done.
#[derive(Debug, Clone)]
struct Ending {
    exit: Exit,
    error: Option<Failure>,
}

/// Where the backup goes in the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// `appendonly no`: the dump file.
    Rdb,
    /// `appendonly yes`, 7.0+: a fresh multi-part AOF whose base is the backup.
    AofMultiPart { dirname: String, filename: String },
    /// `appendonly yes` before 7.0: the backup as the AOF (RDB preamble).
    AofPreamble { filename: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Local,
    Pods,
    InfoServer,
    Config(&'static str),
    Probe,
    Writer(usize),
    ClusterNodes,
    ClusterSlots,
    ClusterPods,
    GetLease,
    TakeLease,
    Confirm,
    Annotate(usize),
    ScaleDown(usize),
    Count(usize),
    CountTimer(usize),
    Upload,
    Install,
    Shutdown,
    Restarted,
    RestartTimer,
    Ping,
    Keyspace,
    Persistence,
    DropOld,
    Connect,
    LiveInfo,
    LiveConfig,
    Flush,
    Wipe,
    Load,
    WaitReplicas,
    Undo(Undo),
}

/// A step that puts back what an earlier step changed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Undo {
    RemoveRemote(String),
    ScaleUp(usize),
    Unannotate(usize),
    Release,
}

#[derive(Debug, Clone)]
struct WriterInfo {
    writer: Writer,
    state: Option<WriterState>,
    restored: bool,
    scale_failed: bool,
}

/// The restore state machine.
#[derive(Debug, Clone)]
pub struct Restore {
    plan: Plan,
    next_id: Id,
    pending: Option<(Id, Step)>,
    started_ms: Option<u64>,
    deadline_ms: u64,
    file: Option<LocalFile>,
    /// Keys per database of the verified backup.
    counts: Option<BTreeMap<u64, reader::DbCount>>,
    header: Option<Header>,
    prelude: Prelude,
    target: Option<Target>,
    pod_before: Option<PodInfo>,
    server: Option<Server>,
    dir: String,
    dbfilename: String,
    appendonly: bool,
    appenddirname: Option<String>,
    appendfilename: String,
    writers: Vec<WriterInfo>,
    lease: String,
    undo: Vec<Undo>,
    /// How it ends, once winding down has begun.
    winding: Option<Ending>,
    interrupt_deferred: bool,
    report: Report,
    now: u64,
    finished: bool,
    /// Commands go over the connection (live, or auto before choosing).
    live: bool,
    /// The server runs in cluster mode: the load routes keys by slot.
    cluster: bool,
    /// Its nodes, while the cluster's Lease is worked out.
    cluster_map: Option<SlotMap>,
    connected: bool,
    /// What the target takes as payloads, once known.
    caps: Option<live::Caps>,
    proto_max_bulk: Option<u64>,
    /// Replicas attached to the live target (`connected_slaves`).
    replicas: u32,
}

const TMP_NAME: &str = ".kubectl-redis-restore.tmp";

impl Restore {
    /// A machine for `plan`; nothing happens until [`Input::Start`].
    pub fn new(plan: Plan) -> Self {
        let report = Report {
            file: plan.file.clone(),
            namespace: plan.namespace.clone(),
            ..Report::default()
        };
        let writers = plan
            .writers
            .iter()
            .map(|w| WriterInfo {
                writer: w.clone(),
                state: None,
                restored: false,
                scale_failed: false,
            })
            .collect();
        Restore {
            plan,
            next_id: 1,
            pending: None,
            started_ms: None,
            deadline_ms: 0,
            file: None,
            counts: None,
            header: None,
            prelude: Prelude::default(),
            target: None,
            pod_before: None,
            server: None,
            dir: "/data".to_string(),
            dbfilename: "dump.rdb".to_string(),
            appendonly: false,
            appenddirname: None,
            appendfilename: "appendonly.aof".to_string(),
            writers,
            lease: String::new(),
            undo: Vec::new(),
            winding: None,
            interrupt_deferred: false,
            report,
            now: 0,
            finished: false,
            live: false,
            cluster: false,
            cluster_map: None,
            connected: false,
            caps: None,
            proto_max_bulk: None,
            replicas: 0,
        }
    }

    /// Whether [`Effect::Finish`] has been returned.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Feeds one input at monotonic time `now` (ms) and returns the effects.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        if !self.finished {
            self.step(now, input, &mut out);
        }
        out
    }

    fn id(&mut self) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn target(&self) -> Target {
        self.target.clone().unwrap_or(Target {
            pod: String::new(),
            container: String::new(),
            port: 6379,
        })
    }

    fn wall(&self, now: u64) -> i64 {
        let elapsed = now.saturating_sub(self.started_ms.unwrap_or(now)) / 1000;
        self.plan.started_unix + i64::try_from(elapsed).unwrap_or(0)
    }

    fn ask(&mut self, step: Step, effect: impl FnOnce(Id) -> Effect, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Some((id, step));
        out.push(effect(id));
    }

    fn redis(&mut self, step: Step, args: &[&str], out: &mut Vec<Effect>) {
        let args = args.iter().map(|s| s.to_string()).collect();
        if self.live {
            return self.ask(step, |id| Effect::Send { id, args }, out);
        }
        let target = self.target();
        self.ask(step, |id| Effect::Redis { id, target, args }, out);
    }

    fn exec(&mut self, step: Step, argv: Vec<String>, out: &mut Vec<Effect>) {
        let target = self.target();
        self.ask(step, |id| Effect::Exec { id, target, argv }, out);
    }

    fn timer(&mut self, step: Step, out: &mut Vec<Effect>) {
        let after_ms = self.plan.poll_ms;
        self.ask(step, |id| Effect::Timer { id, after_ms }, out);
    }

    fn step(&mut self, now: u64, input: Input, out: &mut Vec<Effect>) {
        self.now = now;
        if input == Input::Interrupt {
            return self.on_interrupt(out);
        }
        if input == Input::Start {
            if self.started_ms.is_some() {
                return;
            }
            self.started_ms = Some(now);
            let path = self.plan.file.clone();
            return self.ask(Step::Local, |id| Effect::ReadLocal { id, path }, out);
        }
        let Some((pid, step)) = self.pending.take() else {
            say(
                out,
                Line::Warn(format!("ignored unexpected input {input:?}")),
            );
            return;
        };
        let id = input_id(&input);
        if id != Some(pid) {
            self.pending = Some((pid, step));
            say(
                out,
                Line::Warn(format!("ignored unexpected input {input:?}")),
            );
            return;
        }
        self.on_answer(now, step, input, out);
        if self.interrupt_deferred
            && !matches!(self.pending, Some((_, Step::Install | Step::Shutdown)))
        {
            self.interrupt_deferred = false;
            self.on_interrupt(out);
        }
    }

    fn on_interrupt(&mut self, out: &mut Vec<Effect>) {
        match &self.pending {
            // Moving the file into place and stopping Redis belong together.
            Some((_, Step::Install | Step::Shutdown)) => {
                self.interrupt_deferred = true;
                say(
                    out,
                    Line::Warn("interrupt received; finishing this step first".into()),
                );
            }
            // Already winding down: writers must come back. The shell
            // dropped the request in flight, so ask for it again.
            Some((_, Step::Undo(u))) if self.winding.is_some() => {
                let u = u.clone();
                self.pending = None;
                self.undo.push(u);
                self.next_undo(out);
            }
            _ if self.winding.is_some() => {}
            _ => {
                let hint = if self.report.changed {
                    "writers are being scaled back to their recorded replicas"
                } else {
                    "nothing was changed"
                };
                self.fail(
                    out,
                    Exit::Interrupted,
                    "interrupted".into(),
                    Some(hint.into()),
                );
            }
        }
    }

    fn on_answer(&mut self, now: u64, step: Step, input: Input, out: &mut Vec<Effect>) {
        match (step, input) {
            (Step::Local, Input::Local(_, r)) => self.on_local(r, out),
            (Step::Pods, Input::Pods(_, r)) => self.on_pods(r, out),
            (Step::InfoServer, Input::Exec(_, r)) => {
                let Some(reply) = self.reply(r, out) else { return };
                let fields = match &reply {
                    Reply::Text(t) => reply::info_fields(t),
                    _ => Default::default(),
                };
                let Some(server) = Server::from_info(&fields) else {
                    return self.fail(
                        out,
                        Exit::Error,
                        format!("cannot tell the server's version from INFO ({})", first_line(&reply)),
                        None,
                    );
                };
                if let Some(e) = replica_refusal(&fields, &self.report.pod) {
                    return self.fail(out, Exit::Invalid, e, Some("restore into the primary (--pod NAME); its replicas follow".into()));
                }
                if fields.get("cluster_enabled").map(|v| v.trim()) == Some("1") {
                    return self.fail(
                        out,
                        Exit::Invalid,
                        CLUSTER_SWAP.into(),
                        Some("use --method live (or auto): each key goes to the primary that owns its slot".into()),
                    );
                }
                if let Some(h) = self.header {
                    if let Err(e) = server.can_load(&h) {
                        return self.fail(
                            out,
                            Exit::Invalid,
                            format!("{e}; nothing was changed"),
                            Some("restore into a server at least as new as the one that wrote the backup".into()),
                        );
                    }
                }
                self.server = Some(server);
                self.redis(Step::Config("dir"), &["CONFIG", "GET", "dir"], out);
            }
            (Step::Config(name), Input::Exec(_, r)) => {
                let Some(reply) = self.reply(r, out) else { return };
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
                    "dir" => self.redis(Step::Config("dbfilename"), &["CONFIG", "GET", "dbfilename"], out),
                    "dbfilename" => self.redis(Step::Config("appendonly"), &["CONFIG", "GET", "appendonly"], out),
                    "appendonly" if self.appendonly => {
                        self.redis(Step::Config("appenddirname"), &["CONFIG", "GET", "appenddirname"], out)
                    }
                    "appenddirname" => {
                        self.redis(Step::Config("appendfilename"), &["CONFIG", "GET", "appendfilename"], out)
                    }
                    _ => {
                        let target = self.target();
                        let tools = self.tools();
                        self.ask(Step::Probe, |id| Effect::Probe { id, target, tools }, out);
                    }
                }
            }
            (Step::Connect, Input::Connected(_, r)) => self.on_connected(r, out),
            (Step::LiveInfo, Input::Reply(_, r)) => self.on_live_info(r, out),
            (Step::ClusterNodes, Input::Reply(_, r)) => self.on_cluster_nodes(true, r, out),
            (Step::ClusterSlots, Input::Reply(_, r)) => self.on_cluster_nodes(false, r, out),
            (Step::ClusterPods, Input::Pods(_, r)) => self.on_cluster_pods(r, out),
            (Step::LiveConfig, Input::Reply(_, r)) => match r {
                // CONFIG may be blocked: then the default limit holds.
                Ok(rep) => {
                    self.proto_max_bulk = rep
                        .config_value("proto-max-bulk-len")
                        .and_then(|v| v.parse().ok());
                    self.live_route(out)
                }
                Err(e) => self.fail(out, Exit::Error, format!("the connection to Redis failed: {e}; nothing was changed"), None),
            },
            (Step::Flush, Input::Reply(_, r)) => match r {
                Ok(Reply::Error(e)) if e.to_ascii_lowercase().contains("unknown command") => {
                    say(out, Line::Step("FLUSHALL is renamed away: delete keys with SCAN + UNLINK".into()));
                    self.ask(Step::Wipe, |id| Effect::Wipe { id }, out);
                }
                Ok(Reply::Error(e)) => self.fail(out, Exit::Error, format!("FLUSHALL ASYNC refused: {e}; nothing was loaded"), Some("use --merge to keep existing keys, or allow FLUSHALL for this user".into())),
                Ok(_) => self.load(out),
                Err(e) => self.fail(out, Exit::Error, format!("FLUSHALL ASYNC failed: {e}"), None),
            },
            (Step::Wipe, Input::Done(_, r)) => match r {
                Ok(()) => self.load(out),
                Err(e) => self.fail(out, Exit::Error, format!("deleting the old keys failed: {e}; the server may hold part of its old data"), None),
            },
            (Step::Load, Input::Loaded(_, l)) => self.on_loaded(l, out),
            (Step::WaitReplicas, Input::Reply(_, r)) => {
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
            (Step::Probe, Input::Probed(_, r)) if self.plan.method == Method::Auto && r.as_ref().map_or(true, |m| !m.is_empty()) => {
                let why = match &r {
                    Ok(m) => format!("the container lacks {}", m.join(", ")),
                    Err(e) => format!("no exec into the pod ({})", e.lines().next().unwrap_or("")),
                };
                self.choose_live(why, out);
            }
            (Step::Probe, Input::Probed(_, r)) => {
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
                    Ok(()) if self.plan.method == Method::Auto && self.report.method_reason.is_none() => {
                        let why = "the server loads this file and the pod allows exec with the tools a swap needs".to_string();
                        say(out, Line::Step(format!("auto: swap ({why})")));
                        self.report.method_reason = Some(why);
                        // The swap talks to Redis through exec only.
                        if self.connected {
                            self.connected = false;
                            out.push(Effect::Disconnect);
                        }
                        self.redis(Step::Config("dir"), &["CONFIG", "GET", "dir"], out);
                    }
                    Ok(()) => {
                        let request = Request::Get { name: self.lease.clone() };
                        self.ask(Step::GetLease, |id| Effect::Lock { id, request }, out);
                    }
                    Err((message, hint)) => self.fail(out, Exit::Error, message, Some(hint)),
                }
            }
            (Step::Writer(i), Input::Writer(_, r)) => match r {
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
                    say(out, Line::Warn(format!("{w} not found; no writer will be scaled down")));
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
            },
            (Step::GetLease, Input::Lock(_, LockAnswer::Found(r))) => match r {
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
            },
            (Step::TakeLease, Input::Lock(_, LockAnswer::Taken(r))) => match r {
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
            },
            (Step::Confirm, Input::Answer(_, a)) => match a {
                Answer::Yes => self.annotate_next(now, 0, out),
                Answer::No => self.fail(out, Exit::Aborted, "aborted; nothing was changed".into(), None),
                Answer::NoTerminal => self.fail(
                    out,
                    Exit::Aborted,
                    "refusing to replace all data without confirmation: standard input is not a terminal; nothing was changed".into(),
                    Some("pass --yes to confirm non-interactively (or --dry-run to see the plan)".into()),
                ),
            },
            (Step::Annotate(i), Input::Done(_, r)) => match r {
                Ok(()) => {
                    let w = self.writers[i].writer.clone();
                    say(out, Line::Step(format!("scale {} to 0 (prevent writes)", w.name)));
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
                    self.fail(out, Exit::Error, format!("cannot record the replicas of {w}: {e}"), None)
                }
            },
            (Step::ScaleDown(i), Input::Done(_, r)) => match r {
                Ok(()) => self.annotate_next(now, i + 1, out),
                Err(e) => {
                    let w = self.writers[i].writer.to_string();
                    self.fail(out, Exit::Error, format!("cannot scale {w} to 0: {e}"), None)
                }
            },
            (Step::Count(i), Input::PodCount(_, r)) => match r {
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
                Err(e) => self.fail(out, Exit::Error, format!("cannot list the writers' pods: {e}"), None),
            },
            (Step::CountTimer(i), Input::Timer(_)) => self.count(i, out),
            (Step::Upload, Input::Done(_, r)) => match r {
                Ok(()) => self.install(out),
                Err(e) => self.fail(
                    out,
                    Exit::Error,
                    format!("copying the backup into the pod failed: {e}; the data in Redis is unchanged"),
                    Some(format!("check free space with `kubectl -n {} exec {} -- df -h {}`", self.plan.namespace, self.target().pod, self.dir)),
                ),
            },
            (Step::Install, Input::Exec(_, r)) => match r {
                Ok(o) if o.exit_code.unwrap_or(0) == 0 => {
                    if let Some(p) = self.undo.iter().position(|u| matches!(u, Undo::RemoveRemote(_))) {
                        self.undo.remove(p);
                    }
                    say(out, Line::Step("SHUTDOWN NOSAVE (the container restarts in place and loads the backup)".into()));
                    self.redis(Step::Shutdown, &["SHUTDOWN", "NOSAVE"], out);
                }
                Ok(o) => {
                    let e = if o.stderr.trim().is_empty() { o.stdout } else { o.stderr };
                    self.fail(out, Exit::Error, format!("moving the backup into place failed: {}; the data in Redis is unchanged", e.trim()), None)
                }
                Err(e) => self.fail(out, Exit::Error, format!("moving the backup into place failed: {e}; the data in Redis is unchanged"), None),
            },
            (Step::Shutdown, Input::Exec(_, r)) => {
                if let Ok(o) = &r {
                    if let Reply::Error(e) = reply::parse_cli_output(&o.stdout) {
                        return self.fail(out, Exit::Error, format!("SHUTDOWN NOSAVE refused: {e}"), Some("the backup is in place but not loaded; Redis will load it at its next restart".into()));
                    }
                }
                say(out, Line::Step("wait for redis to restart...".into()));
                self.deadline_ms = now + self.plan.restart_timeout_ms;
                self.timer(Step::RestartTimer, out);
            }
            (Step::RestartTimer, Input::Timer(_)) => {
                let (namespace, selector, name) =
                    (self.plan.namespace.clone(), self.plan.selector.clone(), self.plan.pod.clone());
                self.ask(Step::Restarted, |id| Effect::ListPods { id, namespace, selector, name }, out);
            }
            (Step::Restarted, Input::Pods(_, r)) => {
                let before = self.pod_before.clone().unwrap_or_default();
                let back = r.ok().and_then(|pods| {
                    pods.into_iter().find(|p| {
                        p.ready && !p.terminating && (p.uid != before.uid || p.restarts > before.restarts)
                    })
                });
                match back {
                    Some(p) => {
                        let wanted = Wanted {
                            pod: Some(&p.name),
                            container: self.plan.container.as_deref(),
                            port: self.plan.port,
                        };
                        if let Ok(t) = pods::select(std::slice::from_ref(&p), &wanted) {
                            self.target = Some(t);
                        }
                        self.report.pod_after = Some(p.name.clone());
                        say(out, Line::Step("verify PING".into()));
                        self.redis(Step::Ping, &["PING"], out);
                    }
                    None => self.restart_wait(now, out),
                }
            }
            (Step::Ping, Input::Exec(_, r)) => {
                let reply = r.as_ref().ok().map(|o| reply::parse_cli_output(&o.stdout));
                match reply {
                    Some(Reply::Text(t)) if t == "PONG" => {
                        say(out, Line::Detail("PONG".into()));
                        self.redis(Step::Keyspace, &["INFO", "keyspace"], out);
                    }
                    // LOADING, connection refused: not ready yet.
                    _ => self.restart_wait(now, out),
                }
            }
            (Step::Keyspace, input @ (Input::Exec(..) | Input::Reply(..))) => {
                let Some(reply) = self.any_reply(input, out) else { return };
                let text = match &reply {
                    Reply::Text(t) => t.clone(),
                    _ => String::new(),
                };
                self.keyspace_check(text, out);
            }
            (Step::Persistence, Input::Exec(_, r)) => {
                let Some(reply) = self.reply(r, out) else { return };
                let on = match &reply {
                    Reply::Text(t) => reply::info_fields(t).get("aof_enabled").map(|v| v.trim() == "1"),
                    _ => None,
                };
                if on != Some(true) {
                    return self.fail(
                        out,
                        Exit::VerifyFailed,
                        "AOF is off after the restart, but appendonly was yes before".into(),
                        Some("turn it back on with `redis-cli CONFIG SET appendonly yes`".into()),
                    );
                }
                say(out, Line::Detail("AOF is on".into()));
                self.after_verify(out);
            }
            (Step::DropOld, Input::Exec(_, _)) => self.wind_down_ok(out),
            (Step::Undo(u), input) => self.on_undo(u, input, out),
            (step, input) => {
                self.pending = Some((input_id(&input).unwrap_or_default(), step));
                say(out, Line::Warn(format!("ignored unexpected input {input:?}")));
            }
        }
    }

    fn on_connected(&mut self, r: Result<Option<String>, ConnectError>, out: &mut Vec<Effect>) {
        match r {
            Ok(how) => {
                self.connected = true;
                if let Some(h) = how {
                    say(out, Line::Detail(h));
                }
                self.redis(Step::LiveInfo, &["INFO"], out);
            }
            Err(e) if self.plan.method == Method::Auto && self.plan.url.is_none() => {
                let why = match e {
                    ConnectError::Forbidden(m) | ConnectError::Failed(m) => m,
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

    fn on_live_info(&mut self, r: Result<Reply, String>, out: &mut Vec<Effect>) {
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
        self.caps = Some(live::Caps {
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
            if self.pod_before.as_ref().is_some_and(pods::has_sentinel) {
                return self.choose_live(
                    "Sentinel runs beside it: a restart would make Sentinel fail over and the resync erase the restore".into(),
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

    fn choose_live(&mut self, why: String, out: &mut Vec<Effect>) {
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
    fn payload_limit(&self) -> u64 {
        let proto = self.proto_max_bulk.unwrap_or(512 << 20);
        self.plan
            .big_value_bytes
            .min(proto.saturating_sub(64))
            .max(64)
    }

    fn live_route(&mut self, out: &mut Vec<Effect>) {
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
        match live::check(&f.survey, h.flavor, &caps, self.payload_limit(), max_string) {
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

    fn get_lease(&mut self, out: &mut Vec<Effect>) {
        let request = Request::Get {
            name: self.lease.clone(),
        };
        self.ask(Step::GetLease, |id| Effect::Lock { id, request }, out);
    }

    /// `CLUSTER SHARDS` (or, before 7.0, `CLUSTER SLOTS`) answered: list the
    /// namespace's pods to find the cluster's Lease. A map that cannot be
    /// read leaves the named pod's Lease, with a warning.
    fn on_cluster_nodes(&mut self, shards: bool, r: Result<Reply, String>, out: &mut Vec<Effect>) {
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

    fn on_cluster_pods(&mut self, r: Result<Vec<PodInfo>, String>, out: &mut Vec<Effect>) {
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

    fn flush(&mut self, out: &mut Vec<Effect>) {
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

    fn load(&mut self, out: &mut Vec<Effect>) {
        let (Some(caps), Some(h)) = (self.caps.clone(), self.header) else {
            return self.fail(out, Exit::Error, "internal error: no server".into(), None);
        };
        say(out, Line::Step("load the backup into Redis".into()));
        let options = live::Options {
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

    fn on_loaded(&mut self, l: Loaded, out: &mut Vec<Effect>) {
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
                self.plan.restart_timeout_ms.min(60_000).to_string(),
            );
            return self.redis(Step::WaitReplicas, &["WAIT", &n, &ms], out);
        }
        self.redis(Step::Keyspace, &["INFO", "keyspace"], out);
    }

    /// After the load or the restart: the key counts against the backup's.
    fn keyspace_check(&mut self, text: String, out: &mut Vec<Effect>) {
        if self.plan.merge {
            let n = self.report.load.as_ref().map_or(0, |l| l.keys_restored);
            say(out, Line::Detail(format!("--merge: {n} keys of the backup restored; other keys were kept, so counts are not compared")));
            return self.wind_down_ok(out);
        }
        let loaded: BTreeMap<u64, u64> = reply::keyspace(&reply::info_fields(&text))
            .into_iter()
            .map(|(db, (keys, _))| (db, keys))
            .collect();
        if let Some(counts) = self.counts.clone() {
            return self.check_counts(&counts, &loaded, out);
        }
        if self.prelude.empty {
            // An empty backup: every database must be empty.
            self.count_report(&BTreeMap::new(), Some(&loaded), None);
            let total: u64 = loaded.values().sum();
            if total != 0 {
                return self.fail(
                        out,
                        Exit::VerifyFailed,
                        format!("restore did not take effect: the backup is empty but Redis holds {total} keys"),
                        Some(self.verify_hint()),
                    );
            }
            say(
                out,
                Line::Detail("no keys, as in the (empty) backup".into()),
            );
        } else if let Some(d) = self.prelude.first_db {
            // The file did not verify (--force-unverified): only its first
            // database's count is known, so only that database is compared
            // and reported.
            let db = d.db;
            let expected = BTreeMap::from([(db, (d.keys, d.expires))]);
            self.count_report(&expected, Some(&loaded), Some(db));
            let n = loaded.get(&db).copied().unwrap_or(0);
            // Keys whose TTL passed since the backup are dropped on load.
            let low = d.keys.saturating_sub(d.expires);
            if n < low || n > d.keys {
                return self.fail(
                        out,
                        Exit::VerifyFailed,
                        format!(
                            "restore did not take effect: db{db} holds {n} keys after the restart, the backup holds {} ({} with a TTL)",
                            d.keys, d.expires
                        ),
                        Some(self.verify_hint()),
                    );
            }
            let note = if n < d.keys {
                format!(" ({} keys with a TTL expired since the backup)", d.keys - n)
            } else {
                String::new()
            };
            say(
                out,
                Line::Detail(format!("db{db}: {n} keys, as in the backup{note}")),
            );
        } else {
            self.count_report(&BTreeMap::new(), Some(&loaded), Some(0));
            let n = loaded.get(&0).copied().unwrap_or(0);
            say(
                out,
                Line::Detail(format!(
                    "db0: {n} keys (the backup's count needs a full scan)"
                )),
            );
        }
        if self.appendonly {
            self.redis(Step::Persistence, &["INFO", "persistence"], out);
        } else {
            self.after_verify(out);
        }
    }

    /// The report's counts: per database the backup's (`expected`: keys,
    /// with a TTL) beside the server's (`loaded`, once counted), and the two
    /// totals over the same databases. `only`: the one database compared
    /// when the backup's other counts are unknown; else every database
    /// either side has keys in.
    fn count_report(
        &mut self,
        expected: &BTreeMap<u64, (u64, u64)>,
        loaded: Option<&BTreeMap<u64, u64>>,
        only: Option<u64>,
    ) {
        let mut dbs: Vec<u64> = match only {
            Some(db) => vec![db],
            None => expected
                .keys()
                .chain(loaded.into_iter().flat_map(|l| l.keys()))
                .copied()
                .collect(),
        };
        dbs.sort_unstable();
        dbs.dedup();
        let known = only.map_or(true, |db| expected.contains_key(&db));
        let exp = |db: &u64| known.then(|| expected.get(db).map_or(0, |e| e.0));
        let got = |db: &u64| loaded.map(|l| l.get(db).copied().unwrap_or(0));
        self.report.databases = dbs
            .iter()
            .map(|db| DbKeys {
                db: *db,
                keys_expected: exp(db),
                keys_loaded: got(db),
            })
            .collect();
        self.report.keys_expected = known.then(|| dbs.iter().filter_map(exp).sum());
        self.report.keys_loaded = loaded.map(|_| dbs.iter().filter_map(got).sum());
    }

    fn verify_hint(&self) -> String {
        if self.live {
            return "the load finished but the counts differ: another client may have written during it (scale writers down with --scale-down), or keys expired; run the restore again".into();
        }
        let old = match &self.appenddirname {
            Some(d) if self.appendonly => format!(
                " The AOF that was replaced is kept as {}.",
                join(&self.dir, &format!("{d}.kr-old"))
            ),
            _ => String::new(),
        };
        format!(
            "Redis did not load the backup: check `kubectl -n {} logs {} --previous`; a data directory that is not a persistent volume loses the file when the pod is replaced.{old}",
            self.plan.namespace,
            self.report.pod_after.as_deref().unwrap_or(&self.target().pod)
        )
    }

    fn restart_wait(&mut self, now: u64, out: &mut Vec<Effect>) {
        if now >= self.deadline_ms {
            let ns = self.plan.namespace.clone();
            let pod = self.target().pod;
            return self.fail(
                out,
                Exit::VerifyFailed,
                format!("Redis did not come back within {}", human::millis(self.plan.restart_timeout_ms)),
                Some(format!(
                    "check `kubectl -n {ns} get pods` and `kubectl -n {ns} logs {pod}`; a large dataset needs a longer --timeout"
                )),
            );
        }
        self.timer(Step::RestartTimer, out);
    }

    /// A reply from redis-cli in the pod or from the connection.
    fn any_reply(&mut self, input: Input, out: &mut Vec<Effect>) -> Option<Reply> {
        match input {
            Input::Exec(_, r) => self.reply(r, out),
            Input::Reply(_, Ok(Reply::Bulk(b))) => {
                Some(Reply::Text(String::from_utf8_lossy(&b).into_owned()))
            }
            Input::Reply(_, Ok(r)) => Some(r),
            Input::Reply(_, Err(e)) => {
                self.fail(
                    out,
                    Exit::Error,
                    format!("the connection to Redis failed: {e}"),
                    None,
                );
                None
            }
            _ => None,
        }
    }

    fn reply(&mut self, r: Result<CliOutput, String>, out: &mut Vec<Effect>) -> Option<Reply> {
        let t = self.target();
        match r {
            Ok(o) if o.exit_code.is_some_and(|c| c != 0) && !o.stdout.starts_with("(error)") => {
                let detail = if o.stderr.trim().is_empty() {
                    o.stdout
                } else {
                    o.stderr
                };
                self.fail(
                    out,
                    Exit::Error,
                    format!("redis-cli failed in {}/{}: {}", self.plan.namespace, t.pod, detail.trim()),
                    Some("check the port with --redis-port and that the container has redis-cli (--container)".into()),
                );
                None
            }
            Ok(o) => match reply::parse_cli_output(&o.stdout) {
                Reply::Error(e) if e.starts_with("NOAUTH") || e.starts_with("WRONGPASS") => {
                    self.fail(
                        out,
                        Exit::Error,
                        format!("Redis refused redis-cli: {e}"),
                        Some("set REDIS_PASSWORD, REDIS_PASSWORD_FILE or REDISCLI_AUTH in the container's environment, or give --password-from-secret".into()),
                    );
                    None
                }
                r => Some(r),
            },
            Err(e) => {
                let unchanged = if self.report.changed {
                    ""
                } else {
                    "; nothing was changed"
                };
                self.fail(
                    out,
                    Exit::Error,
                    format!(
                        "cannot run redis-cli in {}/{}: {e}{unchanged}",
                        self.plan.namespace, t.pod
                    ),
                    Some(format!(
                        "check `kubectl auth can-i create pods/exec -n {}`; a live restore needs no exec: --method live",
                        self.plan.namespace
                    )),
                );
                None
            }
        }
    }

    /// Every database as in the verified backup (allowing for keys whose
    /// TTL passed since), and no other database holding keys.
    fn check_counts(
        &mut self,
        counts: &BTreeMap<u64, reader::DbCount>,
        loaded: &BTreeMap<u64, u64>,
        out: &mut Vec<Effect>,
    ) {
        let expected = counts
            .iter()
            .map(|(db, c)| (*db, (c.keys, c.expires)))
            .collect();
        self.count_report(&expected, Some(loaded), None);
        let mut wrong = Vec::new();
        let mut expired = 0;
        for (db, c) in counts {
            let n = loaded.get(db).copied().unwrap_or(0);
            if n < c.keys.saturating_sub(c.expires) || n > c.keys {
                wrong.push(format!(
                    "db{db} holds {n} keys, the backup {} ({} with a TTL)",
                    c.keys, c.expires
                ));
            }
            expired += c.keys.saturating_sub(n);
        }
        for (db, n) in loaded {
            if !counts.contains_key(db) && *n > 0 {
                wrong.push(format!("db{db} holds {n} keys, the backup none"));
            }
        }
        if !wrong.is_empty() {
            return self.fail(
                out,
                Exit::VerifyFailed,
                format!("restore did not take effect: {}", wrong.join("; ")),
                Some(self.verify_hint()),
            );
        }
        let total: u64 = counts.values().map(|c| c.keys).sum();
        let note = if expired > 0 {
            format!(" ({expired} keys with a TTL expired since the backup)")
        } else {
            String::new()
        };
        say(
            out,
            Line::Detail(format!(
                "{} keys in {} database(s), as in the backup{note}",
                total - expired,
                counts.len()
            )),
        );
        if self.appendonly && !self.live {
            self.redis(Step::Persistence, &["INFO", "persistence"], out);
        } else {
            self.after_verify(out);
        }
    }

    fn on_local(&mut self, r: Result<LocalFile, String>, out: &mut Vec<Effect>) {
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
        let (namespace, selector, name) = (
            self.plan.namespace.clone(),
            self.plan.selector.clone(),
            self.plan.pod.clone(),
        );
        self.ask(
            Step::Pods,
            |id| Effect::ListPods {
                id,
                namespace,
                selector,
                name,
            },
            out,
        );
    }

    fn on_pods(&mut self, r: Result<Vec<PodInfo>, String>, out: &mut Vec<Effect>) {
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
                self.lease = lease_name(&pod.owner, &t.pod);
                self.report.pod = t.pod.clone();
                let sentinel = pods::has_sentinel(&pod);
                self.pod_before = Some(pod);
                self.target = Some(t.clone());
                if sentinel && self.plan.method == Method::Swap {
                    return self.fail(
                        out,
                        Exit::Invalid,
                        format!("Sentinel runs beside Redis in pod {}: stopping this Redis for a file swap makes Sentinel fail over, and the full resync that follows erases the restore; nothing was changed", t.pod),
                        Some("restore it live instead: --method live (or auto)".into()),
                    );
                }
                if self.plan.method == Method::Swap {
                    return self.redis(Step::InfoServer, &["INFO"], out);
                }
                self.live = true;
                say(
                    out,
                    Line::Step(format!("port-forward to {}:{}", t.pod, t.port)),
                );
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

    fn next_writer(&mut self, i: usize, out: &mut Vec<Effect>) {
        if i < self.writers.len() {
            let writer = self.writers[i].writer.clone();
            return self.ask(Step::Writer(i), |id| Effect::GetWriter { id, writer }, out);
        }
        self.show_plan(out);
    }

    fn take_lease(&mut self, replaces: Option<String>, out: &mut Vec<Effect>) {
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
    fn tools(&self) -> Vec<String> {
        let mut t = vec!["redis-cli", "head", "cat", "mv", "rm"];
        if matches!(self.layout(), Layout::AofMultiPart { .. }) {
            t.push("mkdir");
        }
        t.into_iter().map(str::to_string).collect()
    }

    fn layout(&self) -> Layout {
        match (&self.server, self.appendonly) {
            (_, false) => Layout::Rdb,
            (Some(s), true) if s.flavor == rdb::Flavor::Valkey || s.version.0 >= 7 => {
                Layout::AofMultiPart {
                    dirname: self
                        .appenddirname
                        .clone()
                        .unwrap_or_else(|| "appendonlydir".into()),
                    filename: self.appendfilename.clone(),
                }
            }
            (_, true) => Layout::AofPreamble {
                filename: self.appendfilename.clone(),
            },
        }
    }

    fn show_plan(&mut self, out: &mut Vec<Effect>) {
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
            return self.annotate_next(self.now, 0, out);
        }
        self.ask(Step::Confirm, |id| Effect::Confirm { id }, out);
    }

    fn annotate_next(&mut self, now: u64, from: usize, out: &mut Vec<Effect>) {
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

    fn count_next(&mut self, from: usize, out: &mut Vec<Effect>) {
        match (from..self.writers.len()).find(|&i| self.writers[i].state.is_some()) {
            Some(i) => self.count(i, out),
            None if self.live => self.flush(out),
            None => self.upload(out),
        }
    }

    fn count(&mut self, i: usize, out: &mut Vec<Effect>) {
        let selector = self.writers[i]
            .state
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        self.ask(Step::Count(i), |id| Effect::CountPods { id, selector }, out);
    }

    fn upload(&mut self, out: &mut Vec<Effect>) {
        let remote = join(&self.dir, TMP_NAME);
        let into = match self.layout() {
            Layout::Rdb => join(&self.dir, &self.dbfilename),
            Layout::AofMultiPart { dirname, .. } => join(&self.dir, &dirname),
            Layout::AofPreamble { filename } => join(&self.dir, &filename),
        };
        say(out, Line::Step(format!("copy backup to pod:{into}")));
        self.undo.push(Undo::RemoveRemote(remote.clone()));
        let (target, local, bytes) = (self.target(), self.plan.file.clone(), self.report.bytes);
        self.ask(
            Step::Upload,
            |id| Effect::Upload {
                id,
                target,
                local,
                remote,
                bytes,
            },
            out,
        );
    }

    fn install(&mut self, out: &mut Vec<Effect>) {
        let tmp = join(&self.dir, TMP_NAME);
        let argv: Vec<String> = match self.layout() {
            Layout::Rdb => vec![
                "mv".into(),
                "-f".into(),
                tmp,
                join(&self.dir, &self.dbfilename),
            ],
            Layout::AofPreamble { filename } => {
                vec!["mv".into(), "-f".into(), tmp, join(&self.dir, &filename)]
            }
            Layout::AofMultiPart { dirname, filename } => vec![
                "sh".into(),
                "-c".into(),
                AOF_INSTALL.into(),
                "kubectl-redis".into(),
                self.dir.clone(),
                TMP_NAME.into(),
                dirname,
                format!("{filename}.1.base.rdb"),
                format!("{filename}.manifest"),
            ],
        };
        self.exec(Step::Install, argv, out);
    }

    fn after_verify(&mut self, out: &mut Vec<Effect>) {
        if self.live {
            return self.wind_down_ok(out);
        }
        match self.layout() {
            Layout::AofMultiPart { dirname, .. } => {
                let old = join(&self.dir, &format!("{dirname}.kr-old"));
                self.exec(Step::DropOld, vec!["rm".into(), "-rf".into(), old], out);
            }
            _ => self.wind_down_ok(out),
        }
    }

    fn wind_down_ok(&mut self, out: &mut Vec<Effect>) {
        self.wind_down(
            Ending {
                exit: Exit::Ok,
                error: None,
            },
            out,
        );
    }

    fn fail(&mut self, out: &mut Vec<Effect>, exit: Exit, message: String, hint: Option<String>) {
        if self.winding.is_some() {
            // A failure while winding down: keep the first error.
            return;
        }
        let error = Some(Failure { message, hint });
        self.wind_down(Ending { exit, error }, out);
    }

    /// Runs every registered undo, newest first, then finishes as `ending`.
    fn wind_down(&mut self, ending: Ending, out: &mut Vec<Effect>) {
        self.pending = None;
        self.winding = Some(ending);
        self.next_undo(out);
    }

    fn next_undo(&mut self, out: &mut Vec<Effect>) {
        let Some(u) = self.undo.pop() else {
            return self.finish(out);
        };
        match u.clone() {
            Undo::RemoveRemote(path) => {
                self.exec(Step::Undo(u), vec!["rm".into(), "-f".into(), path], out);
            }
            Undo::ScaleUp(i) => {
                let replicas = self.writers[i]
                    .state
                    .as_ref()
                    .map(|s| s.replicas)
                    .unwrap_or(0);
                let w = self.writers[i].writer.clone();
                say(
                    out,
                    Line::Step(format!("scale {} back to {replicas}", w.name)),
                );
                self.ask(
                    Step::Undo(u),
                    |id| Effect::Scale {
                        id,
                        writer: w,
                        replicas,
                    },
                    out,
                );
            }
            Undo::Unannotate(i) if self.writers[i].scale_failed => self.next_undo(out),
            Undo::Unannotate(i) => {
                let (w, holder) = (self.writers[i].writer.clone(), self.plan.holder.clone());
                self.ask(
                    Step::Undo(u),
                    |id| Effect::Annotate {
                        id,
                        writer: w,
                        record: None,
                        holder,
                    },
                    out,
                );
            }
            Undo::Release => {
                let request = Request::Release {
                    name: self.lease.clone(),
                };
                self.ask(Step::Undo(u), |id| Effect::Lock { id, request }, out);
            }
        }
    }

    fn on_undo(&mut self, u: Undo, input: Input, out: &mut Vec<Effect>) {
        let failed = match &input {
            Input::Done(_, Err(e)) => Some(e.clone()),
            Input::Exec(_, Err(e)) => Some(e.clone()),
            Input::Reply(_, Err(e)) => Some(e.clone()),
            Input::Lock(_, LockAnswer::Released(Err(e))) => Some(e.clone()),
            _ => None,
        };
        match (&u, failed) {
            (Undo::ScaleUp(i), None) => self.writers[*i].restored = true,
            (Undo::ScaleUp(i), Some(e)) => {
                let w = self.writers[*i].writer.to_string();
                self.writers[*i].scale_failed = true;
                say(
                    out,
                    Line::Warn(format!(
                        "cannot scale {w} back: {e}; its replica count stays recorded: run `kubectl redis restore --recover -n {}`",
                        self.plan.namespace
                    )),
                );
                if let Some(f) = &mut self.winding {
                    if f.exit == Exit::Ok {
                        f.exit = Exit::Error;
                        f.error = Some(Failure {
                            message: format!(
                                "the restore worked but {w} could not be scaled back: {e}"
                            ),
                            hint: Some(format!(
                                "run `kubectl redis restore --recover -n {}`",
                                self.plan.namespace
                            )),
                        });
                    }
                }
            }
            (Undo::RemoveRemote(p), Some(e)) => {
                say(
                    out,
                    Line::Warn(format!("could not remove {p} from the pod: {e}")),
                );
            }
            (Undo::Unannotate(i), Some(e)) => {
                let w = self.writers[*i].writer.to_string();
                say(
                    out,
                    Line::Warn(format!("could not remove the replica record from {w}: {e}")),
                );
            }
            (Undo::Release, Some(e)) => {
                say(
                    out,
                    Line::Warn(format!(
                        "could not release the lock Lease {}: {e} (it expires on its own)",
                        self.lease
                    )),
                );
            }
            _ => {}
        }
        self.next_undo(out);
    }

    fn finish(&mut self, out: &mut Vec<Effect>) {
        let Some(Ending { exit, error }) = self.winding.take() else {
            return;
        };
        let report = Report {
            writers: self
                .writers
                .iter()
                .filter_map(|w| {
                    w.state.as_ref().map(|s| WriterReport {
                        name: w.writer.to_string(),
                        replicas: s.replicas,
                        restored: w.restored,
                    })
                })
                .collect(),
            duration_ms: self.now.saturating_sub(self.started_ms.unwrap_or(self.now)),
            ..self.report.clone()
        };
        let f = Finish {
            exit,
            report,
            error,
        };
        if f.exit == Exit::Ok && !self.plan.dry_run {
            say(out, Line::Step("DONE".into()));
        }
        if self.connected {
            self.connected = false;
            out.push(Effect::Disconnect);
        }
        self.finished = true;
        self.pending = None;
        out.push(Effect::Finish(f));
    }
}

/// Installs the backup as the base of a fresh multi-part AOF (Redis 7.0+):
/// builds the new directory beside the old one, then swaps them, keeping the
/// old one as `DIR.kr-old` until the restarted server is verified.
const AOF_INSTALL: &str = "set -e; cd \"$1\"; rm -rf \"$3.kr-new\" \"$3.kr-old\"; mkdir \"$3.kr-new\"; mv -f \"$2\" \"$3.kr-new/$4\"; printf 'file %s seq 1 type b\\n' \"$4\" > \"$3.kr-new/$5\"; if [ -e \"$3\" ]; then mv \"$3\" \"$3.kr-old\"; fi; mv \"$3.kr-new\" \"$3\"";

fn input_id(i: &Input) -> Option<Id> {
    Some(match i {
        Input::Local(id, _)
        | Input::Pods(id, _)
        | Input::Exec(id, _)
        | Input::Probed(id, _)
        | Input::Writer(id, _)
        | Input::Lock(id, _)
        | Input::Answer(id, _)
        | Input::PodCount(id, _)
        | Input::Done(id, _)
        | Input::Connected(id, _)
        | Input::Reply(id, _)
        | Input::Loaded(id, _)
        | Input::Timer(id) => *id,
        Input::Start | Input::Interrupt => return None,
    })
}

/// A replica's refusal, naming its primary (from `INFO replication`).
const CLUSTER_SWAP: &str = "the server runs in cluster mode: a file swap cannot restore a Redis Cluster (a node started on a file holding other nodes' slots marks them importing); nothing was changed";

fn replica_refusal(
    fields: &std::collections::BTreeMap<String, String>,
    pod: &str,
) -> Option<String> {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (get("role") == "slave").then(|| {
        format!(
            "{pod} is a replica (of {}:{}): what is written to it is replaced by its primary's data; nothing was changed",
            get("master_host"),
            get("master_port")
        )
    })
}

fn first_line(r: &Reply) -> String {
    match r {
        Reply::Text(t) => t.lines().next().unwrap_or("").to_string(),
        Reply::Error(e) => format!("error: {e}"),
        other => format!("{other:?}"),
    }
}

fn say(out: &mut Vec<Effect>, line: Line) {
    out.push(Effect::Say(line));
}
