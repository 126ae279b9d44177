//! A value's elements, decoded from its bytes as they stand in an RDB file:
//! what a live restore sends as plain commands (RPUSH, SADD, ZADD, HSET,
//! SET/APPEND) when the target server does not know the value's type or
//! encoding, or when the value is too big for one `RESTORE`.
//!
//! The [`Decoder`] is fed the value's bytes (after the key) in chunks of any
//! size and buffers at most one unit at a time: one RDB string (a member,
//! or a packed listpack/ziplist/intset/zipmap blob), never the whole value.
//! A top-level string value streams through in pieces without buffering.
//!
//! ```
//! use kubectl_redis_core::rdb::values::{Decoder, Item};
//! // A list (type 1) of two strings: "a", "bc".
//! let value = [2u8, 1, b'a', 2, b'b', b'c'];
//! let mut d = Decoder::new(1, kubectl_redis_core::rdb::Flavor::Redis).unwrap();
//! let mut got = Vec::new();
//! d.feed(&value, &mut |i| got.push(i)).unwrap();
//! d.finish().unwrap();
//! assert_eq!(got, vec![Item::Elem(b"a".to_vec()), Item::Elem(b"bc".to_vec())]);
//! ```

use crate::rdb::lzf;
use crate::rdb::Flavor;

/// One element of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A piece of a string value; the pieces concatenated are the value.
    Str(Vec<u8>),
    /// A list element (in order) or a set member.
    Elem(Vec<u8>),
    /// A sorted-set member and its score, as text Redis parses back to the
    /// same double (`inf`, `-inf` included).
    Scored(Vec<u8>, Vec<u8>),
    /// A hash field and its value.
    Field(Vec<u8>, Vec<u8>),
    /// A hash field, its value and its expiry (Unix ms).
    FieldExpiring(Vec<u8>, Vec<u8>, i64),
    /// A stream entry (not deleted): its ID and field/value pairs.
    Entry(StreamId, Vec<(Vec<u8>, Vec<u8>)>),
    /// After a stream's entries: its last ID and counters (from type 19).
    StreamMeta {
        /// Entries now in the stream.
        length: u64,
        /// The last ID ever given.
        last_id: StreamId,
        /// Entries ever added (type 19+).
        entries_added: Option<u64>,
        /// The largest deleted ID (type 19+).
        max_deleted: Option<StreamId>,
    },
    /// A consumer group.
    Group {
        /// Name.
        name: Vec<u8>,
        /// Its last delivered ID.
        last_id: StreamId,
        /// Its read counter (type 19+).
        entries_read: Option<u64>,
    },
    /// A consumer of the last group.
    Consumer {
        /// Group name.
        group: Vec<u8>,
        /// Consumer name.
        name: Vec<u8>,
    },
    /// A pending entry of a consumer.
    Pending {
        /// Group name.
        group: Vec<u8>,
        /// Owner.
        consumer: Vec<u8>,
        /// Entry ID.
        id: StreamId,
        /// Last delivery, Unix ms.
        delivered_ms: i64,
        /// Deliveries.
        count: u64,
    },
}

/// A stream entry ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamId {
    /// Milliseconds.
    pub ms: u64,
    /// Sequence.
    pub seq: u64,
}

impl core::fmt::Display for StreamId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Why a value cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// This type cannot be written as plain commands (streams, module
    /// values, hashes with field TTLs).
    Unsupported(&'static str),
    /// The bytes do not match the format.
    Corrupt(String),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Unsupported(w) => write!(f, "{w} cannot be sent as plain commands"),
            DecodeError::Corrupt(w) => write!(f, "corrupt value: {w}"),
        }
    }
}

/// What a type byte holds, for the command that rebuilds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SET, then APPEND.
    String,
    /// RPUSH.
    List,
    /// SADD.
    Set,
    /// ZADD.
    Zset,
    /// HSET.
    Hash,
    /// XADD, XSETID, XGROUP, XCLAIM.
    Stream,
}

/// Whether type `code` of a `flavor` file is a hash with field TTLs.
pub fn has_field_ttls(code: u8, flavor: Flavor) -> bool {
    match flavor {
        Flavor::Redis => (22..=25).contains(&code),
        Flavor::Valkey => code == 22,
    }
}

/// The shape of type `code` in a `flavor` file, when its values can be
/// decoded (types up to 21 are the same in Redis and Valkey).
pub fn shape(code: u8, flavor: Flavor) -> Result<Shape, DecodeError> {
    if has_field_ttls(code, flavor) {
        return Ok(Shape::Hash);
    }
    Ok(match code {
        0 => Shape::String,
        1 | 10 | 14 | 18 => Shape::List,
        2 | 11 | 20 => Shape::Set,
        3 | 5 | 12 | 17 => Shape::Zset,
        4 | 9 | 13 | 16 => Shape::Hash,
        15 | 19 | 21 => Shape::Stream,
        6 | 7 => return Err(DecodeError::Unsupported("a module value")),
        _ => return Err(DecodeError::Unsupported("an unknown type")),
    })
}

/// The units a type is made of, after its count (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// One string, the whole value (type 0).
    TopString,
    /// N strings (list, set).
    Strings,
    /// N (member, old text double).
    ZsetOld,
    /// N (member, binary double).
    ZsetBin,
    /// N (field, value).
    Pairs,
    /// One packed blob.
    Blob(Blob),
    /// N packed blobs (quicklist of ziplists).
    Blobs(Blob),
    /// N (container, string) nodes (quicklist 2).
    Nodes,
    /// N (master ID, listpack) nodes, then the stream's tail (version 1-3).
    Stream(u8),
    /// Redis 7.4+: N (TTL, field, value); `true`: TTLs are relative to a
    /// minimum (type 24), else absolute (22).
    TtlTriples(bool),
    /// Redis 7.4+: a listpack of (field, value, TTL) (types 23 and 25).
    TtlListpack,
    /// Valkey 9: N (field, value, 8-byte expiry or -1).
    ValkeyTtl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blob {
    Ziplist(Shape),
    Listpack(Shape),
    Intset,
    Zipmap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Before the element count.
    Count,
    /// `left` units (or unit halves) to go.
    Body {
        left: u64,
        half: bool,
    },
    /// Streaming a plain top-level string: bytes left.
    Piece {
        left: u64,
    },
    /// A stream's metadata and groups, parsed once all there.
    Tail,
    Done,
}

/// A resumable decoder of one value. See the module documentation.
#[derive(Debug)]
pub struct Decoder {
    unit: Unit,
    st: St,
    buf: Vec<u8>,
    /// The first half of a pair.
    first: Vec<u8>,
    /// Container of the current quicklist-2 node.
    node: Option<u64>,
    /// The minimum expiry before a type 24/25 value (read first).
    min_expire: Option<i64>,
    /// The TTL of the current triple (type 22/24).
    ttl: Option<u64>,
}

impl Decoder {
    /// A decoder for a value of type `code` from a `flavor` file.
    pub fn new(code: u8, flavor: Flavor) -> Result<Decoder, DecodeError> {
        let s = shape(code, flavor)?;
        let unit = match (code, flavor) {
            (22, Flavor::Valkey) => Unit::ValkeyTtl,
            (22, Flavor::Redis) => Unit::TtlTriples(false),
            (24, Flavor::Redis) => Unit::TtlTriples(true),
            (23 | 25, Flavor::Redis) => Unit::TtlListpack,
            (code, _) => match code {
                0 => Unit::TopString,
                1 | 2 => Unit::Strings,
                3 => Unit::ZsetOld,
                5 => Unit::ZsetBin,
                4 => Unit::Pairs,
                9 => Unit::Blob(Blob::Zipmap),
                10 | 12 | 13 => Unit::Blob(Blob::Ziplist(s)),
                11 => Unit::Blob(Blob::Intset),
                14 => Unit::Blobs(Blob::Ziplist(s)),
                16 | 17 | 20 => Unit::Blob(Blob::Listpack(s)),
                18 => Unit::Nodes,
                15 => Unit::Stream(1),
                19 => Unit::Stream(2),
                21 => Unit::Stream(3),
                _ => return Err(DecodeError::Unsupported("an unknown type")),
            },
        };
        let min_expire = if matches!(code, 24 | 25) && flavor == Flavor::Redis {
            None
        } else {
            Some(0)
        };
        let st = match unit {
            Unit::TopString | Unit::Blob(_) | Unit::TtlListpack => St::Body {
                left: 1,
                half: false,
            },
            _ => St::Count,
        };
        Ok(Decoder {
            unit,
            st,
            buf: Vec::new(),
            first: Vec::new(),
            node: None,
            min_expire,
            ttl: None,
        })
    }

    /// Feeds the next bytes of the value; `out` sees each element.
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(Item)) -> Result<(), DecodeError> {
        let mut data = data;
        // A plain top-level string streams straight through.
        if let St::Piece { left } = self.st {
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
            if n > 0 {
                out(Item::Str(data[..n].to_vec()));
            }
            let left = left - n as u64;
            self.st = if left == 0 {
                St::Done
            } else {
                St::Piece { left }
            };
            data = &data[n..];
            if data.is_empty() {
                return Ok(());
            }
        }
        if self.st == St::Done {
            if data.is_empty() {
                return Ok(());
            }
            return Err(DecodeError::Corrupt(format!(
                "{} bytes after the end of the value",
                data.len()
            )));
        }
        self.buf.extend_from_slice(data);
        let mut at = 0;
        let r = self.run(&mut at, out);
        self.buf.drain(..at);
        r
    }

    /// Ends the value: an error if it was cut short.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.st {
            St::Done if self.buf.is_empty() => Ok(()),
            St::Done => Err(DecodeError::Corrupt(
                "bytes after the end of the value".into(),
            )),
            _ => Err(DecodeError::Corrupt("the value ends early".into())),
        }
    }

    fn run(&mut self, at: &mut usize, out: &mut dyn FnMut(Item)) -> Result<(), DecodeError> {
        loop {
            match self.st {
                St::Done => {
                    if *at < self.buf.len() {
                        return Err(DecodeError::Corrupt(
                            "bytes after the end of the value".into(),
                        ));
                    }
                    return Ok(());
                }
                St::Piece { left } => {
                    let avail = (self.buf.len() - *at) as u64;
                    let n = avail.min(left) as usize;
                    if n > 0 {
                        out(Item::Str(self.buf[*at..*at + n].to_vec()));
                    }
                    *at += n;
                    let left = left - n as u64;
                    self.st = if left == 0 {
                        St::Done
                    } else {
                        St::Piece { left }
                    };
                    if left > 0 {
                        return Ok(());
                    }
                }
                St::Tail => {
                    let Unit::Stream(v) = self.unit else {
                        return corrupt("a stream tail outside a stream");
                    };
                    let mut items = Vec::new();
                    let Some(used) = stream_tail(&self.buf[*at..], v, &mut items)? else {
                        return Ok(());
                    };
                    *at += used;
                    items.into_iter().for_each(&mut *out);
                    self.st = St::Done;
                }
                St::Count | St::Body { .. } if self.min_expire.is_none() => {
                    // Types 24 and 25 start with the minimum expiry.
                    let Some(s) = self.buf.get(*at..*at + 8) else {
                        return Ok(());
                    };
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    self.min_expire = Some(i64::from_le_bytes(a));
                    *at += 8;
                }
                St::Count => {
                    let Some((n, used)) = length(&self.buf[*at..])? else {
                        return Ok(());
                    };
                    *at += used;
                    self.st = if n == 0 && matches!(self.unit, Unit::Stream(_)) {
                        St::Tail
                    } else if n == 0 {
                        St::Done
                    } else {
                        St::Body {
                            left: n,
                            half: false,
                        }
                    };
                }
                St::Body { left, half } => {
                    if !self.unit_step(at, left, half, out)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// One unit; false when more bytes are needed.
    fn unit_step(
        &mut self,
        at: &mut usize,
        left: u64,
        half: bool,
        out: &mut dyn FnMut(Item),
    ) -> Result<bool, DecodeError> {
        let b = &self.buf[*at..];
        let stream = matches!(self.unit, Unit::Stream(_));
        let next = |left: u64| {
            if left <= 1 && stream {
                St::Tail
            } else if left <= 1 {
                St::Done
            } else {
                St::Body {
                    left: left - 1,
                    half: false,
                }
            }
        };
        match self.unit {
            Unit::TopString => {
                // A plain string streams; int and LZF strings are whole.
                if let Some((len, used)) = plain_head(b)? {
                    *at += used;
                    if len == 0 {
                        out(Item::Str(Vec::new()));
                        self.st = St::Done;
                    } else {
                        self.st = St::Piece { left: len };
                    }
                    return Ok(true);
                }
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                out(Item::Str(s));
                self.st = St::Done;
            }
            Unit::Strings => {
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                out(Item::Elem(s));
                self.st = next(left);
            }
            Unit::Pairs | Unit::ZsetOld | Unit::ZsetBin if !half => {
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                self.first = s;
                self.st = St::Body { left, half: true };
            }
            Unit::Pairs => {
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                out(Item::Field(core::mem::take(&mut self.first), s));
                self.st = next(left);
            }
            Unit::ZsetOld => {
                let Some(&n) = b.first() else {
                    return Ok(false);
                };
                let (score, used) = match n {
                    253 => (b"nan".to_vec(), 1),
                    254 => (b"inf".to_vec(), 1),
                    255 => (b"-inf".to_vec(), 1),
                    n => {
                        let Some(t) = b.get(1..1 + usize::from(n)) else {
                            return Ok(false);
                        };
                        (t.to_vec(), 1 + usize::from(n))
                    }
                };
                *at += used;
                out(Item::Scored(core::mem::take(&mut self.first), score));
                self.st = next(left);
            }
            Unit::ZsetBin => {
                let Some(s) = b.get(..8) else {
                    return Ok(false);
                };
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                *at += 8;
                let score = double_text(f64::from_le_bytes(a));
                out(Item::Scored(core::mem::take(&mut self.first), score));
                self.st = next(left);
            }
            Unit::Blob(kind) | Unit::Blobs(kind) => {
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                blob(kind, &s, out)?;
                self.st = next(left);
            }
            Unit::TtlTriples(relative) => {
                let Some(ttl) = self.ttl else {
                    let Some((t, used)) = length(b)? else {
                        return Ok(false);
                    };
                    *at += used;
                    self.ttl = Some(t);
                    return Ok(true);
                };
                let Some((f, a)) = string(b)? else {
                    return Ok(false);
                };
                let Some((v, c)) = string(&b[a..])? else {
                    return Ok(false);
                };
                *at += a + c;
                self.ttl = None;
                let min = self.min_expire.unwrap_or(0);
                match ttl {
                    0 => out(Item::Field(f, v)),
                    t if relative => {
                        out(Item::FieldExpiring(f, v, min.saturating_add(t as i64 - 1)))
                    }
                    t => out(Item::FieldExpiring(f, v, t as i64)),
                }
                self.st = next(left);
            }
            Unit::ValkeyTtl => {
                let Some((f, a)) = string(b)? else {
                    return Ok(false);
                };
                let Some((v, c)) = string(&b[a..])? else {
                    return Ok(false);
                };
                let Some(t) = b.get(a + c..a + c + 8) else {
                    return Ok(false);
                };
                let mut x = [0u8; 8];
                x.copy_from_slice(t);
                *at += a + c + 8;
                match i64::from_le_bytes(x) {
                    -1 => out(Item::Field(f, v)),
                    t => out(Item::FieldExpiring(f, v, t)),
                }
                self.st = next(left);
            }
            Unit::TtlListpack => {
                let Some((s, used)) = string(b)? else {
                    return Ok(false);
                };
                *at += used;
                let mut es: Vec<Entry<'_>> = Vec::new();
                listpack(&s, &mut |e| es.push(e))?;
                if !es.len().is_multiple_of(3) {
                    return corrupt("a hash listpack with TTLs whose entries are not triples");
                }
                let mut it = es.into_iter();
                while let (Some(f), Some(v), Some(t)) = (it.next(), it.next(), it.next()) {
                    let (f, v) = (f.into_vec(), v.into_vec());
                    match entry_int(&t)? {
                        0 => out(Item::Field(f, v)),
                        t => out(Item::FieldExpiring(f, v, t)),
                    }
                }
                self.st = St::Done;
            }
            Unit::Stream(_) => {
                // A node: its master ID (16 bytes, big-endian), its listpack.
                let Some((id, a)) = string(b)? else {
                    return Ok(false);
                };
                let Some((lp, c)) = string(&b[a..])? else {
                    return Ok(false);
                };
                *at += a + c;
                stream_node(&id, &lp, out)?;
                self.st = next(left);
            }
            Unit::Nodes => {
                let container = match self.node {
                    Some(c) => c,
                    None => {
                        let Some((c, used)) = length(b)? else {
                            return Ok(false);
                        };
                        *at += used;
                        self.node = Some(c);
                        return Ok(true);
                    }
                };
                let Some((s, used)) = string(&self.buf[*at..])? else {
                    return Ok(false);
                };
                *at += used;
                self.node = None;
                match container {
                    1 => out(Item::Elem(s)),
                    2 => blob(Blob::Listpack(Shape::List), &s, out)?,
                    c => {
                        return Err(DecodeError::Corrupt(format!(
                            "quicklist node container {c}"
                        )))
                    }
                }
                self.st = next(left);
            }
        }
        Ok(true)
    }
}

/// A score as text that parses back to the same double.
pub fn double_text(d: f64) -> Vec<u8> {
    if d.is_infinite() {
        return if d > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    format!("{d}").into_bytes()
}

fn corrupt<T>(what: &str) -> Result<T, DecodeError> {
    Err(DecodeError::Corrupt(what.to_string()))
}

/// An RDB length: `Ok(None)` when more bytes are needed.
pub fn length(b: &[u8]) -> Result<Option<(u64, usize)>, DecodeError> {
    let Some(&f) = b.first() else { return Ok(None) };
    Ok(match f >> 6 {
        0 => Some((u64::from(f & 0x3F), 1)),
        1 => b
            .get(1)
            .map(|&n| ((u64::from(f & 0x3F) << 8) | u64::from(n), 2)),
        2 if f == 0x80 => b
            .get(1..5)
            .map(|s| (u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])), 5)),
        2 if f == 0x81 => b.get(1..9).map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            (u64::from_be_bytes(a), 9)
        }),
        _ => return corrupt(&format!("a length, found the byte 0x{f:02x}")),
    })
}

/// The header of a plain (not integer, not LZF) string: its length and the
/// header's size; `None` for other encodings or when more bytes are needed.
fn plain_head(b: &[u8]) -> Result<Option<(u64, usize)>, DecodeError> {
    match b.first() {
        Some(f) if f >> 6 == 3 => Ok(None),
        _ => length(b),
    }
}

/// The bytes an RDB string takes (header included), without decoding it:
/// `None` when more bytes are needed.
pub fn string_size(b: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(&f) = b.first() else { return Ok(None) };
    if f >> 6 == 3 {
        return Ok(match f & 0x3F {
            0 => Some(2),
            1 => Some(3),
            2 => Some(5),
            3 => {
                let Some((clen, a)) = length(&b[1..])? else {
                    return Ok(None);
                };
                let Some((_, c)) = length(&b[1 + a..])? else {
                    return Ok(None);
                };
                usize::try_from(clen).ok().map(|n| 1 + a + c + n)
            }
            e => return corrupt(&format!("a string, found special encoding {e}")),
        });
    }
    let Some((n, used)) = length(b)? else {
        return Ok(None);
    };
    Ok(usize::try_from(n).ok().and_then(|n| n.checked_add(used)))
}

/// A whole RDB string, decoded (integers as decimal text, LZF expanded):
/// `None` when more bytes are needed.
pub fn string(b: &[u8]) -> Result<Option<(Vec<u8>, usize)>, DecodeError> {
    let Some(&f) = b.first() else { return Ok(None) };
    if f >> 6 == 3 {
        let int = |n: usize| -> Option<(Vec<u8>, usize)> {
            let s = b.get(1..1 + n)?;
            let v = match n {
                1 => i64::from(s[0] as i8),
                2 => i64::from(i16::from_le_bytes([s[0], s[1]])),
                _ => i64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])),
            };
            Some((v.to_string().into_bytes(), 1 + n))
        };
        return Ok(match f & 0x3F {
            0 => int(1),
            1 => int(2),
            2 => int(4),
            3 => {
                let Some((clen, a)) = length(&b[1..])? else {
                    return Ok(None);
                };
                let Some((ulen, c)) = length(&b[1 + a..])? else {
                    return Ok(None);
                };
                let (Ok(clen), Ok(ulen)) = (usize::try_from(clen), usize::try_from(ulen)) else {
                    return corrupt("an LZF string too long for this machine");
                };
                let start = 1 + a + c;
                let Some(end) = start.checked_add(clen) else {
                    return corrupt("an LZF string too long for this machine");
                };
                let Some(src) = b.get(start..end) else {
                    return Ok(None);
                };
                let mut outv = Vec::new();
                lzf::decompress_into(src, ulen, &mut outv)
                    .map_err(|e| DecodeError::Corrupt(format!("compressed string: {e}")))?;
                Some((outv, start + clen))
            }
            e => return corrupt(&format!("a string, found special encoding {e}")),
        });
    }
    let Some((n, used)) = length(b)? else {
        return Ok(None);
    };
    let Ok(n) = usize::try_from(n) else {
        return corrupt("a string too long for this machine");
    };
    let Some(end) = used.checked_add(n) else {
        return corrupt("a string too long for this machine");
    };
    Ok(b.get(used..end).map(|s| (s.to_vec(), end)))
}

/// A hash saved packed, whole in `value` (type 13, a ziplist, or 16, a
/// listpack, as the file holds them after the key): `f` sees each field
/// and its value, borrowed from the blob (an integer entry as decimal
/// text), nothing allocated per field. `scratch` holds the blob when it is
/// compressed. The number of pairs; an error when `value` is not exactly
/// one such blob (what [`Decoder`] gives as [`Item::Field`]s, faster).
pub fn packed_hash(
    code: u8,
    value: &[u8],
    scratch: &mut Vec<u8>,
    f: &mut dyn FnMut(&[u8], &[u8]),
) -> Result<u64, DecodeError> {
    let short = || DecodeError::Corrupt("the value ends early".into());
    let blob: &[u8] = match value.first() {
        Some(&0xC3) => {
            // LZF: compressed length, plain length, the bytes.
            let (clen, a) = length(&value[1..])?.ok_or_else(short)?;
            let (ulen, c) = length(&value[1 + a..])?.ok_or_else(short)?;
            let (Ok(clen), Ok(ulen)) = (usize::try_from(clen), usize::try_from(ulen)) else {
                return corrupt("an LZF string too long for this machine");
            };
            let start = 1 + a + c;
            let src = start
                .checked_add(clen)
                .and_then(|end| value.get(start..end))
                .ok_or_else(short)?;
            if start + clen != value.len() {
                return corrupt("bytes after the end of the value");
            }
            lzf::decompress_into(src, ulen, scratch)
                .map_err(|e| DecodeError::Corrupt(format!("compressed string: {e}")))?;
            scratch
        }
        _ => {
            let (n, used) = length(value)?.ok_or_else(short)?;
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| used.checked_add(n))
                .ok_or_else(short)?;
            match end.cmp(&value.len()) {
                core::cmp::Ordering::Greater => return Err(short()),
                core::cmp::Ordering::Less => return corrupt("bytes after the end of the value"),
                core::cmp::Ordering::Equal => &value[used..end],
            }
        }
    };
    let mut first: Option<Entry<'_>> = None;
    let mut pairs = 0u64;
    let (mut ta, mut tb) = ([0u8; 20], [0u8; 20]);
    let mut each = |e| match first.take() {
        None => first = Some(e),
        Some(a) => {
            f(a.text(&mut ta), e.text(&mut tb));
            pairs += 1;
        }
    };
    match code {
        13 => ziplist(blob, &mut each)?,
        16 => listpack(blob, &mut each)?,
        _ => return Err(DecodeError::Unsupported("a packed hash of another type")),
    }
    if first.is_some() {
        return corrupt("an odd number of entries in a packed hash or sorted set");
    }
    Ok(pairs)
}

/// One entry of a packed blob.
enum Entry<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl<'a> Entry<'a> {
    /// Its bytes; an integer as decimal text, written into `buf`.
    fn text<'b>(&self, buf: &'b mut [u8; 20]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Entry::Bytes(b) => b,
            Entry::Int(i) => {
                let mut n = i.unsigned_abs();
                let mut at = buf.len();
                loop {
                    at -= 1;
                    buf[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                if *i < 0 {
                    at -= 1;
                    buf[at] = b'-';
                }
                &buf[at..]
            }
        }
    }

    fn into_vec(self) -> Vec<u8> {
        match self {
            Entry::Bytes(b) => b.to_vec(),
            Entry::Int(i) => i.to_string().into_bytes(),
        }
    }
}

fn blob(kind: Blob, b: &[u8], out: &mut dyn FnMut(Item)) -> Result<(), DecodeError> {
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut push = |e: Entry<'_>| entries.push(e.into_vec());
    let shape = match kind {
        Blob::Ziplist(s) => {
            ziplist(b, &mut push)?;
            s
        }
        Blob::Listpack(s) => {
            listpack(b, &mut push)?;
            s
        }
        Blob::Intset => {
            intset(b, &mut push)?;
            Shape::Set
        }
        Blob::Zipmap => {
            zipmap(b, &mut push)?;
            Shape::Hash
        }
    };
    match shape {
        Shape::List | Shape::Set | Shape::String | Shape::Stream => {
            entries.into_iter().for_each(|e| out(Item::Elem(e)))
        }
        Shape::Hash | Shape::Zset => {
            if !entries.len().is_multiple_of(2) {
                return corrupt("an odd number of entries in a packed hash or sorted set");
            }
            let mut it = entries.into_iter();
            while let (Some(a), Some(b)) = (it.next(), it.next()) {
                out(if shape == Shape::Hash {
                    Item::Field(a, b)
                } else {
                    Item::Scored(a, b)
                });
            }
        }
    }
    Ok(())
}

fn be_id(b: &[u8]) -> Result<StreamId, DecodeError> {
    if b.len() != 16 {
        return corrupt("a 16-byte stream ID");
    }
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&b[..8]);
    seq.copy_from_slice(&b[8..]);
    Ok(StreamId {
        ms: u64::from_be_bytes(ms),
        seq: u64::from_be_bytes(seq),
    })
}

fn entry_int(e: &Entry<'_>) -> Result<i64, DecodeError> {
    match e {
        Entry::Int(i) => Ok(*i),
        Entry::Bytes(b) => core::str::from_utf8(b)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| DecodeError::Corrupt("a number in a stream listpack".into())),
    }
}

/// The entries of one stream node (see `t_stream.c`): a master entry
/// (count, deleted, field names, 0), then per entry its flags, ID deltas,
/// fields (or only values when they are the master's) and a back count.
fn stream_node(master: &[u8], lp: &[u8], out: &mut dyn FnMut(Item)) -> Result<(), DecodeError> {
    let base = be_id(master)?;
    let mut es: Vec<Entry<'_>> = Vec::new();
    listpack(lp, &mut |e| es.push(e))?;
    let mut it = es.into_iter();
    let next_int = |it: &mut std::vec::IntoIter<Entry<'_>>| -> Result<i64, DecodeError> {
        match it.next() {
            Some(e) => entry_int(&e),
            None => corrupt("a stream node that ends early"),
        }
    };
    let count = next_int(&mut it)?;
    let deleted = next_int(&mut it)?;
    let nf = usize::try_from(next_int(&mut it)?).unwrap_or(0);
    let mut master_fields = Vec::with_capacity(nf.min(1024));
    for _ in 0..nf {
        master_fields.push(it.next().map(Entry::into_vec).unwrap_or_default());
    }
    if next_int(&mut it)? != 0 {
        return corrupt("the end of a stream master entry");
    }
    let total = count.saturating_add(deleted).max(0);
    for _ in 0..total {
        let flags = next_int(&mut it)?;
        let ms = next_int(&mut it)?;
        let seq = next_int(&mut it)?;
        let id = StreamId {
            ms: base.ms.wrapping_add(ms as u64),
            seq: base.seq.wrapping_add(seq as u64),
        };
        let mut fields = Vec::new();
        if flags & 2 != 0 {
            for f in &master_fields {
                let v = it.next().map(Entry::into_vec).unwrap_or_default();
                fields.push((f.clone(), v));
            }
        } else {
            let n = next_int(&mut it)?;
            for _ in 0..n.max(0) {
                let f = it.next().map(Entry::into_vec).unwrap_or_default();
                let v = it.next().map(Entry::into_vec).unwrap_or_default();
                fields.push((f, v));
            }
        }
        next_int(&mut it)?; // lp-count
        if flags & 1 == 0 {
            out(Item::Entry(id, fields));
        }
    }
    Ok(())
}

/// A cursor over bytes that are all there (or not: `None`).
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cur<'_> {
    fn len(&mut self) -> Result<Option<u64>, DecodeError> {
        Ok(match length(&self.b[self.at..])? {
            Some((v, n)) => {
                self.at += n;
                Some(v)
            }
            None => None,
        })
    }
    fn string(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        Ok(match string(&self.b[self.at..])? {
            Some((v, n)) => {
                self.at += n;
                Some(v)
            }
            None => None,
        })
    }
    fn fixed(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }
    fn id(&mut self) -> Result<Option<StreamId>, DecodeError> {
        let Some(ms) = self.len()? else {
            return Ok(None);
        };
        let Some(seq) = self.len()? else {
            return Ok(None);
        };
        Ok(Some(StreamId { ms, seq }))
    }
    fn ms(&mut self) -> Option<i64> {
        let s = self.fixed(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Some(i64::from_le_bytes(a))
    }
}

macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

/// A stream's tail: metadata, then groups with their pending entries and
/// consumers. `None` until all of it is there.
fn stream_tail(b: &[u8], v: u8, items: &mut Vec<Item>) -> Result<Option<usize>, DecodeError> {
    let mut c = Cur { b, at: 0 };
    let length = need!(c.len()?);
    let last_id = need!(c.id()?);
    let (mut entries_added, mut max_deleted) = (None, None);
    if v >= 2 {
        let _first = need!(c.id()?);
        max_deleted = Some(need!(c.id()?));
        entries_added = Some(need!(c.len()?));
    }
    items.push(Item::StreamMeta {
        length,
        last_id,
        entries_added,
        max_deleted,
    });
    let groups = need!(c.len()?);
    for _ in 0..groups {
        let name = need!(c.string()?);
        let glast = need!(c.id()?);
        let entries_read = if v >= 2 { Some(need!(c.len()?)) } else { None };
        items.push(Item::Group {
            name: name.clone(),
            last_id: glast,
            entries_read,
        });
        let pel = need!(c.len()?);
        let mut deliveries = std::collections::BTreeMap::new();
        for _ in 0..pel {
            let id = be_id(need!(c.fixed(16)))?;
            let t = need!(c.ms());
            let n = need!(c.len()?);
            deliveries.insert(id, (t, n));
        }
        let consumers = need!(c.len()?);
        for _ in 0..consumers {
            let cname = need!(c.string()?);
            need!(c.fixed(if v >= 3 { 16 } else { 8 }));
            items.push(Item::Consumer {
                group: name.clone(),
                name: cname.clone(),
            });
            let owned = need!(c.len()?);
            for _ in 0..owned {
                let id = be_id(need!(c.fixed(16)))?;
                let (t, n) = deliveries.get(&id).copied().unwrap_or((0, 1));
                items.push(Item::Pending {
                    group: name.clone(),
                    consumer: cname.clone(),
                    id,
                    delivered_ms: t,
                    count: n,
                });
            }
        }
    }
    Ok(Some(c.at))
}

fn le(b: &[u8], at: usize, n: usize) -> Result<u64, DecodeError> {
    let s = b
        .get(at..at + n)
        .ok_or_else(|| DecodeError::Corrupt("a packed entry past the end".into()))?;
    Ok(s.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

fn sign(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn bytes_at(b: &[u8], at: usize, n: usize) -> Result<&[u8], DecodeError> {
    b.get(at..at + n)
        .ok_or_else(|| DecodeError::Corrupt("a packed string past the end".into()))
}

fn listpack<'a>(b: &'a [u8], f: &mut dyn FnMut(Entry<'a>)) -> Result<(), DecodeError> {
    let mut at = 6usize;
    loop {
        let Some(&e) = b.get(at) else {
            return corrupt("a listpack without its terminator");
        };
        if e == 0xFF {
            return Ok(());
        }
        let (entry, len) = if e & 0x80 == 0 {
            (Entry::Int(i64::from(e & 0x7F)), 1)
        } else if e & 0xC0 == 0x80 {
            let n = usize::from(e & 0x3F);
            (Entry::Bytes(bytes_at(b, at + 1, n)?), 1 + n)
        } else if e & 0xE0 == 0xC0 {
            let v = (u64::from(e & 0x1F) << 8) | le(b, at + 1, 1)?;
            (Entry::Int(sign(v, 13)), 2)
        } else if e & 0xF0 == 0xE0 {
            let n = ((usize::from(e & 0x0F)) << 8) | le(b, at + 1, 1)? as usize;
            (Entry::Bytes(bytes_at(b, at + 2, n)?), 2 + n)
        } else {
            match e {
                0xF0 => {
                    let n = le(b, at + 1, 4)? as usize;
                    (Entry::Bytes(bytes_at(b, at + 5, n)?), 5 + n)
                }
                0xF1 => (Entry::Int(sign(le(b, at + 1, 2)?, 16)), 3),
                0xF2 => (Entry::Int(sign(le(b, at + 1, 3)?, 24)), 4),
                0xF3 => (Entry::Int(sign(le(b, at + 1, 4)?, 32)), 5),
                0xF4 => (Entry::Int(le(b, at + 1, 8)? as i64), 9),
                _ => return corrupt(&format!("a listpack entry encoding 0x{e:02x}")),
            }
        };
        let back = match len {
            0..=127 => 1,
            128..=16383 => 2,
            16384..=2097151 => 3,
            2097152..=268435455 => 4,
            _ => 5,
        };
        f(entry);
        at += len + back;
    }
}

fn ziplist<'a>(b: &'a [u8], f: &mut dyn FnMut(Entry<'a>)) -> Result<(), DecodeError> {
    let mut at = 10usize;
    loop {
        let Some(&first) = b.get(at) else {
            return corrupt("a ziplist without its terminator");
        };
        if first == 0xFF {
            return Ok(());
        }
        let pl = if first < 254 { 1 } else { 5 };
        let e_at = at + pl;
        let e = le(b, e_at, 1)? as u8;
        let (entry, len) = match e >> 6 {
            0 => {
                let n = usize::from(e & 0x3F);
                (Entry::Bytes(bytes_at(b, e_at + 1, n)?), 1 + n)
            }
            1 => {
                let n = (usize::from(e & 0x3F) << 8) | le(b, e_at + 1, 1)? as usize;
                (Entry::Bytes(bytes_at(b, e_at + 2, n)?), 2 + n)
            }
            2 => {
                let s = bytes_at(b, e_at + 1, 4)?;
                let n = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
                (Entry::Bytes(bytes_at(b, e_at + 5, n)?), 5 + n)
            }
            _ => match e {
                0xC0 => (Entry::Int(sign(le(b, e_at + 1, 2)?, 16)), 3),
                0xD0 => (Entry::Int(sign(le(b, e_at + 1, 4)?, 32)), 5),
                0xE0 => (Entry::Int(le(b, e_at + 1, 8)? as i64), 9),
                0xF0 => (Entry::Int(sign(le(b, e_at + 1, 3)?, 24)), 4),
                0xFE => (Entry::Int(sign(le(b, e_at + 1, 1)?, 8)), 2),
                0xF1..=0xFD => (Entry::Int(i64::from(e & 0x0F) - 1), 1),
                _ => return corrupt(&format!("a ziplist entry encoding 0x{e:02x}")),
            },
        };
        f(entry);
        at = e_at + len;
    }
}

fn intset<'a>(b: &'a [u8], f: &mut dyn FnMut(Entry<'a>)) -> Result<(), DecodeError> {
    let enc = le(b, 0, 4)? as usize;
    let n = le(b, 4, 4)? as usize;
    if !matches!(enc, 2 | 4 | 8) {
        return corrupt("an intset encoding");
    }
    for i in 0..n {
        let v = le(b, 8 + i * enc, enc)?;
        f(Entry::Int(sign(v, (enc * 8) as u32)));
    }
    Ok(())
}

fn zipmap<'a>(b: &'a [u8], f: &mut dyn FnMut(Entry<'a>)) -> Result<(), DecodeError> {
    let mut at = 1usize;
    let len = |at: usize| -> Result<(usize, usize), DecodeError> {
        let first = le(b, at, 1)? as usize;
        match first {
            0..=253 => Ok((first, 1)),
            254 => Ok((le(b, at + 1, 4)? as usize, 5)),
            _ => corrupt("a zipmap length"),
        }
    };
    loop {
        if le(b, at, 1)? == 0xFF {
            return Ok(());
        }
        let (kl, kh) = len(at)?;
        f(Entry::Bytes(bytes_at(b, at + kh, kl)?));
        let v_at = at + kh + kl;
        let (vl, vh) = len(v_at)?;
        let free = le(b, v_at + vh, 1)? as usize;
        f(Entry::Bytes(bytes_at(b, v_at + vh + 1, vl)?));
        at = v_at + vh + 1 + vl + free;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(code: u8, value: &[u8], chunk: usize) -> Result<Vec<Item>, DecodeError> {
        let mut d = Decoder::new(code, Flavor::Redis)?;
        let mut got = Vec::new();
        for c in value.chunks(chunk.max(1)) {
            d.feed(c, &mut |i| got.push(i))?;
        }
        d.finish()?;
        Ok(got)
    }

    #[test]
    fn strings_stream_in_pieces_and_ints_decode() {
        let mut v = vec![5u8];
        v.extend_from_slice(b"hello");
        let got = all(0, &v, 2).unwrap();
        let joined: Vec<u8> = got
            .iter()
            .flat_map(|i| match i {
                Item::Str(s) => s.clone(),
                _ => vec![],
            })
            .collect();
        assert_eq!(joined, b"hello");
        assert_eq!(
            all(0, &[0xC1, 0x39, 0x30], 1).unwrap(),
            vec![Item::Str(b"12345".to_vec())]
        );
        assert_eq!(
            all(0, &[0xC0, 0xFF], 1).unwrap(),
            vec![Item::Str(b"-1".to_vec())]
        );
    }

    #[test]
    fn zset_scores_round_trip() {
        let mut v = vec![1u8, 1, b'm'];
        v.extend_from_slice(&1.5f64.to_le_bytes());
        assert_eq!(
            all(5, &v, 3).unwrap(),
            vec![Item::Scored(b"m".to_vec(), b"1.5".to_vec())]
        );
        assert_eq!(double_text(f64::NEG_INFINITY), b"-inf");
        assert_eq!(double_text(0.1), b"0.1");
    }

    #[test]
    fn listpack_entries_of_every_encoding() {
        let mut body = vec![5u8]; // 7-bit uint 5
        body.push(1);
        body.extend_from_slice(&[0x82, b'h', b'i', 3]); // "hi"
        body.extend_from_slice(&[0xDF, 0xFF, 2]); // 13-bit -1
        body.extend_from_slice(&[0xF1, 0x00, 0x80, 3]); // int16 -32768
        let mut b = ((6 + body.len() + 1) as u32).to_le_bytes().to_vec();
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&body);
        b.push(0xFF);
        let mut got = Vec::new();
        listpack(&b, &mut |e| got.push(e.into_vec())).unwrap();
        assert_eq!(
            got,
            vec![
                b"5".to_vec(),
                b"hi".to_vec(),
                b"-1".to_vec(),
                b"-32768".to_vec()
            ]
        );
    }

    /// A packed hash read by `packed_hash` (borrowed, integers as text)
    /// gives what the decoder gives, and refuses what the decoder refuses.
    #[test]
    fn packed_hash_gives_what_the_decoder_gives() {
        let mut body = Vec::new();
        let mut n = 0u16;
        let mut entry = |body: &mut Vec<u8>, e: &[u8]| {
            body.extend_from_slice(e);
            n += 1;
        };
        entry(&mut body, &[0x82, b'h', b'i', 3]); // "hi"
        entry(&mut body, &[5, 1]); // 5
        entry(&mut body, &[0xF4, 0, 0, 0, 0, 0, 0, 0, 0x80, 9]); // i64::MIN
        entry(
            &mut body,
            &[0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 9],
        ); // i64::MAX
        entry(&mut body, &[0xDF, 0xFF, 2]); // -1
        entry(&mut body, &[0x80, 1]); // ""
        let mut blob = ((6 + body.len() + 1) as u32).to_le_bytes().to_vec();
        blob.extend_from_slice(&n.to_le_bytes());
        blob.extend_from_slice(&body);
        blob.push(0xFF);
        let mut value = vec![blob.len() as u8];
        value.extend_from_slice(&blob);
        let mut want = Vec::new();
        let mut d = Decoder::new(16, Flavor::Redis).unwrap();
        d.feed(&value, &mut |i| want.push(i)).unwrap();
        d.finish().unwrap();
        let mut got = Vec::new();
        let mut scratch = Vec::new();
        let pairs = packed_hash(16, &value, &mut scratch, &mut |f, v| {
            got.push(Item::Field(f.to_vec(), v.to_vec()))
        })
        .unwrap();
        assert_eq!(pairs, 3);
        assert_eq!(got, want);
        assert_eq!(
            got[1],
            Item::Field(
                b"-9223372036854775808".to_vec(),
                b"9223372036854775807".to_vec()
            )
        );
        // Cut short, a byte too many, an odd count: errors.
        let f = &mut |_: &[u8], _: &[u8]| {};
        assert!(packed_hash(16, &value[..value.len() - 1], &mut scratch, f).is_err());
        let mut more = value.clone();
        more.push(0);
        assert!(packed_hash(16, &more, &mut scratch, f).is_err());
        let mut odd = blob.clone();
        odd.truncate(odd.len() - 3); // drop "" (2 bytes) and the end
        odd.push(0xFF);
        let mut v = vec![odd.len() as u8];
        v.extend_from_slice(&odd);
        assert!(packed_hash(16, &v, &mut scratch, f).is_err());
    }

    /// Arbitrary bytes as every type, in chunks: errors, never a panic,
    /// and nothing allocated for lengths the input does not hold.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (next() % 300) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let chunk = 1 + (next() % 40) as usize;
            for code in 0..=25u8 {
                for flavor in [Flavor::Redis, Flavor::Valkey] {
                    if let Ok(mut d) = Decoder::new(code, flavor) {
                        let mut n = 0usize;
                        for c in bytes.chunks(chunk) {
                            if d.feed(c, &mut |_| n += 1).is_err() {
                                break;
                            }
                        }
                        let _ = d.finish();
                    }
                }
            }
        }
    }

    #[test]
    fn truncated_and_trailing_values_are_errors() {
        assert!(all(1, &[2, 1, b'a'], 1).is_err());
        assert!(all(1, &[1, 1, b'a', 9], 1).is_err());
        assert_eq!(
            Decoder::new(6, Flavor::Redis).unwrap_err(),
            DecodeError::Unsupported("a module value")
        );
    }
}
