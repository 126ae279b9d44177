//! Listing backups: which directory entries are backups, and in what order.

use crate::human;
use crate::store::names;
use serde::Serialize;

/// A directory entry as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Modification time, Unix seconds.
    pub modified: i64,
    /// A regular file (not a directory or symlink to one).
    pub is_file: bool,
    /// Its manifest (`NAME.json`): absent, read, or unreadable (why).
    pub manifest: Option<Result<crate::store::manifest::Manifest, String>>,
    /// A backup set's manifest (`SET.json`): read, or unreadable (why).
    pub set: Option<Result<crate::store::set::SetManifest, String>>,
}

/// One backup in the listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// File name.
    pub file: String,
    /// Full path (directory + name).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// When the backup was taken (from its name), Unix seconds.
    pub created_unix: i64,
    /// The same, RFC 3339.
    pub created: String,
    /// Seconds between `created` and now.
    pub age_seconds: i64,
    /// Keys, from the manifest.
    pub keys: Option<u64>,
    /// `verified` (manifest says so and the size matches), `no manifest`,
    /// `bad manifest`, or `size differs from manifest`.
    pub status: String,
    /// `bgsave` or `stream`, from the manifest.
    pub method: Option<String>,
    /// The point-in-time archive whose chain this backup starts (its
    /// base), from the manifest.
    pub archive: Option<String>,
    /// A sanitized copy (`copy --sanitize`), by its name or its manifest:
    /// never a full backup (`restore --latest` passes over it).
    pub sanitized: bool,
    /// A backup set (a Redis Cluster, one file per shard): its shards.
    /// `None` for a single file.
    pub shards: Option<usize>,
}

/// The result of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The directory.
    pub dir: String,
    /// Backups, newest first.
    pub backups: Vec<Row>,
    /// Temporary files left by interrupted backups (never listed as backups).
    pub partial: Vec<String>,
}

/// Picks the backups out of `entries` and orders them newest first (ties by
/// name, descending, so `-2` comes before the plain name of that second).
pub fn listing(dir: &str, entries: &[Entry], now_unix: i64) -> Listing {
    listing_in(dir, entries, now_unix, false)
}

/// [`listing`], where a backup exists only when its manifest does
/// (`manifest_required`, object storage: the manifest is written last,
/// create-only). A data object without one is an incomplete upload, listed
/// in `partial` with the temporary files.
pub fn listing_in(dir: &str, entries: &[Entry], now_unix: i64, manifest_required: bool) -> Listing {
    let incomplete = |e: &Entry| {
        manifest_required
            && e.manifest.is_none()
            && names::parse_backup_file_name(&e.name).is_some()
    };
    let mut backups: Vec<Row> = entries
        .iter()
        .filter(|e| e.is_file && !incomplete(e))
        .filter_map(|e| {
            let created = names::parse_backup_file_name(&e.name)?;
            Some(Row {
                file: e.name.clone(),
                path: crate::backup::join(dir, &e.name),
                bytes: e.bytes,
                created_unix: created,
                created: names::rfc3339(created),
                age_seconds: now_unix - created,
                keys: match &e.manifest {
                    Some(Ok(m)) => Some(m.keys),
                    _ => None,
                },
                status: match &e.manifest {
                    None => "no manifest".into(),
                    Some(Err(_)) => "bad manifest".into(),
                    Some(Ok(m)) if m.stored().0 != e.bytes => "size differs from manifest".into(),
                    Some(Ok(m)) if m.verified => "verified".into(),
                    Some(Ok(_)) => "unverified".into(),
                },
                method: match &e.manifest {
                    Some(Ok(m)) => Some(m.method.clone()),
                    _ => None,
                },
                archive: match &e.manifest {
                    Some(Ok(m)) => m.pitr.as_ref().map(|p| p.archive.clone()),
                    _ => None,
                },
                sanitized: names::is_sanitized_name(&e.name)
                    || matches!(&e.manifest, Some(Ok(m)) if m.sanitized),
                shards: None,
            })
        })
        .collect();
    // Backup sets: a row each, from its manifest; their shards' files are
    // not backups of their own. Shard files of no sealed set are leftovers
    // (a set still being taken, or one that failed).
    let sizes: std::collections::HashMap<&str, u64> = entries
        .iter()
        .filter(|e| e.is_file)
        .map(|e| (e.name.as_str(), e.bytes))
        .collect();
    let mut sealed = std::collections::HashSet::new();
    for e in entries.iter().filter(|e| e.is_file) {
        let (Some(set), Some(m)) = (crate::store::set::set_of_manifest(&e.name), &e.set) else {
            continue;
        };
        let Some(created) = crate::store::set::parse_set_name(set) else {
            continue;
        };
        sealed.insert(set.to_string());
        let (bytes, keys, status, shards) = match m {
            Ok(m) => {
                let st = crate::store::set::SetState::of(m, &|n| sizes.get(n).copied());
                let present: u64 = m
                    .shards
                    .iter()
                    .filter_map(|s| sizes.get(s.file.as_str()))
                    .sum();
                (present, Some(m.keys), st.status(), Some(m.shards.len()))
            }
            Err(_) => (0, None, "bad manifest".to_string(), None),
        };
        backups.push(Row {
            file: set.to_string(),
            path: crate::backup::join(dir, set),
            bytes,
            created_unix: created,
            created: names::rfc3339(created),
            age_seconds: now_unix - created,
            keys,
            status,
            method: Some("stream".into()),
            archive: None,
            sanitized: false,
            shards: Some(shards.unwrap_or(0)),
        });
    }
    let orphan = |e: &Entry| {
        crate::store::set::parse_shard_file_name(&e.name)
            .is_some_and(|(set, _)| !sealed.contains(&set))
    };
    backups.sort_by(|a, b| {
        b.created_unix
            .cmp(&a.created_unix)
            .then_with(|| suffix_of(&b.file).cmp(&suffix_of(&a.file)))
    });
    let mut partial: Vec<String> = entries
        .iter()
        .filter(|e| names::is_temp_name(&e.name) || incomplete(e) || orphan(e))
        .map(|e| e.name.clone())
        .collect();
    partial.sort();
    Listing {
        dir: dir.to_string(),
        backups,
        partial,
    }
}

fn suffix_of(name: &str) -> u32 {
    let name = name.strip_suffix(".age").unwrap_or(name);
    name.strip_suffix(names::SUFFIX)
        .or_else(|| name.strip_suffix(crate::store::set::SET_SUFFIX))
        .map(|s| s.strip_suffix(names::SANITIZED).unwrap_or(s))
        .and_then(|s| s.rsplit_once('-'))
        .and_then(|(_, n)| n.parse().ok())
        .filter(|n| *n < 100_000)
        .unwrap_or(0)
}

/// The listing as an aligned text table.
pub fn table(l: &Listing) -> String {
    let mut rows = vec![[
        "FILE".to_string(),
        "SIZE".to_string(),
        "KEYS".to_string(),
        "AGE".to_string(),
        "CREATED".to_string(),
        "STATUS".to_string(),
    ]];
    for r in &l.backups {
        rows.push([
            r.file.clone(),
            human::bytes(r.bytes),
            r.keys.map_or("-".to_string(), |k| k.to_string()),
            human::age(r.age_seconds),
            r.created.clone(),
            match (&r.archive, r.sanitized) {
                _ if r.shards.is_some() => {
                    format!("{}, set of {} shards", r.status, r.shards.unwrap_or(0))
                }
                (Some(a), _) => format!("{}, base of archive {a}", r.status),
                (None, true) => format!("{}, sanitized", r.status),
                (None, false) => r.status.clone(),
            },
        ]);
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    human::table(&rows, &[1, 2, 3])
}
