//! The archiver: a replica that stores what it receives. It resumes from
//! what the repository holds (`PSYNC <replid> <offset + 1>`), stores a new
//! base only when the primary answers `+FULLRESYNC`, cuts the stream into
//! segments (the core's [`Follower`]), uploads them create-only in order,
//! and acknowledges to Redis only offsets whose segment is stored.

use super::store;
use crate::redis::auth::Auth;
use crate::redis::{Conn, Psync};
use crate::store::crypt::Recipients;
use crate::store::repo::Repo;
use crate::ui::Ui;
use kubectl_redis_core::backup::{ConnectError, Endpoint, Line};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::pitr::stream::{Event, Follower, Limits, Sealed};
use kubectl_redis_core::pitr::{self, SegmentManifest};
use kubectl_redis_core::store::manifest::{Manifest, PitrBase, Source};
use kubectl_redis_core::wire::repl::resp;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};

/// What `REPLCONF ACK` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Only what is stored (`WAIT 1` then means "archived").
    Stored,
    /// What was received (for servers with `min-replicas-to-write`, whose
    /// writes would otherwise wait for the repository).
    Received,
}

/// What to follow: a server by address, or the primary among pods (found
/// again at every connection, so a failover is followed).
#[derive(Clone)]
pub enum Follow {
    Url(kubectl_redis_core::backup::Url),
    Pods {
        api: Box<kube::Api<k8s_openapi::api::core::v1::Pod>>,
        selector: String,
        pod: Option<String>,
        container: Option<String>,
        port: Option<u16>,
    },
}

/// What the archiver is doing, for its metrics and status.
#[derive(Default)]
pub struct State {
    /// The replication offset received, and stored.
    pub received: u64,
    pub stored: u64,
    /// When the oldest command not yet stored arrived (Unix ms).
    pub pending_since_ms: Option<i64>,
    /// The link is up.
    pub up: bool,
    /// Whom it follows (`pod NAME` or the URL).
    pub primary: String,
    pub segments: u64,
    pub bases: u64,
    pub spool_bytes: u64,
    pub spool_full: bool,
    pub errors: u64,
    pub last_error: String,
    pub last_stored_unix: i64,
}

pub type Shared = Arc<std::sync::Mutex<State>>;

fn update(s: &Shared, f: impl FnOnce(&mut State)) {
    if let Ok(mut g) = s.lock() {
        f(&mut g);
    }
}

/// The archiver's settings.
pub struct Config {
    pub follow: Follow,
    /// What the source is called in messages and manifests.
    pub label: String,
    pub source: Source,
    pub repo: Repo,
    pub recipients: Option<Arc<Recipients>>,
    pub archive: String,
    pub limits: Limits,
    pub spool_bytes: usize,
    /// `--spool-dir`: segments wait there (encrypted when the archive is)
    /// instead of in memory, so the spool can outgrow the memory limit.
    pub spool_dir: Option<std::path::PathBuf>,
    pub ack: Ack,
    /// Idle links get a heartbeat segment this often.
    pub heartbeat_ms: i64,
    pub state: Shared,
    /// A Redis Cluster shard: the slot whose primary this archiver
    /// follows (the lowest slot the shard held when archiving began),
    /// found again through `follow` at every connection.
    pub shard: Option<u16>,
    /// With `--url`, a shard's primary is asked of the cluster's nodes the
    /// last slot map named when the `--url` node does not answer.
    pub known: std::sync::Arc<std::sync::Mutex<Vec<kubectl_redis_core::backup::Url>>>,
}

/// How a run ended.
pub enum End {
    /// A signal: everything received whole was stored first.
    Stopped(i32),
    /// Something that retrying cannot fix (refused PSYNC, a repository
    /// holding something else under a segment's name): the exit, the
    /// message and the fix.
    Failed(Exit, String, String),
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

struct Job {
    info: kubectl_redis_core::pitr::stream::SegmentInfo,
    payload: Payload,
    base: String,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// A queued segment's bytes: in memory (encrypted by the uploader), or a
/// file in the spool directory, already encrypted when the archive is.
enum Payload {
    Memory(Vec<u8>),
    Spooled {
        path: std::path::PathBuf,
        plain_len: u64,
        sha256: String,
        encrypted: Option<pitr::Stored>,
    },
}

/// Where the archive stands in the repository: the chain to continue.
struct Resume {
    base: String,
    replid: String,
    offset: u64,
    /// The offset of the last stored command's last byte.
    commands_to: u64,
    db: Option<i64>,
    to_s: i64,
    /// When the last stored command (or heartbeat) arrived (Unix ms): what
    /// the primary sends on `+CONTINUE` executed after it, not when it
    /// arrives.
    last_ms: i64,
}

async fn resume_point(c: &Config) -> Result<Option<Resume>, crate::store::repo::Problem> {
    let (chains, _) = store::chains(&c.repo, &c.archive).await?;
    Ok(chains.last().map(|ch| {
        let last = ch.segments.last();
        Resume {
            base: ch.base.name.clone(),
            replid: last.map_or(ch.base.replid.clone(), |s| s.info.replid.clone()),
            offset: ch.last_offset(),
            commands_to: ch.commands_to(),
            db: last.and_then(|s| s.info.db),
            to_s: ch.to_s(),
            last_ms: last.map_or(ch.base.time_ms, |s| s.info.last_ms),
        }
    }))
}

/// Runs until a signal (or a failure retrying cannot fix).
pub async fn run(ui: &Ui, auth: &Auth, c: Config) -> End {
    let _handled = crate::signals::Handled::new();
    let sem = Arc::new(Semaphore::new(c.spool_bytes));
    let (tx, rx) = mpsc::unbounded_channel::<Job>();
    let (stored_tx, stored_rx) = watch::channel::<Option<(String, u64)>>(None);
    let (fail_tx, mut fail_rx) = watch::channel::<Option<String>>(None);
    let uploader = tokio::spawn(upload_loop(
        c.repo.clone(),
        c.recipients.clone(),
        c.archive.clone(),
        rx,
        stored_tx,
        fail_tx,
        c.state.clone(),
    ));
    let mut backoff = Duration::from_secs(1);
    let end = loop {
        // Everything queued is stored (or failed) before the resume point
        // is read back from the repository.
        if let Some(e) = wait_drained(&sem, c.spool_bytes, &mut fail_rx).await {
            break End::Failed(Exit::Storage, e, "the archive holds an object this archiver did not write: check what else writes to this repository and archive name".into());
        }
        let resume = match resume_point(&c).await {
            Ok(r) => r,
            Err(p) => {
                ui.line(
                    "archive",
                    &Line::Warn(format!(
                        "{} (retrying in {} s)",
                        p.message,
                        backoff.as_secs()
                    )),
                );
                if let Some(n) = sleep_or_signal(backoff).await {
                    break End::Stopped(n);
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        match follow(ui, auth, &c, resume, &sem, &tx, &stored_rx).await {
            Link::Stopped(n) => break End::Stopped(n),
            Link::Refused(exit, m, hint) => break End::Failed(exit, m, hint),
            Link::Dropped(m, progressed) => {
                update(&c.state, |s| {
                    s.up = false;
                    s.errors += 1;
                    s.last_error = m.clone();
                });
                if progressed {
                    backoff = Duration::from_secs(1);
                }
                ui.line(
                    "archive",
                    &Line::Warn(format!("{m}; reconnecting in {} s", backoff.as_secs())),
                );
                if let Some(n) = sleep_or_signal(backoff).await {
                    break End::Stopped(n);
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    };
    // What was queued is stored before the process ends.
    drop(tx);
    let _ = uploader.await;
    if let Some(e) = fail_rx.borrow().clone() {
        if let End::Stopped(_) = end {
            return End::Failed(Exit::Storage, e, "the segments after the last one stored were not kept; the next run resumes from it".into());
        }
    }
    end
}

async fn sleep_or_signal(d: Duration) -> Option<i32> {
    tokio::select! {
        n = crate::signals::interrupted() => Some(n),
        _ = tokio::time::sleep(d) => None,
    }
}

/// Waits until every queued segment is stored; a permanent upload
/// failure's message otherwise.
async fn wait_drained(
    sem: &Arc<Semaphore>,
    all: usize,
    fail: &mut watch::Receiver<Option<String>>,
) -> Option<String> {
    loop {
        if let Some(e) = fail.borrow().clone() {
            return Some(e);
        }
        if sem.available_permits() == all {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = fail.changed() => {}
        }
    }
}

enum Link {
    Stopped(i32),
    Refused(Exit, String, String),
    /// The link dropped; whether anything was stored on it.
    Dropped(String, bool),
}

async fn follow(
    ui: &Ui,
    auth: &Auth,
    c: &Config,
    resume: Option<Resume>,
    sem: &Arc<Semaphore>,
    tx: &mpsc::UnboundedSender<Job>,
    stored: &watch::Receiver<Option<(String, u64)>>,
) -> Link {
    use kubectl_redis_core::wire::reply::Reply;
    // TLS that cannot work and refused credentials are not retried: the
    // next try would fail the same way.
    let (endpoint, api, slots) = match resolve(ui, auth, c).await {
        Ok(x) => x,
        Err(e) => return Link::Dropped(e, false),
    };
    let label = match (&endpoint, c.shard) {
        (Endpoint::Url(u), Some(s)) => format!("{}:{} (the primary of slot {s})", u.host, u.port),
        (Endpoint::Url(_), None) => c.label.clone(),
        (Endpoint::Pod(t), _) => format!("pod {} port {}", t.pod, t.port),
    };
    update(&c.state, |s| s.primary = label.clone());
    let (mut conn, _fwd) = match crate::redis::open(&endpoint, api.as_ref()).await {
        Ok(x) => x,
        Err(ConnectError::Tls(m)) => {
            return Link::Refused(
                Exit::Invalid,
                m,
                "see the TLS flags in `kubectl redis archive run --help`".into(),
            )
        }
        Err(ConnectError::Forbidden(m)) => {
            return Link::Refused(
                Exit::Invalid,
                format!("{}: {m}", label),
                "check the address and --allow-host".into(),
            )
        }
        Err(ConnectError::Failed(m)) => {
            return Link::Dropped(format!("cannot connect to {}: {m}", label), false)
        }
    };
    if let Some(pw) = &auth.password {
        match conn.auth(auth.user.as_deref(), pw).await {
            Ok(Reply::Error(e)) => {
                return Link::Refused(
                    Exit::Invalid,
                    format!("{} refused AUTH: {e}", label),
                    "check $REDISCLI_AUTH (and --user-name for an ACL user)".into(),
                )
            }
            Ok(_) => {}
            Err(e) => return Link::Dropped(e, false),
        }
    }
    match conn
        .command(&["REPLCONF".into(), "capa".into(), "eof".into(), "capa".into(), "psync2".into()])
        .await
    {
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => {
            return Link::Refused(
                Exit::Invalid,
                format!("{} needs a password: {e}", label),
                "set $REDISCLI_AUTH (and --user-name for an ACL user)".into(),
            )
        }
        Ok(Reply::Error(e)) => {
            return Link::Refused(
                Exit::SyncRefused,
                format!("{} refused REPLCONF: {e}", label),
                "the archiver is a replica: its user needs +replconf and +psync (ACL SETUSER NAME +psync +replconf +ping)".into(),
            )
        }
        Ok(_) => {}
        Err(e) => return Link::Dropped(e, false),
    }
    // A Redis Cluster node holds one shard: an archive of it alone cannot
    // restore the cluster to a second. Shards are archived together (one
    // follower per shard, see `archive run`), never one by itself.
    if c.shard.is_none() {
        if let Ok(Reply::Bulk(b)) = conn.command(&["INFO".into(), "cluster".into()]).await {
            if String::from_utf8_lossy(&b).contains("cluster_enabled:1") {
                return Link::Refused(
                    Exit::Invalid,
                    format!("{label} is a node of a Redis Cluster: archiving it alone would keep one shard; nothing was archived"),
                    "drop --pod so that every shard is archived (the pods matching -l are the cluster's nodes), or give --url any node of the cluster".into(),
                );
            }
        }
    }
    // Valkey sends its own RDB format only to a replica that announces its
    // version (RDB 11 otherwise, which cannot hold all of its data).
    if let Ok(Reply::Bulk(b)) = conn.command(&["INFO".into(), "server".into()]).await {
        let info = String::from_utf8_lossy(&b).into_owned();
        let server = kubectl_redis_core::rdb::Server::from_info(
            &kubectl_redis_core::wire::reply::info_fields(&info),
        );
        if let Some(s) = server.filter(|s| s.flavor == kubectl_redis_core::rdb::Flavor::Valkey) {
            let (a, b, c) = s.version;
            let v = format!("{a}.{b}.{c}");
            if let Err(e) = conn
                .command(&["REPLCONF".into(), "version".into(), v])
                .await
            {
                return Link::Dropped(e, false);
            }
        }
    }
    // A promoted replica holds the old link up to its promotion point
    // only: when the archive stored past it but no command of that (the
    // old primary's PINGs after the promotion), the chain continues there.
    let mut rewind = None;
    if let Some(r) = &resume {
        if let Ok(Reply::Bulk(b)) = conn.command(&["INFO".into(), "replication".into()]).await {
            let info = kubectl_redis_core::wire::reply::info_fields(&String::from_utf8_lossy(&b));
            let get = |k: &str| {
                info.get(k)
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            rewind = kubectl_redis_core::pitr::chain::continue_at(
                &r.replid,
                r.offset,
                r.commands_to,
                &get("master_replid2"),
                get("second_repl_offset").parse().unwrap_or(-1),
            );
        }
    }
    let (replid, offset) = match &resume {
        Some(r) => (r.replid.clone(), (rewind.unwrap_or(r.offset) + 1) as i64),
        None => ("?".to_string(), -1),
    };
    if let (Some(x), Some(r)) = (rewind, &resume) {
        ui.line(
            "archive",
            &Line::Detail(format!(
                "{} was promoted at offset {x}; the archive holds {} bytes past it, none of them a command: the chain continues from there",
                label,
                r.offset - x
            )),
        );
    }
    let answer = match conn.psync(&replid, offset, Duration::from_secs(60)).await {
        Ok(a) => a,
        Err(e) if e.starts_with("the server refused PSYNC") => {
            return Link::Refused(
                Exit::SyncRefused,
                format!("{}: {e}", label),
                "the archiver is a replica: PSYNC must not be renamed, its ACL user needs +psync +replconf, and a replica of a replica needs a primary that allows it".into(),
            )
        }
        Err(e) => return Link::Dropped(e, false),
    };
    let (mut f, base) = match (answer, resume) {
        (Psync::Continue { replid: new }, Some(r)) => {
            let id = new.unwrap_or(r.replid.clone());
            if id != r.replid {
                ui.line(
                    "archive",
                    &Line::Detail(format!(
                        "{} continues the chain under a new replication id {id} (a failover)",
                        label
                    )),
                );
            }
            let from = rewind.unwrap_or(r.offset);
            ui.line(
                "archive",
                &Line::Step(format!(
                    "continuing {} from offset {from} (+CONTINUE)",
                    r.base
                )),
            );
            let f = Follower::new(&id, from, r.db, c.limits);
            let mut f = if rewind.is_some() {
                f.rewound(r.offset)
            } else {
                f
            };
            // What the primary kept while no archiver read (its backlog)
            // arrives now: those writes' seconds are not known, only that
            // they came after the last one stored.
            f.behind(r.last_ms);
            (f, r.base)
        }
        (Psync::Continue { .. }, None) => {
            return Link::Dropped(
                "the server answered PSYNC ? -1 with +CONTINUE".into(),
                false,
            )
        }
        (Psync::Full { replid, offset }, resume) => {
            if let Some(r) = &resume {
                ui.line(
                    "archive",
                    &Line::Warn(format!(
                        "{} could not continue the chain of {} from offset {} (its backlog no longer holds it, or it restarted): a new base starts; nothing after {} is archived until it is stored (a gap)",
                        label,
                        r.base,
                        r.offset,
                        kubectl_redis_core::store::names::rfc3339(r.to_s)
                    )),
                );
            }
            match store_base(ui, &mut conn, c, &label, &replid, offset, slots).await {
                Ok(name) => {
                    let gap = resume
                        .as_ref()
                        .map(|r| kubectl_redis_core::store::names::rfc3339(r.to_s));
                    crate::archive::events::new_base(&name, gap.as_deref());
                    (Follower::new(&replid, offset, None, c.limits), name)
                }
                Err(e) => return Link::Dropped(e, false),
            }
        }
    };
    update(&c.state, |s| {
        s.up = true;
        s.received = f.received();
    });
    stream(ui, &mut conn, c, &label, &mut f, &base, sem, tx, stored).await
}

/// Whether `name` was free among the bases this process stores (and is
/// now taken).
fn reserve(name: &str) -> bool {
    static TAKEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    match TAKEN.lock() {
        Ok(t) if t.iter().any(|n| n == name) => false,
        Ok(mut t) => {
            t.push(name.to_string());
            true
        }
        Err(_) => true,
    }
}

/// The snapshot after `+FULLRESYNC`, stored as an ordinary verified backup
/// whose manifest says where on the link it sits.
async fn store_base(
    ui: &Ui,
    conn: &mut Conn,
    c: &Config,
    label: &str,
    replid: &str,
    offset: u64,
    slots: Vec<[u16; 2]>,
) -> Result<String, String> {
    let time_ms = now_ms();
    let secs = time_ms.div_euclid(1000);
    let encrypted = c.recipients.is_some();
    for attempt in 0..20 {
        let name = kubectl_redis_core::store::names::backup_file_name_for(secs, attempt, encrypted);
        // A Redis Cluster's shards store their bases side by side: a name
        // one of them took in this process is not tried by another.
        if !reserve(&name) {
            continue;
        }
        let mut put = match crate::store::put::Put::begin(
            &c.repo,
            &name,
            &kubectl_redis_core::store::names::temp_prefix(secs),
            c.recipients.as_deref(),
        )
        .await
        {
            Ok(p) => p,
            Err(e) if e.contains("already exists") => continue,
            Err(e) => return Err(e),
        };
        ui.line(
            "archive",
            &Line::Step(format!(
                "new base from {} (+FULLRESYNC {replid} {offset})",
                label
            )),
        );
        let hint = crate::store::sink::SizeHint::default();
        let report = match conn
            .download(ui, &mut put.sink, "base", crate::env::stall(), &hint)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                put.abort().await;
                let why = match e {
                    kubectl_redis_core::backup::SyncError::Timeout => {
                        "the server sent no snapshot in time".to_string()
                    }
                    kubectl_redis_core::backup::SyncError::Io(m) => m,
                    kubectl_redis_core::backup::SyncError::Stream(e) => e.to_string(),
                };
                return Err(format!("downloading the base: {why}"));
            }
        };
        let mut m = Manifest::new(
            &name,
            &report.sha256,
            &report.summary,
            c.source.clone(),
            "stream",
            &kubectl_redis_core::store::names::rfc3339(secs),
            &crate::env::tool(),
        );
        if let Some(r) = &c.recipients {
            m.encryption = Some(kubectl_redis_core::store::manifest::Encryption {
                format: "age".into(),
                recipients: r.public.clone(),
                size: 0,
                sha256: String::new(),
                kms: r.kms.clone(),
            });
        }
        m.pitr = Some(PitrBase {
            archive: c.archive.clone(),
            replid: replid.to_string(),
            offset,
            time_ms,
            slots: slots.clone(),
        });
        let dest = match &c.repo {
            Repo::Local(d) => Some(kubectl_redis_core::backup::join(d, &name)),
            Repo::Remote(_) => None,
        };
        match put.commit(dest.as_deref(), m, &mut |_| {}).await {
            Ok(_) => {
                ui.line(
                    "archive",
                    &Line::Detail(format!(
                        "base {name}: {} keys, {} bytes, verified",
                        report.summary.keys(),
                        report.bytes
                    )),
                );
                update(&c.state, |s| {
                    s.bases += 1;
                    s.stored = offset;
                    s.last_stored_unix = secs;
                });
                return Ok(name);
            }
            // The snapshot was read already: it cannot be read again under
            // another name. The link is dropped; the next one starts over.
            Err(kubectl_redis_core::backup::CommitError::Exists) => {
                put.abort().await;
                return Err(format!(
                    "storing the base: {name} appeared in the repository meanwhile (another writer?)"
                ));
            }
            Err(kubectl_redis_core::backup::CommitError::Failed(m)) => {
                return Err(format!("storing the base: {m}"))
            }
        }
    }
    Err("no free backup name for the base in this second".into())
}

#[allow(clippy::too_many_arguments)]
async fn stream(
    ui: &Ui,
    conn: &mut Conn,
    c: &Config,
    label: &str,
    f: &mut Follower,
    base: &str,
    sem: &Arc<Semaphore>,
    tx: &mpsc::UnboundedSender<Job>,
    stored: &watch::Receiver<Option<(String, u64)>>,
) -> Link {
    let start = f.sealed();
    let mut stored = stored.clone();
    let acked = |f: &Follower, stored: &watch::Receiver<Option<(String, u64)>>| match c.ack {
        Ack::Received => f.received(),
        // What the repository holds of this chain (never less than where
        // the link started, which is stored).
        Ack::Stored => match &*stored.borrow() {
            Some((b, o)) if b == base => (*o).max(start).min(f.received()),
            _ => start,
        },
    };
    // After a diskless snapshot the primary sends nothing until the first
    // ACK.
    if let Err(e) = conn.send(&ack_bytes(acked(f, &stored))).await {
        return Link::Dropped(e, false);
    }
    ui.line(
        "archive",
        &Line::Detail(format!(
            "following {} at offset {} into {}",
            label,
            f.received(),
            c.repo.display()
        )),
    );
    let mut buf = vec![0u8; 64 << 10];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seal = now_ms();
    let mut last_byte = std::time::Instant::now();
    let idle_limit = crate::env::stall().max(Duration::from_secs(30));
    enum Got {
        Bytes(usize),
        Closed,
        Err(String),
        Tick,
        Due,
        Stored,
        Signal(i32),
    }
    loop {
        // The open segment closes on time, not at the next tick.
        let due_in = f
            .due_at()
            .map(|t| Duration::from_millis(u64::try_from(t - now_ms()).unwrap_or(0)))
            .unwrap_or(Duration::from_secs(3600));
        let got = tokio::select! {
            n = crate::signals::interrupted() => Got::Signal(n),
            r = conn.read_some(&mut buf) => match r {
                Ok(0) => Got::Closed,
                Ok(n) => Got::Bytes(n),
                Err(e) => Got::Err(e),
            },
            _ = tick.tick() => Got::Tick,
            _ = tokio::time::sleep(due_in) => Got::Due,
            // A segment stored: acknowledged at once (WAIT returns).
            r = stored.changed() => if r.is_ok() { Got::Stored } else { Got::Tick },
        };
        let now = now_ms();
        let progressed = stored
            .borrow()
            .as_ref()
            .is_some_and(|(b, o)| b == base && *o > start);
        match got {
            Got::Signal(n) => {
                if let Some(s) = f.seal() {
                    if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                        return spool_failed(e);
                    }
                }
                return Link::Stopped(n);
            }
            Got::Closed | Got::Err(_) => {
                if let Some(s) = f.seal() {
                    if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                        return spool_failed(e);
                    }
                }
                let why = match got {
                    Got::Err(e) => e,
                    _ => format!("{} closed the replication link", label),
                };
                return Link::Dropped(why, progressed);
            }
            Got::Bytes(n) => {
                last_byte = std::time::Instant::now();
                let r = f.feed(&buf[..n], now);
                // A read that did not fill the buffer: what the primary had
                // queued while reading stopped is in.
                if n < buf.len() && f.is_behind() {
                    f.caught_up();
                }
                update(&c.state, |s| {
                    s.received = f.received();
                    if f.open_bytes() > 0 {
                        s.pending_since_ms.get_or_insert(now);
                    }
                });
                match r {
                    Ok(events) => {
                        for e in events {
                            match e {
                                Event::GetAck => {
                                    if let Err(e) = conn.send(&ack_bytes(acked(f, &stored))).await {
                                        return Link::Dropped(e, progressed);
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        if let Some(s) = f.seal() {
                            if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                                return spool_failed(e);
                            }
                        }
                        return Link::Dropped(e.to_string(), progressed);
                    }
                }
            }
            Got::Due => {}
            Got::Stored => {
                if let Err(e) = conn.send(&ack_bytes(acked(f, &stored))).await {
                    return Link::Dropped(e, true);
                }
            }
            Got::Tick => {
                if last_byte.elapsed() > idle_limit {
                    if let Some(s) = f.seal() {
                        if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                            return spool_failed(e);
                        }
                    }
                    return Link::Dropped(
                        format!(
                            "{} sent nothing (not even a PING) for {} s",
                            label,
                            idle_limit.as_secs()
                        ),
                        progressed,
                    );
                }
                if now - last_seal >= c.heartbeat_ms {
                    if let Some(s) = f.heartbeat(now) {
                        last_seal = now;
                        if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                            return spool_failed(e);
                        }
                    }
                }
                if let Err(e) = conn.send(&ack_bytes(acked(f, &stored))).await {
                    return Link::Dropped(e, progressed);
                }
            }
        }
        if f.due(now) {
            if let Some(s) = f.seal() {
                last_seal = now;
                if let Err(e) = enqueue(c, sem, tx, s, base, f).await {
                    return spool_failed(e);
                }
            }
        }
    }
}

/// Where to connect now: the URL, or the pod serving the primary (asked
/// again each time, so a failover is followed).
type PodApi = kube::Api<k8s_openapi::api::core::v1::Pod>;

/// Whom to follow now: the server, or the primary among the pods; for a
/// Redis Cluster shard, the primary serving its slot today (asked of the
/// `--url` node or of the matching pods), with the slot ranges it serves.
async fn resolve(
    ui: &Ui,
    auth: &Auth,
    c: &Config,
) -> Result<(Endpoint, Option<PodApi>, Vec<[u16; 2]>), String> {
    if let Some(slot) = c.shard {
        return resolve_shard(ui, auth, c, slot).await;
    }
    match &c.follow {
        Follow::Url(u) => Ok((Endpoint::Url(u.clone()), None, Vec::new())),
        Follow::Pods {
            api,
            selector,
            pod,
            container,
            port,
        } => {
            let pods = crate::kube::pods::find_pods(ui, api, selector, pod.as_deref()).await?;
            let t = kubectl_redis_core::kube::pods::select(
                &pods,
                &kubectl_redis_core::kube::pods::Wanted {
                    pod: pod.as_deref(),
                    container: container.as_deref(),
                    port: *port,
                },
            )
            .map_err(|e| {
                format!("no primary to follow among the pods matching {selector}: {e:?}")
            })?;
            Ok((Endpoint::Pod(t), Some((**api).clone()), Vec::new()))
        }
    }
}

async fn resolve_shard(
    ui: &Ui,
    auth: &Auth,
    c: &Config,
    slot: u16,
) -> Result<(Endpoint, Option<PodApi>, Vec<[u16; 2]>), String> {
    use kubectl_redis_core::kube::pods;
    let (map, api, all) = match &c.follow {
        Follow::Url(u) => {
            // The --url node, else a node the last slot map named (the
            // --url node may be the primary that just failed).
            let mut seeds = vec![u.clone()];
            if let Ok(k) = c.known.lock() {
                seeds.extend(k.iter().filter(|n| *n != u).cloned());
            }
            let mut found = Err(format!("cannot reach {}", c.label));
            let mut refused = None;
            for seed in &seeds {
                let asked = async {
                    let (mut conn, _) =
                        crate::redis::open_authed(&Endpoint::Url(seed.clone()), None, auth).await?;
                    crate::redis::cluster::slot_map(&mut conn, &seed.host).await
                };
                match asked.await {
                    Ok(m) => {
                        if let Some(why) = refused.take() {
                            ui.line(
                                "archive",
                                &Line::Detail(format!(
                                    "{why}: the slot map came from {}:{}",
                                    seed.host, seed.port
                                )),
                            );
                        }
                        found = Ok(m);
                        break;
                    }
                    Err(e) => {
                        let why = format!("{}:{}: {e}", seed.host, seed.port);
                        refused.get_or_insert(why.clone());
                        found = Err(why);
                    }
                }
            }
            let map = found?;
            if let Ok(mut k) = c.known.lock() {
                *k = map
                    .nodes
                    .iter()
                    .map(|n| kubectl_redis_core::backup::Url {
                        host: n.host.clone(),
                        port: n.port,
                    })
                    .collect();
            }
            (map, None, Vec::new())
        }
        Follow::Pods { api, selector, .. } => {
            let all = crate::kube::pods::list_pods(api, "", None).await?;
            let mut seeds = crate::kube::pods::list_pods(api, selector, None).await?;
            seeds.retain(|p| p.ready && !p.terminating && p.phase == "Running");
            let mut found = Err(format!("no Ready pod matches {selector}"));
            for p in &seeds {
                let Ok(t) = pods::select(
                    std::slice::from_ref(p),
                    &pods::Wanted {
                        pod: Some(&p.name),
                        ..Default::default()
                    },
                ) else {
                    continue;
                };
                let asked = async {
                    let (mut conn, fwd) =
                        crate::redis::open_authed(&Endpoint::Pod(t), Some(api), auth).await?;
                    let r = crate::redis::cluster::slot_map(&mut conn, &p.ip).await;
                    drop(conn);
                    if let Some(f) = fwd {
                        f.close();
                    }
                    r
                };
                match asked.await {
                    Ok(m) => {
                        found = Ok(m);
                        break;
                    }
                    Err(e) => found = Err(format!("pod {}: {e}", p.name)),
                }
            }
            (found?, Some((**api).clone()), all)
        }
    };
    let owner = map
        .owner(slot)
        .ok_or_else(|| format!("slot {slot} has no primary (see CLUSTER INFO)"))?;
    let node = &map.nodes[owner];
    let slots: Vec<[u16; 2]> = map
        .ranges()
        .iter()
        .filter(|(_, _, n)| *n == owner)
        .map(|&(a, b, _)| [a, b])
        .collect();
    let endpoint = match api {
        None => Endpoint::Url(kubectl_redis_core::backup::Url {
            host: node.host.clone(),
            port: node.port,
        }),
        Some(_) => Endpoint::Pod(pods::target_serving(&all, &node.host, node.port)?),
    };
    Ok((endpoint, api, slots))
}

fn ack_bytes(offset: u64) -> Vec<u8> {
    resp(&["REPLCONF", "ACK", &offset.to_string()])
}

/// Queues a sealed segment, waiting while the spool is full (reading
/// stops meanwhile: the primary keeps the stream in its output buffer for
/// this replica, and drops the link if it waits too long). With a spool
/// directory the segment is written there (encrypted first when the
/// archive is), so memory holds one segment whatever the spool's size.
async fn enqueue(
    c: &Config,
    sem: &Arc<Semaphore>,
    tx: &mpsc::UnboundedSender<Job>,
    s: Sealed,
    base: &str,
    f: &mut Follower,
) -> Result<(), String> {
    let spool = c.spool_bytes;
    let want = s.bytes.len().clamp(1, spool) as u32;
    if sem.available_permits() < want as usize {
        // Reading stops here: what arrives until the link is drained again
        // is marked late (its commands' seconds are not known).
        f.behind(now_ms());
        update(&c.state, |s| s.spool_full = true);
        crate::ui::warning(&format!(
            "the spool ({} bytes) is full: the repository is slower than Redis or unreachable; reading stops until segments are stored",
            spool
        ));
        crate::archive::events::spool_full(spool as u64);
    }
    let Ok(permit) = sem.clone().acquire_many_owned(want).await else {
        return Ok(());
    };
    update(&c.state, |st| {
        st.spool_full = false;
        st.spool_bytes = (spool - sem.available_permits()) as u64;
    });
    let payload = match &c.spool_dir {
        None => Payload::Memory(s.bytes),
        Some(dir) => {
            let n = SPOOLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = dir.join(format!("{:020}-{n}.seg", s.info.first_offset));
            let recipients = c.recipients.clone();
            tokio::task::spawn_blocking(move || spool_write(&path, s.bytes, recipients.as_deref()))
                .await
                .map_err(|e| format!("internal error: {e}"))??
        }
    };
    let _ = tx.send(Job {
        info: s.info,
        payload,
        base: base.to_string(),
        _permit: permit,
    });
    Ok(())
}

/// Spool files written by this process (a part of their names).
static SPOOLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Writes a segment into the spool (mode 0600), encrypted when the
/// archive is. Not synced: what the spool held is not trusted after a
/// restart (the spool is emptied and the primary sends it again).
fn spool_write(
    path: &std::path::Path,
    plain: Vec<u8>,
    recipients: Option<&Recipients>,
) -> Result<Payload, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let plain_len = plain.len() as u64;
    let sha256 = crate::store::rdbfile::hex(&Sha256::digest(&plain));
    let (bytes, encrypted) = match recipients {
        Some(r) => {
            let d = encrypt(r, &plain).map_err(|e| format!("encrypting a segment: {e}"))?;
            drop(plain);
            let e = pitr::Stored {
                size: d.len() as u64,
                sha256: crate::store::rdbfile::hex(&Sha256::digest(&d)),
                recipients: r.public.clone(),
            };
            (d, Some(e))
        }
        None => (plain, None),
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(&bytes))
        .map_err(|e| format!("writing the spool file {}: {e}", path.display()))?;
    Ok(Payload::Spooled {
        path: path.to_path_buf(),
        plain_len,
        sha256,
        encrypted,
    })
}

/// Empties the spool directory of segment files (a previous run's, never
/// trusted: the chain resumes from what the repository holds).
pub fn clear_spool(dir: &std::path::Path) -> Result<usize, String> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| format!("reading the spool directory {}: {e}", dir.display()))?;
    let mut n = 0;
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "seg") {
            std::fs::remove_file(&p)
                .map_err(|e| format!("removing {} from the spool: {e}", p.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

fn spool_failed(e: String) -> Link {
    Link::Refused(
        Exit::Storage,
        e,
        "check the spool directory's volume (--spool-dir): its free space and permissions".into(),
    )
}

async fn upload_loop(
    repo: Repo,
    recipients: Option<Arc<Recipients>>,
    archive: String,
    mut rx: mpsc::UnboundedReceiver<Job>,
    stored: watch::Sender<Option<(String, u64)>>,
    failed: watch::Sender<Option<String>>,
    state: Shared,
) {
    // The manifests stored since the last pack of the current chain.
    let mut pack: Vec<(String, SegmentManifest)> = Vec::new();
    let per_pack = crate::env::env_nonempty("KUBECTL_REDIS_PITR_PACK")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(pitr::PACK);
    while let Some(job) = rx.recv().await {
        let spooled = match &job.payload {
            Payload::Spooled { path, .. } => Some(path.clone()),
            Payload::Memory(_) => None,
        };
        if failed.borrow().is_some() {
            // After a failure nothing later is stored: no gap is hidden.
            if let Some(p) = &spooled {
                let _ = std::fs::remove_file(p);
            }
            continue;
        }
        let info = job.info.clone();
        let name = pitr::segment_name(&archive, &job.base, &info, recipients.is_some());
        // One copy of the bytes at most: the plaintext moves into the
        // upload, or is dropped once encrypted.
        let (data, enc, plain_len, sha): (bytes::Bytes, _, u64, String) = match job.payload {
            Payload::Spooled {
                path,
                plain_len,
                sha256,
                encrypted,
            } => match tokio::fs::read(&path).await {
                Ok(d) => (d.into(), encrypted, plain_len, sha256),
                Err(e) => {
                    let _ = failed.send(Some(format!(
                        "reading the spool file {}: {e}",
                        path.display()
                    )));
                    continue;
                }
            },
            Payload::Memory(plain) => {
                let plain_len = plain.len() as u64;
                let sha = crate::store::rdbfile::hex(&Sha256::digest(&plain));
                match &recipients {
                    Some(r) => match encrypt(r, &plain) {
                        Ok(d) => {
                            drop(plain);
                            let s = crate::store::rdbfile::hex(&Sha256::digest(&d));
                            let e = pitr::Stored {
                                size: d.len() as u64,
                                sha256: s,
                                recipients: r.public.clone(),
                            };
                            (d.into(), Some(e), plain_len, sha)
                        }
                        Err(e) => {
                            let _ = failed.send(Some(format!("encrypting a segment: {e}")));
                            continue;
                        }
                    },
                    None => (plain.into(), None, plain_len, sha),
                }
            }
        };
        let m = SegmentManifest {
            format: pitr::SEGMENT_FORMAT.into(),
            base: job.base.clone(),
            info: info.clone(),
            size: plain_len,
            sha256: sha.clone(),
            encrypted: enc,
        };
        let mut mbytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
        mbytes.push(b'\n');
        let mname = pitr::segment_manifest_name(&name);
        let mut wait = Duration::from_secs(1);
        // Data first, then the manifest: a segment exists only with it.
        // Data left by an attempt that died before its manifest (an
        // encrypted retry differs byte for byte) is replaced; data that has
        // a manifest is never touched.
        let mbytes: bytes::Bytes = mbytes.into();
        let result = loop {
            let r: Result<Result<(), String>, crate::store::repo::Problem> = async {
                match store::put_new(&repo, &name, data.clone()).await? {
                    store::Wrote::New | store::Wrote::Existed { same: true } => {}
                    store::Wrote::Existed { same: false } => {
                        if store::get(&repo, &mname).await.is_ok() {
                            return Ok(Err(format!("{name} already holds a different segment")));
                        }
                        store::delete(&repo, &name).await?;
                        if let store::Wrote::Existed { .. } =
                            store::put_new(&repo, &name, data.clone()).await?
                        {
                            return Ok(Err(format!("{name} is being written by someone else")));
                        }
                    }
                }
                match store::put_new(&repo, &mname, mbytes.clone()).await? {
                    store::Wrote::New | store::Wrote::Existed { same: true } => Ok(Ok(())),
                    store::Wrote::Existed { same: false } => {
                        Ok(Err(format!("{mname} already exists with other contents")))
                    }
                }
            }
            .await;
            match r {
                Ok(x) => break x,
                Err(p) => {
                    update(&state, |s| {
                        s.errors += 1;
                        s.last_error = p.message.clone();
                    });
                    crate::ui::warning(&format!(
                        "storing segment {name}: {} (retrying in {} s; the spool holds what arrives meanwhile)",
                        p.message,
                        wait.as_secs()
                    ));
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        };
        if let Some(p) = &spooled {
            let _ = std::fs::remove_file(p);
        }
        match result {
            Ok(()) => {
                let _ = stored.send(Some((job.base.clone(), info.last_offset)));
                if pack.first().is_some_and(|(_, p)| p.base != job.base) {
                    pack.clear();
                }
                pack.push((name.clone(), m.clone()));
                if pack.len() >= per_pack {
                    write_pack(&repo, &archive, &job.base, std::mem::take(&mut pack)).await;
                }
                update(&state, |s| {
                    s.stored = info.last_offset;
                    s.segments += 1;
                    s.last_stored_unix = info.last_ms.div_euclid(1000);
                    s.spool_bytes = s.spool_bytes.saturating_sub(plain_len);
                    if s.stored >= s.received {
                        s.pending_since_ms = None;
                    }
                });
            }
            Err(e) => {
                let _ = failed.send(Some(e));
            }
        }
    }
}

/// Stores a pack of the manifests just stored (best effort: without it,
/// listings read each manifest).
async fn write_pack(
    repo: &Repo,
    archive: &str,
    base: &str,
    segments: Vec<(String, SegmentManifest)>,
) {
    let (Some((_, a)), Some((_, b))) = (segments.first(), segments.last()) else {
        return;
    };
    let name = pitr::pack_name(archive, base, a.info.first_offset, b.info.last_offset);
    let p = pitr::Pack {
        format: pitr::PACK_FORMAT.into(),
        segments,
    };
    let Ok(bytes) = serde_json::to_vec(&p) else {
        return;
    };
    if let Err(e) = store::put_new(repo, &name, bytes.into()).await {
        crate::ui::warning(&format!(
            "storing the pack {name}: {} (listings read each manifest instead)",
            e.message
        ));
    }
}

fn encrypt(r: &Recipients, plain: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let enc = r.encryptor()?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = enc.wrap_output(&mut out)?;
    w.write_all(plain)?;
    w.finish()?;
    Ok(out)
}
