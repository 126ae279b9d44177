//! The backup as a state machine with no I/O.
//!
//! The shell creates a [`Backup`] from a [`Plan`], feeds it [`Input::Start`]
//! and then, for every [`Effect`] it gets back, does the work and feeds the
//! result in as an [`Input`] carrying the effect's id. Time enters only as the
//! `now` argument (monotonic milliseconds) and as [`Plan::started_unix`] (the
//! wall clock that names the file). The machine ends with exactly one
//! [`Effect::Finish`].
//!
//! The steps follow the runbook: find the pod, read where Redis keeps its dump
//! (`CONFIG GET dir` / `dbfilename`), read `LASTSAVE`, `BGSAVE`, wait for
//! `LASTSAVE` to advance, stream the file out into a temporary file, check it,
//! then fsync and rename it to its final name. A failure or an interrupt after
//! the temporary file exists removes it before finishing.

use crate::exit::Exit;
use crate::lock::{self, Answer, Decision, LeaseError, Request};
use crate::manifest::{self, Manifest};
use crate::pods::{self, PodInfo, Target, Wanted};
use crate::rdb;
use crate::reader;
use crate::reply::{self, Reply};
use crate::{human, names};
use serde::Serialize;

/// Identifies an effect; the input answering it carries the same id.
pub type Id = u64;

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
    /// The user pressed Ctrl-C.
    Interrupt,
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
    CreateTemp {
        /// Effect id.
        id: Id,
        /// Directory.
        dir: String,
        /// Name prefix.
        prefix: String,
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
    /// From BGSAVE to LASTSAVE advancing, milliseconds.
    pub bgsave_ms: u64,
    /// Streaming the file out of the pod, milliseconds.
    pub copy_ms: u64,
    /// What the reader found, as saved in the manifest.
    pub manifest: Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Redis {
    ConfigDir,
    ConfigFile,
    InfoBefore,
    Bgsave,
    Poll,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Wait {
    /// Another BGSAVE/AOF rewrite runs; start ours once it is over.
    Other,
    /// Ours runs.
    Ours,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    Pods(Id),
    Redis(Id, Redis),
    Timer(Id, Wait),
    Temp(Id),
    Copy(Id),
    Commit(Id),
    Discard(Id),
    GetLease(Id),
    TakeLease(Id),
    Release(Id),
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
    /// The result to report once the temporary file is removed and the
    /// lock released.
    ending: Option<Finish>,
    finished: bool,
}

/// Most names tried when backups land in the same second.
const MAX_ATTEMPTS: u32 = 100;

impl Backup {
    /// A machine for `plan`; nothing happens until [`Input::Start`].
    pub fn new(plan: Plan) -> Self {
        Backup {
            plan,
            checked: None,
            next_id: 1,
            pending: Pending::None,
            started_ms: None,
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
            ending: None,
            finished: false,
        }
    }

    /// Whether [`Effect::Finish`] has been returned.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The final path the backup will get (changes if the name is taken).
    fn dest_name(&self) -> String {
        names::backup_file_name(self.plan.started_unix, self.attempt)
    }

    pub fn dest_path(&self) -> String {
        join(
            &self.plan.out_dir,
            &names::backup_file_name(self.plan.started_unix, self.attempt),
        )
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
        let pending = core::mem::replace(&mut self.pending, Pending::None);
        match (pending, input) {
            (Pending::None, Input::Start) if self.started_ms.is_none() => {
                self.started_ms = Some(now);
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
            (p @ (Pending::Discard(_) | Pending::Release(_)), Input::Interrupt) => {
                // Already cleaning up: finish that first.
                self.pending = p;
            }
            (Pending::Commit(id), Input::Interrupt) => {
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
            (Pending::Pods(p), Input::Pods(id, result)) if p == id => self.on_pods(result, out),
            (Pending::Redis(p, what), Input::Redis(id, result)) if p == id => {
                self.on_redis(now, what, result, out)
            }
            (Pending::Timer(p, wait), Input::Timer(id)) if p == id => {
                let id = self.id();
                self.pending = Pending::Redis(
                    id,
                    match wait {
                        Wait::Ours => Redis::Poll,
                        Wait::Other => Redis::InfoBefore,
                    },
                );
                self.redis(id, &["INFO", "persistence"], out);
            }
            (Pending::Temp(p), Input::TempCreated(id, result)) if p == id => match result {
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
                    let started = self.started_ms.unwrap_or(now);
                    let report = Report {
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
                        duration_ms: now.saturating_sub(started),
                        bgsave_ms: self.bgsave_ms,
                        copy_ms: self.copy_ms,
                        manifest: self.manifest(),
                    };
                    self.temp = None;
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
                    self.fail(
                        out,
                        Exit::Error,
                        format!("cannot save {}: {msg}", self.dest_path()),
                        Some("check free space and permissions of --out-dir".to_string()),
                    )
                }
            },
            (Pending::Discard(p), Input::Discarded(id)) if p == id => {
                self.temp = None;
                if let Some(f) = self.ending.take() {
                    self.end(out, f);
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
                Err(e) => self.without_lock(e, out),
            },
            (Pending::TakeLease(p), Input::Lock(id, Answer::Taken(r))) if p == id => match r {
                Ok(()) => self.ask(Redis::ConfigDir, &["CONFIG", "GET", "dir"], out),
                Err(LeaseError::Conflict) => self.fail(
                    out,
                    Exit::Locked,
                    format!(
                        "another backup or restore took the lock Lease {} just now",
                        self.lease
                    ),
                    Some("wait for it to finish".to_string()),
                ),
                Err(e) => {
                    self.lease_held = false;
                    self.without_lock(e, out)
                }
            },
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

    fn redis(&mut self, id: Id, args: &[&str], out: &mut Vec<Effect>) {
        out.push(Effect::Redis {
            id,
            target: self.target_or_default(),
            args: args.iter().map(|s| s.to_string()).collect(),
        });
    }

    fn ask(&mut self, what: Redis, args: &[&str], out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Redis(id, what);
        self.redis(id, args, out);
    }

    fn timer(&mut self, wait: Wait, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Timer(id, wait);
        out.push(Effect::Timer {
            id,
            after_ms: self.plan.poll_ms,
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
        match pods::choose(result, &q) {
            Ok((t, pod)) => {
                say(
                    out,
                    Line::Detail(format!(
                        "{}/{} (container {}, port {})",
                        self.plan.namespace, t.pod, t.container, t.port
                    )),
                );
                self.lease = lock::lease_name(&pod.owner, &t.pod);
                self.target = Some(t);
                let id = self.id();
                self.pending = Pending::GetLease(id);
                out.push(Effect::Lock {
                    id,
                    request: Request::Get {
                        name: self.lease.clone(),
                    },
                });
            }
            Err(r) => self.fail(out, r.exit, r.message, Some(r.hint)),
        }
    }

    fn on_redis(
        &mut self,
        now: u64,
        what: Redis,
        result: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
        let t = self.target_or_default();
        let ns = self.plan.namespace.clone();
        let reply = match result {
            Ok(o) => {
                let r = reply::parse_cli_output(&o.stdout);
                let failed_run = o.exit_code.is_some_and(|c| c != 0) && !matches!(r, Reply::Error(_));
                if failed_run || (o.stdout.trim().is_empty() && !o.stderr.trim().is_empty()) {
                    let detail = first_line(if o.stderr.trim().is_empty() { &o.stdout } else { &o.stderr });
                    let code = o.exit_code.map(|c| format!(" (exit {c})")).unwrap_or_default();
                    return self.fail(
                        out,
                        Exit::Error,
                        format!("redis-cli failed in {ns}/{} container {}{code}: {detail}", t.pod, t.container),
                        Some(cli_hint(detail, t.port)),
                    );
                }
                r
            }
            Err(e) => {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("cannot run redis-cli in {ns}/{} container {}: {e}", t.pod, t.container),
                    Some(format!(
                        "the backup runs redis-cli in the Redis container: check `kubectl auth can-i create pods/exec -n {ns}` and that the container has redis-cli (choose it with --container)"
                    )),
                )
            }
        };
        if let Reply::Error(e) = &reply {
            if e.starts_with("NOAUTH") || e.starts_with("WRONGPASS") {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("Redis refused redis-cli: {e}"),
                    Some("the server needs a password: the plugin hands the container's REDIS_PASSWORD (or REDISCLI_AUTH) environment variable to redis-cli; set one of them in the pod spec".to_string()),
                );
            }
        }
        match what {
            Redis::ConfigDir | Redis::ConfigFile => {
                let name = if what == Redis::ConfigDir { "dir" } else { "dbfilename" };
                match reply.config_value(name) {
                    Some(v) if what == Redis::ConfigFile && (v.is_empty() || v.contains('/')) => {
                        return self.fail(
                            out,
                            Exit::Invalid,
                            format!("Redis reports dbfilename {v:?}, which is not a plain file name"),
                            None,
                        );
                    }
                    Some(v) if !v.is_empty() => {
                        if what == Redis::ConfigDir {
                            self.dir = Some(v);
                        } else {
                            self.file = Some(v);
                        }
                    }
                    _ => {
                        let fallback = if what == Redis::ConfigDir { "/data" } else { "dump.rdb" };
                        say(
                            out,
                            Line::Warn(format!(
                                "CONFIG GET {name} gave no answer ({}); assuming {fallback}",
                                describe(&reply)
                            )),
                        );
                    }
                }
                if what == Redis::ConfigDir {
                    self.ask(Redis::ConfigFile, &["CONFIG", "GET", "dbfilename"], out);
                } else {
                    say(out, Line::Step("LASTSAVE (before)".to_string()));
                    self.ask(Redis::InfoBefore, &["INFO", "persistence"], out);
                }
            }
            Redis::InfoBefore => {
                let Some(info) = self.info(&reply, out) else { return };
                let first = self.deadline_ms.is_none();
                if first {
                    say(out, Line::Detail(info.last_save.to_string()));
                }
                self.lastsave_before = info.last_save;
                self.saves_before = info.saves;
                if info.in_progress {
                    if first {
                        say(
                            out,
                            Line::Step(
                                "a BGSAVE or AOF rewrite is already running; waiting for it to finish, then starting ours".to_string(),
                            ),
                        );
                        self.deadline_ms = Some(now + self.plan.timeout_ms);
                    }
                    return self.wait_or_timeout(now, Wait::Other, out);
                }
                say(out, Line::Step("BGSAVE...".to_string()));
                self.bgsave_started_ms = now;
                if first {
                    self.deadline_ms = Some(now + self.plan.timeout_ms);
                }
                self.ask(Redis::Bgsave, &["BGSAVE"], out);
            }
            Redis::Bgsave => match &reply {
                Reply::Text(s) if s.starts_with("Background saving started") => {
                    say(out, Line::Step("waiting for LASTSAVE to advance...".to_string()));
                    self.timer(Wait::Ours, out);
                }
                Reply::Error(e) if e.contains("in progress") => {
                    say(
                        out,
                        Line::Detail(format!("Redis says: {e}; waiting for it to finish")),
                    );
                    self.wait_or_timeout(now, Wait::Other, out);
                }
                other => self.fail(
                    out,
                    Exit::BgsaveFailed,
                    format!("BGSAVE refused: {}", describe(other)),
                    Some(format!(
                        "check `kubectl -n {ns} logs {}` and free space with `kubectl -n {ns} exec {} -- df -h {}`",
                        t.pod,
                        t.pod,
                        self.dir.as_deref().unwrap_or("/data")
                    )),
                ),
            },
            Redis::Poll => {
                let Some(info) = self.info(&reply, out) else { return };
                let advanced = info.last_save > self.lastsave_before
                    || matches!((info.saves, self.saves_before), (Some(a), Some(b)) if a > b);
                if info.in_progress {
                    return self.wait_or_timeout(now, Wait::Ours, out);
                }
                // Ours was the last save and it is over: its status decides.
                // (rdb_saves counts a save when it starts, so it alone does
                // not prove success.)
                if !info.status_ok {
                    return self.fail(
                        out,
                        Exit::BgsaveFailed,
                        "Redis reports the background save failed (rdb_last_bgsave_status:err)".to_string(),
                        Some(format!(
                            "check `kubectl -n {ns} logs {}` for the reason, and free space with `kubectl -n {ns} exec {} -- df -h {}`",
                            t.pod,
                            t.pod,
                            self.dir.as_deref().unwrap_or("/data")
                        )),
                    );
                }
                if advanced {
                    self.lastsave = info.last_save;
                    self.bgsave_ms = now.saturating_sub(self.bgsave_started_ms);
                    say(out, Line::Detail(format!("done ({})", info.last_save)));
                    let id = self.id();
                    self.pending = Pending::Temp(id);
                    out.push(Effect::CreateTemp {
                        id,
                        dir: self.plan.out_dir.clone(),
                        prefix: names::temp_prefix(self.plan.started_unix),
                    });
                } else {
                    self.wait_or_timeout(now, Wait::Ours, out);
                }
            }
        }
    }

    fn wait_or_timeout(&mut self, now: u64, wait: Wait, out: &mut Vec<Effect>) {
        if self.deadline_ms.is_some_and(|d| now >= d) {
            let ns = self.plan.namespace.clone();
            let pod = self.target_or_default().pod;
            let secs = self.plan.timeout_ms / 1000;
            self.fail(
                out,
                Exit::BgsaveTimeout,
                format!(
                    "BGSAVE still not finished after {secs}s (LASTSAVE still {})",
                    self.lastsave_before
                ),
                Some(format!(
                    "a large dataset or slow disk needs longer: retry with --timeout {}s; check `kubectl -n {ns} logs {pod}` and `kubectl -n {ns} exec {pod} -- df -h {}`",
                    (secs * 2).max(60),
                    self.dir.as_deref().unwrap_or("/data")
                )),
            );
        } else {
            self.timer(wait, out);
        }
    }

    fn info(&mut self, reply: &Reply, out: &mut Vec<Effect>) -> Option<Persistence> {
        let parsed = match reply {
            Reply::Text(t) => Persistence::parse(t),
            _ => None,
        };
        if parsed.is_none() {
            self.fail(
                out,
                Exit::Error,
                format!("unexpected answer to INFO persistence: {}", describe(reply)),
                Some("the backup needs INFO, BGSAVE and LASTSAVE; check that they are not renamed or blocked by ACLs".to_string()),
            );
        }
        parsed
    }

    fn on_copied(&mut self, result: Result<CopyReport, CopyError>, out: &mut Vec<Effect>) {
        let remote = self.remote_path();
        let t = self.target_or_default();
        let ns = self.plan.namespace.clone();
        let empty_hint = Some(format!(
            "check the data directory with `kubectl -n {ns} exec {} -- ls -l {}` and the logs with `kubectl -n {ns} logs {}`",
            t.pod,
            self.dir.as_deref().unwrap_or("/data"),
            t.pod
        ));
        match result {
            Err(CopyError::Missing(e)) => self.fail(
                out,
                Exit::EmptyBackup,
                format!("backup file empty: {remote} does not exist in the pod ({e})"),
                empty_hint,
            ),
            Err(CopyError::Failed(e)) => self.fail(
                out,
                Exit::Error,
                format!("copy of {remote} failed: {e}"),
                Some("nothing was saved; run the backup again".to_string()),
            ),
            Ok(r) if r.bytes == 0 => self.fail(
                out,
                Exit::EmptyBackup,
                format!("backup file empty: {remote} has 0 bytes"),
                empty_hint,
            ),
            Ok(r) if r.expected.is_some_and(|e| e != r.bytes) => self.fail(
                out,
                Exit::Error,
                format!(
                    "copy interrupted: received {} of {} bytes of {remote}",
                    r.bytes,
                    r.expected.unwrap_or_default()
                ),
                Some("nothing was saved; run the backup again".to_string()),
            ),
            Ok(r) => match (rdb::parse_header(&r.head), r.verified) {
                (Ok(h), Ok(summary)) => {
                    self.bytes = r.bytes;
                    self.header = Some(h);
                    say(
                        out,
                        Line::Detail(format!(
                            "verified: {} keys in {} database(s), {}",
                            summary.keys(),
                            summary.dbs.len(),
                            crate::inspect::checksum_text(&summary.checksum)
                        )),
                    );
                    self.checked = Some((summary, r.sha256));
                    self.commit(out);
                }
                (Ok(_), Err(e)) => self.fail(
                    out,
                    Exit::Corrupt,
                    format!("the backup is corrupt: {e}"),
                    Some(format!(
                        "nothing was saved. Run the backup again; if it fails the same way, the server's own file is damaged: check it with `kubectl exec {} -- redis-check-rdb {remote}`",
                        self.target.as_ref().map(|t| t.pod.as_str()).unwrap_or("POD")
                    )),
                ),
                (Err(e), _) => self.fail(
                    out,
                    Exit::Invalid,
                    format!("validation failed: {remote} is not a valid RDB file: {e}"),
                    Some("check dbfilename with `redis-cli CONFIG GET dbfilename`; nothing was saved".to_string()),
                ),
            },
        }
    }

    /// The manifest for the current destination name.
    fn manifest(&self) -> Manifest {
        let file = self.dest_name();
        match &self.checked {
            Some((s, sha)) => Manifest::new(
                &file,
                sha,
                s,
                manifest::Source {
                    context: self.plan.context.clone(),
                    namespace: Some(self.plan.namespace.clone()),
                    pod: self.target.as_ref().map(|t| t.pod.clone()),
                    url: None,
                },
                "bgsave",
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
                method: "bgsave".into(),
                created: names::rfc3339(self.plan.started_unix),
                tool: self.plan.tool.clone(),
            },
        }
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
    fn without_lock(&mut self, e: LeaseError, out: &mut Vec<Effect>) {
        let why = match e {
            LeaseError::Forbidden(m) => {
                format!("no permission to use the lock Lease {} ({m})", self.lease)
            }
            LeaseError::Other(m) => format!("the lock Lease {} is unavailable ({m})", self.lease),
            LeaseError::Conflict => format!("the lock Lease {} changed under us", self.lease),
        };
        say(
            out,
            Line::Warn(format!(
                "{why}; backing up without it (a concurrent restore would not be detected)"
            )),
        );
        self.ask(Redis::ConfigDir, &["CONFIG", "GET", "dir"], out);
    }

    fn finish(&mut self, out: &mut Vec<Effect>, f: Finish) {
        self.finished = true;
        self.pending = Pending::None;
        out.push(Effect::Finish(f));
    }
}

struct Persistence {
    last_save: i64,
    saves: Option<i64>,
    in_progress: bool,
    status_ok: bool,
}

impl Persistence {
    fn parse(text: &str) -> Option<Self> {
        let f = reply::info_fields(text);
        let int = |k: &str| f.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        Some(Persistence {
            last_save: int("rdb_last_save_time")?,
            saves: int("rdb_saves"),
            in_progress: int("rdb_bgsave_in_progress")? != 0
                || int("aof_rewrite_in_progress").unwrap_or(0) != 0,
            status_ok: f.get("rdb_last_bgsave_status").map(|s| s.trim()) != Some("err"),
        })
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

fn cli_hint(detail: &str, port: u16) -> String {
    if detail.contains("Could not connect") || detail.contains("Connection refused") {
        format!("redis-cli could not reach Redis on port {port} inside the pod: pass the right port with --redis-port")
    } else if detail.contains("not found") || detail.contains("No such file") {
        "the container has no redis-cli: choose the Redis container with --container".to_string()
    } else {
        "run the same command with `kubectl exec` to see the full error".to_string()
    }
}

fn describe(r: &Reply) -> String {
    match r {
        Reply::Text(t) => first_line(t).to_string(),
        Reply::Error(e) => format!("error: {e}"),
        Reply::Integer(n) => format!("integer {n}"),
        Reply::Bulk(b) => format!("\"{}\"", rdb::escape(b)),
        Reply::Nil => "nil".to_string(),
        Reply::Array(a) if a.is_empty() => "empty array".to_string(),
        Reply::Array(a) => format!("array of {}", a.len()),
    }
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
