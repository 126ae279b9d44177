//! Backup sets: a Redis Cluster backed up one Job per shard, each shard's
//! snapshot stored as it came, straight into the repository.
//!
//! A set is named like a backup with `.set` for `.rdb`
//! (`redis-backup-YYYYMMDD_HHMMSS[-N].set`). Its shards' files are
//! `SET.shard-SLOT.rdb[.age]` (SLOT: the lowest slot the shard served when
//! the set was planned, as a point-in-time archive names its shards), each
//! with the usual manifest. The set itself is one JSON object, `SET.json`,
//! written last and create-only by whichever shard finishes last
//! ([`seal`]): the set exists only when every shard's file does, and a
//! shard file without its set is a leftover, never a backup.

use crate::store::manifest::{Manifest, Source};
use crate::store::names;
use serde::{Deserialize, Serialize};

/// What a set's name ends with.
pub const SET_SUFFIX: &str = ".set";
/// What a shard file's name has between its set's name and `.rdb`.
pub const SHARD_INFIX: &str = ".shard-";
/// The `format` of a set manifest.
pub const SET_FORMAT: &str = "kubectl-redis backup set v1";
/// The slots of a Redis Cluster.
pub const SLOTS: u32 = 16384;

/// The set's name for a backup started at `secs` (`attempt` as
/// [`names::backup_file_name`]).
pub fn set_name(secs: i64, attempt: u32) -> String {
    let n = names::backup_file_name(secs, attempt);
    let core = n.strip_suffix(names::SUFFIX).unwrap_or(&n);
    format!("{core}{SET_SUFFIX}")
}

/// The time in a set's name, or `None` when `name` is not one.
pub fn parse_set_name(name: &str) -> Option<i64> {
    let core = name.strip_suffix(SET_SUFFIX)?;
    if core.ends_with(names::SANITIZED) {
        return None;
    }
    names::parse_backup_file_name(&format!("{core}{}", names::SUFFIX))
}

/// The object holding the set's manifest.
pub fn set_manifest_name(set: &str) -> String {
    format!("{set}.json")
}

/// The set whose manifest `name` is (`SET.json`).
pub fn set_of_manifest(name: &str) -> Option<&str> {
    let set = name.strip_suffix(".json")?;
    parse_set_name(set).map(|_| set)
}

/// The file of the shard whose lowest slot is `slot`.
pub fn shard_file_name(set: &str, slot: u16, encrypted: bool) -> String {
    format!(
        "{set}{SHARD_INFIX}{slot}{}{}",
        names::SUFFIX,
        if encrypted { ".age" } else { "" }
    )
}

/// The set and the slot of a shard file's name (or of its manifest's,
/// `....rdb.json`), or `None` when `name` is not one.
pub fn parse_shard_file_name(name: &str) -> Option<(String, u16)> {
    let n = name.strip_suffix(".json").unwrap_or(name);
    let n = n.strip_suffix(".age").unwrap_or(n);
    let n = n.strip_suffix(names::SUFFIX)?;
    let (set, slot) = n.rsplit_once(SHARD_INFIX)?;
    parse_set_name(set)?;
    if slot.is_empty() || !slot.bytes().all(|b| b.is_ascii_digit()) || slot.len() > 5 {
        return None;
    }
    let slot: u16 = slot.parse().ok()?;
    (u32::from(slot) < SLOTS).then(|| (set.to_string(), slot))
}

/// One shard of a set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetShard {
    /// Its file in the repository.
    pub file: String,
    /// Slot ranges its primary served, `[first, last]`.
    pub slots: Vec<[u16; 2]>,
    /// The primary's node id.
    pub node_id: String,
    /// Where its snapshot was read (`host:port`).
    pub address: String,
    /// `primary`, or `replica` when a healthy replica was read.
    pub role: String,
    /// The pod read, through Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Keys in its snapshot.
    pub keys: u64,
    /// The stored object's size (the age file's when encrypted).
    pub stored_size: u64,
    /// The stored object's SHA-256, hex.
    pub stored_sha256: String,
    /// When its snapshot was taken, RFC 3339.
    pub created: String,
}

/// A set's manifest (`SET.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetManifest {
    /// Always [`SET_FORMAT`].
    pub format: String,
    /// The set's name.
    pub set: String,
    /// When it was started (the name's time), RFC 3339.
    pub created: String,
    /// Where it came from.
    pub source: Source,
    /// Its shards' files are age files.
    pub encrypted: bool,
    /// The server's version, from the first shard.
    pub redis_version: Option<String>,
    /// Keys in all shards.
    pub keys: u64,
    /// Stored bytes of all shards.
    pub stored_size: u64,
    /// Every shard, in slot order; together they serve every slot once.
    pub shards: Vec<SetShard>,
    /// `kubectl-redis x.y.z` that sealed it.
    pub tool: String,
}

impl SetManifest {
    /// The shards' files.
    pub fn files(&self) -> Vec<String> {
        self.shards.iter().map(|s| s.file.clone()).collect()
    }
}

/// Whether a set can be sealed (its manifest written) now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Seal {
    /// Some shards' files are not stored yet (by lowest slot): another
    /// shard's Job seals it when it finishes.
    Waiting { missing: Vec<u16> },
    /// Every shard is stored: write this, create-only.
    Ready(Box<SetManifest>),
    /// The stored shards cannot make a set (why): it is never sealed.
    Broken(String),
}

/// Decides whether set `set`, planned as the shards of `planned` (their
/// lowest slots), can be sealed, given each planned shard's manifest as
/// stored (`None`: not stored yet). The shards must each record one
/// shard, be verified, and serve every slot of the cluster exactly once.
pub fn seal(
    set: &str,
    planned: &[u16],
    found: &[Option<Manifest>],
    source: Source,
    tool: &str,
) -> Seal {
    let missing: Vec<u16> = planned
        .iter()
        .zip(found.iter().chain(std::iter::repeat(&None)))
        .filter(|(_, m)| m.is_none())
        .map(|(s, _)| *s)
        .collect();
    if !missing.is_empty() {
        return Seal::Waiting { missing };
    }
    let Some(started) = parse_set_name(set) else {
        return Seal::Broken(format!("{set} is not a set's name"));
    };
    let mut shards = Vec::new();
    let mut ranges = Vec::new();
    let mut encrypted = None;
    for (slot, m) in planned.iter().zip(found.iter()) {
        let Some(m) = m else { continue };
        let [sh] = m.shards.as_slice() else {
            return Seal::Broken(format!(
                "{}: its manifest records {} shards, not one",
                m.file,
                m.shards.len()
            ));
        };
        if !m.verified {
            return Seal::Broken(format!("{}: not verified when stored", m.file));
        }
        let enc = m.encryption.is_some();
        if *encrypted.get_or_insert(enc) != enc {
            return Seal::Broken("some shards are encrypted and others not".into());
        }
        if m.file != shard_file_name(set, *slot, enc) {
            return Seal::Broken(format!(
                "{} is not the file of the shard at slot {slot}",
                m.file
            ));
        }
        ranges.extend(sh.slots.iter().copied());
        let (stored_size, stored_sha256) = m.stored();
        shards.push(SetShard {
            file: m.file.clone(),
            slots: sh.slots.clone(),
            node_id: sh.node_id.clone(),
            address: sh.address.clone(),
            role: sh.role.clone(),
            pod: sh.pod.clone(),
            keys: m.keys,
            stored_size,
            stored_sha256: stored_sha256.to_string(),
            created: m.created.clone(),
        });
    }
    if let Err(e) = coverage(&ranges) {
        return Seal::Broken(format!(
            "the shards {e} (the cluster was resharded while the set was taken)"
        ));
    }
    shards.sort_by_key(|s| s.slots.first().map_or(0, |r| r[0]));
    let redis_version = found.iter().flatten().find_map(|m| m.redis_version.clone());
    Seal::Ready(Box::new(SetManifest {
        format: SET_FORMAT.into(),
        set: set.to_string(),
        created: names::rfc3339(started),
        source,
        encrypted: encrypted.unwrap_or(false),
        redis_version,
        keys: shards.iter().map(|s| s.keys).sum(),
        stored_size: shards.iter().map(|s| s.stored_size).sum(),
        shards,
        tool: tool.to_string(),
    }))
}

/// Whether `ranges` serve every slot exactly once; else which slots they
/// leave out or serve twice (how many, the first).
pub fn coverage(ranges: &[[u16; 2]]) -> Result<(), String> {
    let mut seen = vec![0u8; SLOTS as usize];
    for [a, b] in ranges {
        if a > b || u32::from(*b) >= SLOTS {
            return Err(format!("record an impossible slot range {a}-{b}"));
        }
        for s in *a..=*b {
            seen[usize::from(s)] = seen[usize::from(s)].saturating_add(1);
        }
    }
    let count = |n: &dyn Fn(u8) -> bool| {
        let c = seen.iter().filter(|x| n(**x)).count();
        let first = seen.iter().position(|x| n(*x));
        (c, first)
    };
    if let (c, Some(first)) = count(&|x| x > 1) {
        return Err(format!("serve {c} slots twice (slot {first} first)"));
    }
    if let (c, Some(first)) = count(&|x| x == 0) {
        return Err(format!(
            "leave {c} of {SLOTS} slots uncovered (slot {first} first)"
        ));
    }
    Ok(())
}

/// A set as the repository holds it, for `list` and `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetState {
    /// Shards whose file is missing.
    pub missing: Vec<String>,
    /// Shards whose file's size is not the recorded one.
    pub size_differs: Vec<String>,
}

impl SetState {
    /// Compares the set's shards with the repository's objects
    /// (`size_of(name)`: the object's size, `None` when absent).
    pub fn of(m: &SetManifest, size_of: &dyn Fn(&str) -> Option<u64>) -> SetState {
        let mut s = SetState {
            missing: Vec::new(),
            size_differs: Vec::new(),
        };
        for sh in &m.shards {
            match size_of(&sh.file) {
                None => s.missing.push(sh.file.clone()),
                Some(n) if n != sh.stored_size => s.size_differs.push(sh.file.clone()),
                Some(_) => {}
            }
        }
        s
    }

    /// `list`'s status: `verified`, `shard file missing` (one or more; a
    /// missing file outranks a size), or `shard file size differs`.
    pub fn status(&self) -> String {
        if !self.missing.is_empty() {
            "shard file missing".into()
        } else if !self.size_differs.is_empty() {
            "shard file size differs".into()
        } else {
            "verified".into()
        }
    }
}
