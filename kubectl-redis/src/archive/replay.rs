//! `restore --to-time`: the plan (a base and the segments after it), every
//! segment fetched and checked before anything changes, and the replay of
//! their commands up to the second asked for.

use super::store;
use crate::redis::Conn;
use crate::store::repo::{Problem, Repo};
use crate::ui::Ui;
use kubectl_redis_core::backup::Line;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::pitr::{self, chain, replay};
use kubectl_redis_core::store::names::rfc3339;
use sha2::{Digest, Sha256};

/// What a restore to a second replays after its base. The checked
/// plaintext segments wait in a private directory (0700, removed when this
/// drops or a signal ends the process), so memory holds one at a time.
///
/// A Redis Cluster's archive (`ARCHIVE.shard-SLOT`, one per shard) is
/// prepared shard by shard to the same second: its bases are merged into
/// one file (by `restore`, see [`Prepared::shard_bases`]) and the shards'
/// commands replayed one shard after another (their keys are disjoint).
pub struct Prepared {
    /// The base: a path or URL `restore --file` takes (for a cluster's
    /// archive, the merged local file once `restore` made it).
    pub base_file: String,
    /// The base's name (the shards' bases, comma-separated).
    pub base: String,
    /// The second asked for.
    pub to: i64,
    /// Commands to replay (the segments' own `SELECT`s included).
    pub commands: u64,
    /// The second of the last command replayed.
    pub last_ts: Option<i64>,
    pub segments: Vec<String>,
    /// A Redis Cluster's archive: its shards' archives, else empty.
    pub shards: Vec<String>,
    /// A Redis Cluster's archive: the bases to merge (their locations);
    /// a shard whose replay holds a `FLUSHALL` has none (what follows the
    /// last one is its whole data).
    pub shard_bases: Vec<String>,
    /// `base_file` is the local merge of the shards' bases, checked on the
    /// way (nothing to fetch).
    pub merged: bool,
    /// Each checked segment's plaintext file and which of its commands
    /// to replay.
    parts: Vec<Part>,
    dirs: Vec<std::path::PathBuf>,
}

/// A checked segment's plaintext, and its commands `from..take` to replay.
#[derive(Clone)]
struct Part {
    path: std::path::PathBuf,
    from: usize,
    take: usize,
    /// `MULTI`/`EXEC` among them (left out for a cluster's shards).
    tx: u64,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        for d in self.dirs.drain(..) {
            let _ = std::fs::remove_dir_all(&d);
            crate::signals::unregister_private(&d);
        }
    }
}

impl Prepared {
    /// A private directory removed with the plan (for the merged base).
    pub fn private_dir(&mut self) -> Result<std::path::PathBuf, String> {
        let d = crate::store::source::private_dir()?;
        self.dirs.push(d.clone());
        Ok(d)
    }
}

fn problem(m: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        message: m.into(),
        hint: hint.into(),
    }
}

/// The archive to restore from: `--archive`, else the only one in `repo`
/// (a Redis Cluster's shards count as one: their cluster archive's name).
pub async fn archive_of(repo: &Repo, given: Option<&str>) -> Result<String, (Exit, Problem)> {
    if let Some(a) = given {
        return Ok(a.to_string());
    }
    let names = store::archive_names(repo)
        .await
        .map_err(|p| (Exit::Storage, p))?;
    let mut archives: Vec<String> = names
        .iter()
        .map(|n| pitr::shard_of(n).map_or(n.as_str(), |(a, _)| a).to_string())
        .collect();
    archives.sort();
    archives.dedup();
    match archives.len() {
        0 => Err((
            Exit::Invalid,
            problem(
                format!("{} holds no archive (no pitr/ segments)", repo.display()),
                "start one with `kubectl redis archive run`, or restore a backup with --file",
            ),
        )),
        1 => Ok(archives.remove(0)),
        _ => Err((
            Exit::Invalid,
            problem(
                format!(
                    "{} holds several archives: {}",
                    repo.display(),
                    archives.join(", ")
                ),
                "name one with --archive",
            ),
        )),
    }
}

/// Plans the restore to `when` (`--to-time`), then fetches every segment
/// it needs and checks it (sha256 of what is stored and of the plaintext,
/// every command parsed): a bad one stops the restore before any change.
/// `archive` may be a Redis Cluster's (its shards `archive.shard-SLOT`):
/// every shard is brought to the same second.
pub async fn prepare(
    ui: &Ui,
    repo: &Repo,
    archive: &str,
    when: &str,
    ids: &crate::store::crypt::Identities,
) -> Result<Prepared, (Exit, Problem)> {
    let names = store::archive_names(repo)
        .await
        .map_err(|p| (Exit::Storage, p))?;
    let shards: Vec<String> = if names.iter().any(|n| n == archive) {
        Vec::new()
    } else {
        pitr::shards_of(&names, archive)
            .into_iter()
            .map(|(_, n)| n.to_string())
            .collect()
    };
    let mut all = Vec::new();
    for name in if shards.is_empty() {
        vec![archive.to_string()]
    } else {
        shards.clone()
    } {
        let (chains, manifests) = store::chains(repo, &name)
            .await
            .map_err(|p| (Exit::Storage, p))?;
        all.push((name, chains, manifests));
    }
    let now = crate::env::unix_now();
    let to = match pitr::parse_to_time(when, now) {
        Ok(Some(t)) => t,
        // Latest: the newest second every shard reaches.
        Ok(None) => all
            .iter()
            .map(|(_, chains, _)| chains.iter().map(|c| c.to_s()).max().unwrap_or(now))
            .min()
            .unwrap_or(now),
        Err(e) => {
            return Err((
                Exit::Invalid,
                problem(
                    e,
                    "e.g. --to-time 2026-12-04T12:00:05Z, --to-time -10m, --to-time latest",
                ),
            ))
        }
    };
    if shards.is_empty() {
        let (name, chains, manifests) = all.remove(0);
        return prepare_at(ui, repo, &name, &chains, &manifests, to, ids, false)
            .await
            .map(|(p, _)| p);
    }
    // Every shard to the same second; their bases must cover every slot.
    let mut out: Option<Prepared> = None;
    let mut covered = vec![false; 16384];
    let mut bases = Vec::new();
    for (name, chains, manifests) in &all {
        let (mut p, slots) = prepare_at(ui, repo, name, chains, manifests, to, ids, true).await?;
        for [a, b] in slots {
            for s in a..=b.min(16383) {
                covered[usize::from(s)] = true;
            }
        }
        bases.push(p.base.clone());
        match &mut out {
            None => out = Some(p),
            Some(o) => {
                o.commands += p.commands;
                o.last_ts = o.last_ts.max(p.last_ts);
                o.segments.append(&mut p.segments);
                o.shard_bases.append(&mut p.shard_bases);
                o.parts.append(&mut p.parts);
                o.dirs.append(&mut p.dirs);
            }
        }
    }
    let missing: Vec<usize> = (0..16384).filter(|&s| !covered[s]).collect();
    if let Some(&first) = missing.first() {
        return Err((
            Exit::Invalid,
            problem(
                format!(
                    "archive {archive}: its shards' bases ({}) leave {} of 16384 slots uncovered (slot {first} first): a shard was never archived, or the cluster was resharded since; nothing was changed",
                    shards.join(", "),
                    missing.len()
                ),
                "check `kubectl redis archive status --repo ...`: every shard's archive must reach the time",
            ),
        ));
    }
    let mut p = out.ok_or_else(|| {
        (
            Exit::Invalid,
            problem(
                format!("archive {archive}: no shard"),
                "name one with --archive",
            ),
        )
    })?;
    p.base = bases.join(", ");
    p.shards = shards;
    Ok(p)
}

/// One archive's plan to second `to`, every segment checked. For a shard
/// (`shard`), a `FLUSHALL`/`FLUSHDB` in what is replayed empties that
/// shard: its base is then not loaded and only what follows the last one
/// is replayed (replaying it would empty the other shards too). Returns
/// the plan and the base's slot ranges.
#[allow(clippy::too_many_arguments)]
async fn prepare_at(
    ui: &Ui,
    repo: &Repo,
    archive: &str,
    chains: &[chain::Chain],
    manifests: &std::collections::HashMap<String, pitr::SegmentManifest>,
    to: i64,
    ids: &crate::store::crypt::Identities,
    shard: bool,
) -> Result<(Prepared, Vec<[u16; 2]>), (Exit, Problem)> {
    let plan = chain::plan(chains, to).map_err(|r| {
        (
            Exit::Invalid,
            problem(
                format!("archive {archive}: {r}; nothing was changed"),
                "see what can be restored with `kubectl redis archive status --repo ...`",
            ),
        )
    })?;
    for c in chains {
        for b in &c.broken {
            ui.line(
                "restore",
                &Line::Warn(format!("segment {b} does not continue its chain: not used")),
            );
        }
    }
    let mut last_ts = None;
    let mut used = Vec::new();
    let mut parts = Vec::new();
    let mut flushed = false;
    let mut dirs = Vec::new();
    let dir = if plan.segments.is_empty() {
        None
    } else {
        let d = crate::store::source::private_dir().map_err(|e| {
            (
                Exit::Error,
                problem(e, "set $TMPDIR to a directory you can write"),
            )
        })?;
        dirs.push(d.clone());
        Some(d)
    };
    for s in &plan.segments {
        let m = manifests.get(&s.name).ok_or_else(|| {
            (
                Exit::Storage,
                problem(format!("{}: its manifest vanished", s.name), "try again"),
            )
        })?;
        let (plain, cmds) =
            match check_segment(repo, &s.name, m, ids).await {
                Ok((Some(plain), cmds)) => (plain, cmds),
                Ok((None, _)) => return Err((
                    Exit::Key,
                    problem(
                        format!("segment {} is encrypted and no identity was given", s.name),
                        "give the archive's identity with --identity (or $KUBECTL_REDIS_IDENTITY)",
                    ),
                )),
                Err((exit, p)) => {
                    return Err((
                        exit,
                        problem(format!("{}; nothing was changed", p.message), p.hint),
                    ))
                }
            };
        let cut = replay::cut(&cmds, to);
        let mut from = 0;
        if shard {
            if let Some(i) = cmds[..cut.commands]
                .iter()
                .rposition(|c| c.name == "FLUSHALL" || c.name == "FLUSHDB")
            {
                // Everything before (this segment's and earlier ones') is
                // gone with the shard's data.
                parts.clear();
                flushed = true;
                from = i + 1;
            }
        }
        if let Some(d) = &dir {
            let path = d.join(format!("{:06}.aof", used.len()));
            crate::store::files::write_whole(&path.to_string_lossy(), &plain).map_err(|e| {
                (
                    Exit::Error,
                    problem(
                        format!("{}: {e}", path.display()),
                        "check the free space in $TMPDIR",
                    ),
                )
            })?;
            let tx = cmds[from.min(cut.commands)..cut.commands]
                .iter()
                .filter(|c| c.name == "MULTI" || c.name == "EXEC")
                .count() as u64;
            parts.push(Part {
                path,
                from,
                take: cut.commands,
                tx,
            });
        }
        if cut.last_ts.is_some() {
            last_ts = cut.last_ts;
        }
        used.push(s.name.clone());
        if cut.more {
            break;
        }
    }
    let commands = parts
        .iter()
        .map(|p| p.take.saturating_sub(p.from) as u64)
        .sum();
    let base_file = repo.location(&plan.base.name);
    if flushed {
        ui.line(
            "restore",
            &Line::Detail(format!(
                "{archive}: a FLUSHALL before the time empties this shard: its base is not loaded, only what follows it is replayed"
            )),
        );
    }
    Ok((
        Prepared {
            shard_bases: if shard && !flushed {
                vec![base_file.clone()]
            } else {
                Vec::new()
            },
            base_file,
            base: plan.base.name.clone(),
            to,
            commands,
            last_ts,
            segments: used,
            shards: Vec::new(),
            merged: false,
            parts,
            dirs,
        },
        plan.base.slots.clone(),
    ))
}

/// Fetches segment `name` and checks it against its manifest `m`: the
/// stored bytes' sha256 and size (encrypted), the plaintext's sha256, every
/// command parsed and as many as the manifest says, their seconds inside
/// its first and last time. Returns the plaintext and its commands, or
/// `None` for an encrypted segment when `ids` is empty (its stored bytes
/// checked only).
pub async fn check_segment(
    repo: &Repo,
    name: &str,
    m: &pitr::SegmentManifest,
    ids: &crate::store::crypt::Identities,
) -> Result<(Option<Vec<u8>>, Vec<replay::Command>), (Exit, Problem)> {
    let stored = store::get(repo, name)
        .await
        .map_err(|p| (Exit::Storage, p))?;
    let corrupt = |why: String| {
        (
            Exit::Corrupt,
            problem(
                format!("segment {name}: {why}"),
                "restore to a second before it, or check the repository's objects",
            ),
        )
    };
    let plain = match &m.encrypted {
        Some(e) => {
            let sha = crate::store::rdbfile::hex(&Sha256::digest(&stored));
            if sha != e.sha256 || stored.len() as u64 != e.size {
                return Err(corrupt(format!(
                    "the stored bytes (sha256 {}) are not what its manifest says ({})",
                    &sha[..16],
                    &e.sha256[..16.min(e.sha256.len())]
                )));
            }
            if ids.is_empty() {
                return Ok((None, Vec::new()));
            }
            let mut r = crate::store::crypt::decrypt(&stored[..], ids).map_err(|e| match e {
                crate::store::crypt::DecryptFail::Key(msg) => (
                    Exit::Key,
                    problem(
                        format!("segment {name}: {msg}"),
                        "give the archive's identity with --identity (or $KUBECTL_REDIS_IDENTITY)",
                    ),
                ),
                crate::store::crypt::DecryptFail::NotAge(msg) => corrupt(msg),
            })?;
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut out)
                .map_err(|e| corrupt(format!("decrypting: {e}")))?;
            out
        }
        None => stored,
    };
    let sha = crate::store::rdbfile::hex(&Sha256::digest(&plain));
    if sha != m.sha256 {
        return Err(corrupt(format!(
            "its bytes (sha256 {}) are not what its manifest says ({})",
            &sha[..16],
            &m.sha256[..16.min(m.sha256.len())]
        )));
    }
    let cmds = replay::commands(&plain).map_err(|e| corrupt(e.0))?;
    // The `SELECT` that opens a segment is not counted by its manifest.
    let opening = u64::from(cmds.first().is_some_and(|c| c.name == "SELECT"));
    let n = cmds.len() as u64;
    if n != m.info.commands && n != m.info.commands + opening {
        return Err(corrupt(format!(
            "it holds {} commands, its manifest says {}",
            cmds.len(),
            m.info.commands
        )));
    }
    let (lo, hi) = (
        m.info.first_ms.div_euclid(1000),
        m.info.last_ms.div_euclid(1000),
    );
    if let Some(c) = cmds.iter().find(|c| c.ts < lo || c.ts > hi) {
        return Err(corrupt(format!(
            "a {} command is stamped {}, outside the segment's {} .. {}",
            c.name,
            rfc3339(c.ts),
            rfc3339(lo),
            rfc3339(hi)
        )));
    }
    Ok((Some(plain), cmds))
}

/// The plan in words (before the confirmation, and for `--dry-run`).
pub fn describe(p: &Prepared) -> Vec<String> {
    vec![
        format!(
            "to {} (every write archived up to the end of that second)",
            rfc3339(p.to)
        ),
        if p.shards.is_empty() {
            format!("base {}", p.base)
        } else {
            format!(
                "a Redis Cluster's archive: {} shards, each to that second; bases {}",
                p.shards.len(),
                p.base
            )
        },
        format!(
            "then {} commands from {} segment(s){}",
            p.commands,
            p.segments.len(),
            p.last_ts
                .map(|t| format!(", the last one received at {}", rfc3339(t)))
                .unwrap_or_default()
        ),
    ]
}

/// Reads the checked segments one at a time in a task and hands on their
/// commands in chunks of 256 KiB (a few chunks wait at most; memory holds
/// two or three segments: the one read, what is sent of it, the previous
/// one's last chunks). A Redis Cluster's shards (`no_tx`) leave `MULTI`/`EXEC`
/// out: a transaction's keys may now live on different primaries, and
/// nothing reads the data while it is replayed.
pub fn produce(
    p: &Prepared,
    no_tx: bool,
) -> (
    tokio::sync::mpsc::Receiver<bytes::Bytes>,
    tokio::task::JoinHandle<Result<u64, String>>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let parts = p.parts.clone();
    let no_tx = no_tx || !p.shards.is_empty();
    let producer = tokio::spawn(async move {
        let mut sent = 0u64;
        for part in parts {
            let plain = tokio::fs::read(&part.path)
                .await
                .map_err(|e| format!("reading the checked segment {}: {e}", part.path.display()))?;
            let mut out = Vec::with_capacity(plain.len());
            sent +=
                replay::payload(&plain, part.from, part.take, no_tx, &mut out).map_err(|e| e.0)?;
            drop(plain);
            let out = bytes::Bytes::from(out);
            let mut at = 0;
            while at < out.len() {
                let end = (at + (256 << 10)).min(out.len());
                if tx.send(out.slice(at..end)).await.is_err() {
                    return Ok(sent);
                }
                at = end;
            }
        }
        Ok::<u64, String>(sent)
    });
    (rx, producer)
}

/// How many commands [`produce`] sends for `p` (counted when the
/// segments were checked).
pub fn to_send(p: &Prepared, no_tx: bool) -> u64 {
    if no_tx || !p.shards.is_empty() {
        p.commands - p.parts.iter().map(|x| x.tx).sum::<u64>()
    } else {
        p.commands
    }
}

/// Sends the commands of every checked segment as one pipeline, reading
/// the replies meanwhile, and checks every reply: an error reply means
/// the data diverged from what the primary had; the first is named.
pub async fn replay(conn: &mut Conn, p: &Prepared) -> Result<u64, String> {
    let n = to_send(p, false);
    let (rx, producer) = produce(p, false);
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let r = conn.pipeline(rx, n).await;
    match producer.await {
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(format!("internal error: {e}")),
        Ok(Ok(_)) => {}
    }
    r.map_err(|(i, e)| {
        format!(
            "replaying command {} of {n} failed: {e}; the data may differ from the moment asked for",
            i + 1
        )
    })
}
