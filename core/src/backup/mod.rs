//! The backup as a state machine with no I/O.
//!
//! The shell creates a [`Backup`] from a [`Plan`], feeds it [`Input::Start`]
//! and then, for every [`Effect`] it gets back, does the work and feeds the
//! result in as an [`Input`] carrying the effect's id. Time enters only as the
//! `now` argument (monotonic milliseconds) and as [`Plan::started_unix`] (the
//! wall clock that names the file). The machine ends with exactly one
//! [`Effect::Finish`].
//!
//! One machine, two methods ([`Method`]), sharing the pod choice, the lock,
//! the temporary file, verification, the commit and the clean-up:
//!
//! - **bgsave** follows the runbook: find the pod, read where Redis keeps its
//!   dump (`CONFIG GET dir` / `dbfilename`), read `LASTSAVE`, `BGSAVE`, wait
//!   for `LASTSAVE` to advance, stream the file out into a temporary file,
//!   check it, then fsync and rename it to its final name.
//! - **stream** ([`stream`]) connects to Redis (a port-forward, or `--url`),
//!   authenticates, and downloads a snapshot over the replication protocol
//!   into the temporary file, verified as it arrives.
//! - **auto** streams, and where the server or the cluster refuses, says so
//!   and carries on with bgsave under the same lock.
//!
//! A failure or an interrupt after the temporary file exists removes it
//! before finishing; the lock is released last.

mod bgsave;
mod stream;

use crate::exit::Exit;
use crate::human;
use crate::kube::lock::{self, Answer, Decision, LeaseError, Request};
use crate::kube::pods::{self, PodInfo, Target, Wanted};
use crate::rdb;
use crate::rdb::reader;
use crate::store::manifest::{self, Manifest};
use crate::store::names;
use crate::topo;
use crate::wire::repl::{self, Framing};
use crate::wire::reply::{self, Reply};
use serde::Serialize;

/// Identifies an effect; the input answering it carries the same id.
pub type Id = u64;

/// How the snapshot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Stream; where the server or cluster refuses, bgsave.
    #[default]
    Auto,
    /// The replication protocol (`SYNC`) over a connection to Redis.
    Stream,
    /// `BGSAVE` in the pod, then the file copied out through exec.
    Bgsave,
}

/// A Redis server reached directly (`--url`), not through a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Where the stream method connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A port-forward to the pod's Redis port.
    Pod(Target),
    /// Straight to a server.
    Url(Url),
}

/// Credentials for the Redis connection, as the machine knows them: who, and
/// where the password came from. The password itself stays in the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `--user-name`: an ACL user.
    pub user: Option<String>,
    /// Where the password came from (`$REDISCLI_AUTH`, `Secret a/b`), or
    /// `None` when the user gave none.
    pub password_from: Option<String>,
}

/// Why a connection to Redis could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// RBAC does not allow the port-forward.
    Forbidden(String),
    /// Anything else (no such port, connection refused, ...).
    Failed(String),
    /// TLS could not be set up, or its handshake failed (an unknown CA, a
    /// name mismatch, a missing client certificate, TLS on one side only):
    /// a setting to fix, with the flag in the message; never a reason to
    /// fall back to another method. Exit 2.
    Tls(String),
}

/// What a snapshot download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// RDB bytes received (and written, unless only checking).
    pub bytes: u64,
    /// `$<len>` (written to the server's disk first) or diskless.
    pub framing: Framing,
    /// SHA-256 of the RDB bytes, hex.
    pub sha256: String,
    /// The reader's verdict on every byte: the download is complete and whole.
    pub summary: reader::Summary,
}

/// Why a snapshot download failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError {
    /// The server did not start sending within the timeout.
    Timeout,
    /// The connection or the local file failed: what was being done, and why.
    Io(String),
    /// The server refused, or sent something that is not a whole snapshot.
    Stream(repl::Error),
}

/// Everything the backup needs to know up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Namespace to look in.
    pub namespace: String,
    /// Label selector, e.g. `app=redis`.
    pub selector: String,
    /// `--pod`: a pod name instead of the selector.
    pub pod: Option<String>,
    /// `--container`.
    pub container: Option<String>,
    /// `--redis-port`.
    pub port: Option<u16>,
    /// Where the backup goes, as the user wrote it.
    pub out_dir: String,
    /// Wall-clock start (Unix seconds, UTC): names the file.
    pub started_unix: i64,
    /// How long BGSAVE may take, from the moment it is sent.
    pub timeout_ms: u64,
    /// How often to poll while waiting.
    pub poll_ms: u64,
    /// This run's identity in the lock Lease.
    pub holder: String,
    /// kubeconfig context, for the manifest.
    pub context: Option<String>,
    /// `kubectl-redis x.y.z`, for the manifest.
    pub tool: String,
    /// Lock Lease duration; the shell renews it at a third of that.
    pub lease_s: i64,
    /// How the snapshot is taken.
    pub method: Method,
    /// `--url`: this server instead of a pod (stream only; no lock).
    pub url: Option<Url>,
    /// What the user gave for the Redis connection. With no password, the
    /// stream method asks the shell for the pod's own ([`Effect::PodPassword`]).
    pub credentials: Credentials,
    /// Check the snapshot and save nothing (`verify --url`).
    pub check_only: bool,
    /// `--diskless`: always ask for a diskless snapshot, even when the
    /// server delays those (`repl-diskless-sync-delay`).
    pub diskless: bool,
    /// `--encrypt-to`: the age recipients (public keys) the file is
    /// encrypted to; the name then ends in `.rdb.age` and the manifest says so.
    pub recipients: Vec<String>,
    /// `--from`: a replica or the primary, when replicas are labelled.
    pub from: pods::Prefer,
    /// The caller holds the lock (each shard of a cluster backup, under the
    /// cluster's one Lease): take none.
    pub locked_outside: bool,
}

/// Output of one `redis-cli` run in the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliOutput {
    /// Exit code, when the API server reported one.
    pub exit_code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl CliOutput {
    /// What a failed run said: its stderr, or its stdout when stderr is
    /// blank.
    pub fn complaint(&self) -> &str {
        if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        }
    }
}

/// What a copy out of the pod produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Bytes written to the temporary file.
    pub bytes: u64,
    /// The size of the file in the pod when it was opened, if known.
    pub expected: Option<u64>,
    /// The first bytes (up to [`rdb::HEADER_LEN`]).
    pub head: Vec<u8>,
    /// SHA-256 of the bytes written, hex.
    pub sha256: String,
    /// The RDB reader's verdict on every byte, read as it streamed by.
    pub verified: Result<reader::Summary, reader::Error>,
}

/// Why a copy failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyError {
    /// The dump file does not exist in the pod.
    Missing(String),
    /// The stream broke off, the exec failed, or the local write failed.
    Failed(String),
}

/// Why committing the temporary file failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitError {
    /// A file already has the final name (never overwritten).
    Exists,
    /// fsync or rename failed.
    Failed(String),
}

/// Results of effects, and events from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin.
    Start,
    /// Answer to [`Effect::ListPods`]: the pods, or the API error.
    Pods(Id, Result<Vec<PodInfo>, String>),
    /// Answer to [`Effect::Redis`]: what `redis-cli` printed, or why it could
    /// not be run at all.
    Redis(Id, Result<CliOutput, String>),
    /// A timer from [`Effect::Timer`] expired.
    Timer(Id),
    /// Answer to [`Effect::CreateTemp`]: the path of the new empty file.
    TempCreated(Id, Result<String, String>),
    /// Answer to [`Effect::CopyOut`].
    Copied(Id, Result<CopyReport, CopyError>),
    /// Answer to [`Effect::Commit`].
    Committed(Id, Result<(), CommitError>),
    /// Answer to [`Effect::Discard`] (best effort, always answered).
    Discarded(Id),
    /// Answer to [`Effect::Lock`].
    Lock(Id, Answer),
    /// Answer to [`Effect::PodPassword`]: where the password was found
    /// (`None`: the pod has none), or why it could not be read.
    PodPassword(Id, Result<Option<String>, String>),
    /// Answer to [`Effect::Connect`].
    Connected(Id, Result<(), ConnectError>),
    /// Answer to [`Effect::Probe`]: the tools the container lacks, or why
    /// not even `sh` ran.
    Probed(Id, Result<Vec<String>, String>),
    /// Answer to [`Effect::Send`] and [`Effect::Auth`]: the server's reply,
    /// or why none came.
    Reply(Id, Result<Reply, String>),
    /// Answer to [`Effect::Sync`].
    Synced(Id, Result<SyncReport, SyncError>),
    /// The user pressed Ctrl-C.
    Interrupt,
    /// The shell's renewal found the lock Lease lost (why, for the
    /// message): stop as for an interrupt, nothing saved.
    LeaseLost(String),
}

/// A progress line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `[backup] text`
    Step(String),
    /// `  text` (a value under the step before it)
    Detail(String),
    /// `[backup] warning: text`
    Warn(String),
    /// `text`, as is (the runbook's `Backup ...`/`Target: ...` lines).
    Plain(String),
}

/// Work for the shell.
// Effects live for one step of the machine, a few at a time; boxing the
// final report would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// List pods matching `selector` (or fetch the one `name`d) in `namespace`.
    ListPods {
        /// Effect id.
        id: Id,
        /// Namespace.
        namespace: String,
        /// Label selector, when no name is given.
        selector: String,
        /// A pod name (`--pod`).
        name: Option<String>,
    },
    /// Run `redis-cli --no-raw -p PORT ARGS...` in the target container.
    Redis {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// Command and arguments.
        args: Vec<String>,
    },
    /// Answer with [`Input::Timer`] after `after_ms`.
    Timer {
        /// Effect id.
        id: Id,
        /// Delay.
        after_ms: u64,
    },
    /// Create a new empty file, mode 0600, in `dir` (created 0700 if missing)
    /// whose name starts with `prefix`, never reusing an existing name.
    /// In an object-storage repository (`dir` is a URL) the upload goes
    /// straight to `dest`, refused if that name or its manifest exists, and
    /// counts only once its manifest is written by [`Effect::Commit`].
    CreateTemp {
        /// Effect id.
        id: Id,
        /// Directory.
        dir: String,
        /// Name prefix.
        prefix: String,
        /// The name the backup will be committed under.
        dest: String,
    },
    /// Stream `remote_path` out of the container into the file `local_path`.
    CopyOut {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// Path in the container.
        remote_path: String,
        /// The temporary file.
        local_path: String,
        /// The final name, for progress display.
        label: String,
    },
    /// fsync `temp`, give it the name `dest` without replacing an existing
    /// file, fsync the directory.
    Commit {
        /// Effect id.
        id: Id,
        /// The temporary file.
        temp: String,
        /// The final path.
        dest: String,
        /// Written next to it as `dest.json` (temp, fsync, rename) once
        /// `dest` exists.
        manifest: Manifest,
    },
    /// Remove `path` (a temporary file); best effort.
    Discard {
        /// Effect id.
        id: Id,
        /// The file.
        path: String,
    },
    /// Something about the lock Lease.
    Lock {
        /// Effect id.
        id: Id,
        /// What.
        request: Request,
    },
    /// Read the Redis container's own password (its `REDIS_PASSWORD`,
    /// literal or from a Secret) for the connection; answer where it was found.
    PodPassword {
        /// Effect id.
        id: Id,
        /// The pod and container.
        target: Target,
    },
    /// Ask the container which of `tools` it lacks (with `sh` alone).
    Probe {
        /// Effect id.
        id: Id,
        /// Where.
        target: Target,
        /// The programs the next steps run in the container.
        tools: Vec<String>,
    },
    /// Open a connection to Redis (stream method).
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
    /// Send `AUTH [user] <password>` with the password the shell holds.
    Auth {
        /// Effect id.
        id: Id,
        /// ACL user.
        user: Option<String>,
    },
    /// Send `SYNC` and download the snapshot, verifying every byte, into
    /// `local_path` (`None`: check only, write nothing).
    Sync {
        /// Effect id.
        id: Id,
        /// The temporary file.
        local_path: Option<String>,
        /// For progress display.
        label: String,
        /// How long the server may take to start sending.
        timeout_ms: u64,
    },
    /// Close the connection (not answered).
    Disconnect,
    /// Show a progress line.
    Say(Line),
    /// The end: nothing more will be asked.
    Finish(Finish),
}

/// How a backup ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finish {
    /// Exit status.
    pub exit: Exit,
    /// On success.
    pub report: Option<Report>,
    /// On failure.
    pub error: Option<Failure>,
}

/// A failure the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// What a successful backup produced (`-o json` prints this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Final path of the backup file.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// Where the dump was read in the pod.
    pub remote_path: String,
    /// `LASTSAVE` of the snapshot (Unix seconds).
    pub lastsave: i64,
    /// RDB header of the file.
    pub rdb: rdb::Header,
    /// Wall-clock start, RFC 3339.
    pub created: String,
    /// Whole run, milliseconds.
    pub duration_ms: u64,
    /// The method that made the backup (after any fallback).
    pub method: Method,
    /// Stream: whether the server sent it without writing to its disk.
    pub diskless: Option<bool>,
    /// Stream: from the connection to the last byte, milliseconds.
    pub sync_ms: u64,
    /// The CRC-64 at the end of the snapshot.
    pub checksum: Option<reader::Checksum>,
    /// From BGSAVE to LASTSAVE advancing, milliseconds.
    pub bgsave_ms: u64,
    /// Streaming the file out of the pod, milliseconds.
    pub copy_ms: u64,
    /// What the reader found, as saved in the manifest.
    pub manifest: Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Redis {
    Replication,
    ConfigDir,
    ConfigFile,
    InfoBefore,
    Bgsave,
    Poll,
    /// The primary's `INFO replication`, for the offset its replica must
    /// reach (bgsave: redis-cli in the primary's container).
    PrimaryOffset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Wait {
    /// Another BGSAVE/AOF rewrite runs; start ours once it is over.
    Other,
    /// Ours runs.
    Ours,
    /// A replica is behind the offset its primary had; read it again.
    CatchUp,
}

/// Reading the primary's replication offset over the stream method's
/// connection, before its replica is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrimaryStep {
    Connect,
    Auth,
    Info,
}

/// What the check of a replica target decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// Fit and caught up: read it.
    Fit,
    /// Passed over: the target is now the next server.
    Switched,
    /// Behind its primary: a timer runs, then it is asked again.
    Waiting,
    /// No server is left: the backup has failed.
    Failed,
}

/// How long a replica may take to reach the replication offset its primary
/// had when the backup began, before another server is read. A replica
/// that is linked and recently heard from can still be seconds behind
/// (after a burst of writes, or with a slow link); read too early it gives
/// a verified backup missing the latest writes.
pub const CATCH_UP_MS: u64 = 10_000;

/// How soon a lagging replica's offset is first read again (then less
/// often, up to ten times this).
const CATCH_UP_POLL_MS: u64 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    Pods(Id),
    Redis(Id, Redis),
    Timer(Id, Wait),
    Primary(Id, PrimaryStep),
    Temp(Id),
    Copy(Id),
    Commit(Id),
    Discard(Id),
    GetLease(Id),
    TakeLease(Id),
    Release(Id),
    PodPassword(Id),
    Probe(Id),
    Connect(Id),
    Reply(Id, stream::Ask),
    Sync(Id),
}

/// The backup state machine.
#[derive(Debug, Clone)]
pub struct Backup {
    plan: Plan,
    /// The reader's summary and the sha256 of the copied file.
    checked: Option<(reader::Summary, String)>,
    next_id: Id,
    pending: Pending,
    started_ms: Option<u64>,
    /// The time of the input being handled.
    now: u64,
    bgsave_started_ms: u64,
    bgsave_ms: u64,
    copy_started_ms: u64,
    copy_ms: u64,
    deadline_ms: Option<u64>,
    target: Option<Target>,
    dir: Option<String>,
    file: Option<String>,
    lastsave_before: i64,
    saves_before: Option<i64>,
    lastsave: i64,
    temp: Option<String>,
    bytes: u64,
    header: Option<rdb::Header>,
    attempt: u32,
    lease: String,
    lease_held: bool,
    /// The method in use: the plan's, until auto falls back to bgsave.
    method: Method,
    /// Whether the password is known (the user's or the pod's).
    has_password: bool,
    /// A Redis connection is open (stream).
    connected: bool,
    /// Stream: framing of the snapshot, and when the connection began.
    framing: Option<Framing>,
    sync_started_ms: u64,
    sync_ms: u64,
    /// The result to report once the temporary file is removed and the
    /// lock released.
    ending: Option<Finish>,
    finished: bool,
    /// The target is a replica whose health is still to be checked.
    check_replica: bool,
    /// Where to go when that replica is unfit: other replicas, then (with
    /// `--from auto`) the primary, last.
    next_targets: Vec<(Target, bool)>,
    /// The target was checked and is a healthy replica.
    from_replica: bool,
    /// Why replicas were passed over.
    unfit: Vec<String>,
    /// The primary whose replicas are read, and the replication offset it
    /// had before the first of them was checked: a replica is read only
    /// once it has reached that offset.
    primary: Option<Target>,
    primary_offset: Option<i64>,
    /// The primary's replication id: a replica with another one follows
    /// another history, and its offset means nothing here.
    primary_replid: Option<String>,
    /// When the replica being checked was first found behind, and the
    /// time until which it may catch up.
    catch_up: Option<(u64, u64)>,
}

/// Most names tried when backups land in the same second.
const MAX_ATTEMPTS: u32 = 100;

impl Backup {
    /// A machine for `plan`; nothing happens until [`Input::Start`].
    pub fn new(plan: Plan) -> Self {
        Backup {
            plan: plan.clone(),
            checked: None,
            next_id: 1,
            pending: Pending::None,
            started_ms: None,
            now: 0,
            bgsave_started_ms: 0,
            bgsave_ms: 0,
            copy_started_ms: 0,
            copy_ms: 0,
            deadline_ms: None,
            target: None,
            dir: None,
            file: None,
            lastsave_before: 0,
            saves_before: None,
            lastsave: 0,
            temp: None,
            bytes: 0,
            header: None,
            attempt: 0,
            lease: String::new(),
            lease_held: false,
            method: if plan.url.is_some() && plan.method == Method::Auto {
                Method::Stream
            } else {
                plan.method
            },
            has_password: plan.credentials.password_from.is_some(),
            connected: false,
            framing: None,
            sync_started_ms: 0,
            sync_ms: 0,
            ending: None,
            finished: false,
            check_replica: false,
            next_targets: Vec::new(),
            from_replica: false,
            unfit: Vec::new(),
            primary: None,
            primary_offset: None,
            primary_replid: None,
            catch_up: None,
        }
    }

    /// Whether [`Effect::Finish`] has been returned.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The final path the backup will get (changes if the name is taken).
    /// Whether the backup goes to object storage (`out_dir` is a URL other
    /// than `file://`).
    fn remote_repo(&self) -> bool {
        matches!(self.plan.out_dir.split_once("://"), Some((s, _)) if s != "file")
    }

    fn dest_name(&self) -> String {
        names::backup_file_name_for(
            self.plan.started_unix,
            self.attempt,
            !self.plan.recipients.is_empty(),
        )
    }

    pub fn dest_path(&self) -> String {
        join(&self.plan.out_dir, &self.dest_name())
    }

    fn id(&mut self) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn remote_path(&self) -> String {
        join(
            self.dir.as_deref().unwrap_or("/data"),
            self.file.as_deref().unwrap_or("dump.rdb"),
        )
    }

    /// Feeds one input at monotonic time `now` (ms) and returns the effects.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.step(now, input, &mut out);
        out
    }

    fn step(&mut self, now: u64, input: Input, out: &mut Vec<Effect>) {
        self.now = now;
        let pending = core::mem::replace(&mut self.pending, Pending::None);
        match (pending, input) {
            (Pending::None, Input::Start) if self.started_ms.is_none() => {
                self.started_ms = Some(now);
                if let Some(url) = self.plan.url.clone() {
                    return self.connect(now, Endpoint::Url(url), out);
                }
                let what = match &self.plan.pod {
                    Some(p) => format!("pod {p}"),
                    None => format!("label {}", self.plan.selector),
                };
                say(
                    out,
                    Line::Step(format!(
                        "detecting redis pod in ns={} {what}...",
                        self.plan.namespace
                    )),
                );
                let id = self.id();
                self.pending = Pending::Pods(id);
                out.push(Effect::ListPods {
                    id,
                    namespace: self.plan.namespace.clone(),
                    selector: self.plan.selector.clone(),
                    name: self.plan.pod.clone(),
                });
            }
            (
                p @ (Pending::Discard(_) | Pending::Release(_)),
                Input::Interrupt | Input::LeaseLost(_),
            ) => {
                // Already cleaning up: finish that first.
                self.pending = p;
            }
            (Pending::Commit(id), Input::Interrupt | Input::LeaseLost(_)) => {
                // The file is whole and being renamed: let that finish; the
                // backup then succeeded, which beats leaving a stray temp file.
                self.pending = Pending::Commit(id);
                say(
                    out,
                    Line::Warn(
                        "interrupt received while saving; finishing the save first".to_string(),
                    ),
                );
            }
            (_, Input::Interrupt) => {
                self.fail(
                    out,
                    Exit::Interrupted,
                    "interrupted".to_string(),
                    Some("no backup file was written; run the backup again".to_string()),
                );
            }
            (_, Input::LeaseLost(why)) => {
                // A restore may have begun since: what was read cannot be
                // trusted to be one moment's data.
                self.fail(
                    out,
                    Exit::Locked,
                    format!(
                        "{}; no backup file was written",
                        lock::lost_message(&self.lease, &why)
                    ),
                    Some(format!(
                        "run the backup again (`kubectl get lease {}` shows who holds the lock)",
                        self.lease
                    )),
                );
            }
            (Pending::Pods(p), Input::Pods(id, result)) if p == id => self.on_pods(result, out),
            (Pending::Redis(p, what), Input::Redis(id, result)) if p == id => {
                self.on_redis(now, what, result, out)
            }
            (Pending::Primary(p, step), Input::Connected(id, r)) if p == id => {
                self.on_primary_connected(step, r, out)
            }
            (Pending::Primary(p, step), Input::Reply(id, r)) if p == id => {
                self.on_primary_reply(step, r, out)
            }
            (Pending::Timer(p, wait), Input::Timer(id)) if p == id => match wait {
                Wait::Ours => self.ask(Redis::Poll, &["INFO", "persistence"], out),
                Wait::Other => self.ask(Redis::InfoBefore, &["INFO", "persistence"], out),
                Wait::CatchUp if self.method == Method::Bgsave => {
                    self.ask(Redis::Replication, &["INFO", "replication"], out)
                }
                Wait::CatchUp => self.send(stream::Ask::Replication, &["INFO", "replication"], out),
            },
            (Pending::Temp(p), Input::TempCreated(id, result)) if p == id => match result {
                Ok(path) if self.method != Method::Bgsave => {
                    self.temp = Some(path);
                    self.stream_temp_created(out);
                }
                Ok(path) => {
                    self.temp = Some(path.clone());
                    say(
                        out,
                        Line::Step(format!(
                            "copying {} -> {}",
                            self.remote_path(),
                            self.dest_path()
                        )),
                    );
                    let id = self.id();
                    self.pending = Pending::Copy(id);
                    self.copy_started_ms = now;
                    out.push(Effect::CopyOut {
                        id,
                        target: self.target_or_default(),
                        remote_path: self.remote_path(),
                        local_path: path,
                        label: self.dest_path(),
                    });
                }
                Err(e) if self.remote_repo() => self.fail(
                    out,
                    Exit::Storage,
                    format!("cannot start the upload to {}: {e}", self.plan.out_dir),
                    Some("check the repository URL, the bucket and the credentials".to_string()),
                ),
                Err(e) => self.fail(
                    out,
                    Exit::Error,
                    format!("cannot create a file in {}: {e}", self.plan.out_dir),
                    Some("choose a writable directory with --out-dir (or $OUT_DIR)".to_string()),
                ),
            },
            (Pending::Copy(p), Input::Copied(id, result)) if p == id => {
                self.copy_ms = now.saturating_sub(self.copy_started_ms);
                self.on_copied(result, out)
            }
            (Pending::Commit(p), Input::Committed(id, result)) if p == id => match result {
                Ok(()) => {
                    let report = self.report(now);
                    self.temp = None;
                    if self.method == Method::Bgsave {
                        say(
                            out,
                            Line::Detail(format!(
                                "{} ({} bytes), RDB version {}, {}",
                                human::bytes(report.bytes),
                                report.bytes,
                                report.rdb.version,
                                human::millis(report.duration_ms)
                            )),
                        );
                    }
                    say(out, Line::Step("OK".to_string()));
                    self.end(
                        out,
                        Finish {
                            exit: Exit::Ok,
                            report: Some(report),
                            error: None,
                        },
                    );
                }
                Err(CommitError::Exists) if self.attempt + 1 < MAX_ATTEMPTS => {
                    self.attempt += 1;
                    say(
                        out,
                        Line::Detail(format!("name taken; using {}", self.dest_path())),
                    );
                    self.commit(out);
                }
                Err(e) => {
                    let msg = match e {
                        CommitError::Exists => "every candidate name is taken".to_string(),
                        CommitError::Failed(m) => m,
                    };
                    let (exit, hint) = if self.remote_repo() {
                        (
                            Exit::Storage,
                            "nothing counts as a backup without its manifest; check the bucket, the credentials and the store's messages above",
                        )
                    } else {
                        (Exit::Error, "check free space and permissions of --out-dir")
                    };
                    self.fail(
                        out,
                        exit,
                        format!("cannot save {}: {msg}", self.dest_path()),
                        Some(hint.to_string()),
                    )
                }
            },
            (Pending::Discard(p), Input::Discarded(id)) if p == id => {
                self.temp = None;
                match self.ending.take() {
                    Some(f) => self.end(out, f),
                    // Auto gave up streaming and removed its file: bgsave.
                    None => self.start_bgsave(out),
                }
            }
            (Pending::Release(p), Input::Lock(id, Answer::Released(r))) if p == id => {
                if let Err(e) = r {
                    say(
                        out,
                        Line::Warn(format!(
                            "could not release the lock Lease {}: {e} (it expires on its own)",
                            self.lease
                        )),
                    );
                }
                self.lease_held = false;
                if let Some(f) = self.ending.take() {
                    self.end(out, f);
                }
            }
            (Pending::GetLease(p), Input::Lock(id, Answer::Found(r))) if p == id => match r {
                Ok(found) => {
                    let wall = self.plan.started_unix
                        + i64::try_from(now.saturating_sub(self.started_ms.unwrap_or(now)) / 1000)
                            .unwrap_or(0);
                    match lock::decide(found.as_ref(), &self.lease, &self.plan.holder, wall) {
                        Decision::Take { replaces, warning } => {
                            if let Some(w) = warning {
                                say(out, Line::Warn(w));
                            }
                            // Held from the moment we ask: a create cut short
                            // may still have happened (releasing a Lease we
                            // do not hold does nothing).
                            self.lease_held = true;
                            let id = self.id();
                            self.pending = Pending::TakeLease(id);
                            out.push(Effect::Lock {
                                id,
                                request: Request::Take {
                                    name: self.lease.clone(),
                                    holder: self.plan.holder.clone(),
                                    duration_s: self.plan.lease_s,
                                    replaces,
                                },
                            });
                        }
                        Decision::Held { message, hint } => {
                            self.fail(out, Exit::Locked, message, Some(hint))
                        }
                    }
                }
                Err(e) => self.without_lock(now, e, out),
            },
            (Pending::TakeLease(p), Input::Lock(id, Answer::Taken(r))) if p == id => match r {
                Ok(()) => self.locked(now, out),
                Err(LeaseError::Conflict) => {
                    let (message, hint) = lock::taken_meanwhile(&self.lease);
                    self.fail(out, Exit::Locked, message, Some(hint))
                }
                Err(e) => {
                    self.lease_held = false;
                    self.without_lock(now, e, out)
                }
            },
            (Pending::PodPassword(p), Input::PodPassword(id, r)) if p == id => {
                match r {
                    Ok(Some(from)) => {
                        self.has_password = true;
                        self.plan.credentials.password_from = Some(from);
                    }
                    Ok(None) => {}
                    Err(e) => say(
                        out,
                        Line::Warn(format!("cannot read the pod's REDIS_PASSWORD: {e}")),
                    ),
                }
                self.get_lease(out);
            }
            (Pending::Connect(p), Input::Connected(id, r)) if p == id => self.on_connected(r, out),
            (Pending::Reply(p, ask), Input::Reply(id, r)) if p == id => self.on_reply(ask, r, out),
            (Pending::Sync(p), Input::Synced(id, r)) if p == id => self.on_synced(now, r, out),
            (Pending::Probe(p), Input::Probed(id, r)) if p == id => self.on_probed(r, out),
            (pending, input) => {
                // An answer to something not asked (or asked twice): keep waiting
                // for the real one. The shell never does this; tests prove it.
                self.pending = pending;
                say(
                    out,
                    Line::Warn(format!("ignored unexpected input {input:?}")),
                );
            }
        }
    }

    fn target_or_default(&self) -> Target {
        self.target.clone().unwrap_or(Target {
            pod: String::new(),
            container: String::new(),
            port: 6379,
        })
    }

    fn get_lease(&mut self, out: &mut Vec<Effect>) {
        if self.plan.locked_outside {
            return self.locked(self.now, out);
        }
        let id = self.id();
        self.pending = Pending::GetLease(id);
        out.push(Effect::Lock {
            id,
            request: Request::Get {
                name: self.lease.clone(),
            },
        });
    }

    fn on_pods(&mut self, result: Result<Vec<PodInfo>, String>, out: &mut Vec<Effect>) {
        let q = pods::Query {
            namespace: &self.plan.namespace,
            selector: &self.plan.selector,
            wanted: Wanted {
                pod: self.plan.pod.as_deref(),
                container: self.plan.container.as_deref(),
                port: self.plan.port,
            },
        };
        let listing = result.clone().unwrap_or_default();
        match pods::choose(result, &q) {
            Ok((t, pod)) => {
                let mut why = pods::port_reason(&pod, &t)
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default();
                if let Some(tls) = pods::tls_reason(&pod, &t) {
                    why.push_str(&format!("; TLS: {tls}"));
                }
                say(
                    out,
                    Line::Detail(format!(
                        "{}/{} (container {}, port {}{why})",
                        self.plan.namespace, t.pod, t.container, t.port
                    )),
                );
                // The lock is the primary's, wherever the data is read: a
                // restore into the primary takes the same one.
                self.lease = lock::lease_name(&pod.owner, &t.pod);
                let t = match self.choose_replica(&listing, &pod, t, out) {
                    Some(t) => t,
                    None => return,
                };
                self.target = Some(t.clone());
                if self.method != Method::Bgsave && !self.has_password {
                    let id = self.id();
                    self.pending = Pending::PodPassword(id);
                    out.push(Effect::PodPassword { id, target: t });
                } else {
                    self.get_lease(out);
                }
            }
            Err(r) => self.fail(out, r.exit, r.message, Some(r.hint)),
        }
    }

    /// With `--from auto|replica` and replicas known beside the chosen
    /// primary: the first replica, the others and then (auto) the primary
    /// kept to fall back on. `None` when the backup has failed.
    fn choose_replica(
        &mut self,
        listing: &[PodInfo],
        primary: &PodInfo,
        t: Target,
        out: &mut Vec<Effect>,
    ) -> Option<Target> {
        if self.plan.pod.is_some() || self.plan.from == pods::Prefer::Primary {
            return Some(t);
        }
        let replicas: Vec<Target> = if primary.primary == Some(true) {
            pods::labelled_replicas(listing)
                .into_iter()
                .filter_map(|p| {
                    let wanted = Wanted {
                        pod: Some(&p.name),
                        container: self.plan.container.as_deref(),
                        port: self.plan.port,
                    };
                    pods::select(std::slice::from_ref(p), &wanted).ok()
                })
                .collect()
        } else {
            Vec::new()
        };
        let Some(first) = replicas.first().cloned() else {
            if self.plan.from == pods::Prefer::Replica {
                self.fail(
                    out,
                    Exit::Invalid,
                    format!(
                        "--from replica: no Running and Ready pod known as a replica beside {} in namespace {}",
                        t.pod, self.plan.namespace
                    ),
                    Some("replicas are known by their labels (app.kubernetes.io/component=replica, isMaster=false, redis-role=slave, redisfailovers-role=slave), by Sentinel, or by asking each matching pod when none has a role label; back up the primary with --from primary, or name a pod with --pod".into()),
                );
                return None;
            }
            return Some(t);
        };
        say(
            out,
            Line::Detail(format!(
                "{} replica{} beside the primary {}; reading from {} spares the primary the fork (--from primary to use it)",
                replicas.len(),
                if replicas.len() == 1 { "" } else { "s" },
                t.pod,
                first.pod
            )),
        );
        self.check_replica = true;
        self.primary = Some(t.clone());
        self.next_targets = replicas.iter().skip(1).map(|r| (r.clone(), true)).collect();
        if self.plan.from == pods::Prefer::Auto {
            self.next_targets.push((t, false));
        }
        Some(first)
    }

    /// Whether the primary's replication offset must still be read before
    /// a replica is checked (the replica must reach it).
    fn needs_primary_offset(&self) -> bool {
        self.check_replica && self.primary.is_some() && self.primary_offset.is_none()
    }

    /// The primary's `INFO replication` (or why it could not be read):
    /// keep its offset and check the replica ([`Checked::Fit`]), or, with
    /// no offset to compare with, pass every replica over.
    fn primary_read(&mut self, info: Result<String, String>, out: &mut Vec<Effect>) -> Checked {
        let pod = self
            .primary
            .as_ref()
            .map(|t| t.pod.clone())
            .unwrap_or_default();
        let why = match info {
            Ok(text) => match topo::replication::Replication::parse(&text) {
                topo::replication::Replication {
                    offset: Some(o),
                    replid,
                    ..
                } => {
                    self.primary_replid = replid;
                    say(
                        out,
                        Line::Detail(format!(
                            "{pod} (primary): replication offset {o}; the replica is read once it has reached it"
                        )),
                    );
                    self.primary_offset = Some(o);
                    return Checked::Fit;
                }
                _ => "its INFO replication has no master_repl_offset".to_string(),
            },
            Err(e) => e,
        };
        say(
            out,
            Line::Warn(format!(
                "cannot read the replication offset of the primary {pod} ({why}), so no replica can be shown to hold its latest writes"
            )),
        );
        self.unfit
            .push(format!("the primary {pod}'s replication offset: {why}"));
        self.next_targets.retain(|(_, replica)| !replica);
        self.next_target(out)
    }

    /// The answer to `INFO replication` from a replica target: read it when
    /// it is healthy and has reached the primary's offset; wait for it to
    /// get there (up to [`CATCH_UP_MS`]); or pass it over for the next
    /// target.
    fn replica_checked(&mut self, info: Result<String, String>, out: &mut Vec<Effect>) -> Checked {
        let pod = self.target_or_default().pod;
        let why = match info {
            Ok(text) => {
                let r = topo::replication::Replication::parse(&text);
                // Offsets compare only within one replication history.
                let other = match (&self.primary_replid, &r.replid) {
                    (Some(p), Some(o)) if p != o => Some(format!(
                        "it follows another replication history than the primary {} (replication id {} against {})",
                        self.primary.as_ref().map(|t| t.pod.as_str()).unwrap_or("?"),
                        o.chars().take(8).collect::<String>(),
                        p.chars().take(8).collect::<String>()
                    )),
                    _ => None,
                };
                match (r.unfit_replica().or(other), self.primary_offset, r.offset) {
                    (Some(why), _, _) => why,
                    (None, Some(_), None) => {
                        "it does not report its replication offset".to_string()
                    }
                    (None, Some(want), Some(at)) if at < want => {
                        let now = self.now;
                        let (since, until) = *self.catch_up.get_or_insert((now, now + CATCH_UP_MS));
                        if now < until {
                            if since == now {
                                say(
                                    out,
                                    Line::Detail(format!(
                                        "{pod}: {} bytes behind its primary (offset {at} of {want}); waiting up to {} s for it to catch up",
                                        want - at,
                                        CATCH_UP_MS / 1000
                                    )),
                                );
                            }
                            // Soon at first (most lag is a moment's), then
                            // less often: a dozen reads over the whole wait.
                            let id = self.id();
                            self.pending = Pending::Timer(id, Wait::CatchUp);
                            out.push(Effect::Timer {
                                id,
                                after_ms: ((now - since) / 2)
                                    .clamp(CATCH_UP_POLL_MS, 10 * CATCH_UP_POLL_MS)
                                    .min(until - now),
                            });
                            return Checked::Waiting;
                        }
                        format!(
                            "{} bytes behind its primary after {} s",
                            want - at,
                            CATCH_UP_MS / 1000
                        )
                    }
                    (None, want, _) => {
                        self.check_replica = false;
                        self.from_replica = true;
                        let waited = match (want, self.catch_up) {
                            (Some(_), Some((since, _))) => format!(
                                ", caught up with its primary after {} ms",
                                self.now.saturating_sub(since)
                            ),
                            (Some(_), None) => ", caught up with its primary".to_string(),
                            (None, _) => String::new(),
                        };
                        say(
                            out,
                            Line::Detail(format!("{pod}: {}{waited}", r.describe_replica())),
                        );
                        return Checked::Fit;
                    }
                }
            }
            Err(e) => format!("INFO replication failed: {e}"),
        };
        say(out, Line::Warn(format!("not backing up from {pod}: {why}")));
        self.unfit.push(format!("{pod}: {why}"));
        self.next_target(out)
    }

    /// After a replica was passed over: the next target, or (none left)
    /// the failure of `--from replica`.
    fn next_target(&mut self, out: &mut Vec<Effect>) -> Checked {
        self.catch_up = None;
        if self.next_targets.is_empty() {
            self.fail(
                out,
                Exit::Unhealthy,
                format!(
                    "--from replica: no healthy, caught-up replica to back up from ({})",
                    self.unfit.join("; ")
                ),
                Some("see the replicas with `kubectl redis status`; back up the primary with --from primary (or --from auto, which falls back to it)".into()),
            );
            return Checked::Failed;
        }
        let (next, replica) = self.next_targets.remove(0);
        say(
            out,
            Line::Step(format!(
                "backing up from the {} {} instead",
                if replica { "replica" } else { "primary" },
                next.pod
            )),
        );
        self.check_replica = replica;
        self.target = Some(next);
        Checked::Switched
    }

    /// Stream: the connection to the primary, opened to read its offset.
    fn on_primary_connected(
        &mut self,
        step: PrimaryStep,
        r: Result<(), ConnectError>,
        out: &mut Vec<Effect>,
    ) {
        debug_assert_eq!(step, PrimaryStep::Connect);
        match r {
            Ok(()) => {
                self.connected = true;
                if self.has_password {
                    let id = self.id();
                    self.pending = Pending::Primary(id, PrimaryStep::Auth);
                    out.push(Effect::Auth {
                        id,
                        user: self.plan.credentials.user.clone(),
                    });
                } else {
                    self.primary_info(out);
                }
            }
            // Port-forwarding is not allowed: it would not be to the
            // replica either (auto goes on with bgsave, through exec).
            Err(ConnectError::Forbidden(m)) => {
                let pod = self
                    .primary
                    .as_ref()
                    .map(|t| t.pod.clone())
                    .unwrap_or_default();
                self.forward_forbidden(&pod, &m, out)
            }
            Err(ConnectError::Tls(m)) => self.fail(out, Exit::Invalid, m, None),
            Err(ConnectError::Failed(m)) => {
                let c = self.primary_read(Err(format!("cannot connect: {m}")), out);
                self.after_primary_stream(c, out)
            }
        }
    }

    fn primary_info(&mut self, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Primary(id, PrimaryStep::Info);
        out.push(Effect::Send {
            id,
            args: vec!["INFO".into(), "replication".into()],
        });
    }

    fn on_primary_reply(
        &mut self,
        step: PrimaryStep,
        r: Result<Reply, String>,
        out: &mut Vec<Effect>,
    ) {
        let info = match r {
            Ok(Reply::Error(e)) if step == PrimaryStep::Auth => {
                Err(format!("it refused the credentials: {e}"))
            }
            Ok(_) if step == PrimaryStep::Auth => return self.primary_info(out),
            Ok(Reply::Error(e)) => Err(e),
            Ok(r) => Ok(stream::text(&r)),
            Err(e) => Err(e),
        };
        let c = self.primary_read(info, out);
        self.after_primary_stream(c, out)
    }

    /// Stream: on to the replica (or, passed over, the next target).
    fn after_primary_stream(&mut self, c: Checked, out: &mut Vec<Effect>) {
        self.disconnect(out);
        if let (Checked::Fit | Checked::Switched, Some(t)) = (c, self.target.clone()) {
            self.connect(self.now, Endpoint::Pod(t), out)
        }
    }

    /// What a successful backup produced.
    fn report(&self, now: u64) -> Report {
        Report {
            path: self.dest_path(),
            bytes: self.bytes,
            namespace: self.plan.namespace.clone(),
            pod: self
                .target
                .as_ref()
                .map(|t| t.pod.clone())
                .unwrap_or_default(),
            container: self
                .target
                .as_ref()
                .map(|t| t.container.clone())
                .unwrap_or_default(),
            remote_path: self.remote_path(),
            lastsave: self.lastsave,
            rdb: self.header.unwrap_or(rdb::Header {
                flavor: rdb::Flavor::Redis,
                version: 0,
            }),
            created: names::rfc3339(self.plan.started_unix),
            duration_ms: now.saturating_sub(self.started_ms.unwrap_or(now)),
            bgsave_ms: self.bgsave_ms,
            copy_ms: self.copy_ms,
            manifest: self.manifest(),
            method: self.method,
            diskless: self.framing.map(|f| f == Framing::Diskless),
            sync_ms: self.sync_ms,
            checksum: self.checked.as_ref().map(|(s, _)| s.checksum),
        }
    }

    /// The manifest for the current destination name.
    fn manifest(&self) -> Manifest {
        let file = self.dest_name();
        let mut m = match &self.checked {
            Some((s, sha)) => Manifest::new(
                &file,
                sha,
                s,
                self.source(),
                self.method_name(),
                &names::rfc3339(self.plan.started_unix),
                &self.plan.tool,
            ),
            None => Manifest {
                format: manifest::FORMAT.into(),
                file,
                size: 0,
                sha256: String::new(),
                flavor: String::new(),
                rdb_version: 0,
                redis_version: None,
                crc64: "none".into(),
                verified: false,
                keys_per_db: Default::default(),
                keys: 0,
                source: manifest::Source::default(),
                method: self.method_name().into(),
                created: names::rfc3339(self.plan.started_unix),
                tool: self.plan.tool.clone(),
                encryption: None,
                shards: Vec::new(),
                pitr: None,
                sanitized: false,
                sanitize: None,
                made_by: None,
            },
        };
        if !self.plan.recipients.is_empty() {
            // The stored object's size and sha256 are the shell's to fill
            // in: only it sees the ciphertext.
            m.encryption = Some(manifest::Encryption {
                format: "age".into(),
                recipients: self.plan.recipients.clone(),
                size: 0,
                sha256: String::new(),
                kms: Vec::new(),
            });
        }
        m
    }

    fn method_name(&self) -> &'static str {
        match self.method {
            Method::Bgsave => "bgsave",
            Method::Stream | Method::Auto => "stream",
        }
    }

    /// Where the snapshot came from, for the manifest.
    fn source(&self) -> manifest::Source {
        match &self.plan.url {
            Some(u) => manifest::Source {
                url: Some(format!("redis://{}:{}", u.host, u.port)),
                ..Default::default()
            },
            None => manifest::Source {
                context: self.plan.context.clone(),
                namespace: Some(self.plan.namespace.clone()),
                pod: self.target.as_ref().map(|t| t.pod.clone()),
                url: None,
                role: self.from_replica.then(|| "replica".into()),
            },
        }
    }

    /// The hidden temporary file both methods write into.
    fn create_temp(&mut self, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Temp(id);
        out.push(Effect::CreateTemp {
            id,
            dir: self.plan.out_dir.clone(),
            prefix: names::temp_prefix(self.plan.started_unix),
            dest: self.dest_path(),
        });
    }

    fn commit(&mut self, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Commit(id);
        out.push(Effect::Commit {
            id,
            temp: self.temp.clone().unwrap_or_default(),
            dest: self.dest_path(),
            manifest: self.manifest(),
        });
    }

    fn fail(&mut self, out: &mut Vec<Effect>, exit: Exit, message: String, hint: Option<String>) {
        let f = Finish {
            exit,
            report: None,
            error: Some(Failure { message, hint }),
        };
        self.end(out, f);
    }

    /// Removes the temporary file, releases the lock, then finishes with `f`.
    fn end(&mut self, out: &mut Vec<Effect>, f: Finish) {
        self.disconnect(out);
        if let Some(path) = self.temp.clone() {
            self.ending = Some(f);
            let id = self.id();
            self.pending = Pending::Discard(id);
            out.push(Effect::Discard { id, path });
        } else if self.lease_held {
            self.ending = Some(f);
            let id = self.id();
            self.pending = Pending::Release(id);
            out.push(Effect::Lock {
                id,
                request: Request::Release {
                    name: self.lease.clone(),
                },
            });
        } else {
            self.finish(out, f);
        }
    }

    /// No permission for Leases (or the API refused): a backup changes
    /// nothing in the cluster, so it goes on without the lock, and says so.
    fn without_lock(&mut self, now: u64, e: LeaseError, out: &mut Vec<Effect>) {
        say(out, Line::Warn(lock::backing_up_without(&self.lease, e)));
        self.locked(now, out);
    }

    /// The lock is held (or cannot be had): take the snapshot.
    fn locked(&mut self, now: u64, out: &mut Vec<Effect>) {
        if self.method != Method::Bgsave && self.needs_primary_offset() {
            if let Some(p) = self.primary.clone() {
                let id = self.id();
                self.pending = Pending::Primary(id, PrimaryStep::Connect);
                out.push(Effect::Connect {
                    id,
                    to: Endpoint::Pod(p),
                });
                return;
            }
        }
        match (self.method, self.target.clone()) {
            (Method::Bgsave, _) | (_, None) => self.start_bgsave(out),
            (_, Some(t)) => self.connect(now, Endpoint::Pod(t), out),
        }
    }

    /// Closes the Redis connection, if one is open.
    fn disconnect(&mut self, out: &mut Vec<Effect>) {
        if self.connected {
            self.connected = false;
            out.push(Effect::Disconnect);
        }
    }

    fn finish(&mut self, out: &mut Vec<Effect>, f: Finish) {
        self.finished = true;
        self.pending = Pending::None;
        out.push(Effect::Finish(f));
    }
}

fn say(out: &mut Vec<Effect>, line: Line) {
    out.push(Effect::Say(line));
}

fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Joins a directory and a file name with one `/`.
pub fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{file}")
    } else {
        format!("{dir}/{file}")
    }
}

impl core::fmt::Display for Line {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Line::Step(s) => write!(f, "[backup] {s}"),
            Line::Detail(s) => write!(f, "  {s}"),
            Line::Warn(s) => write!(f, "[backup] warning: {s}"),
            Line::Plain(s) => write!(f, "{s}"),
        }
    }
}
