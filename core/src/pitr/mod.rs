//! Point-in-time recovery: a continuous archive of the replication stream.
//!
//! The archiver is a replica as far as Redis is concerned. The snapshot
//! `+FULLRESYNC` sends is stored as an ordinary backup (the **base**, its
//! manifest naming the replication id and offset); everything after it is
//! cut by [`stream::Follower`] into **segments**, each a valid Redis 7 AOF
//! file with `#TS:` annotations. [`chain`] joins a base and its segments
//! and plans a restore to a second; [`replay`] reads a segment back and
//! cuts it at that second.
//!
//! In a repository, next to the backups:
//! `pitr/ARCHIVE/BASE/OFFSET.aof[.age]` and its manifest
//! `pitr/ARCHIVE/BASE/OFFSET.aof.json`, where `ARCHIVE` names what is
//! archived (`--archive`), `BASE` is the base's backup name without its
//! extension and `OFFSET` the segment's first offset, 20 digits (so names
//! sort by offset). A segment counts only once its manifest exists.

pub mod chain;
pub mod replay;
pub mod stream;

use crate::store::names;

/// The manifest format of a segment.
pub const SEGMENT_FORMAT: &str = "kubectl-redis.io/pitr-segment/v1";

/// The format of a pack of segment manifests.
pub const PACK_FORMAT: &str = "kubectl-redis.io/pitr-pack/v1";

/// Segment manifests per pack.
pub const PACK: usize = 100;

/// Where archives live under a repository.
pub const DIR: &str = "pitr";

/// Copies of the manifests of consecutive stored segments of one chain, in
/// one object: listing a chain reads a pack instead of each manifest (a
/// month of 10 s segments is 260,000 manifests). A segment still exists
/// only with its own manifest; a pack only saves reading it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pack {
    pub format: String,
    /// Object name -> its manifest, in offset order.
    pub segments: Vec<(String, SegmentManifest)>,
}

/// The object name of a pack of `base`'s segments from `first` to `last`
/// offset.
pub fn pack_name(archive: &str, base: &str, first: u64, last: u64) -> String {
    format!(
        "{}/pack-{first:020}-{last:020}.json",
        chain_dir(archive, base)
    )
}

/// Whether an object name (under a chain's directory) is a pack's.
pub fn is_pack(name: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with("pack-") && n.ends_with(".json"))
}

/// A segment's manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentManifest {
    pub format: String,
    /// The base it continues (its backup name).
    pub base: String,
    #[serde(flatten)]
    pub info: stream::SegmentInfo,
    /// The AOF bytes' size and sha256 (before encryption).
    pub size: u64,
    pub sha256: String,
    /// The stored object's, when encrypted (age): what can be checked
    /// without a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<Stored>,
}

/// What was stored of an encrypted segment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    pub size: u64,
    pub sha256: String,
    pub recipients: Vec<String>,
}

/// A base's stem: its backup name without `.rdb` / `.rdb.age`.
pub fn stem(base: &str) -> &str {
    base.strip_suffix(names::ENCRYPTED_SUFFIX)
        .or_else(|| base.strip_suffix(names::SUFFIX))
        .unwrap_or(base)
}

/// The directory of `base`'s segments in archive `archive`.
pub fn chain_dir(archive: &str, base: &str) -> String {
    format!("{DIR}/{archive}/{}", stem(base))
}

/// A segment's object name.
pub fn segment_name(
    archive: &str,
    base: &str,
    info: &stream::SegmentInfo,
    encrypted: bool,
) -> String {
    // A segment rewinding to a promotion point may start where an earlier
    // one did: its name says what it follows.
    let after = info
        .rewound_from
        .map(|r| format!("-after-{r:020}"))
        .unwrap_or_default();
    format!(
        "{}/{:020}{after}.aof{}",
        chain_dir(archive, base),
        info.first_offset,
        if encrypted { ".age" } else { "" }
    )
}

/// A segment's manifest name.
pub fn segment_manifest_name(segment: &str) -> String {
    format!("{}.json", segment.strip_suffix(".age").unwrap_or(segment))
}

/// An archive's name from what it follows: letters, digits, `-`, `.` and
/// `_` kept, anything else `-`.
pub fn archive_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// The archive of one Redis Cluster shard: `ARCHIVE.shard-SLOT`, SLOT the
/// lowest slot its primary served when archiving began.
pub fn shard_archive(archive: &str, slot: u16) -> String {
    format!("{archive}.shard-{slot}")
}

/// `ARCHIVE.shard-SLOT` split into the cluster's archive and the slot.
pub fn shard_of(name: &str) -> Option<(&str, u16)> {
    let (a, s) = name.rsplit_once(".shard-")?;
    let slot: u16 = s.parse().ok()?;
    (!a.is_empty() && slot < 16384 && s == slot.to_string()).then_some((a, slot))
}

/// The archives in `names` that are shards of cluster archive `archive`,
/// by slot.
pub fn shards_of<'a>(names: &'a [String], archive: &str) -> Vec<(u16, &'a str)> {
    let mut out: Vec<(u16, &str)> = names
        .iter()
        .filter_map(|n| {
            shard_of(n)
                .filter(|(a, _)| *a == archive)
                .map(|(_, s)| (s, n.as_str()))
        })
        .collect();
    out.sort_unstable();
    out
}

/// `--to-time`: `latest`, a duration ago (`-10m`, `-2h`, `-90s`, `-1d`),
/// or an RFC 3339 UTC time (`2026-12-04T12:00:05Z`); the second, given
/// now (Unix seconds). `None` for `latest`.
pub fn parse_to_time(s: &str, now: i64) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s == "latest" {
        return Ok(None);
    }
    if let Some(d) = s.strip_prefix('-') {
        let (n, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len()));
        let n: i64 = n
            .parse()
            .map_err(|_| format!("--to-time {s}: expected -N followed by s, m, h or d"))?;
        let mul = match unit {
            "s" | "" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("--to-time {s}: the unit is s, m, h or d")),
        };
        return Ok(Some(now - n * mul));
    }
    let bad = || {
        format!(
            "--to-time {s}: give latest, -10m (ago), or a UTC time such as 2026-12-04T12:00:05Z"
        )
    };
    let t = s.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let d: Vec<&str> = date.split('-').collect();
    let h: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || h.len() != 3 {
        return Err(bad());
    }
    let num = |x: &str| x.parse::<u32>().map_err(|_| bad());
    let c = names::Civil {
        year: d[0].parse().map_err(|_| bad())?,
        month: num(d[1])?,
        day: num(d[2])?,
        hour: num(h[0])?,
        minute: num(h[1])?,
        // Fractions name the second they fall in.
        second: num(h[2].split('.').next().unwrap_or(""))?,
    };
    if !(1..=12).contains(&c.month)
        || !(1..=31).contains(&c.day)
        || c.hour > 23
        || c.minute > 59
        || c.second > 59
    {
        return Err(bad());
    }
    Ok(Some(names::unix_from_civil(c)))
}
