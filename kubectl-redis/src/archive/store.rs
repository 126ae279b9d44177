//! The archive's objects in a repository: bases (ordinary backups whose
//! manifest has `pitr`), segments and their manifests under `pitr/`.
//! Written create-only (a local file appears whole or not at all, mode
//! 0600); a segment counts only once its manifest exists.

use crate::store::repo::{Problem, PutNew, Repo};
use kubectl_redis_core::pitr::chain::{self, Base, Chain, Segment};
use kubectl_redis_core::pitr::{self, SegmentManifest};
use std::path::Path;

/// A create-only write's outcome.
pub enum Wrote {
    New,
    /// The name was taken: by these very bytes (a retry) or not.
    Existed {
        same: bool,
    },
}

/// Writes `name` (a path under the repository) only if it is not there.
pub async fn put_new(repo: &Repo, name: &str, bytes: bytes::Bytes) -> Result<Wrote, Problem> {
    match repo {
        Repo::Local(dir) => {
            let dest = Path::new(dir).join(name);
            let parent = dest.parent().map(Path::to_path_buf).unwrap_or_default();
            let d = dest.to_string_lossy().into_owned();
            let (p, b) = (parent.to_string_lossy().into_owned(), bytes.clone());
            let r = tokio::task::spawn_blocking(move || {
                let (temp, mut f) = crate::store::files::create_temp(&p, ".kr-pitr.")?;
                std::io::Write::write_all(&mut f, &b)?;
                drop(f);
                match crate::store::files::commit(&temp, &d) {
                    Ok(()) => Ok(true),
                    Err(kubectl_redis_core::backup::CommitError::Exists) => {
                        crate::store::files::discard(&temp);
                        Ok(false)
                    }
                    Err(kubectl_redis_core::backup::CommitError::Failed(m)) => {
                        crate::store::files::discard(&temp);
                        Err(std::io::Error::other(m))
                    }
                }
            })
            .await
            .map_err(|e| Problem::new(format!("internal error: {e}"), ""))?;
            match r {
                Ok(true) => Ok(Wrote::New),
                Ok(false) => {
                    let same = std::fs::read(&dest).is_ok_and(|old| old[..] == bytes[..]);
                    Ok(Wrote::Existed { same })
                }
                Err(e) => Err(Problem::new(
                    format!("writing {}: {e}", dest.display()),
                    "check the directory's permissions and free space",
                )),
            }
        }
        Repo::Remote(r) => match r.put_new(name, bytes.clone()).await {
            Ok(()) => Ok(Wrote::New),
            Err(PutNew::Exists) => {
                let same = get(repo, name).await.is_ok_and(|old| old[..] == bytes[..]);
                Ok(Wrote::Existed { same })
            }
            Err(PutNew::Failed(p)) => Err(p),
        },
    }
}

/// Deletes `name` (absent is fine).
pub async fn delete(repo: &Repo, name: &str) -> Result<(), Problem> {
    match repo {
        Repo::Local(dir) => match std::fs::remove_file(Path::new(dir).join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Problem::new(
                format!("removing {name}: {e}"),
                "check the directory's permissions",
            )),
            _ => Ok(()),
        },
        Repo::Remote(r) => r.delete(name).await,
    }
}

/// The bytes of `name` (small objects: segments and manifests).
pub async fn get(repo: &Repo, name: &str) -> Result<Vec<u8>, Problem> {
    match repo {
        Repo::Local(dir) => {
            let p = Path::new(dir).join(name);
            tokio::fs::read(&p).await.map_err(|e| {
                Problem::new(
                    format!("reading {}: {e}", p.display()),
                    "check the directory's permissions",
                )
            })
        }
        Repo::Remote(r) => {
            use futures::StreamExt;
            let (_, mut s) = r.get(name).await?;
            let mut out = Vec::new();
            while let Some(c) = s.next().await {
                out.extend_from_slice(&c.map_err(|m| Problem::new(m, "try again"))?);
            }
            Ok(out)
        }
    }
}

/// Every object name under `prefix` (a directory in the repository).
pub async fn names_under(repo: &Repo, prefix: &str) -> Result<Vec<String>, Problem> {
    match repo {
        Repo::Local(dir) => {
            let root = Path::new(dir).join(prefix);
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(d) = stack.pop() {
                let rd = match std::fs::read_dir(&d) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(Problem::new(
                            format!("reading {}: {e}", d.display()),
                            "check the directory's permissions",
                        ))
                    }
                };
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if let Ok(rel) = p.strip_prefix(dir) {
                        out.push(rel.to_string_lossy().into_owned());
                    }
                }
            }
            out.sort();
            Ok(out)
        }
        Repo::Remote(r) => {
            use futures::StreamExt;
            let base = r.path(prefix);
            let mut s = r.store.list(Some(&base));
            let mut out = Vec::new();
            let skip = r.prefix.parts().count();
            while let Some(o) = s.next().await {
                let o = o.map_err(|e| r.problem("listing", prefix, e))?;
                let rel: Vec<String> = o
                    .location
                    .parts()
                    .skip(skip)
                    .map(|p| p.as_ref().to_string())
                    .collect();
                out.push(rel.join("/"));
                if out.len() > 1_000_000 {
                    return Err(Problem::new(
                        format!("{} holds more than a million segments", r.url_of(prefix)),
                        "prune the archive (`kubectl redis prune --keep-pitr`)",
                    ));
                }
            }
            out.sort();
            Ok(out)
        }
    }
}

/// The names of the archives in `repo` (`pitr/NAME/...`), sorted.
pub async fn archive_names(repo: &Repo) -> Result<Vec<String>, Problem> {
    let mut a: Vec<String> = names_under(repo, pitr::DIR)
        .await?
        .iter()
        .filter_map(|p| p.split('/').nth(1).map(str::to_string))
        .collect();
    a.dedup();
    Ok(a)
}

/// The bases of archive `archive` in `repo`, oldest first.
pub async fn bases(repo: &Repo, archive: &str) -> Result<Vec<Base>, Problem> {
    let entries = match repo {
        Repo::Local(dir) => match crate::store::local::read_entries(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Problem::new(
                    format!("cannot read {dir}: {e}"),
                    "check the directory's permissions",
                ))
            }
        },
        Repo::Remote(r) => r.entries().await?,
    };
    let mut out: Vec<Base> = entries
        .into_iter()
        .filter_map(|e| {
            let m = e.manifest?.ok()?;
            let p = m.pitr?;
            (p.archive == archive).then_some(Base {
                name: e.name,
                replid: p.replid,
                offset: p.offset,
                time_ms: p.time_ms,
                slots: p.slots,
            })
        })
        .collect();
    out.sort_by_key(|b| b.time_ms);
    Ok(out)
}

/// The stored segments of `base` (those with a manifest), and the names
/// of segment objects that have none (an upload cut off: not counted).
pub async fn segments(
    repo: &Repo,
    archive: &str,
    base: &str,
) -> Result<(Vec<(Segment, SegmentManifest)>, Vec<String>), Problem> {
    let dir = pitr::chain_dir(archive, base);
    let names = names_under(repo, &dir).await?;
    let set: std::collections::HashSet<&String> = names.iter().collect();
    // Packs hold copies of manifests: one read for a hundred. One that does
    // not parse is skipped (each manifest is read instead).
    let mut packed: std::collections::HashMap<String, SegmentManifest> =
        std::collections::HashMap::new();
    for n in names.iter().filter(|n| pitr::is_pack(n)) {
        if let Ok(p) = serde_json::from_slice::<pitr::Pack>(&get(repo, n).await?) {
            if p.format == pitr::PACK_FORMAT {
                packed.extend(p.segments);
            }
        }
    }
    let mut out = Vec::new();
    let mut orphans = Vec::new();
    for n in &names {
        if !(n.ends_with(".aof") || n.ends_with(".aof.age")) {
            continue;
        }
        let mname = pitr::segment_manifest_name(n);
        if !set.contains(&mname) {
            orphans.push(n.clone());
            continue;
        }
        if let Some(m) = packed.remove(n) {
            out.push((
                Segment {
                    name: n.clone(),
                    info: m.info.clone(),
                },
                m,
            ));
            continue;
        }
        let m: SegmentManifest =
            serde_json::from_slice(&get(repo, &mname).await?).map_err(|e| {
                Problem::new(
                    format!("{mname} is not a segment manifest: {e}"),
                    "the archive was changed by hand; remove the segment and its manifest",
                )
            })?;
        out.push((
            Segment {
                name: n.clone(),
                info: m.info.clone(),
            },
            m,
        ));
    }
    Ok((out, orphans))
}

/// Every chain of archive `archive`, oldest base first, with the
/// manifests of their segments by name.
pub async fn chains(
    repo: &Repo,
    archive: &str,
) -> Result<
    (
        Vec<Chain>,
        std::collections::HashMap<String, SegmentManifest>,
    ),
    Problem,
> {
    let mut out = Vec::new();
    let mut manifests = std::collections::HashMap::new();
    for b in bases(repo, archive).await? {
        let (segs, _) = segments(repo, archive, &b.name).await?;
        let list = segs
            .into_iter()
            .map(|(s, m)| {
                manifests.insert(s.name.clone(), m);
                s
            })
            .collect();
        out.push(chain::chain(b, list));
    }
    Ok((out, manifests))
}

/// Removes the segments of `base`'s chain in archive `archive`: each
/// manifest first (the segment stops counting), then its data. Returns how
/// many segments went.
pub async fn remove_chain(repo: &Repo, archive: &str, base: &str) -> Result<usize, Problem> {
    let names = names_under(repo, &pitr::chain_dir(archive, base)).await?;
    let mut n = 0;
    for name in names.iter().filter(|n| n.ends_with(".json")) {
        delete(repo, name).await?;
    }
    for name in names.iter().filter(|n| !n.ends_with(".json")) {
        delete(repo, name).await?;
        n += 1;
    }
    Ok(n)
}
