//! Several RDB files into one: the snapshots of a Redis Cluster's shards
//! (disjoint keys, same format version) become one file that every command
//! reads as any backup. The [`Splitter`](super::records::Splitter) of each
//! input gives its records; the [`Merger`] writes them out: one header, the
//! server version as an aux field, each function library once, every key
//! with its expiry and LRU/LFU hint, and a new CRC-64.

use super::crc64::Crc64;
use super::records::Record;
use super::{Flavor, Header};
use std::collections::{BTreeMap, BTreeSet};

/// The writer of the merged file. Bytes go to the `out` given to each call.
#[derive(Debug, Default)]
pub struct Merger {
    crc: Crc64,
    header: Option<Header>,
    redis_ver: Option<String>,
    db: Option<u64>,
    functions: BTreeSet<Vec<u8>>,
    /// Each library written, by name: its code.
    libraries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Keys written.
    pub keys: u64,
    finished: bool,
}

/// Redis's length encoding.
pub fn length(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A plain RDB string: its length, then its bytes.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    length(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A function record's library: its name (`#!lua name=NAME` on its first
/// line) and code; `None` when it cannot be read so (then it is kept by
/// its bytes alone).
fn library(raw: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (code, _) = super::values::string(raw).ok()??;
    let first = code.split(|b| *b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?;
    let name = first
        .strip_prefix("#!")?
        .split_whitespace()
        .find_map(|w| w.strip_prefix("name="))?;
    Some((name.as_bytes().to_vec(), code))
}

impl Merger {
    /// A merger; `redis_ver` (the servers' version) is written as the
    /// `redis-ver` aux field.
    pub fn new(redis_ver: Option<String>) -> Self {
        Merger {
            redis_ver,
            ..Merger::default()
        }
    }

    /// Writes bytes as they are (counted in the checksum).
    pub fn raw(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.emit(out, bytes)
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.crc.update(bytes);
        out.extend_from_slice(bytes);
    }

    /// Writes one record of an input. Every input must have the same
    /// header (flavor and version): the first one's is written.
    pub fn record(&mut self, rec: Record<'_>, out: &mut Vec<u8>) -> Result<(), String> {
        let mut b = Vec::new();
        match rec {
            Record::Header(h) => {
                match self.header {
                    Some(first) if first != h => {
                        return Err(format!(
                            "the shards' snapshots differ in format ({:?} RDB {} and {:?} RDB {}): a cluster runs one server version",
                            first.flavor, first.version, h.flavor, h.version
                        ))
                    }
                    Some(_) => return Ok(()),
                    None => {}
                }
                self.header = Some(h);
                match h.flavor {
                    Flavor::Redis => {
                        b.extend_from_slice(format!("REDIS{:04}", h.version).as_bytes())
                    }
                    Flavor::Valkey => {
                        b.extend_from_slice(format!("VALKEY{:03}", h.version).as_bytes())
                    }
                }
                if let Some(v) = self.redis_ver.clone() {
                    b.push(0xFA);
                    string(&mut b, b"redis-ver");
                    string(&mut b, v.as_bytes());
                }
            }
            Record::Function(raw) => {
                // A library is written once; two shards holding different
                // code under one name cannot both be in the file (a server
                // refuses to load it): refused, naming the library.
                if let Some((name, code)) = library(raw) {
                    match self.libraries.get(&name) {
                        Some(c) if *c == code => return Ok(()),
                        Some(_) => {
                            return Err(format!(
                                "the shards hold different code for the function library '{}': a server cannot load both; make the library the same on every primary (FUNCTION LOAD REPLACE) and back up again",
                                String::from_utf8_lossy(&name)
                            ))
                        }
                        None => {
                            self.libraries.insert(name, code);
                        }
                    }
                }
                if self.functions.insert(raw.to_vec()) {
                    b.push(0xF5);
                    b.extend_from_slice(raw);
                }
            }
            Record::Key { key, value } => {
                self.key_head(&mut b, key.db, key.expire_ms, key.idle, key.freq);
                b.push(key.kind.code);
                string(&mut b, key.name);
                b.extend_from_slice(value);
                self.keys += 1;
            }
            Record::BigStart {
                db,
                name,
                code,
                expire_ms,
            } => {
                self.key_head(&mut b, db, expire_ms, None, None);
                b.push(code);
                string(&mut b, name);
                self.keys += 1;
            }
            Record::BigPart(p) => b.extend_from_slice(p),
            Record::BigEnd(_) => {}
        }
        if self.header.is_none() {
            return Err("a record before the header".into());
        }
        self.emit(out, &b);
        Ok(())
    }

    /// What precedes a key's type byte: `SELECTDB` when the database
    /// changes, its expiry, its LRU/LFU hint (into `b`, not yet written).
    pub fn key_head(
        &mut self,
        b: &mut Vec<u8>,
        db: u64,
        expire_ms: Option<i64>,
        idle: Option<u64>,
        freq: Option<u8>,
    ) {
        if self.db != Some(db) {
            self.db = Some(db);
            b.push(0xFE);
            length(b, db);
        }
        if let Some(at) = expire_ms {
            b.push(0xFC);
            b.extend_from_slice(&at.to_le_bytes());
        }
        if let Some(i) = idle {
            b.push(0xF8);
            length(b, i);
        } else if let Some(f) = freq {
            b.push(0xF9);
            b.push(f);
        }
    }

    /// The end: `EOF` and the CRC-64 of everything written.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.header.is_none() {
            return Err("no input".into());
        }
        if !self.finished {
            self.finished = true;
            self.emit(out, &[0xFF]);
            out.extend_from_slice(&self.crc.value().to_le_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::reader::{read_all, Checksum};
    use crate::rdb::records::Splitter;

    fn merge(inputs: &[&[u8]], limit: usize) -> Vec<u8> {
        try_merge(inputs, limit).expect("merged")
    }

    fn try_merge(inputs: &[&[u8]], limit: usize) -> Result<Vec<u8>, String> {
        let mut m = Merger::new(Some("7.0.15".into()));
        let mut out = Vec::new();
        for input in inputs {
            let mut s = Splitter::new(limit);
            let mut err = None;
            for chunk in input.chunks(333) {
                s.feed(chunk, &mut |r| {
                    if let Err(e) = m.record(r, &mut out) {
                        err.get_or_insert(e);
                    }
                })
                .expect("split");
            }
            s.finish().expect("whole input");
            if let Some(e) = err {
                return Err(e);
            }
        }
        m.finish(&mut out)?;
        Ok(out)
    }

    const ALL: &[u8] = include_bytes!("../../tests/fixtures/all-types-7.0.rdb");
    const TWO: &[u8] = include_bytes!("../../tests/fixtures/two-dbs-function-7.0.rdb");

    #[test]
    fn one_input_comes_out_with_the_same_keys_and_a_valid_checksum() {
        for limit in [usize::MAX, 16] {
            let out = merge(&[ALL], limit);
            let a = read_all(ALL, &mut |_| {}).expect("input");
            let b = read_all(&out, &mut |_| {}).expect("merged file reads");
            assert!(matches!(b.checksum, Checksum::Verified { .. }), "{b:?}");
            assert_eq!(a.dbs, b.dbs);
            assert_eq!(a.functions, b.functions);
            assert_eq!(b.server_version.as_deref(), Some("7.0.15"));
        }
    }

    #[test]
    fn two_inputs_add_up_and_share_functions_once() {
        let out = merge(&[TWO, TWO], usize::MAX);
        let t = read_all(TWO, &mut |_| {}).expect("two");
        let m = read_all(&out, &mut |_| {}).expect("merged");
        let total = |s: &crate::rdb::reader::Summary| s.dbs.values().map(|d| d.keys).sum::<u64>();
        assert_eq!(total(&m), 2 * total(&t));
        // The same library in both files is written once.
        assert!(t.functions > 0, "{t:?}");
        assert_eq!(m.functions, t.functions, "{m:?}");
        // The fixtures hold different code under the name mylib: refused.
        let e = try_merge(&[ALL, TWO], usize::MAX).expect_err("two codes for mylib");
        assert!(e.contains("'mylib'"), "{e}");
    }

    /// One library name with different code on two shards: refused,
    /// naming it; the same code twice is written once.
    #[test]
    fn one_library_name_with_two_codes_is_refused() {
        let lib = |body: &str| {
            let mut raw = Vec::new();
            string(
                &mut raw,
                format!(
                    "#!lua name=mylib\nredis.register_function('f', function() return {body} end)"
                )
                .as_bytes(),
            );
            raw
        };
        let (one, two) = (lib("1"), lib("2"));
        let mut m = Merger::new(None);
        let mut out = Vec::new();
        let h = Header {
            flavor: Flavor::Redis,
            version: 10,
        };
        m.record(Record::Header(h), &mut out).expect("header");
        m.record(Record::Function(&one), &mut out).expect("first");
        let len = out.len();
        m.record(Record::Function(&one), &mut out)
            .expect("the same again");
        assert_eq!(out.len(), len, "written once");
        let e = m
            .record(Record::Function(&two), &mut out)
            .expect_err("two codes under one name");
        assert!(e.contains("'mylib'"), "{e}");
        assert_eq!(out.len(), len, "nothing of it written");
        assert_eq!(library(&one).map(|(n, _)| n), Some(b"mylib".to_vec()));
    }

    #[test]
    fn different_formats_are_refused() {
        let mut m = Merger::new(None);
        let mut out = Vec::new();
        let h = |v| Header {
            flavor: Flavor::Redis,
            version: v,
        };
        m.record(Record::Header(h(10)), &mut out).expect("first");
        assert!(m.record(Record::Header(h(11)), &mut out).is_err());
        assert!(Merger::new(None).finish(&mut Vec::new()).is_err());
    }
}
