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
pub struct Prepared {
    /// The base: a path or URL `restore --file` takes.
    pub base_file: String,
    pub base: String,
    /// The second asked for.
    pub to: i64,
    /// Commands to replay (the segments' own `SELECT`s included).
    pub commands: u64,
    /// The second of the last command replayed.
    pub last_ts: Option<i64>,
    pub segments: Vec<String>,
    /// Each checked segment's plaintext file and how many of its commands
    /// to replay.
    parts: Vec<(std::path::PathBuf, usize)>,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(&d);
            crate::signals::unregister_private(&d);
        }
    }
}

fn problem(m: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        message: m.into(),
        hint: hint.into(),
    }
}

/// The archive to restore from: `--archive`, else the only one in `repo`.
pub async fn archive_of(repo: &Repo, given: Option<&str>) -> Result<String, (Exit, Problem)> {
    if let Some(a) = given {
        return Ok(a.to_string());
    }
    let mut archives = store::archive_names(repo)
        .await
        .map_err(|p| (Exit::Storage, p))?;
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
pub async fn prepare(
    ui: &Ui,
    repo: &Repo,
    archive: &str,
    when: &str,
    ids: &crate::store::crypt::Identities,
) -> Result<Prepared, (Exit, Problem)> {
    let (chains, manifests) = store::chains(repo, archive)
        .await
        .map_err(|p| (Exit::Storage, p))?;
    let now = crate::env::unix_now();
    let to = match pitr::parse_to_time(when, now) {
        Ok(Some(t)) => t,
        Ok(None) => chains.iter().map(|c| c.to_s()).max().unwrap_or(now),
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
    let plan = chain::plan(&chains, to).map_err(|r| {
        (
            Exit::Invalid,
            problem(
                format!("archive {archive}: {r}; nothing was changed"),
                "see what can be restored with `kubectl redis archive status --repo ...`",
            ),
        )
    })?;
    for c in &chains {
        for b in &c.broken {
            ui.line(
                "restore",
                &Line::Warn(format!("segment {b} does not continue its chain: not used")),
            );
        }
    }
    let mut commands = 0u64;
    let mut last_ts = None;
    let mut used = Vec::new();
    let mut parts = Vec::new();
    let dir = if plan.segments.is_empty() {
        None
    } else {
        Some(crate::store::source::private_dir().map_err(|e| {
            (
                Exit::Error,
                problem(e, "set $TMPDIR to a directory you can write"),
            )
        })?)
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
        commands += cut.commands as u64;
        if let Some(d) = &dir {
            let path = d.join(format!("{:06}.aof", parts.len()));
            crate::store::files::write_whole(&path.to_string_lossy(), &plain).map_err(|e| {
                (
                    Exit::Error,
                    problem(
                        format!("{}: {e}", path.display()),
                        "check the free space in $TMPDIR",
                    ),
                )
            })?;
            parts.push((path, cut.commands));
        }
        if cut.last_ts.is_some() {
            last_ts = cut.last_ts;
        }
        used.push(s.name.clone());
        if cut.more {
            break;
        }
    }
    let base_file = repo.location(&plan.base.name);
    Ok(Prepared {
        base_file,
        base: plan.base.name.clone(),
        to,
        commands,
        last_ts,
        segments: used,
        parts,
        dir,
    })
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
        format!("base {}", p.base),
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

/// Sends the commands of every checked segment as one pipeline (a task
/// reads the segments one at a time and hands on batches of 256 KiB; a
/// few batches wait at most), reading the replies meanwhile, and checks
/// every reply: an error reply means the data diverged from what the
/// primary had; the first is named.
pub async fn replay(conn: &mut Conn, p: &Prepared) -> Result<u64, String> {
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let parts = p.parts.clone();
    let producer = tokio::spawn(async move {
        for (path, take) in parts {
            let plain = tokio::fs::read(&path)
                .await
                .map_err(|e| format!("reading the checked segment {}: {e}", path.display()))?;
            let cmds = replay::commands(&plain).map_err(|e| e.0)?;
            let mut batch = Vec::with_capacity(256 << 10);
            for c in &cmds[..take.min(cmds.len())] {
                batch.extend_from_slice(&plain[c.range.clone()]);
                if batch.len() >= 256 << 10 {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(256 << 10));
                    if tx.send(full.into()).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if !batch.is_empty() && tx.send(batch.into()).await.is_err() {
                return Ok(());
            }
        }
        Ok::<(), String>(())
    });
    let n = usize::try_from(p.commands).unwrap_or(usize::MAX);
    let r = conn.pipeline(rx, n).await;
    match producer.await {
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(format!("internal error: {e}")),
        Ok(Ok(())) => {}
    }
    r.map_err(|(i, e)| {
        format!(
            "replaying command {} of {n} failed: {e}; the data may differ from the moment asked for",
            i + 1
        )
    })
}
