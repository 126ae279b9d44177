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
//!
//! Where the steps are: this file holds the machine (plan, inputs, effects,
//! report), the dispatch of every answer, and what both methods share (the
//! count check against the backup, the undo list, the finish);
//! `preflight` everything before the first change (file, pod, server,
//! Lease, writers, confirmation, scale-down); `swap` the file swap and the
//! restart; [`live`] the live restore's steps and its data plane.

pub mod live;
mod preflight;
mod swap;
pub use swap::REINSTATE;

use crate::backup::{join, CliOutput, ConnectError, Endpoint, Failure, Id, Line, Url};
use crate::exit::Exit;
use crate::kube::lock::{self, Answer as LockAnswer, Request};
pub use crate::kube::lock::{lease_name, LeaseError, LeaseState};
use crate::kube::pods::{PodInfo, Target};
use crate::rdb::reader;
use crate::rdb::{Header, Prelude, Server};
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
    /// The SHA-256 of the bytes verified (empty when not read): what is
    /// sent later must be these bytes.
    pub sha256: String,
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
    /// The lock is held outside this restore (a backup set restored one Job
    /// per target primary: the run that started the Jobs holds the
    /// cluster's Lease): no Lease is taken here.
    pub locked_outside: bool,
    /// `--to-time`: archived commands to replay once the base is loaded and
    /// its counts checked, before writers are scaled back (`None`: none).
    pub replay: Option<u64>,
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
    /// The shell's renewal found the lock Lease lost (why, for the
    /// message): stop as for an interrupt, putting writers back.
    LeaseLost(String),
    /// Answer to [`Effect::Connect`]: how it authenticated (for the log).
    Connected(Id, Result<Option<String>, ConnectError>),
    /// Answer to [`Effect::Send`].
    Reply(Id, Result<Reply, String>),
    /// Answer to [`Effect::Load`].
    Loaded(Id, Loaded),
    /// Answer to [`Effect::Replay`]: the commands the server accepted, or
    /// why the replay stopped (the first error reply, a broken link).
    Replayed(Id, Result<u64, String>),
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
        /// The SHA-256 the file had when verified: what is sent must match
        /// (a file replaced meanwhile is never installed).
        sha256: String,
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
    /// `--to-time`: send the archived commands on the connection, checking
    /// every reply.
    Replay {
        /// Effect id.
        id: Id,
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
    /// The restore was confirmed and starts changing things now (not
    /// answered): the shell records it for the audit trail.
    Begin {
        /// The target's namespace and pod, as the report says them.
        namespace: String,
        pod: String,
    },
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
    /// `--to-time`: archived commands the server accepted (the shell
    /// reports them as `point_in_time`).
    #[serde(skip)]
    pub replayed: Option<u64>,
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
    ShutdownWho,
    ShutdownDry,
    ShutdownKnown,
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
    NoteInstall,
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
    ReplayConnect,
    Replay,
    Undo(Undo),
}

/// A step that puts back what an earlier step changed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Undo {
    RemoveRemote(String),
    /// Put back what the install replaced (kept beside it as `NAME.kr-old`),
    /// or remove what it added where nothing was: until `SHUTDOWN` is
    /// accepted, the server still holds the old data in memory, and the
    /// installed backup would otherwise load at its next restart.
    Reinstate(String),
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
    /// When the `--to-time` replay was asked for (ms).
    replay_started_ms: u64,
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
    /// Whether the swap's SHUTDOWN was found allowed (or could not be told).
    shutdown_checked: bool,
    /// Set when the shell found the lock Lease lost: the failure's message.
    lease_lost: Option<String>,
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
            replay_started_ms: 0,
            shutdown_checked: false,
            lease_lost: None,
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

    /// Whether the effect last asked for must be carried out to its answer
    /// whatever happens meanwhile (an interrupt, a lost Lease): moving the
    /// file into place and stopping Redis belong together, and the machine
    /// waits for their answer before it winds down.
    pub fn uninterruptible(&self) -> bool {
        matches!(self.pending, Some((_, Step::Install | Step::Shutdown)))
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

    /// Lists the pods the plan names (its selector, or `--pod`).
    fn list_pods(&mut self, step: Step, out: &mut Vec<Effect>) {
        let (namespace, selector, name) = (
            self.plan.namespace.clone(),
            self.plan.selector.clone(),
            self.plan.pod.clone(),
        );
        self.ask(
            step,
            |id| Effect::ListPods {
                id,
                namespace,
                selector,
                name,
            },
            out,
        );
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
        if let Input::LeaseLost(why) = &input {
            if self.lease_lost.is_none() {
                self.lease_lost = Some(lock::lost_message(&self.lease, why));
            }
            return self.on_interrupt(out);
        }
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
                match self.lease_lost.clone() {
                    Some(m) => self.fail(out, Exit::Locked, m, Some(hint.into())),
                    None => self.fail(
                        out,
                        Exit::Interrupted,
                        "interrupted".into(),
                        Some(hint.into()),
                    ),
                }
            }
        }
    }

    fn on_answer(&mut self, now: u64, step: Step, input: Input, out: &mut Vec<Effect>) {
        match (step, input) {
            (Step::Local, Input::Local(_, r)) => self.on_local(r, out),
            (Step::Pods, Input::Pods(_, r)) => self.on_pods(r, out),
            (Step::InfoServer, Input::Exec(_, r)) => self.on_info_server(r, out),
            (Step::Config(name), Input::Exec(_, r)) => self.on_config(name, r, out),
            (Step::Connect, Input::Connected(_, r)) => self.on_connected(r, out),
            (Step::LiveInfo, Input::Reply(_, r)) => self.on_live_info(r, out),
            (Step::ClusterNodes, Input::Reply(_, r)) => self.on_cluster_nodes(true, r, out),
            (Step::ClusterSlots, Input::Reply(_, r)) => self.on_cluster_nodes(false, r, out),
            (Step::ClusterPods, Input::Pods(_, r)) => self.on_cluster_pods(r, out),
            (Step::LiveConfig, Input::Reply(_, r)) => self.on_live_config(r, out),
            (Step::Flush, Input::Reply(_, r)) => self.on_flushed(r, out),
            (Step::Wipe, Input::Done(_, r)) => self.on_wiped(r, out),
            (Step::Load, Input::Loaded(_, l)) => self.on_loaded(l, out),
            (Step::WaitReplicas, Input::Reply(_, r)) => self.on_replicas_waited(r, out),
            (Step::Probe, Input::Probed(_, r)) => self.on_probed(r, out),
            (
                s @ (Step::ShutdownWho | Step::ShutdownDry | Step::ShutdownKnown),
                Input::Exec(_, r),
            ) => self.on_shutdown_check(s, r, out),
            (Step::Writer(i), Input::Writer(_, r)) => self.on_writer(i, r, out),
            (Step::GetLease, Input::Lock(_, LockAnswer::Found(r))) => {
                self.on_lease_found(now, r, out)
            }
            (Step::TakeLease, Input::Lock(_, LockAnswer::Taken(r))) => self.on_lease_taken(r, out),
            (Step::Confirm, Input::Answer(_, a)) => self.on_confirm(now, a, out),
            (Step::Annotate(i), Input::Done(_, r)) => self.on_annotated(i, r, out),
            (Step::ScaleDown(i), Input::Done(_, r)) => self.on_scaled_down(now, i, r, out),
            (Step::Count(i), Input::PodCount(_, r)) => self.on_counted(now, i, r, out),
            (Step::CountTimer(i), Input::Timer(_)) => self.count(i, out),
            (Step::Upload, Input::Done(_, r)) => self.on_uploaded(r, out),
            (Step::NoteInstall, Input::Lock(_, LockAnswer::Noted(r))) => {
                self.on_install_noted(r, out)
            }
            (Step::Install, Input::Exec(_, r)) => self.on_installed(r, out),
            (Step::Shutdown, Input::Exec(_, r)) => self.on_shutdown(now, r, out),
            (Step::RestartTimer, Input::Timer(_)) => self.look_for_restart(out),
            (Step::Restarted, Input::Pods(_, r)) => self.on_restarted(now, r, out),
            (Step::Ping, Input::Exec(_, r)) => self.on_ping(now, r, out),
            (Step::Keyspace, input @ (Input::Exec(..) | Input::Reply(..))) => {
                let Some(reply) = self.any_reply(input, out) else {
                    return;
                };
                let text = match &reply {
                    Reply::Text(t) => t.clone(),
                    _ => String::new(),
                };
                self.keyspace_check(text, out);
            }
            (Step::Persistence, Input::Exec(_, r)) => self.on_persistence(r, out),
            (Step::DropOld, Input::Exec(_, _)) => self.succeed(out),
            (Step::ReplayConnect, Input::Connected(_, r)) => match r {
                Ok(_) => {
                    self.connected = true;
                    self.ask(Step::Replay, |id| Effect::Replay { id }, out);
                }
                Err(e) => {
                    self.replay_failed(format!("connecting for the replay failed: {e:?}"), out)
                }
            },
            (Step::Replay, Input::Replayed(_, r)) => match r {
                Ok(n) => {
                    self.report.replayed = Some(n);
                    let took = self.now.saturating_sub(self.replay_started_ms);
                    say(
                        out,
                        Line::Detail(format!(
                            "{n} archived commands replayed in {}.{:02} s, every one accepted",
                            took / 1000,
                            took % 1000 / 10
                        )),
                    );
                    self.wind_down_ok(out);
                }
                Err(e) => self.replay_failed(e, out),
            },
            (Step::Undo(u), input) => self.on_undo(u, input, out),
            (step, input) => {
                self.pending = Some((input_id(&input).unwrap_or_default(), step));
                say(
                    out,
                    Line::Warn(format!("ignored unexpected input {input:?}")),
                );
            }
        }
    }

    /// After the load or the restart: the key counts against the backup's.
    fn keyspace_check(&mut self, text: String, out: &mut Vec<Effect>) {
        if self.plan.merge {
            let n = self.report.load.as_ref().map_or(0, |l| l.keys_restored);
            say(out, Line::Detail(format!("--merge: {n} keys of the backup restored; other keys were kept, so counts are not compared")));
            return self.succeed(out);
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
        let known = only.is_none_or(|db| expected.contains_key(&db));
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
                self.fail(
                    out,
                    Exit::Error,
                    format!("redis-cli failed in {}/{}: {}", self.plan.namespace, t.pod, o.complaint().trim()),
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

    fn wind_down_ok(&mut self, out: &mut Vec<Effect>) {
        self.wind_down(
            Ending {
                exit: Exit::Ok,
                error: None,
            },
            out,
        );
    }

    /// The base is in and checked: with `--to-time`, the archived
    /// commands go next (over the live restore's connection, or a new one
    /// to the restarted server), before any undo scales writers back.
    fn succeed(&mut self, out: &mut Vec<Effect>) {
        let Some(n) = self.plan.replay.filter(|_| !self.plan.dry_run) else {
            return self.wind_down_ok(out);
        };
        say(
            out,
            Line::Step(format!(
                "replay {n} archived commands (writers still stopped)"
            )),
        );
        self.replay_started_ms = self.now;
        if self.connected {
            return self.ask(Step::Replay, |id| Effect::Replay { id }, out);
        }
        match self.target.clone() {
            Some(t) => self.ask(
                Step::ReplayConnect,
                |id| Effect::Connect {
                    id,
                    to: Endpoint::Pod(t),
                },
                out,
            ),
            None => self.replay_failed("no server to replay into".into(), out),
        }
    }

    fn replay_failed(&mut self, why: String, out: &mut Vec<Effect>) {
        let base = self.plan.file.clone();
        self.fail(
            out,
            Exit::VerifyFailed,
            format!("the base {base} is loaded, but {why}"),
            Some("run the same restore again (it starts from the base), or restore to an earlier second".into()),
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
            Undo::Reinstate(path) => {
                say(out, Line::Step(format!("put the previous {path} back")));
                let argv = vec![
                    "sh".into(),
                    "-c".into(),
                    swap::REINSTATE.into(),
                    "kubectl-redis".into(),
                    path,
                ];
                self.exec(Step::Undo(u), argv, out);
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
            Input::Exec(_, Ok(o)) if o.exit_code.is_some_and(|c| c != 0) => {
                Some(o.complaint().trim().to_string())
            }
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
            (Undo::Reinstate(p), Some(e)) => {
                let f = self.winding.get_or_insert(Ending {
                    exit: Exit::Error,
                    error: None,
                });
                f.exit = Exit::Error;
                f.error = Some(Failure {
                    message: format!(
                        "{} and the previous {p} could not be put back: {e}; the backup is in place and Redis would load it at its next restart, losing the writes since",
                        f.error.as_ref().map(|e| e.message.as_str()).unwrap_or("the restore stopped")
                    ),
                    hint: Some(format!(
                        "before Redis restarts, run in the pod: if [ -e {p}.kr-old ]; then mv -f {p}.kr-old {p}; else rm -f {p}; fi (for a directory: rm -rf {p} && mv {p}.kr-old {p})"
                    )),
                });
            }
            (Undo::Reinstate(p), None) => {
                say(out, Line::Detail(format!("{p}: the previous file is back")));
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
        | Input::Replayed(id, _)
        | Input::Timer(id) => *id,
        Input::Start | Input::Interrupt | Input::LeaseLost(_) => return None,
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
