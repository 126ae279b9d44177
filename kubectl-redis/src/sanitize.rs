//! `--sanitize RULES` with its mask key (`--sanitize-key-file`,
//! `--sanitize-key-from-secret`): the rules read and checked before anything
//! runs, the key never printed; and the plaintext of a backup made into a
//! sanitized copy as it streams ([`Writer`]), by the core's
//! [`Sanitizer`](kubectl_redis_core::rdb::sanitize::Sanitizer).

use crate::args::KubeArgs;
use crate::store::repo::Problem;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::rdb::records::Splitter;
use kubectl_redis_core::rdb::sanitize::{self, Masker, Report, Rule, Sanitizer};
use kubectl_redis_core::store::manifest::{Sanitize, SanitizeRule};
use std::io::Write;

/// What a value may grow to before it streams through in pieces.
const BIG_VALUE: usize = 8 << 20;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Sanitizing (copies for staging)")]
pub struct SanitizeArgs {
    /// Sanitize on the way by this rules file (YAML or JSON): drop keys, mask values with keyed pseudonyms, give expiries (docs/sanitize.md). Only the sanitized copy is stored or loaded; a stored one is named `-sanitized` and never taken for a full backup
    #[arg(long, value_name = "RULES")]
    pub sanitize: Option<String>,
    /// The mask key: this file's bytes (a trailing newline removed), at least 32 of them. The same key masks the same input alike in every copy
    #[arg(long, value_name = "FILE", requires = "sanitize")]
    pub sanitize_key_file: Option<String>,
    /// The mask key from this Secret's key (in the namespace)
    #[arg(
        long,
        value_name = "NAME/KEY",
        requires = "sanitize",
        conflicts_with = "sanitize_key_file"
    )]
    pub sanitize_key_from_secret: Option<String>,
}

/// Checked rules and a key, ready to sanitize.
#[derive(Clone)]
pub struct Plan {
    pub rules: Vec<Rule>,
    pub masker: Masker,
    pub rules_sha256: String,
    pub key_id: String,
    /// The rules file, as given.
    pub file: String,
}

fn problem(message: String, hint: &str) -> Problem {
    Problem {
        message,
        hint: hint.to_string(),
    }
}

/// Reads and checks a rules file (YAML, of which JSON is a part).
pub fn read_rules(path: &str) -> Result<(Vec<Rule>, String), Problem> {
    let bytes = std::fs::read(path).map_err(|e| {
        problem(
            format!("cannot read the rules file {path}: {e}"),
            "give --sanitize the path of a rules file (docs/sanitize.md)",
        )
    })?;
    let file: sanitize::RulesFile = serde_norway::from_slice(&bytes).map_err(|e| {
        problem(
            format!("the rules file {path} does not parse: {e}"),
            "each rule has `action` (drop, mask, ttl or keep) and may have keys, type, db, fields, members, format, ttl; see docs/sanitize.md and schemas/sanitize-rules.schema.json",
        )
    })?;
    let rules = sanitize::compile(file).map_err(|e| {
        problem(
            format!("the rules file {path}: {e}"),
            "see docs/sanitize.md",
        )
    })?;
    Ok((rules, sanitize::rules_sha256(&bytes)))
}

impl SanitizeArgs {
    /// The plan when `--sanitize` is given: rules checked, key read.
    /// Nothing has run yet when this fails (exit 2).
    pub async fn load(&self, kube: &KubeArgs) -> Result<Option<Plan>, Problem> {
        let Some(path) = &self.sanitize else {
            return Ok(None);
        };
        let (rules, rules_sha256) = read_rules(path)?;
        let key_hint = "give a key of at least 32 random bytes: --sanitize-key-file FILE (e.g. `head -c 32 /dev/urandom | base64 > mask.key`) or --sanitize-key-from-secret NAME/KEY";
        let mut key: Vec<u8> = if let Some(f) = &self.sanitize_key_file {
            crate::redis::tls::read_file(std::path::Path::new(f), "--sanitize-key-file", true)
                .map_err(|e| problem(e, key_hint))?
        } else if let Some(spec) = &self.sanitize_key_from_secret {
            let (name, key) = spec
                .split_once('/')
                .filter(|(n, k)| !n.is_empty() && !k.is_empty())
                .ok_or_else(|| {
                    problem(
                        format!("--sanitize-key-from-secret {spec}: use NAME/KEY"),
                        key_hint,
                    )
                })?;
            let k = crate::kube::connect(kube).await.map_err(|e| {
                problem(
                    format!(
                        "--sanitize-key-from-secret needs the cluster: {}",
                        e.message
                    ),
                    key_hint,
                )
            })?;
            crate::kube::secrets::bytes_from_secret(&k.client, &k.namespace, name, key)
                .await
                .map_err(|e| problem(e, key_hint))?
        } else {
            return Err(problem("--sanitize needs a mask key".into(), key_hint));
        };
        // A trailing newline (as `echo` or `base64` leave one) is not key.
        while key.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            key.pop();
        }
        let masker = Masker::new(&key).map_err(|e| problem(e, key_hint))?;
        Ok(Some(Plan {
            key_id: masker.key_id(),
            rules,
            masker,
            rules_sha256,
            file: path.clone(),
        }))
    }
}

/// A writer that sanitizes the plaintext RDB written into it and writes
/// the copy to `out`. [`Writer::finish`] writes the copy's end (its
/// checksum): a copy not finished is a truncated file no reader accepts.
///
/// Two threads share the work: the caller's cuts the input into records
/// (every byte checked by the core's reader) and hands them on in batches;
/// a second one sanitizes them and writes the copy. The batches in flight
/// are bounded ([`BATCH`] bytes each, [`IN_FLIGHT`] of them).
pub struct Writer<W: Write + Send + 'static> {
    splitter: Splitter,
    batch: Batch,
    /// Batches the sanitizing thread is done with, to fill again (a fixed
    /// pool: no allocation per batch).
    spent: std::sync::mpsc::Receiver<Batch>,
    tx: Option<std::sync::mpsc::SyncSender<Msg>>,
    worker: Option<std::thread::JoinHandle<Finished<W>>>,
    err: Option<String>,
    /// The rules did not fit the data (not a damaged input).
    rules_err: bool,
}

/// How the sanitizing thread ended: the report and the output, or
/// (`true` when the rules did not fit the data, the message).
type Finished<W> = Result<(Report, W), (bool, String)>;

/// Bytes of records per batch handed to the sanitizing thread.
const BATCH: usize = 256 << 10;
/// Batches queued for it.
const IN_FLIGHT: usize = 2;

/// Records owned, their bytes in one buffer.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    recs: Vec<Owned>,
}

type Span = std::ops::Range<usize>;

/// A [`Record`](kubectl_redis_core::rdb::records::Record) whose bytes are
/// spans of its batch's buffer (a key's name is put back in by
/// [`Batch::each`]).
enum Owned {
    Header(kubectl_redis_core::rdb::Header),
    Key {
        key: kubectl_redis_core::rdb::reader::Key<'static>,
        name: Span,
        value: Span,
    },
    BigStart {
        db: u64,
        name: Span,
        code: u8,
        expire_ms: Option<i64>,
    },
    BigPart(Span),
    BigEnd {
        key: kubectl_redis_core::rdb::reader::Key<'static>,
        name: Span,
    },
    Function(Span),
}

enum Msg {
    Batch(Batch),
    /// The input ended whole: write the copy's end.
    End,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            bytes: Vec::with_capacity(BATCH + (64 << 10)),
            recs: Vec::with_capacity(BATCH / 64),
        }
    }

    fn span(&mut self, b: &[u8]) -> Span {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(b);
        at..self.bytes.len()
    }

    fn push(&mut self, rec: kubectl_redis_core::rdb::records::Record<'_>) {
        use kubectl_redis_core::rdb::records::Record;
        let bare =
            |k: kubectl_redis_core::rdb::reader::Key<'_>| kubectl_redis_core::rdb::reader::Key::<
                'static,
            > {
                db: k.db,
                name: &[],
                truncated: k.truncated,
                kind: k.kind,
                expire_ms: k.expire_ms,
                idle: k.idle,
                freq: k.freq,
                bytes: k.bytes,
                elements: k.elements,
                offset: k.offset,
                compressed: k.compressed,
            };
        let o = match rec {
            Record::Header(h) => Owned::Header(h),
            Record::Key { key, value } => Owned::Key {
                name: self.span(key.name),
                value: self.span(value),
                key: bare(key),
            },
            Record::BigStart {
                db,
                name,
                code,
                expire_ms,
            } => Owned::BigStart {
                db,
                name: self.span(name),
                code,
                expire_ms,
            },
            Record::BigPart(b) => Owned::BigPart(self.span(b)),
            Record::BigEnd(key) => Owned::BigEnd {
                name: self.span(key.name),
                key: bare(key),
            },
            Record::Function(b) => Owned::Function(self.span(b)),
        };
        self.recs.push(o);
    }

    /// Each record again, borrowing this batch's bytes.
    fn each(
        &self,
        f: &mut dyn FnMut(
            kubectl_redis_core::rdb::records::Record<'_>,
        ) -> Result<(), sanitize::Error>,
    ) -> Result<(), sanitize::Error> {
        use kubectl_redis_core::rdb::records::Record;
        let b = &self.bytes;
        for o in &self.recs {
            let rec = match o {
                Owned::Header(h) => Record::Header(*h),
                Owned::Key { key, name, value } => Record::Key {
                    key: kubectl_redis_core::rdb::reader::Key {
                        name: &b[name.clone()],
                        ..*key
                    },
                    value: &b[value.clone()],
                },
                Owned::BigStart {
                    db,
                    name,
                    code,
                    expire_ms,
                } => Record::BigStart {
                    db: *db,
                    name: &b[name.clone()],
                    code: *code,
                    expire_ms: *expire_ms,
                },
                Owned::BigPart(s) => Record::BigPart(&b[s.clone()]),
                Owned::BigEnd { key, name } => {
                    Record::BigEnd(kubectl_redis_core::rdb::reader::Key {
                        name: &b[name.clone()],
                        ..*key
                    })
                }
                Owned::Function(s) => Record::Function(&b[s.clone()]),
            };
            f(rec)?;
        }
        Ok(())
    }
}

/// The sanitizing thread: batches in, the copy out; its end written only
/// on [`Msg::End`] (a sender gone without it leaves the copy cut short).
fn sanitize_loop<W: Write>(
    mut sanitizer: Sanitizer,
    mut out: W,
    rx: std::sync::mpsc::Receiver<Msg>,
    spent: std::sync::mpsc::Sender<Batch>,
) -> Finished<W> {
    let fail = |e: sanitize::Error| (matches!(e, sanitize::Error::Rules(_)), e.to_string());
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH + (64 << 10));
    loop {
        match rx.recv() {
            Ok(Msg::Batch(mut batch)) => {
                buf.clear();
                batch
                    .each(&mut |rec| sanitizer.record(rec, &mut |b| buf.extend_from_slice(b)))
                    .map_err(fail)?;
                out.write_all(&buf).map_err(|e| (false, e.to_string()))?;
                batch.bytes.clear();
                batch.recs.clear();
                // The writer may have gone: the batch is then dropped.
                let _ = spent.send(batch);
            }
            Ok(Msg::End) => {
                buf.clear();
                let report = sanitizer
                    .finish(&mut |b| buf.extend_from_slice(b))
                    .map_err(|e| (false, e.to_string()))?;
                out.write_all(&buf)
                    .and_then(|()| out.flush())
                    .map_err(|e| (false, e.to_string()))?;
                return Ok((report, out));
            }
            Err(_) => return Err((false, "the input stopped before its end".into())),
        }
    }
}

impl<W: Write + Send + 'static> Writer<W> {
    /// `now_ms`: when `ttl` expiries start; `redis_ver`: the server version
    /// written into the copy.
    pub fn new(plan: &Plan, out: W, now_ms: i64, redis_ver: Option<String>) -> Self {
        let sanitizer = Sanitizer::new(plan.rules.clone(), plan.masker.clone(), now_ms, redis_ver);
        let (tx, rx) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let (spent_tx, spent) = std::sync::mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("sanitize".into())
            .spawn(move || sanitize_loop(sanitizer, out, rx, spent_tx));
        let (tx, worker, err) = match worker {
            Ok(w) => (Some(tx), Some(w), None),
            Err(e) => (None, None, Some(format!("cannot start a thread: {e}"))),
        };
        Writer {
            splitter: Splitter::new(BIG_VALUE),
            batch: Batch::new(),
            spent,
            tx,
            worker,
            err,
            rules_err: false,
        }
    }

    /// Why writing stopped, when it did: (`true` when the rules did not fit
    /// the data, the message).
    pub fn failure(&self) -> Option<(bool, String)> {
        self.err.clone().map(|e| (self.rules_err, e))
    }

    /// The sanitizing thread's failure, once it stopped early.
    fn worker_failed(&mut self) -> std::io::Error {
        self.tx = None;
        let (rules, e) = match self.worker.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Err((rules, e)))) => (rules, e),
            Some(Ok(Ok(_))) => (false, "the copy ended early".to_string()),
            Some(Err(_)) => (
                false,
                "internal error: the sanitizing thread panicked".into(),
            ),
            None => (false, "the sanitizing thread is gone".into()),
        };
        self.rules_err = rules;
        self.err = Some(e);
        std::io::Error::other("sanitizing failed")
    }

    fn send(&mut self, m: Msg) -> std::io::Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(m).is_ok());
        match sent {
            Some(true) => Ok(()),
            _ => Err(self.worker_failed()),
        }
    }

    /// Ends the copy: the rest of the input must be whole. `Err((rules,
    /// message))`: `rules` when the rules did not fit the data.
    pub fn finish(mut self) -> Finished<W> {
        if let Some(e) = self.err.take() {
            return Err((self.rules_err, e));
        }
        self.splitter
            .finish()
            .map_err(|e| (false, format!("the backup is not a whole RDB file: {e}")))?;
        let last = std::mem::take(&mut self.batch);
        if self
            .send(Msg::Batch(last))
            .and_then(|()| self.send(Msg::End))
            .is_err()
        {
            return Err((self.rules_err, self.err.take().unwrap_or_default()));
        }
        self.tx = None;
        match self.worker.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err((
                false,
                "internal error: the sanitizing thread panicked".into(),
            )),
            None => Err((false, "the sanitizing thread is gone".into())),
        }
    }
}

impl<W: Write + Send + 'static> Write for Writer<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.err.is_some() {
            return Err(std::io::Error::other("sanitizing stopped"));
        }
        let Writer {
            splitter, batch, ..
        } = self;
        if let Err(e) = splitter.feed(data, &mut |rec| batch.push(rec)) {
            self.err = Some(format!("the backup is not valid RDB: {e}"));
            return Err(std::io::Error::other("not valid RDB"));
        }
        if self.batch.bytes.len() >= BATCH {
            let next = self.spent.try_recv().unwrap_or_else(|_| Batch::new());
            let full = std::mem::replace(&mut self.batch, next);
            self.send(Msg::Batch(full))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // The copy is flushed when it is finished.
        Ok(())
    }
}

/// The manifest's record of a sanitized copy of `from`.
pub fn manifest_record(plan: &Plan, from: &str, r: &Report) -> Sanitize {
    Sanitize {
        from: from.to_string(),
        rules_sha256: plan.rules_sha256.clone(),
        key_id: plan.key_id.clone(),
        keys_in: r.keys_in,
        keys_out: r.keys_out,
        rules: r
            .rules
            .iter()
            .map(|c| SanitizeRule {
                rule: c.rule,
                text: c.rule_text.clone(),
                keys: c.keys,
                masked: c.masked,
            })
            .collect(),
    }
}

/// Says what each rule did to the copy `name` of `from`, warning of rules
/// that matched no key (a typo, or data that changed).
pub fn say(ui: &crate::ui::Ui, from: &str, name: &str, r: &Report) {
    ui.note(&format!(
        "{name}: sanitized: {} keys read, {} written",
        r.keys_in, r.keys_out
    ));
    for c in &r.rules {
        let what = match c.action {
            sanitize::Action::Mask => format!("{} keys, {} values masked", c.keys, c.masked),
            _ => format!("{} keys", c.keys),
        };
        ui.note(&format!("  rule {} ({}): {what}", c.rule, c.rule_text));
    }
    for c in r.unmatched() {
        ui.warn(&format!(
            "rule {} ({}) matched no key in {from}: check its pattern",
            c.rule, c.rule_text
        ));
    }
}

/// Unix ms now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A sanitized copy of the local plaintext backup `file`, in a private
/// directory (0700, the file 0600) removed when the copy drops, with its
/// own manifest (`sanitized`): what `restore --sanitize` and `drill
/// --sanitize` load. The copy is read back whole before it is used.
pub async fn private_copy(
    plan: &Plan,
    file: &str,
) -> Result<(crate::store::source::LocalCopy, Report), (Exit, Problem)> {
    let dir = crate::store::source::private_dir().map_err(|e| {
        (
            Exit::Error,
            problem(e, "set $TMPDIR to a writable directory"),
        )
    })?;
    let src = std::path::PathBuf::from(file);
    let base = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = kubectl_redis_core::store::names::sanitized_name(&base, false)
        .unwrap_or_else(|| "sanitized.rdb".into());
    let path = dir.join(&name);
    let copy = crate::store::source::LocalCopy::new(dir, path.clone());
    let orig = crate::store::rdbfile::manifest_for(&src).ok().flatten();
    let plan2 = plan.clone();
    let from = base.clone();
    let done = tokio::task::spawn_blocking(move || -> Result<Report, (Exit, Problem)> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |what: &str, e: std::io::Error| {
            (
                Exit::Error,
                problem(format!("{what}: {e}"), "check free space in $TMPDIR"),
            )
        };
        let mut input = std::fs::File::open(&src).map_err(|e| io(&src.display().to_string(), e))?;
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("the sanitized copy", e))?;
        let mut w = Writer::new(
            &plan2,
            std::io::BufWriter::with_capacity(1 << 20, out),
            now_ms(),
            orig.as_ref().and_then(|m| m.redis_version.clone()),
        );
        let copied = std::io::copy(&mut input, &mut w);
        let fit = |rules: bool, e: String| {
            if rules {
                (
                    Exit::Invalid,
                    problem(
                        e,
                        "change the rules (docs/sanitize.md); nothing was changed",
                    ),
                )
            } else {
                (
                    Exit::Corrupt,
                    problem(
                        format!("{}: {e}", src.display()),
                        "do not restore this file; use another backup",
                    ),
                )
            }
        };
        if let Some((rules, e)) = w.failure() {
            return Err(fit(rules, e));
        }
        copied.map_err(|e| io(&src.display().to_string(), e))?;
        let (report, bw) = w.finish().map_err(|(r, e)| fit(r, e))?;
        bw.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|e| io("the sanitized copy", e))?;
        // Read back whole, and described by its own manifest.
        let c = crate::store::rdbfile::check(&path, true, &mut |_| {})
            .map_err(|e| (Exit::Error, problem(e, "")))?;
        let summary = c.result.map_err(|e| {
            (
                Exit::Error,
                problem(
                    format!("the sanitized copy does not read back: {e}"),
                    "this is a bug; please report it with the rules (not the key)",
                ),
            )
        })?;
        let mut m = kubectl_redis_core::store::manifest::Manifest::new(
            &name,
            c.sha256.as_deref().unwrap_or_default(),
            &summary,
            orig.as_ref().map(|m| m.source.clone()).unwrap_or_default(),
            orig.as_ref().map_or("copy", |m| m.method.as_str()),
            orig.as_ref()
                .map(|m| m.created.as_str())
                .unwrap_or_default(),
            &crate::env::tool(),
        );
        m.sanitized = true;
        m.sanitize = Some(manifest_record(&plan2, &from, &report));
        m.made_by = Some(crate::audit::who(None));
        crate::store::files::write_manifest(&path.to_string_lossy(), &m)
            .map_err(|e| (Exit::Error, problem(e, "")))?;
        Ok(report)
    })
    .await
    .map_err(|e| (Exit::Error, problem(format!("internal error: {e}"), "")))??;
    Ok((copy, done))
}
