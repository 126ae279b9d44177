//! The file swap: the backup copied into the pod, installed where Redis
//! loads from (the dump file, or a fresh multi-part AOF whose base is the
//! backup), `SHUTDOWN NOSAVE`, and the container's restart in place awaited
//! and checked.

use super::{say, Effect, Layout, Restore, Step, Undo, TMP_NAME};
use crate::backup::{join, CliOutput, Line};
use crate::exit::Exit;
use crate::human;
use crate::kube::pods::{self, PodInfo, Wanted};
use crate::rdb;
use crate::wire::reply::{self, Reply};

impl Restore {
    pub(super) fn layout(&self) -> Layout {
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

    pub(super) fn upload(&mut self, out: &mut Vec<Effect>) {
        let remote = join(&self.dir, TMP_NAME);
        let into = match self.layout() {
            Layout::Rdb => join(&self.dir, &self.dbfilename),
            Layout::AofMultiPart { dirname, .. } => join(&self.dir, &dirname),
            Layout::AofPreamble { filename } => join(&self.dir, &filename),
        };
        say(out, Line::Step(format!("copy backup to pod:{into}")));
        self.undo.push(Undo::RemoveRemote(remote.clone()));
        let (target, local, bytes) = (self.target(), self.plan.file.clone(), self.report.bytes);
        let sha256 = self
            .file
            .as_ref()
            .map(|f| f.sha256.clone())
            .unwrap_or_default();
        self.ask(
            Step::Upload,
            |id| Effect::Upload {
                id,
                target,
                local,
                remote,
                bytes,
                sha256,
            },
            out,
        );
    }

    pub(super) fn install(&mut self, out: &mut Vec<Effect>) {
        let tmp = join(&self.dir, TMP_NAME);
        let file = |name: &str| -> Vec<String> {
            vec![
                "sh".into(),
                "-c".into(),
                FILE_INSTALL.into(),
                "kubectl-redis".into(),
                tmp.clone(),
                join(&self.dir, name),
            ]
        };
        let argv: Vec<String> = match self.layout() {
            Layout::Rdb => file(&self.dbfilename),
            Layout::AofPreamble { filename } => file(&filename),
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

    pub(super) fn restart_wait(&mut self, now: u64, out: &mut Vec<Effect>) {
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

    /// What the install replaces (a file, or the multi-part AOF's
    /// directory): kept beside it as `NAME.kr-old` until the restarted
    /// server is verified.
    pub(super) fn installed_path(&self) -> String {
        match self.layout() {
            Layout::Rdb => join(&self.dir, &self.dbfilename),
            Layout::AofPreamble { filename } => join(&self.dir, &filename),
            Layout::AofMultiPart { dirname, .. } => join(&self.dir, &dirname),
        }
    }

    pub(super) fn after_verify(&mut self, out: &mut Vec<Effect>) {
        if self.live {
            return self.succeed(out);
        }
        let old = format!("{}.kr-old", self.installed_path());
        self.exec(Step::DropOld, vec!["rm".into(), "-rf".into(), old], out);
    }

    /// Records on the Lease what is about to be installed, so that
    /// `--recover` can finish or undo it if this run dies before SHUTDOWN
    /// is answered.
    fn note_install(&mut self, out: &mut Vec<Effect>) {
        let before = self.pod_before.clone().unwrap_or_default();
        let t = self.target();
        let note = crate::kube::lock::Installing {
            pod: t.pod,
            container: t.container,
            uid: before.uid,
            restarts: before.restarts,
            path: self.installed_path(),
        };
        let value = serde_json::to_string(&note).unwrap_or_default();
        let request = crate::kube::lock::Request::Note {
            name: self.lease.clone(),
            key: crate::kube::lock::INSTALL_NOTE.into(),
            value,
        };
        self.ask(Step::NoteInstall, |id| Effect::Lock { id, request }, out);
    }

    pub(super) fn on_install_noted(&mut self, r: Result<(), String>, out: &mut Vec<Effect>) {
        if let Err(e) = r {
            say(
                out,
                Line::Warn(format!(
                    "could not record the install on the lock Lease ({e}): if this run dies before Redis restarts, `--recover` cannot put the previous file back"
                )),
            );
        }
        self.install(out);
    }

    pub(super) fn on_uploaded(&mut self, r: Result<(), String>, out: &mut Vec<Effect>) {
        match r {
            Ok(()) => self.note_install(out),
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!(
                    "copying the backup into the pod failed: {e}; the data in Redis is unchanged"
                ),
                Some(format!(
                    "check free space with `kubectl -n {} exec {} -- df -h {}`",
                    self.plan.namespace,
                    self.target().pod,
                    self.dir
                )),
            ),
        }
    }

    pub(super) fn on_installed(&mut self, r: Result<CliOutput, String>, out: &mut Vec<Effect>) {
        match r {
            Ok(o) if o.exit_code.unwrap_or(0) == 0 => {
                if let Some(p) = self
                    .undo
                    .iter()
                    .position(|u| matches!(u, Undo::RemoveRemote(_)))
                {
                    self.undo.remove(p);
                }
                // Until SHUTDOWN is accepted the old data is what Redis
                // holds: a failure puts the previous file back.
                self.undo
                    .push(super::Undo::Reinstate(self.installed_path()));
                say(
                    out,
                    Line::Step(
                        "SHUTDOWN NOSAVE (the container restarts in place and loads the backup)"
                            .into(),
                    ),
                );
                self.redis(Step::Shutdown, &["SHUTDOWN", "NOSAVE"], out);
            }
            Ok(o) => self.fail(
                out,
                Exit::Error,
                format!(
                    "moving the backup into place failed: {}; the data in Redis is unchanged",
                    o.complaint().trim()
                ),
                None,
            ),
            Err(e) => self.fail(
                out,
                Exit::Error,
                format!("moving the backup into place failed: {e}; the data in Redis is unchanged"),
                None,
            ),
        }
    }

    pub(super) fn on_shutdown(
        &mut self,
        now: u64,
        r: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
        if let Ok(o) = &r {
            if let Reply::Error(e) = reply::parse_cli_output(&o.stdout) {
                return self.fail(
                    out,
                    Exit::Error,
                    format!("SHUTDOWN NOSAVE refused: {e}; the previous file is put back and the data in Redis is unchanged"),
                    Some("allow SHUTDOWN for this user (or undo its renaming), or restore with --method live".into()),
                );
            }
        }
        // Accepted: the server restarts onto the backup; putting the old
        // file back now would load stale data at the next restart.
        self.undo
            .retain(|u| !matches!(u, super::Undo::Reinstate(_)));
        say(out, Line::Step("wait for redis to restart...".into()));
        self.deadline_ms = now + self.plan.restart_timeout_ms;
        self.timer(Step::RestartTimer, out);
    }

    pub(super) fn look_for_restart(&mut self, out: &mut Vec<Effect>) {
        self.list_pods(Step::Restarted, out);
    }

    pub(super) fn on_restarted(
        &mut self,
        now: u64,
        r: Result<Vec<PodInfo>, String>,
        out: &mut Vec<Effect>,
    ) {
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

    pub(super) fn on_ping(
        &mut self,
        now: u64,
        r: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
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

    pub(super) fn on_persistence(&mut self, r: Result<CliOutput, String>, out: &mut Vec<Effect>) {
        let Some(reply) = self.reply(r, out) else {
            return;
        };
        let on = match &reply {
            Reply::Text(t) => reply::info_fields(t)
                .get("aof_enabled")
                .map(|v| v.trim() == "1"),
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
}

/// Installs the backup (`$1`, in the pod) as the file Redis loads (`$2`),
/// keeping the file it replaces as `$2.kr-old`: a hard link, so the file
/// Redis loads is never missing; else a copy; else (an image with neither
/// `ln` nor `cp`) a rename just before the backup's.
const FILE_INSTALL: &str = "set -e; rm -f \"$2.kr-old\"; if [ -e \"$2\" ]; then ln -f \"$2\" \"$2.kr-old\" 2>/dev/null || cp -p \"$2\" \"$2.kr-old\" 2>/dev/null || mv -f \"$2\" \"$2.kr-old\"; fi; mv -f \"$1\" \"$2\"";

/// Undoes an install (`$1`: the file or directory installed): the
/// previous one back from `$1.kr-old`, or what was installed removed where
/// there was none.
pub const REINSTATE: &str = "if [ -d \"$1.kr-old\" ]; then rm -rf \"$1\" && mv \"$1.kr-old\" \"$1\"; elif [ -e \"$1.kr-old\" ]; then mv -f \"$1.kr-old\" \"$1\"; else rm -rf \"$1\"; fi";

/// Installs the backup as the base of a fresh multi-part AOF (Redis 7.0+):
/// builds the new directory beside the old one, then swaps them, keeping the
/// old one as `DIR.kr-old` until the restarted server is verified.
const AOF_INSTALL: &str = "set -e; cd \"$1\"; rm -rf \"$3.kr-new\" \"$3.kr-old\"; mkdir \"$3.kr-new\"; mv -f \"$2\" \"$3.kr-new/$4\"; printf 'file %s seq 1 type b\\n' \"$4\" > \"$3.kr-new/$5\"; if [ -e \"$3\" ]; then mv \"$3\" \"$3.kr-old\"; fi; mv \"$3.kr-new\" \"$3\"";
