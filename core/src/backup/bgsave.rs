//! The bgsave method's steps, as the runbook does them: `CONFIG GET dir`
//! and `dbfilename`, `INFO persistence` for LASTSAVE, `BGSAVE` (waiting
//! first for one already running), polling until LASTSAVE advances, then
//! the dump copied out of the pod into the temporary file, verified as it
//! streams. redis-cli runs in the Redis container through exec.

use super::*;
use crate::kube::probe;

/// What the bgsave steps run in the Redis container (besides `sh`).
pub(super) const BGSAVE_TOOLS: &[&str] = &["redis-cli", "cat"];

impl Backup {
    pub(super) fn redis(&mut self, id: Id, args: &[&str], out: &mut Vec<Effect>) {
        out.push(Effect::Redis {
            id,
            target: self.target_or_default(),
            args: args.iter().map(|s| s.to_string()).collect(),
        });
    }

    pub(super) fn ask(&mut self, what: Redis, args: &[&str], out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Redis(id, what);
        self.redis(id, args, out);
    }

    pub(super) fn timer(&mut self, wait: Wait, out: &mut Vec<Effect>) {
        let id = self.id();
        self.pending = Pending::Timer(id, wait);
        out.push(Effect::Timer {
            id,
            after_ms: self.plan.poll_ms,
        });
    }

    pub(super) fn on_redis(
        &mut self,
        now: u64,
        what: Redis,
        result: Result<CliOutput, String>,
        out: &mut Vec<Effect>,
    ) {
        if what == Redis::PrimaryOffset {
            return self.on_primary_offset(result, out);
        }
        let t = self.target_or_default();
        let ns = self.plan.namespace.clone();
        let reply = match result {
            Ok(o) => {
                let r = reply::parse_cli_output(&o.stdout);
                if let Some((code, detail)) = cli_failed(&o, &r) {
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
                    Some("the server needs a password: the plugin hands the container's REDISCLI_AUTH, REDIS_PASSWORD or the file REDIS_PASSWORD_FILE names to redis-cli; set one of them in the pod spec, or give --password-from-secret".to_string()),
                );
            }
        }
        match what {
            Redis::Replication => {
                let info = info_text(&reply);
                match self.replica_checked(info, out) {
                    Checked::Fit => self.ask(Redis::ConfigDir, &["CONFIG", "GET", "dir"], out),
                    Checked::Switched => self.start_bgsave(out),
                    Checked::Waiting | Checked::Failed => {}
                }
            }
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
                    self.create_temp(out);
                } else {
                    self.wait_or_timeout(now, Wait::Ours, out);
                }
            }
            // Answered by on_primary_offset before any of the above.
            Redis::PrimaryOffset => {}
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

    pub(super) fn on_copied(
        &mut self,
        result: Result<CopyReport, CopyError>,
        out: &mut Vec<Effect>,
    ) {
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
                            crate::rdb::inspect::checksum_text(&summary.checksum)
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

    /// The runbook's way: first, whether the container has what it runs.
    pub(super) fn start_bgsave(&mut self, out: &mut Vec<Effect>) {
        self.method = Method::Bgsave;
        let id = self.id();
        self.pending = Pending::Probe(id);
        out.push(Effect::Probe {
            id,
            target: self.target_or_default(),
            tools: BGSAVE_TOOLS.iter().map(|t| t.to_string()).collect(),
        });
    }

    pub(super) fn on_probed(&mut self, r: Result<Vec<String>, String>, out: &mut Vec<Effect>) {
        let needs = probe::Needs {
            what: "--method bgsave",
            tools_hint: "--method bgsave runs sh, redis-cli and cat in the Redis container; use the default --method stream (no exec, no tools), or choose the Redis container with --container".to_string(),
            without_exec: "; the default --method stream needs no exec",
            suffix: "",
        };
        let t = self.target_or_default();
        match probe::verdict(r, &self.plan.namespace, &t, &needs) {
            Ok(()) if self.needs_primary_offset() => {
                let id = self.id();
                self.pending = Pending::Redis(id, Redis::PrimaryOffset);
                if let Some(p) = self.primary.clone() {
                    out.push(Effect::Redis {
                        id,
                        target: p,
                        args: vec!["INFO".into(), "replication".into()],
                    });
                }
            }
            Ok(()) if self.check_replica => {
                self.ask(Redis::Replication, &["INFO", "replication"], out)
            }
            Ok(()) => self.ask(Redis::ConfigDir, &["CONFIG", "GET", "dir"], out),
            Err((message, hint)) => self.fail(out, Exit::Error, message, Some(hint)),
        }
    }
}

impl Backup {
    /// The primary's `INFO replication`, run through redis-cli in its
    /// container: then the replica is checked (or passed over).
    fn on_primary_offset(&mut self, result: Result<CliOutput, String>, out: &mut Vec<Effect>) {
        let info = match result {
            Ok(o) => {
                let r = reply::parse_cli_output(&o.stdout);
                match cli_failed(&o, &r) {
                    Some((code, detail)) => Err(format!("redis-cli failed{code}: {detail}")),
                    None => info_text(&r),
                }
            }
            Err(e) => Err(format!("cannot run redis-cli: {e}")),
        };
        match self.primary_read(info, out) {
            Checked::Fit => self.ask(Redis::Replication, &["INFO", "replication"], out),
            Checked::Switched => self.start_bgsave(out),
            Checked::Waiting | Checked::Failed => {}
        }
    }
}

/// Whether redis-cli itself failed (rather than Redis answering with an
/// error): its exit code as ` (exit N)` and the first line it printed.
fn cli_failed<'a>(o: &'a CliOutput, r: &Reply) -> Option<(String, &'a str)> {
    let failed_run = o.exit_code.is_some_and(|c| c != 0) && !matches!(r, Reply::Error(_));
    if failed_run || (o.stdout.trim().is_empty() && !o.stderr.trim().is_empty()) {
        let detail = first_line(o.complaint());
        let code = o
            .exit_code
            .map(|c| format!(" (exit {c})"))
            .unwrap_or_default();
        Some((code, detail))
    } else {
        None
    }
}

/// The text of an `INFO` reply from redis-cli, or the error it is: redis-cli
/// prints INFO's errors (`NOAUTH ...`) without its `(error)` prefix, so a
/// reply that does not look like INFO (`# Section`, `field:value`) is one.
fn info_text(r: &Reply) -> Result<String, String> {
    let text = match r {
        Reply::Error(e) => return Err(e.clone()),
        Reply::Text(t) => t.clone(),
        r => describe(r),
    };
    match text.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(l)
            if l.starts_with('#')
                || l.split_once(':').is_some_and(|(k, _)| {
                    !k.is_empty()
                        && k.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                }) =>
        {
            Ok(text)
        }
        Some(l) => Err(l.to_string()),
        None => Err("an empty reply".into()),
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
