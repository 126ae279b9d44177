//! What `kubectl redis inspect` reports about an RDB file: built from the
//! reader's events, in bounded memory (the biggest keys are a heap of N, the
//! prefixes a map capped at [`MAX_PREFIXES`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Serialize;

use crate::human;
use crate::rdb::reader::{Checksum, Event, Summary};
use crate::rdb::{escape, Flavor};

/// Distinct prefixes kept; keys of further prefixes are counted as `(other)`.
pub const MAX_PREFIXES: usize = 10_000;

/// Inspection settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many of the biggest keys to list.
    pub top: usize,
    /// Group keys by the part before this separator (e.g. `:`).
    pub prefix_sep: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top: 10,
            prefix_sep: None,
        }
    }
}

/// Keys of one type and encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCount {
    /// `string`, `list`, ...
    #[serde(rename = "type")]
    pub ty: String,
    /// `listpack`, `hashtable`, ...
    pub encoding: String,
    /// Keys.
    pub keys: u64,
    /// Elements in them.
    pub elements: u64,
    /// Bytes they take in the file.
    pub bytes: u64,
}

/// One of the biggest keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BigKey {
    /// Database.
    pub db: u64,
    /// The key, printable (`\xNN` for other bytes).
    pub key: String,
    /// Type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Encoding.
    pub encoding: String,
    /// Bytes in the file.
    pub bytes: u64,
    /// Elements.
    pub elements: u64,
    /// Expiry, Unix milliseconds.
    #[serde(rename = "expires_at_unix_ms")]
    pub expire_ms: Option<i64>,
}

/// Keys sharing a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefixCount {
    /// The prefix including the separator, `(no prefix)` or `(other)`.
    pub prefix: String,
    /// Keys.
    pub keys: u64,
    /// Bytes in the file.
    pub bytes: u64,
}

/// A database's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Db {
    /// Database number.
    pub db: u64,
    /// Keys found.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
    /// What the server's RESIZEDB hint announced, if it wrote one.
    pub announced_keys: Option<u64>,
}

/// The inspection report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `redis` or `valkey`.
    pub flavor: Flavor,
    /// RDB format version.
    pub rdb_version: u32,
    /// `redis-ver` (or `valkey-ver`) aux field.
    pub server_version: Option<String>,
    /// `ctime` aux field, Unix seconds.
    pub created_unix: Option<i64>,
    /// `used-mem` aux field, bytes.
    #[serde(rename = "used_mem_bytes")]
    pub used_mem: Option<u64>,
    /// The file is an AOF base (`aof-base` aux field).
    pub aof_base: bool,
    /// File size.
    pub bytes: u64,
    /// CRC-64 status.
    pub checksum: Checksum,
    /// Keys in all databases.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
    /// Per database.
    pub dbs: Vec<Db>,
    /// Per type and encoding.
    pub types: Vec<TypeCount>,
    /// Biggest keys by bytes in the file.
    pub biggest: Vec<BigKey>,
    /// Per prefix, biggest first (only with a separator).
    pub prefixes: Vec<PrefixCount>,
    /// Function libraries.
    pub functions: u64,
    /// Module aux records.
    pub module_aux: u64,
    /// LZF-compressed string values.
    pub compressed_strings: u64,
    /// Strings too large to check beyond the CRC.
    pub unchecked: u64,
    /// Other aux fields.
    pub aux: BTreeMap<String, String>,
}

/// Collects events into a [`Report`].
#[derive(Debug)]
pub struct Inspector {
    opts: Options,
    aux: BTreeMap<String, String>,
    announced: BTreeMap<u64, u64>,
    types: BTreeMap<(&'static str, &'static str), TypeCount>,
    heap: BinaryHeap<Reverse<Big>>,
    prefixes: HashMap<Vec<u8>, (u64, u64)>,
    compressed: u64,
}

/// A heap entry: ordered by size, then file offset (unique).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Big {
    bytes: u64,
    offset: u64,
    name: Vec<u8>,
    db: u64,
    ty: &'static str,
    encoding: &'static str,
    elements: u64,
    expire_ms: Option<i64>,
}

const NO_PREFIX: &[u8] = b"\x00(no prefix)";
const OTHER: &[u8] = b"\x00(other)";

impl Inspector {
    /// An empty collector.
    pub fn new(opts: Options) -> Self {
        Inspector {
            opts,
            aux: BTreeMap::new(),
            announced: BTreeMap::new(),
            types: BTreeMap::new(),
            heap: BinaryHeap::new(),
            prefixes: HashMap::new(),
            compressed: 0,
        }
    }

    /// Takes one event.
    pub fn on(&mut self, e: &Event<'_>) {
        match e {
            Event::Aux { key, value } => {
                self.aux.insert(
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(value).into_owned(),
                );
            }
            Event::Resize { db, keys, .. } => {
                // Counts the file claims: a hostile one may claim u64::MAX twice.
                let n = self.announced.entry(*db).or_default();
                *n = n.saturating_add(*keys);
            }
            Event::Key(k) => {
                let t = self
                    .types
                    .entry((k.kind.ty, k.kind.encoding))
                    .or_insert_with(|| TypeCount {
                        ty: k.kind.ty.into(),
                        encoding: k.kind.encoding.into(),
                        ..TypeCount::default()
                    });
                t.keys += 1;
                t.elements = t.elements.saturating_add(k.elements);
                t.bytes = t.bytes.saturating_add(k.bytes);
                self.compressed += u64::from(k.compressed);
                if self.opts.top > 0 {
                    let worth = self.heap.len() < self.opts.top
                        || self
                            .heap
                            .peek()
                            .is_some_and(|Reverse(min)| min.bytes < k.bytes);
                    if worth {
                        self.heap.push(Reverse(Big {
                            bytes: k.bytes,
                            offset: k.offset,
                            name: k.name.to_vec(),
                            db: k.db,
                            ty: k.kind.ty,
                            encoding: k.kind.encoding,
                            elements: k.elements,
                            expire_ms: k.expire_ms,
                        }));
                        if self.heap.len() > self.opts.top {
                            self.heap.pop();
                        }
                    }
                }
                if let Some(sep) = &self.opts.prefix_sep {
                    let sep = sep.as_bytes();
                    let p: &[u8] = match find(k.name, sep) {
                        Some(i) => &k.name[..i + sep.len()],
                        None => NO_PREFIX,
                    };
                    let slot =
                        if self.prefixes.contains_key(p) || self.prefixes.len() < MAX_PREFIXES {
                            p
                        } else {
                            OTHER
                        };
                    let e = self.prefixes.entry(slot.to_vec()).or_default();
                    e.0 += 1;
                    e.1 += k.bytes;
                }
            }
            _ => {}
        }
    }

    /// The report, given the reader's summary.
    pub fn report(self, s: &Summary) -> Report {
        let mut aux = self.aux;
        let server_version = aux
            .remove("valkey-ver")
            .or_else(|| aux.get("redis-ver").cloned());
        aux.remove("redis-ver");
        let created_unix = aux.remove("ctime").and_then(|v| v.parse().ok());
        let used_mem = aux.remove("used-mem").and_then(|v| v.parse().ok());
        let aof_base = aux.remove("aof-base").is_some_and(|v| v == "1");
        let mut dbs: Vec<Db> = s
            .dbs
            .iter()
            .map(|(db, c)| Db {
                db: *db,
                keys: c.keys,
                expires: c.expires,
                announced_keys: self.announced.get(db).copied(),
            })
            .collect();
        for (db, n) in &self.announced {
            if !s.dbs.contains_key(db) {
                dbs.push(Db {
                    db: *db,
                    announced_keys: Some(*n),
                    ..Db::default()
                });
            }
        }
        dbs.sort_by_key(|d| d.db);
        let mut types: Vec<TypeCount> = self.types.into_values().collect();
        types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.ty.cmp(&b.ty)));
        let mut biggest: Vec<BigKey> = self
            .heap
            .into_iter()
            .map(|Reverse(b)| BigKey {
                db: b.db,
                key: escape(&b.name),
                ty: b.ty.into(),
                encoding: b.encoding.into(),
                bytes: b.bytes,
                elements: b.elements,
                expire_ms: b.expire_ms,
            })
            .collect();
        biggest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.key.cmp(&b.key)));
        let mut prefixes: Vec<PrefixCount> = self
            .prefixes
            .into_iter()
            .map(|(p, (keys, bytes))| PrefixCount {
                prefix: if p.first() == Some(&0) {
                    String::from_utf8_lossy(&p[1..]).into_owned()
                } else {
                    escape(&p)
                },
                keys,
                bytes,
            })
            .collect();
        prefixes.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.prefix.cmp(&b.prefix)));
        Report {
            flavor: s.header.flavor,
            rdb_version: s.header.version,
            server_version,
            created_unix,
            used_mem,
            aof_base,
            bytes: s.bytes,
            checksum: s.checksum,
            keys: s.keys(),
            expires: s.dbs.values().map(|d| d.expires).sum(),
            dbs,
            types,
            biggest,
            prefixes,
            functions: s.functions,
            module_aux: s.module_aux,
            compressed_strings: self.compressed,
            unchecked: s.unchecked,
            aux,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A checksum for people.
pub fn checksum_text(c: &Checksum) -> String {
    match c {
        Checksum::Verified { crc } => format!("CRC-64 {crc:016x} verified"),
        Checksum::Disabled => "none (saved with rdbchecksum no): structure checked only".into(),
        Checksum::Absent => "none (RDB version before 5): structure checked only".into(),
    }
}

/// The report as text, for a terminal.
pub fn render(r: &Report, now_unix: i64) -> String {
    use core::fmt::Write;
    let mut o = String::new();
    let flavor = match r.flavor {
        Flavor::Redis => "REDIS",
        Flavor::Valkey => "VALKEY",
    };
    let _ = writeln!(o, "format     {flavor} RDB version {}", r.rdb_version);
    if let Some(v) = &r.server_version {
        let _ = writeln!(o, "written by {v}");
    }
    if let Some(c) = r.created_unix {
        let age = human::age(now_unix.saturating_sub(c).max(0));
        let _ = writeln!(
            o,
            "created    {} ({age} ago)",
            crate::store::names::rfc3339(c)
        );
    }
    if let Some(m) = r.used_mem {
        let _ = writeln!(o, "used mem   {} when saved", human::bytes(m));
    }
    let _ = writeln!(
        o,
        "size       {} ({} bytes)",
        human::bytes(r.bytes),
        r.bytes
    );
    let _ = writeln!(o, "checksum   {}", checksum_text(&r.checksum));
    if r.aof_base {
        let _ = writeln!(o, "aof base   yes");
    }
    let _ = writeln!(
        o,
        "keys       {} ({} with expiry), {} function librar{}, {} module aux",
        r.keys,
        r.expires,
        r.functions,
        if r.functions == 1 { "y" } else { "ies" },
        r.module_aux
    );
    if r.unchecked > 0 {
        let _ = writeln!(
            o,
            "note       {} strings too large to check one by one (the checksum covers them)",
            r.unchecked
        );
    }
    let _ = writeln!(o, "\nDB   KEYS        EXPIRES     ANNOUNCED");
    for d in &r.dbs {
        let ann = d.announced_keys.map_or("-".to_string(), |n| n.to_string());
        let _ = writeln!(o, "{:<4} {:<11} {:<11} {ann}", d.db, d.keys, d.expires);
    }
    let _ = writeln!(o, "\nTYPE     ENCODING     KEYS        ELEMENTS     BYTES");
    for t in &r.types {
        let _ = writeln!(
            o,
            "{:<8} {:<12} {:<11} {:<12} {}",
            t.ty,
            t.encoding,
            t.keys,
            t.elements,
            human::bytes(t.bytes)
        );
    }
    if !r.biggest.is_empty() {
        let _ = writeln!(o, "\nBIGGEST KEYS (bytes in the file)");
        for b in &r.biggest {
            let _ = writeln!(
                o,
                "{:>10}  db{} {} {} ({}, {} elements)",
                human::bytes(b.bytes),
                b.db,
                b.key,
                b.ty,
                b.encoding,
                b.elements
            );
        }
    }
    if !r.prefixes.is_empty() {
        let _ = writeln!(o, "\nPREFIX                           KEYS        BYTES");
        for p in r.prefixes.iter().take(20) {
            let _ = writeln!(
                o,
                "{:<32} {:<11} {}",
                p.prefix,
                p.keys,
                human::bytes(p.bytes)
            );
        }
        if r.prefixes.len() > 20 {
            let _ = writeln!(o, "... {} more (see -o json)", r.prefixes.len() - 20);
        }
    }
    o
}
