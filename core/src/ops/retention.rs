//! Which backups a retention policy keeps (`kubectl redis prune`), decided
//! from their names alone: the newest backup is always kept, and only files
//! named like our backups are ever candidates.

use crate::ops::list::Row;
use crate::store::names;
use serde::Serialize;

/// `--keep-*` flags. At least one must be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The newest N.
    pub last: Option<usize>,
    /// Everything newer than this many seconds.
    #[serde(rename = "within_seconds")]
    pub within_s: Option<i64>,
    /// The newest backup of each of the last N hours that have one.
    pub hourly: Option<usize>,
    /// The newest of each of the last N days (UTC) that have one.
    pub daily: Option<usize>,
    /// The newest of each of the last N ISO-ish weeks (7-day periods from the Unix epoch's Monday).
    pub weekly: Option<usize>,
}

impl Policy {
    /// Whether any rule is set.
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
            && self.within_s.is_none()
            && self.hourly.is_none()
            && self.daily.is_none()
            && self.weekly.is_none()
    }
}

/// One backup and what the policy says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// File name.
    pub file: String,
    /// Full path.
    pub path: String,
    /// Creation time from the name.
    pub created: String,
    /// Size.
    pub bytes: u64,
    /// Kept?
    pub keep: bool,
    /// Why kept (`newest`, `last 3`, `within 7d`, `hourly`, `daily`, `weekly`), empty when removed.
    pub reasons: Vec<String>,
}

/// Applies `p` to `rows` (newest first, as [`crate::ops::list::listing`]
/// orders them). Full backups and sanitized copies are counted apart: a
/// sanitized copy never takes a full backup's place in `--keep-last` or a
/// day's slot, and the newest of each kind is kept.
pub fn decide(rows: &[Row], p: &Policy, now_unix: i64) -> Vec<Verdict> {
    type Group<'a> = Vec<(usize, &'a Row)>;
    let (full, sanitized): (Group<'_>, Group<'_>) =
        rows.iter().enumerate().partition(|(_, r)| !r.sanitized);
    let mut out: Vec<Option<Verdict>> = vec![None; rows.len()];
    for group in [full, sanitized] {
        let part: Vec<Row> = group.iter().map(|(_, r)| (*r).clone()).collect();
        for ((i, _), v) in group.iter().zip(decide_one(&part, p, now_unix)) {
            out[*i] = Some(v);
        }
    }
    out.into_iter().flatten().collect()
}

fn decide_one(rows: &[Row], p: &Policy, now_unix: i64) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = rows
        .iter()
        .map(|r| Verdict {
            file: r.file.clone(),
            path: r.path.clone(),
            created: r.created.clone(),
            bytes: r.bytes,
            keep: false,
            reasons: Vec::new(),
        })
        .collect();
    let mut mark = |i: usize, why: String| {
        out[i].keep = true;
        if !out[i].reasons.contains(&why) {
            out[i].reasons.push(why);
        }
    };
    if !rows.is_empty() {
        mark(0, "newest".into());
    }
    if let Some(n) = p.last {
        for i in 0..n.min(rows.len()) {
            mark(i, format!("last {n}"));
        }
    }
    if let Some(w) = p.within_s {
        for (i, r) in rows.iter().enumerate() {
            if now_unix - r.created_unix <= w {
                mark(i, format!("within {}", crate::human::age(w)));
            }
        }
    }
    let buckets = [
        (p.hourly, 3600i64, "hourly"),
        (p.daily, 86_400, "daily"),
        // Weeks start on Monday: the epoch (1970-01-01) was a Thursday.
        (p.weekly, 604_800, "weekly"),
    ];
    for (n, size, name) in buckets {
        let Some(n) = n else { continue };
        let offset = if name == "weekly" { 3 * 86_400 } else { 0 };
        let mut seen: Vec<i64> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let b = (r.created_unix + offset).div_euclid(size);
            if seen.contains(&b) {
                continue;
            }
            if seen.len() == n {
                break;
            }
            seen.push(b);
            mark(i, name.into());
        }
    }
    out
}

/// Whether `name` is a file prune may remove: a backup of ours, or its manifest.
pub fn is_ours(name: &str) -> bool {
    names::parse_backup_file_name(name).is_some()
        || crate::store::set::parse_set_name(name).is_some()
        || name
            .strip_suffix(".json")
            .is_some_and(|b| names::parse_backup_file_name(b).is_some())
}
