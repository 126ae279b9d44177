//! A streaming RDB reader: fed chunks of any size, it reports what the file
//! holds (aux fields, databases, keys with type, encoding, expiry and size,
//! functions, module data) and checks every byte: the structure, the packed
//! encodings inside strings, LZF strings, and the CRC-64 at the end.
//!
//! It never holds the whole file: plain strings are skipped as they stream
//! by, and a string whose content it must look at (a key, a listpack, an LZF
//! string) is buffered only up to [`Options::max_buffered`] bytes; larger
//! ones are skipped and counted as [`Summary::unchecked`] (the CRC still
//! covers them). Nothing is allocated for a length the input has not
//! delivered, so memory is bounded by the input's size.
//!
//! ```
//! use kubectl_redis_core::rdb::reader::{Reader, Options, Event};
//! let file = include_bytes!("../../tests/fixtures/empty-7.0.rdb");
//! let mut r = Reader::new(Options::default());
//! let mut keys = 0;
//! for chunk in file.chunks(7) {
//!     r.feed(chunk, &mut |e| if let Event::Key(_) = e { keys += 1 }).unwrap();
//! }
//! let summary = r.finish().unwrap();
//! assert_eq!(keys, 0);
//! assert!(summary.checksum.is_verified());
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::rdb::crc64;
use crate::rdb::lzf;
use crate::rdb::packed::{self, Pack};
use crate::rdb::{escape, parse_header, Flavor, Header, HeaderError, HEADER_LEN};

/// The newest Redis RDB version this reader knows (Redis 8.6).
pub const MAX_REDIS_VERSION: u32 = 13;
/// The newest Valkey RDB version this reader knows (Valkey 9.2).
pub const MAX_VALKEY_VERSION: u32 = 81;

/// Reader settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The largest string whose content is buffered to be checked (keys,
    /// packed encodings, LZF strings). Larger ones are skipped.
    pub max_buffered: usize,
    /// Decompress LZF string values to check them (packed encodings are
    /// always decompressed and checked).
    pub check_values: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_buffered: 8 << 20,
            check_values: true,
        }
    }
}

/// The CRC-64 at the end of the file. In JSON: `{"status": "verified",
/// "crc64": "<16 hex digits>"}`, `{"status": "disabled"}` or
/// `{"status": "absent"}` (a hex string: JSON numbers lose 64-bit values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Stored and equal to the computed value.
    Verified { crc: u64 },
    /// Stored as 0: the server had `rdbchecksum no`.
    Disabled,
    /// RDB versions before 5 have none.
    Absent,
}

impl Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self {
            Checksum::Verified { crc } => {
                m.serialize_entry("status", "verified")?;
                m.serialize_entry("crc64", &format!("{crc:016x}"))?;
            }
            Checksum::Disabled => m.serialize_entry("status", "disabled")?,
            Checksum::Absent => m.serialize_entry("status", "absent")?,
        }
        m.end()
    }
}

impl Checksum {
    /// Whether the file carried a checksum and it matched.
    pub fn is_verified(&self) -> bool {
        matches!(self, Checksum::Verified { .. })
    }
}

/// A value's type and encoding as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Kind {
    /// The RDB type byte.
    pub code: u8,
    /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
    pub ty: &'static str,
    /// The encoding, as `OBJECT ENCODING` would name it after loading (for
    /// strings: `int`, `embstr` or `raw`), or the file's own for old types.
    pub encoding: &'static str,
}

/// One key and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    /// Database number.
    pub db: u64,
    /// The key's bytes (empty with `truncated` for keys over the buffer limit).
    pub name: &'a [u8],
    /// The key was longer than [`Options::max_buffered`] and is not shown.
    pub truncated: bool,
    /// Type and encoding.
    pub kind: Kind,
    /// Absolute expiry, Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds, when the server saved them.
    pub idle: Option<u64>,
    /// LFU frequency, when the server saved it.
    pub freq: Option<u8>,
    /// Bytes the key and value take in the file, from the type byte on.
    pub bytes: u64,
    /// Elements: 1 for a string, members/fields/entries for collections.
    pub elements: u64,
    /// Offset of the type byte in the file.
    pub offset: u64,
    /// The value is LZF-compressed (strings only).
    pub compressed: bool,
}

/// A key whose value is still being read ([`Reader::pending_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingKey<'a> {
    /// Database number.
    pub db: u64,
    /// The key's bytes.
    pub name: &'a [u8],
    /// Absolute expiry, Unix milliseconds.
    pub expire_ms: Option<i64>,
}

/// What the reader found, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The magic and version.
    Header(Header),
    /// An aux field (`redis-ver`, `ctime`, `used-mem`, ...).
    Aux { key: &'a [u8], value: &'a [u8] },
    /// `SELECTDB`.
    Db(u64),
    /// `RESIZEDB`: the key and expiry counts the server announced.
    Resize { db: u64, keys: u64, expires: u64 },
    /// A key.
    Key(Key<'a>),
    /// A function library (its code's size in bytes), whose record (the
    /// 0xF5 opcode) starts at `offset`.
    Function { bytes: u64, offset: u64 },
    /// Module aux data, with the module type's 9-character name.
    ModuleAux { module: [u8; 9] },
    /// Cluster slot sizes (Redis 7.4+).
    SlotInfo { slot: u64, keys: u64, expires: u64 },
}

/// Keys in one database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DbCount {
    /// Keys found.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

/// The whole file, once it checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Magic and version.
    pub header: Header,
    /// The CRC-64.
    pub checksum: Checksum,
    /// Bytes read, trailer included.
    pub bytes: u64,
    /// Keys per database.
    pub dbs: BTreeMap<u64, DbCount>,
    /// Function libraries.
    pub functions: u64,
    /// Module aux records.
    pub module_aux: u64,
    /// Strings over the buffer limit, covered by the CRC only.
    pub unchecked: u64,
    /// The `valkey-ver` or `redis-ver` aux field.
    pub server_version: Option<String>,
}

impl Summary {
    /// Keys in all databases.
    pub fn keys(&self) -> u64 {
        self.dbs.values().map(|d| d.keys).sum()
    }
}

/// What is wrong, and at which byte of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Offset in the file.
    pub offset: u64,
    /// What was wrong.
    pub kind: ErrorKind,
}

/// The kinds of [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not an RDB header.
    Header(HeaderError),
    /// A version this reader does not know.
    TooNew {
        flavor: Flavor,
        version: u32,
        max: u32,
    },
    /// Version 0.
    BadVersion(u32),
    /// The input ended early; says what was being read.
    Truncated(String),
    /// A byte that is neither an opcode nor a type here.
    BadOpcode(u8),
    /// A format this reader knows of but cannot read, and why.
    Unsupported(String),
    /// A length byte with an unknown encoding.
    BadLength(u8),
    /// A string special encoding other than int8/16/32 and LZF.
    BadStringEncoding(u8),
    /// A corrupt LZF string.
    Lzf(lzf::LzfError),
    /// A corrupt packed encoding inside a string.
    Packed { pack: Pack, at: usize, what: String },
    /// Something else that does not match the format.
    Corrupt(String),
    /// The stored CRC differs from the computed one.
    Checksum { stored: u64, computed: u64 },
    /// Bytes after the end.
    Trailing(u64),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let at = self.offset;
        match &self.kind {
            ErrorKind::Header(h) => write!(f, "{h}"),
            ErrorKind::TooNew { flavor, version, max } => {
                let n = match flavor {
                    Flavor::Redis => "Redis",
                    Flavor::Valkey => "Valkey",
                };
                write!(
                    f,
                    "this file is {n} RDB version {version}, newer than supported (up to {max}); upgrade kubectl-redis"
                )
            }
            ErrorKind::BadVersion(v) => write!(f, "RDB version {v} does not exist"),
            ErrorKind::Truncated(what) => {
                write!(f, "the file ends at byte {at} while reading {what}: it is truncated")
            }
            ErrorKind::BadOpcode(b) => write!(
                f,
                "at byte {at}: expected an opcode or a value type, found 0x{b:02x}"
            ),
            ErrorKind::Unsupported(what) => write!(f, "at byte {at}: {what} is not supported"),
            ErrorKind::BadLength(b) => {
                write!(f, "at byte {at}: expected a length, found the byte 0x{b:02x}")
            }
            ErrorKind::BadStringEncoding(e) => {
                write!(f, "at byte {at}: expected a string, found special encoding {e}")
            }
            ErrorKind::Lzf(e) => write!(f, "at byte {at}: corrupt compressed string: {e}"),
            ErrorKind::Packed { pack, at: inner, what } => write!(
                f,
                "at byte {at}: corrupt {}: at offset {inner} inside it, expected {what}",
                pack.name()
            ),
            ErrorKind::Corrupt(what) => write!(f, "at byte {at}: {what}"),
            ErrorKind::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch: the file says {stored:016x}, its bytes give {computed:016x}: the file is corrupt"
            ),
            ErrorKind::Trailing(n) => {
                write!(f, "{n} unexpected bytes after the end of the RDB data at byte {at}")
            }
        }
    }
}

// ------------------------------------------------------------------ programs

/// How a string's content is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Skipped (checked if LZF and `check_values`).
    Skip,
    /// A collection member: counts as one element.
    Elem,
    /// A packed blob; its entries divided by the second field count as elements (0: none).
    Pack(Pack, u8),
    /// A 16-byte stream ID.
    StreamId,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Str(Use),
    /// A length; `true`: it is the element count.
    Len(bool),
    Fixed(u8),
    OldDouble,
    /// A length N, then the body N times; `true`: N counts as elements.
    Repeat(bool, &'static [Op]),
    /// The body once (a named part of a program).
    Group(&'static [Op]),
    Module,
    /// Quicklist 2 node: container (1 plain, 2 packed) then the string.
    QlNode,
}

use Op::*;

const P_STRING: &[Op] = &[Str(Use::Skip)];
const P_LIST: &[Op] = &[Repeat(false, &[Str(Use::Elem)])];
const P_ZSET: &[Op] = &[Repeat(true, &[Str(Use::Skip), OldDouble])];
const P_ZSET2: &[Op] = &[Repeat(true, &[Str(Use::Skip), Fixed(8)])];
const P_HASH: &[Op] = &[Repeat(true, &[Str(Use::Skip), Str(Use::Skip)])];
const P_MODULE: &[Op] = &[Len(false), Module];
const P_ZIPMAP: &[Op] = &[Str(Use::Pack(Pack::Zipmap, 2))];
const P_ZIPLIST1: &[Op] = &[Str(Use::Pack(Pack::Ziplist, 1))];
const P_ZIPLIST2: &[Op] = &[Str(Use::Pack(Pack::Ziplist, 2))];
const P_INTSET: &[Op] = &[Str(Use::Pack(Pack::Intset, 1))];
const P_QUICKLIST: &[Op] = &[Repeat(false, &[Str(Use::Pack(Pack::Ziplist, 1))])];
const P_QUICKLIST2: &[Op] = &[Repeat(false, &[QlNode])];
const P_LISTPACK1: &[Op] = &[Str(Use::Pack(Pack::Listpack, 1))];
const P_LISTPACK2: &[Op] = &[Str(Use::Pack(Pack::Listpack, 2))];
const P_LISTPACK_EX: &[Op] = &[Fixed(8), Str(Use::Pack(Pack::Listpack, 3))];
const P_LISTPACK_EX_PRE: &[Op] = &[Str(Use::Pack(Pack::Listpack, 3))];
const P_HASH_META: &[Op] = &[
    Fixed(8),
    Repeat(true, &[Len(false), Str(Use::Skip), Str(Use::Skip)]),
];
const P_HASH_META_PRE: &[Op] = &[Repeat(true, &[Len(false), Str(Use::Skip), Str(Use::Skip)])];
const P_VALKEY_HASH2: &[Op] = &[Repeat(true, &[Str(Use::Skip), Str(Use::Skip), Fixed(8)])];
const STREAM_NODES: Op = Repeat(
    false,
    &[Str(Use::StreamId), Str(Use::Pack(Pack::Listpack, 0))],
);
const PEL: Op = Repeat(false, &[Fixed(16), Fixed(8), Len(false)]);
const CONSUMER_PEL: Op = Repeat(false, &[Fixed(16)]);
/// Length, last ID; from version 2 also first ID, max deleted ID, entries added.
const STREAM_META1: Op = Group(&[Len(true), Len(false), Len(false)]);
const STREAM_META2: Op = Group(&[
    Len(true),
    Len(false),
    Len(false),
    Len(false),
    Len(false),
    Len(false),
    Len(false),
    Len(false),
]);
/// A consumer group's name, last ID (and from version 2 its read counter), PEL.
const GROUP1: Op = Group(&[Str(Use::Skip), Len(false), Len(false), PEL]);
const GROUP2: Op = Group(&[Str(Use::Skip), Len(false), Len(false), Len(false), PEL]);
/// Consumers: name, seen time (and from version 3 active time), PEL.
const P_STREAM1: &[Op] = &[
    STREAM_NODES,
    STREAM_META1,
    Repeat(
        false,
        &[
            GROUP1,
            Repeat(false, &[Str(Use::Skip), Fixed(8), CONSUMER_PEL]),
        ],
    ),
];
const P_STREAM2: &[Op] = &[
    STREAM_NODES,
    STREAM_META2,
    Repeat(
        false,
        &[
            GROUP2,
            Repeat(false, &[Str(Use::Skip), Fixed(8), CONSUMER_PEL]),
        ],
    ),
];
const P_STREAM3: &[Op] = &[
    STREAM_NODES,
    STREAM_META2,
    Repeat(
        false,
        &[
            GROUP2,
            Repeat(false, &[Str(Use::Skip), Fixed(16), CONSUMER_PEL]),
        ],
    ),
];
const QL_PLAIN: &[Op] = &[Str(Use::Elem)];
const QL_PACKED: &[Op] = &[Str(Use::Pack(Pack::Listpack, 1))];

/// The program, type name and encoding for a type byte.
fn value_type(code: u8, flavor: Flavor) -> Result<(&'static [Op], Kind), String> {
    let k = |ty, encoding| Kind { code, ty, encoding };
    Ok(match (code, flavor) {
        (0, _) => (P_STRING, k("string", "raw")),
        (1, _) => (P_LIST, k("list", "linkedlist")),
        (2, _) => (P_LIST, k("set", "hashtable")),
        (3, _) => (P_ZSET, k("zset", "skiplist")),
        (4, _) => (P_HASH, k("hash", "hashtable")),
        (5, _) => (P_ZSET2, k("zset", "skiplist")),
        (6, _) => return Err("a pre-release (Redis 4.0 RC) module value".into()),
        (7, _) => (P_MODULE, k("module", "module")),
        (9, _) => (P_ZIPMAP, k("hash", "zipmap")),
        (10, _) => (P_ZIPLIST1, k("list", "ziplist")),
        (11, _) => (P_INTSET, k("set", "intset")),
        (12, _) => (P_ZIPLIST2, k("zset", "ziplist")),
        (13, _) => (P_ZIPLIST2, k("hash", "ziplist")),
        (14, _) => (P_QUICKLIST, k("list", "quicklist")),
        (15, _) => (P_STREAM1, k("stream", "stream")),
        (16, _) => (P_LISTPACK2, k("hash", "listpack")),
        (17, _) => (P_LISTPACK2, k("zset", "listpack")),
        (18, _) => (P_QUICKLIST2, k("list", "quicklist")),
        (19, _) => (P_STREAM2, k("stream", "stream")),
        (20, _) => (P_LISTPACK1, k("set", "listpack")),
        (21, _) => (P_STREAM3, k("stream", "stream")),
        (22, Flavor::Valkey) => (P_VALKEY_HASH2, k("hash", "hashtable")),
        (23, Flavor::Valkey) => {
            return Err("Valkey 9.2's path hash (type 23)".into());
        }
        (22, Flavor::Redis) => (P_HASH_META_PRE, k("hash", "hashtable")),
        (23, Flavor::Redis) => (P_LISTPACK_EX_PRE, k("hash", "listpackex")),
        (24, Flavor::Redis) => (P_HASH_META, k("hash", "hashtable")),
        (25, Flavor::Redis) => (P_LISTPACK_EX, k("hash", "listpackex")),
        (26, Flavor::Redis) => {
            return Err("Redis 8.6's stream format (type 26)".into());
        }
        _ => return Err(String::new()),
    })
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    prog: &'static [Op],
    pc: usize,
    left: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Op,
    /// Reading the key name after the type byte.
    KeyName,
    Value,
    /// Skipping the rest of a string, then back to `then`.
    Skip {
        left: u64,
        then: Then,
    },
    Trailer,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Value,
    Op,
}

/// Not enough bytes yet, or a real error.
enum Stop {
    More,
    Err(ErrorKind),
}

impl From<ErrorKind> for Stop {
    fn from(e: ErrorKind) -> Self {
        Stop::Err(e)
    }
}

type R<T> = Result<T, Stop>;

/// A string's header.
enum StrHead {
    Int(usize, i64),
    Plain(usize, u64),
    Lzf { head: usize, clen: u64, len: u64 },
}

/// The streaming reader. See the module documentation.
#[derive(Debug)]
pub struct Reader {
    opts: Options,
    buf: Vec<u8>,
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    crc: crc64::Crc64,
    crc_upto: usize,
    crc_done: bool,
    /// File offset the buffer must reach before parsing is retried.
    need: u64,
    state: State,
    header: Option<Header>,
    stack: Vec<Frame>,
    db: u64,
    dbs: BTreeMap<u64, DbCount>,
    functions: u64,
    module_aux: u64,
    unchecked: u64,
    stored_crc: Option<u64>,
    server_version: Option<String>,
    // The key being read.
    key: Vec<u8>,
    key_truncated: bool,
    kind: Option<Kind>,
    key_offset: u64,
    /// File offset of the opcode being read.
    op_offset: u64,
    elements: u64,
    expire: Option<i64>,
    idle: Option<u64>,
    freq: Option<u8>,
    compressed: bool,
    scratch: Vec<u8>,
    failed: Option<Error>,
}

impl Reader {
    /// A reader at the start of a file.
    pub fn new(opts: Options) -> Self {
        Reader {
            opts,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            crc: crc64::Crc64::new(),
            crc_upto: 0,
            crc_done: false,
            need: 0,
            state: State::Header,
            header: None,
            stack: Vec::new(),
            db: 0,
            dbs: BTreeMap::new(),
            functions: 0,
            module_aux: 0,
            unchecked: 0,
            stored_crc: None,
            server_version: None,
            key: Vec::new(),
            key_truncated: false,
            kind: None,
            key_offset: 0,
            op_offset: 0,
            elements: 0,
            expire: None,
            idle: None,
            freq: None,
            compressed: false,
            scratch: Vec::new(),
            failed: None,
        }
    }

    /// The header, once read.
    pub fn header(&self) -> Option<Header> {
        self.header
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// File offset where the record being read began: the type byte of a
    /// key, or the opcode of anything else. The bytes from there on are all
    /// a caller needs to keep to see the record whole when its event comes.
    pub fn record_start(&self) -> u64 {
        match self.state {
            State::KeyName
            | State::Value
            | State::Skip {
                then: Then::Value, ..
            } if self.kind.is_some() => self.key_offset,
            State::Skip { then: Then::Op, .. } => self.op_offset,
            _ => self.offset(),
        }
    }

    /// The key being read, once its name is in (its value is still arriving).
    pub fn pending_key(&self) -> Option<PendingKey<'_>> {
        match self.state {
            State::Value
            | State::Skip {
                then: Then::Value, ..
            } if self.kind.is_some() && !self.key_truncated => Some(PendingKey {
                db: self.db,
                name: &self.key,
                expire_ms: self.expire,
            }),
            _ => None,
        }
    }

    /// Whether the end of the RDB data (and its checksum) has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds the next bytes; `sink` sees each event as soon as it is whole.
    /// Bytes after the end of the RDB data are an error.
    /// After an error every later call returns the same error.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
        let n = self.feed_partial(chunk, sink)?;
        if n < chunk.len() {
            let e = Error {
                offset: self.offset(),
                kind: ErrorKind::Trailing((chunk.len() - n) as u64),
            };
            self.failed = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    /// Like [`Reader::feed`], but stops at the end of the RDB data and
    /// returns how many bytes of `chunk` belonged to it (for a stream that
    /// carries more after the file, like a replication link).
    pub fn feed_partial(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<usize, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.state == State::Done {
            return Ok(0);
        }
        let total = chunk.len();
        // Skipping a long string: consume straight from the chunk.
        let mut chunk = chunk;
        if let State::Skip { left, then } = self.state {
            if self.pos == self.buf.len() {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
                self.crc_flush();
                self.crc.update(&chunk[..n]);
                self.base += n as u64;
                chunk = &chunk[n..];
                let left = left - n as u64;
                self.state = if left == 0 {
                    self.resume(then)
                } else {
                    State::Skip { left, then }
                };
                if chunk.is_empty() {
                    return Ok(total);
                }
            }
        }
        self.buf.extend_from_slice(chunk);
        if self.base + (self.buf.len() as u64) < self.need {
            return Ok(total);
        }
        self.need = 0;
        let r = self.run(sink);
        // Bytes past the end are not the file's: give them back.
        let extra = if self.state == State::Done {
            let extra = self.buf.len() - self.pos;
            self.buf.truncate(self.pos);
            extra
        } else {
            0
        };
        self.compact();
        match r {
            Ok(()) => Ok(total - extra.min(total)),
            Err(kind) => Err(self.fail(kind)),
        }
    }

    /// Ends the input: the summary if the file was whole, else why not.
    pub fn finish(&mut self) -> Result<Summary, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.state == State::Header {
            let e = parse_header(&self.buf[self.pos..])
                .err()
                .unwrap_or(HeaderError::Empty);
            return Err(self.fail(ErrorKind::Header(e)));
        }
        if self.state != State::Done {
            let what = self.context();
            return Err(self.fail(ErrorKind::Truncated(what)));
        }
        let Some(header) = self.header else {
            return Err(self.fail(ErrorKind::Truncated("the header".into())));
        };
        let checksum = match self.stored_crc {
            None => Checksum::Absent,
            Some(0) => Checksum::Disabled,
            Some(c) => Checksum::Verified { crc: c },
        };
        Ok(Summary {
            header,
            checksum,
            bytes: self.offset(),
            dbs: self.dbs.clone(),
            functions: self.functions,
            module_aux: self.module_aux,
            unchecked: self.unchecked,
            server_version: self.server_version.clone(),
        })
    }

    fn fail(&mut self, kind: ErrorKind) -> Error {
        let e = Error {
            offset: self.offset(),
            kind,
        };
        self.failed = Some(e.clone());
        e
    }

    fn context(&self) -> String {
        let key = || {
            let name = if self.key_truncated {
                "(a long key)".to_string()
            } else {
                format!("\"{}\"", escape(&self.key[..self.key.len().min(64)]))
            };
            match self.kind {
                Some(k) => format!("the value of key {name} ({}, {})", k.ty, k.encoding),
                None => format!("key {name}"),
            }
        };
        match self.state {
            State::Header => "the header".into(),
            State::Op => "the next opcode (the file has no end marker)".into(),
            State::KeyName => "a key name".into(),
            State::Value
            | State::Skip {
                then: Then::Value, ..
            } => key(),
            State::Skip { .. } => "a string".into(),
            State::Trailer => "the 8-byte checksum".into(),
            State::Done => "nothing".into(),
        }
    }

    fn resume(&self, then: Then) -> State {
        match then {
            Then::Value => State::Value,
            Then::Op => State::Op,
        }
    }

    fn crc_flush(&mut self) {
        if !self.crc_done && self.crc_upto < self.pos {
            self.crc.update(&self.buf[self.crc_upto..self.pos]);
        }
        self.crc_upto = self.pos;
    }

    fn compact(&mut self) {
        self.crc_flush();
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
            self.crc_upto = 0;
        }
        if self.buf.capacity() > (self.opts.max_buffered.max(1 << 20)) * 2
            && self.buf.len() < 1 << 16
        {
            self.buf.shrink_to(1 << 16);
        }
    }

    fn avail(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn bytes(&self, n: usize) -> R<&[u8]> {
        match self.buf.get(self.pos..self.pos + n) {
            Some(s) => Ok(s),
            None => Err(Stop::More),
        }
    }

    /// Reads a length at `pos + off` without consuming: (value, size).
    fn peek_len(&self, off: usize) -> R<(u64, usize)> {
        let b = &self.buf[self.pos + off..];
        let Some(&first) = b.first() else {
            return Err(Stop::More);
        };
        match first >> 6 {
            0 => Ok((u64::from(first & 0x3F), 1)),
            1 => match b.get(1) {
                Some(&x) => Ok(((u64::from(first & 0x3F) << 8) | u64::from(x), 2)),
                None => Err(Stop::More),
            },
            2 => match first {
                0x80 => match b.get(1..5) {
                    Some(s) => Ok((u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])), 5)),
                    None => Err(Stop::More),
                },
                0x81 => match b.get(1..9) {
                    Some(s) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(s);
                        Ok((u64::from_be_bytes(a), 9))
                    }
                    None => Err(Stop::More),
                },
                _ => Err(ErrorKind::BadLength(first).into()),
            },
            _ => Err(ErrorKind::BadLength(first).into()),
        }
    }

    fn len(&mut self) -> R<u64> {
        let (v, n) = self.peek_len(0)?;
        self.pos += n;
        Ok(v)
    }

    fn str_head(&self) -> R<StrHead> {
        let Some(&first) = self.buf.get(self.pos) else {
            return Err(Stop::More);
        };
        if first >> 6 != 3 {
            let (n, size) = self.peek_len(0)?;
            return Ok(StrHead::Plain(size, n));
        }
        let need = |n: usize| -> R<&[u8]> {
            self.buf
                .get(self.pos + 1..self.pos + 1 + n)
                .ok_or(Stop::More)
        };
        Ok(match first & 0x3F {
            0 => StrHead::Int(2, i64::from(need(1)?[0] as i8)),
            1 => {
                let s = need(2)?;
                StrHead::Int(3, i64::from(i16::from_le_bytes([s[0], s[1]])))
            }
            2 => {
                let s = need(4)?;
                StrHead::Int(5, i64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])))
            }
            3 => {
                let (clen, a) = self.peek_len(1)?;
                let (len, b) = self.peek_len(1 + a)?;
                StrHead::Lzf {
                    head: 1 + a + b,
                    clen,
                    len,
                }
            }
            e => return Err(ErrorKind::BadStringEncoding(e).into()),
        })
    }

    /// Waits until `n` more bytes are buffered (so a retry is not wasted).
    fn wait_for(&mut self, n: usize) -> Stop {
        self.need = self.base + (self.pos as u64).saturating_add(n as u64);
        Stop::More
    }

    /// Reads a string whose content is needed, whole, into `out` (cleared),
    /// or `Ok(false)` if it is over the limit and was set up to be skipped
    /// (the state is then `Skip`).
    /// For integers, `out` holds the decimal text.
    fn content(&mut self, then: Then) -> R<Option<ContentKind>> {
        let head = self.str_head()?;
        let max = self.opts.max_buffered as u64;
        match head {
            StrHead::Int(n, v) => {
                self.pos += n;
                self.scratch.clear();
                self.scratch.extend_from_slice(v.to_string().as_bytes());
                Ok(Some(ContentKind::Int))
            }
            StrHead::Plain(h, len) => {
                if len > max {
                    self.pos += h;
                    self.unchecked += 1;
                    self.state = State::Skip { left: len, then };
                    return Ok(None);
                }
                let len = len as usize;
                if self.avail() < h + len {
                    return Err(self.wait_for(h + len));
                }
                self.pos += h;
                self.scratch.clear();
                let s = self.pos;
                self.scratch.extend_from_slice(&self.buf[s..s + len]);
                self.pos += len;
                Ok(Some(ContentKind::Plain))
            }
            StrHead::Lzf { head, clen, len } => {
                if clen > max || len > max {
                    self.pos += head;
                    self.unchecked += 1;
                    self.state = State::Skip { left: clen, then };
                    return Ok(None);
                }
                let clen = clen as usize;
                if self.avail() < head + clen {
                    return Err(self.wait_for(head + clen));
                }
                self.pos += head;
                let s = self.pos;
                let mut out = core::mem::take(&mut self.scratch);
                let r = lzf::decompress_into(&self.buf[s..s + clen], len as usize, &mut out);
                self.scratch = out;
                r.map_err(ErrorKind::Lzf)?;
                self.pos += clen;
                Ok(Some(ContentKind::Lzf))
            }
        }
    }

    /// A string whose content is not needed: skipped, LZF checked when
    /// `check_values` and small enough. Returns whether it was an integer
    /// and whether compressed, and its decoded length.
    fn skip_string(&mut self, then: Then) -> R<(ContentKind, u64)> {
        let head = self.str_head()?;
        match head {
            StrHead::Int(n, _) => {
                self.pos += n;
                Ok((ContentKind::Int, 0))
            }
            StrHead::Plain(h, len) => {
                self.pos += h;
                let now = (self.avail() as u64).min(len);
                self.pos += now as usize;
                if now < len {
                    self.state = State::Skip {
                        left: len - now,
                        then,
                    };
                }
                Ok((ContentKind::Plain, len))
            }
            StrHead::Lzf { head, clen, len } => {
                let max = self.opts.max_buffered as u64;
                if self.opts.check_values && clen <= max && len <= max {
                    let c = clen as usize;
                    if self.avail() < head + c {
                        return Err(self.wait_for(head + c));
                    }
                    let s = self.pos + head;
                    let mut out = core::mem::take(&mut self.scratch);
                    let r = lzf::decompress_into(&self.buf[s..s + c], len as usize, &mut out);
                    self.scratch = out;
                    if let Err(e) = r {
                        self.pos += head;
                        return Err(ErrorKind::Lzf(e).into());
                    }
                    self.pos += head + c;
                    return Ok((ContentKind::Lzf, len));
                }
                if !self.opts.check_values || clen > max || len > max {
                    self.unchecked += u64::from(self.opts.check_values);
                }
                self.pos += head;
                let now = (self.avail() as u64).min(clen);
                self.pos += now as usize;
                if now < clen {
                    self.state = State::Skip {
                        left: clen - now,
                        then,
                    };
                }
                Ok((ContentKind::Lzf, len))
            }
        }
    }

    fn run(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> Result<(), ErrorKind> {
        loop {
            let r = match self.state {
                State::Header => self.read_header(sink),
                State::Op => self.read_op(sink),
                State::KeyName => self.read_key_name(),
                State::Value => self.read_value(sink),
                State::Skip { left, then } => {
                    let n = (self.avail() as u64).min(left);
                    self.pos += n as usize;
                    if n == left {
                        self.state = self.resume(then);
                        Ok(())
                    } else {
                        self.state = State::Skip {
                            left: left - n,
                            then,
                        };
                        Err(Stop::More)
                    }
                }
                State::Trailer => self.read_trailer(),
                State::Done => return Ok(()),
            };
            match r {
                Ok(()) => {}
                Err(Stop::More) => return Ok(()),
                Err(Stop::Err(e)) => return Err(e),
            }
        }
    }

    fn read_header(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> R<()> {
        let b = &self.buf[self.pos..];
        if b.len() < HEADER_LEN {
            // A wrong magic can be told before nine bytes arrive.
            let prefix_ok = b"REDIS".starts_with(&b[..b.len().min(5)])
                || b"VALKEY".starts_with(&b[..b.len().min(6)]);
            if !prefix_ok {
                let e = parse_header(b).err().unwrap_or(HeaderError::Empty);
                return Err(ErrorKind::Header(e).into());
            }
            return Err(Stop::More);
        }
        let h = parse_header(&b[..HEADER_LEN]).map_err(ErrorKind::Header)?;
        let max = match h.flavor {
            Flavor::Redis => MAX_REDIS_VERSION,
            Flavor::Valkey => MAX_VALKEY_VERSION,
        };
        if h.version == 0 {
            return Err(ErrorKind::BadVersion(0).into());
        }
        if h.version > max {
            return Err(ErrorKind::TooNew {
                flavor: h.flavor,
                version: h.version,
                max,
            }
            .into());
        }
        if h.flavor == Flavor::Valkey && h.version < 80 {
            return Err(ErrorKind::BadVersion(h.version).into());
        }
        self.pos += HEADER_LEN;
        self.header = Some(h);
        self.state = State::Op;
        sink(Event::Header(h));
        Ok(())
    }

    fn flavor(&self) -> Flavor {
        self.header.map_or(Flavor::Redis, |h| h.flavor)
    }

    fn read_op(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> R<()> {
        let op = *self.bytes(1)?.first().ok_or(Stop::More)?;
        let start = self.pos;
        self.op_offset = self.offset();
        // Each opcode is read whole or not at all: on `More` rewind.
        let r = self.read_op_body(op, sink);
        if matches!(r, Err(Stop::More)) && self.state == State::Op {
            self.pos = start;
        }
        r
    }

    fn read_op_body(&mut self, op: u8, sink: &mut dyn FnMut(Event<'_>)) -> R<()> {
        let flavor = self.flavor();
        match op {
            0xFF => {
                self.pos += 1;
                self.crc_flush();
                self.crc_done = true;
                self.state = if self.header.is_some_and(|h| h.version >= 5) {
                    State::Trailer
                } else {
                    State::Done
                };
                Ok(())
            }
            0xFE => {
                let (db, n) = self.peek_len(1)?;
                self.pos += 1 + n;
                self.db = db;
                sink(Event::Db(db));
                Ok(())
            }
            0xFD => {
                let s = self.buf.get(self.pos + 1..self.pos + 5).ok_or(Stop::More)?;
                let t = i64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]]));
                self.pos += 5;
                self.expire = Some(t.saturating_mul(1000));
                Ok(())
            }
            0xFC => {
                let s = self.buf.get(self.pos + 1..self.pos + 9).ok_or(Stop::More)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                self.pos += 9;
                self.expire = Some(i64::from_le_bytes(a));
                Ok(())
            }
            0xFB => {
                let (keys, a) = self.peek_len(1)?;
                let (expires, b) = self.peek_len(1 + a)?;
                self.pos += 1 + a + b;
                sink(Event::Resize {
                    db: self.db,
                    keys,
                    expires,
                });
                Ok(())
            }
            0xFA => {
                self.pos += 1;
                let k = match self.content(Then::Op)? {
                    Some(_) => core::mem::take(&mut self.scratch),
                    None => return self.unsupported_long("an aux field name"),
                };
                let r = self.content(Then::Op);
                match r {
                    Ok(Some(_)) => {
                        let valkey = k.as_slice() == b"valkey-ver";
                        if valkey || (k.as_slice() == b"redis-ver" && self.server_version.is_none())
                        {
                            self.server_version = String::from_utf8(self.scratch.clone()).ok();
                        }
                        sink(Event::Aux {
                            key: &k,
                            value: &self.scratch,
                        });
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            0xF9 => {
                let s = self.buf.get(self.pos + 1).ok_or(Stop::More)?;
                self.freq = Some(*s);
                self.pos += 2;
                Ok(())
            }
            0xF8 => {
                let (idle, n) = self.peek_len(1)?;
                self.pos += 1 + n;
                self.idle = Some(idle);
                Ok(())
            }
            0xF7 => {
                let (id, a) = self.peek_len(1)?;
                let (when_op, b) = self.peek_len(1 + a)?;
                let (_when, c) = self.peek_len(1 + a + b)?;
                if when_op != 2 {
                    self.pos += 1 + a;
                    return Err(ErrorKind::Corrupt(format!(
                        "module aux data: expected the 'when' opcode 2, found {when_op}"
                    ))
                    .into());
                }
                self.pos += 1 + a + b + c;
                self.module_aux += 1;
                sink(Event::ModuleAux {
                    module: module_name(id),
                });
                self.begin_value(&[Module], None);
                Ok(())
            }
            0xF6 => Err(ErrorKind::Unsupported(
                "the pre-release function format of Redis 7.0 RC1/RC2 (opcode 0xF6)".into(),
            )
            .into()),
            0xF5 => {
                self.pos += 1;
                let head = self.str_head()?;
                let len = match head {
                    StrHead::Plain(_, l) => l,
                    StrHead::Lzf { len, .. } => len,
                    StrHead::Int(..) => 0,
                };
                self.skip_string(Then::Op)?;
                self.functions += 1;
                sink(Event::Function {
                    bytes: len,
                    offset: self.op_offset,
                });
                Ok(())
            }
            0xF4 => {
                let (slot, a) = self.peek_len(1)?;
                let (keys, b) = self.peek_len(1 + a)?;
                let (expires, c) = self.peek_len(1 + a + b)?;
                self.pos += 1 + a + b + c;
                sink(Event::SlotInfo {
                    slot,
                    keys,
                    expires,
                });
                Ok(())
            }
            0xF3 if flavor == Flavor::Redis => {
                // KEY_META: a count, then per class a 4-byte spec and a
                // module-style value ending in EOF. Belongs to the next key.
                let (n, a) = self.peek_len(1)?;
                self.pos += 1 + a;
                if n > 0 {
                    self.stack.clear();
                    self.stack.push(Frame {
                        prog: &[Fixed(4), Module],
                        pc: 0,
                        left: n,
                    });
                    self.kind = None;
                    self.state = State::Value;
                }
                Ok(())
            }
            0xF3 => Err(
                ErrorKind::Unsupported("Valkey's slot import state (opcode 0xF3)".into()).into(),
            ),
            0xF2 if flavor == Flavor::Valkey => Err(ErrorKind::Unsupported(
                "Valkey's inline replication update (opcode 0xF2)".into(),
            )
            .into()),
            code => {
                let (prog, kind) = match value_type(code, flavor) {
                    Ok(x) => x,
                    Err(what) if what.is_empty() => return Err(ErrorKind::BadOpcode(code).into()),
                    Err(what) => return Err(ErrorKind::Unsupported(what).into()),
                };
                self.key_offset = self.offset();
                self.pos += 1;
                self.kind = Some(kind);
                self.elements = 0;
                self.compressed = false;
                self.begin_value(prog, Some(kind));
                self.state = State::KeyName;
                Ok(())
            }
        }
    }

    fn unsupported_long(&mut self, what: &str) -> R<()> {
        Err(ErrorKind::Unsupported(format!(
            "{what} longer than {} bytes",
            self.opts.max_buffered
        ))
        .into())
    }

    fn begin_value(&mut self, prog: &'static [Op], _kind: Option<Kind>) {
        self.stack.clear();
        self.stack.push(Frame {
            prog,
            pc: 0,
            left: 1,
        });
        self.state = State::Value;
    }

    fn read_key_name(&mut self) -> R<()> {
        match self.content(Then::Value)? {
            Some(_) => {
                core::mem::swap(&mut self.key, &mut self.scratch);
                self.key_truncated = false;
                self.state = State::Value;
            }
            None => {
                self.key.clear();
                self.key_truncated = true;
            }
        }
        Ok(())
    }

    fn read_value(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> R<()> {
        loop {
            let Some(f) = self.stack.last_mut() else {
                return self.end_value(sink);
            };
            if f.pc == f.prog.len() {
                f.left -= 1;
                if f.left == 0 {
                    self.stack.pop();
                } else {
                    f.pc = 0;
                }
                continue;
            }
            let op = f.prog[f.pc];
            match op {
                Str(u) => self.value_string(u)?,
                Len(counts) => {
                    let n = self.len()?;
                    if counts {
                        self.elements = n;
                    }
                    self.advance();
                }
                Fixed(n) => {
                    self.bytes(usize::from(n))?;
                    self.pos += usize::from(n);
                    self.advance();
                }
                OldDouble => {
                    let b = *self.bytes(1)?.first().ok_or(Stop::More)?;
                    let n = if b >= 253 { 1 } else { 1 + usize::from(b) };
                    self.bytes(n)?;
                    self.pos += n;
                    self.advance();
                }
                Repeat(counts, body) => {
                    let n = self.len()?;
                    if counts {
                        self.elements = n;
                    }
                    if n > 1 << 40 {
                        return Err(ErrorKind::Corrupt(format!("a count of {n} items")).into());
                    }
                    self.advance();
                    if n > 0 {
                        self.stack.push(Frame {
                            prog: body,
                            pc: 0,
                            left: n,
                        });
                    }
                }
                Group(body) => {
                    self.advance();
                    self.stack.push(Frame {
                        prog: body,
                        pc: 0,
                        left: 1,
                    });
                }
                QlNode => {
                    let (c, n) = self.peek_len(0)?;
                    let prog = match c {
                        1 => QL_PLAIN,
                        2 => QL_PACKED,
                        _ => {
                            return Err(ErrorKind::Corrupt(format!(
                                "a quicklist container of 1 (plain) or 2 (packed), found {c}"
                            ))
                            .into())
                        }
                    };
                    self.pos += n;
                    self.advance();
                    self.stack.push(Frame {
                        prog,
                        pc: 0,
                        left: 1,
                    });
                }
                Module => {
                    let (code, n) = self.peek_len(0)?;
                    match code {
                        0 => {
                            self.pos += n;
                            self.advance();
                        }
                        1 | 2 => {
                            let (_, m) = self.peek_len(n)?;
                            self.pos += n + m;
                        }
                        3 | 4 => {
                            let w = if code == 3 { 4 } else { 8 };
                            self.bytes(n + w)?;
                            self.pos += n + w;
                        }
                        5 => {
                            let save = self.pos;
                            self.pos += n;
                            match self.skip_string(Then::Value) {
                                Ok(_) => {}
                                Err(Stop::More) => {
                                    self.pos = save;
                                    return Err(Stop::More);
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        c => {
                            return Err(ErrorKind::Corrupt(format!(
                                "a module value opcode (0-5), found {c}"
                            ))
                            .into())
                        }
                    }
                }
            }
            if self.state != State::Value {
                return Ok(());
            }
        }
    }

    fn advance(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.pc += 1;
        }
    }

    fn value_string(&mut self, u: Use) -> R<()> {
        match u {
            Use::Skip | Use::Elem => {
                let (ck, len) = self.skip_string(Then::Value)?;
                self.advance();
                if u == Use::Elem {
                    self.elements += 1;
                }
                if self.kind.is_some_and(|k| k.code == 0) && self.stack.len() == 1 {
                    self.elements = 1;
                    self.compressed = ck == ContentKind::Lzf;
                    if let Some(k) = &mut self.kind {
                        k.encoding = match ck {
                            ContentKind::Int => "int",
                            _ if len <= 44 => "embstr",
                            _ => "raw",
                        };
                    }
                }
                Ok(())
            }
            Use::StreamId => {
                let at = self.pos;
                match self.content(Then::Value)? {
                    Some(_) => {
                        self.advance();
                        if self.scratch.len() != 16 {
                            self.pos = at;
                            return Err(ErrorKind::Corrupt(format!(
                                "a 16-byte stream ID, found {} bytes",
                                self.scratch.len()
                            ))
                            .into());
                        }
                        Ok(())
                    }
                    None => {
                        self.advance();
                        Ok(())
                    }
                }
            }
            Use::Pack(pack, per) => {
                let at = self.pos;
                let kind = self.content(Then::Value)?;
                self.advance();
                match kind {
                    None => Ok(()),
                    Some(ContentKind::Int) => {
                        self.pos = at;
                        Err(
                            ErrorKind::Corrupt(format!("a {}, found an integer", pack.name()))
                                .into(),
                        )
                    }
                    Some(_) => match packed::check(pack, &self.scratch) {
                        Ok(n) => {
                            if per > 0 {
                                if n % u64::from(per) != 0 {
                                    self.pos = at;
                                    return Err(ErrorKind::Corrupt(format!(
                                        "a {} of entries in groups of {per}, found {n} entries",
                                        pack.name()
                                    ))
                                    .into());
                                }
                                self.elements += n / u64::from(per);
                            }
                            Ok(())
                        }
                        Err(e) => {
                            self.pos = at;
                            Err(ErrorKind::Packed {
                                pack,
                                at: e.at,
                                what: e.what,
                            }
                            .into())
                        }
                    },
                }
            }
        }
    }

    fn end_value(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> R<()> {
        self.state = State::Op;
        let Some(kind) = self.kind.take() else {
            // Module aux or key metadata: nothing to report.
            return Ok(());
        };
        let d = self.dbs.entry(self.db).or_default();
        d.keys += 1;
        if self.expire.is_some() {
            d.expires += 1;
        }
        let key = Key {
            db: self.db,
            name: &self.key,
            truncated: self.key_truncated,
            kind,
            expire_ms: self.expire.take(),
            idle: self.idle.take(),
            freq: self.freq.take(),
            bytes: self.base + self.pos as u64 - self.key_offset,
            elements: self.elements,
            offset: self.key_offset,
            compressed: self.compressed,
        };
        sink(Event::Key(key));
        Ok(())
    }

    fn read_trailer(&mut self) -> R<()> {
        let s = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        let stored = u64::from_le_bytes(a);
        let computed = self.crc.value();
        if stored != 0 && stored != computed {
            return Err(ErrorKind::Checksum { stored, computed }.into());
        }
        self.pos += 8;
        self.stored_crc = Some(stored);
        self.state = State::Done;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentKind {
    Int,
    Plain,
    Lzf,
}

/// A module type's name from its 64-bit ID (9 characters of 6 bits, then a
/// 10-bit encoding version).
pub fn module_name(id: u64) -> [u8; 9] {
    const SET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = [0u8; 9];
    let mut id = id >> 10;
    for j in (0..9).rev() {
        out[j] = SET[(id & 63) as usize];
        id >>= 6;
    }
    out
}

/// Reads a whole file held in memory (for tests and small inputs).
pub fn read_all(bytes: &[u8], sink: &mut dyn FnMut(Event<'_>)) -> Result<Summary, Error> {
    let mut r = Reader::new(Options::default());
    r.feed(bytes, sink)?;
    r.finish()
}
