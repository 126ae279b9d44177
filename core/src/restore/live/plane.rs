//! The live restore's data plane: an RDB file in, RESP commands out, replies
//! accounted for. No I/O: the shell moves the bytes (`redis::Conn::load`).
//!
//! Each key becomes, where the target knows its type and encoding,
//! `RESTORE key ttl payload REPLACE [ABSTTL] [IDLETIME s | FREQ f]` with the
//! payload built from the value's raw bytes (type byte + value + a 2-byte RDB
//! version the target accepts + CRC-64, as `DUMP` makes them): nothing is
//! re-encoded. Otherwise, or when the value is bigger than one payload may be,
//! it becomes plain commands (SET/APPEND, RPUSH, SADD, ZADD, HSET in batches,
//! then PEXPIREAT). Function libraries go through `FUNCTION RESTORE`. Keys
//! whose expiry has passed are skipped and counted. The first error reply
//! stops the load; the report says how far it got.
//!
//! [`Survey`] is gathered while the file is verified, before anything
//! changes, and [`check`] refuses a file the target cannot take, naming keys.

use crate::rdb::crc64;
use crate::rdb::reader::{Error as ReadError, Key, Summary};
use crate::rdb::records::{Record, Splitter};
use crate::rdb::values::{self, Decoder, Item, Shape};
use crate::rdb::{escape, Flavor, Server};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// What a target server takes as `RESTORE` payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// The server.
    pub server: Server,
}

impl Caps {
    /// The highest type byte the server knows, by flavor.
    fn max_code(&self) -> u8 {
        let (ma, mi, _) = self.server.version;
        match self.server.flavor {
            Flavor::Valkey if ma >= 9 => 22,
            Flavor::Valkey => 21,
            Flavor::Redis => match (ma, mi) {
                (0..=6, _) => 15,
                (7, 0..=1) => 19,
                (7, 2..=3) => 21,
                _ => 25,
            },
        }
    }

    /// Whether a value of type `code` from a `src` file restores as is.
    pub fn restores(&self, code: u8, src: Flavor) -> bool {
        if matches!(code, 6 | 8) || code > self.max_code() {
            return false;
        }
        // Above 21 the numbers mean different things in Redis and Valkey.
        code <= 21 || src == self.server.flavor
    }

    /// The RDB version written in payload footers: one the server accepts
    /// (Valkey takes Redis's up to 11 and its own from 80).
    pub fn footer(&self) -> u16 {
        match self.server.flavor {
            Flavor::Valkey => 11,
            Flavor::Redis => u16::try_from(self.server.max_rdb_version()).unwrap_or(9),
        }
    }

    /// Whether the server has Redis 7.0's stream counters (XSETID
    /// ENTRIESADDED, XGROUP CREATE ENTRIESREAD).
    pub fn stream_counters(&self) -> bool {
        self.server.flavor == Flavor::Valkey || self.server.version.0 >= 7
    }

    /// Whether the server has hash field TTLs (HPEXPIREAT: Redis 7.4+,
    /// Valkey 9.0+).
    pub fn field_ttls(&self) -> bool {
        let (ma, mi, _) = self.server.version;
        match self.server.flavor {
            Flavor::Valkey => ma >= 9,
            Flavor::Redis => (ma, mi) >= (7, 4),
        }
    }

    /// Whether the server has functions (7.0+).
    pub fn functions(&self) -> bool {
        self.server.flavor == Flavor::Valkey || self.server.version.0 >= 7
    }
}

/// Keys of one type in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeStat {
    /// How many.
    pub keys: u64,
    /// The first few names.
    pub samples: Vec<String>,
    /// The largest few, with their size in the file.
    pub largest: Vec<(u64, String)>,
}

/// What a file holds, by type byte: gathered while verifying it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Survey {
    /// Keys by type byte.
    pub codes: BTreeMap<u8, CodeStat>,
    /// Function libraries.
    pub functions: u64,
    /// Module aux records (a module's own data beside its keys): no
    /// command restores them.
    #[serde(skip)]
    pub module_aux: u64,
}

const SAMPLES: usize = 5;

impl Survey {
    /// Counts one key.
    pub fn add(&mut self, k: &Key<'_>) {
        let s = self.codes.entry(k.kind.code).or_default();
        s.keys += 1;
        let name = || escape(&k.name[..k.name.len().min(80)]);
        if s.samples.len() < SAMPLES {
            s.samples.push(name());
        }
        let small = s.largest.last().map_or(0, |l| l.0);
        if s.largest.len() < SAMPLES || k.bytes > small {
            s.largest.push((k.bytes, name()));
            s.largest.sort_by_key(|l| std::cmp::Reverse(l.0));
            s.largest.truncate(SAMPLES);
        }
    }
}

impl CodeStat {
    /// The names among the largest whose size in the file exceeds `limit`.
    fn over(&self, limit: u64) -> Vec<&str> {
        self.largest
            .iter()
            .filter(|l| l.0 > limit)
            .map(|l| l.1.as_str())
            .collect()
    }
}

/// Whether every key of the file can go into `caps`' server, values over
/// `limit` bytes as commands; a string bigger than `max_string` (the
/// server's proto-max-bulk-len) cannot exist there. On success, lines for
/// the plan (the types sent as commands, and why); the error names the
/// keys that cannot.
pub fn check(
    survey: &Survey,
    src: Flavor,
    caps: &Caps,
    limit: u64,
    max_string: u64,
) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    let mut refused = Vec::new();
    if let Some(strings) = survey.codes.get(&0) {
        let huge = strings.over(max_string);
        if !huge.is_empty() {
            refused.push(format!(
                "strings larger than its proto-max-bulk-len ({}): {}",
                crate::human::bytes(max_string),
                huge.join(", ")
            ));
        }
    }
    let name = |code: u8| type_name(code, src);
    let s = &caps.server;
    let server = format!(
        "{:?} {}.{}.{}",
        s.flavor, s.version.0, s.version.1, s.version.2
    );
    for (&code, stat) in &survey.codes {
        let decodable = decodable(code, src, caps);
        let restores = caps.restores(code, src);
        match (restores, &decodable) {
            (true, Ok(_)) => {
                let big = stat.over(limit).len();
                if big > 0 {
                    notes.push(format!(
                        "{} value(s) of {} larger than {} go as commands in batches",
                        if big >= SAMPLES {
                            format!("{big}+")
                        } else {
                            big.to_string()
                        },
                        name(code),
                        crate::human::bytes(limit)
                    ));
                }
            }
            (true, Err(e)) => {
                let big = stat.over(limit);
                if !big.is_empty() {
                    refused.push(format!(
                        "{} larger than {} ({e}): {}",
                        name(code),
                        crate::human::bytes(limit),
                        big.join(", ")
                    ));
                }
            }
            (false, Ok(_)) => notes.push(format!(
                "{} key(s) of {} go as commands ({server} does not know this encoding)",
                stat.keys,
                name(code)
            )),
            (false, Err(e)) => refused.push(format!(
                "{} key(s) of {} ({server} does not know it, and {e}): {}{}",
                stat.keys,
                name(code),
                stat.samples.join(", "),
                if stat.keys > stat.samples.len() as u64 {
                    ", ..."
                } else {
                    ""
                }
            )),
        }
    }
    if survey.functions > 0 && !caps.functions() {
        refused.push(format!(
            "{} function librar{} ({server} has no functions)",
            survey.functions,
            if survey.functions == 1 { "y" } else { "ies" }
        ));
    }
    if survey.module_aux > 0 {
        notes.push(format!(
            "{} module aux record(s) (a module's own data beside its keys) are not restored live: no command takes them; a swap restore does",
            survey.module_aux
        ));
    }
    if refused.is_empty() {
        Ok(notes)
    } else {
        Err(format!(
            "{server} cannot take everything in this backup: {}",
            refused.join("; ")
        ))
    }
}

/// Whether values of type `code` can go to `caps`' server as commands.
fn decodable(code: u8, src: Flavor, caps: &Caps) -> Result<Shape, values::DecodeError> {
    let s = values::shape(code, src)?;
    if values::has_field_ttls(code, src) && !caps.field_ttls() {
        return Err(values::DecodeError::Unsupported(
            "a hash with field TTLs, which this server does not have,",
        ));
    }
    Ok(s)
}

/// A type byte for people: `hash (listpack)`.
pub fn type_name(code: u8, flavor: Flavor) -> &'static str {
    match (code, flavor) {
        (0, _) => "string",
        (1, _) => "list (linked list)",
        (2, _) => "set (hashtable)",
        (3, _) => "zset (old format)",
        (4, _) => "hash (hashtable)",
        (5, _) => "zset (skiplist)",
        (7, _) => "module value",
        (9, _) => "hash (zipmap)",
        (10, _) => "list (ziplist)",
        (11, _) => "set (intset)",
        (12, _) => "zset (ziplist)",
        (13, _) => "hash (ziplist)",
        (14, _) => "list (quicklist)",
        (15, _) => "stream (v1)",
        (16, _) => "hash (listpack)",
        (17, _) => "zset (listpack)",
        (18, _) => "list (quicklist 2)",
        (19, _) => "stream (v2)",
        (20, _) => "set (listpack)",
        (21, _) => "stream (v3)",
        (22, Flavor::Valkey) => "hash with field TTLs (Valkey)",
        (22..=25, Flavor::Redis) => "hash with field TTLs",
        _ => "unknown type",
    }
}

/// Settings of one load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The target.
    pub caps: Caps,
    /// The file's flavor.
    pub src: Flavor,
    /// Wall clock, Unix ms: keys expiring before it are skipped.
    pub now_ms: i64,
    /// Keep keys not in the backup (replace only the backup's own).
    pub merge: bool,
    /// Values whose bytes exceed this go as commands.
    pub limit: usize,
    /// Elements per command when sending commands.
    pub batch: usize,
    /// Bytes per command when sending commands.
    pub batch_bytes: usize,
    /// The target is a Redis Cluster: the shell routes each command to the
    /// primary owning its key's slot ([`crate::topo::cluster::Router`]) and
    /// flushes every primary first unless merging.
    pub cluster: bool,
}

/// What a load did, so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Keys the server confirmed.
    pub keys_restored: u64,
    /// Of those, sent as `RESTORE` payloads.
    pub keys_by_payload: u64,
    /// Of those, sent as plain commands.
    pub keys_by_commands: u64,
    /// Keys whose expiry had passed: not sent.
    pub keys_expired: u64,
    /// Keys confirmed per database.
    pub dbs: BTreeMap<u64, u64>,
    /// Function libraries restored.
    pub functions: u64,
    /// Commands sent.
    pub commands: u64,
    /// File bytes read.
    pub bytes_read: u64,
}

/// Why a load stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file is not what verification said (it changed?).
    File(String),
    /// A key cannot be sent (not decodable and too big).
    Unsupported { key: String, why: String },
    /// The server answered an error.
    Server {
        key: String,
        db: u64,
        message: String,
    },
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::File(e) => write!(f, "reading the backup: {e}"),
            LoadError::Unsupported { key, why } => write!(f, "key \"{key}\": {why}"),
            LoadError::Server { key, db, message } if key.is_empty() => {
                write!(f, "Redis answered \"{message}\" (db{db})")
            }
            LoadError::Server { key, db, message } => {
                write!(f, "Redis answered \"{message}\" for key \"{key}\" (db{db})")
            }
        }
    }
}

/// What a reply confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    /// SELECT, UNLINK, or one command of several for a key.
    Step(u64, Box<[u8]>),
    /// The last command of a key (its name in [`Names`]).
    Key {
        db: u64,
        name: (usize, u32),
        payload: bool,
    },
    Function,
}

/// The names of keys awaiting their replies, in one buffer (a key costs
/// no allocation): positions are logical, counting bytes already dropped.
#[derive(Debug, Default)]
struct Names {
    buf: Vec<u8>,
    dropped: usize,
}

impl Names {
    fn push(&mut self, name: &[u8]) -> (usize, u32) {
        let at = self.dropped + self.buf.len();
        self.buf.extend_from_slice(name);
        (at, u32::try_from(name.len()).unwrap_or(u32::MAX))
    }

    fn get(&self, (at, len): (usize, u32)) -> &[u8] {
        let from = at.saturating_sub(self.dropped);
        self.buf.get(from..from + len as usize).unwrap_or_default()
    }

    /// Names before `at` are no longer needed (replies come in order).
    fn release(&mut self, at: usize) {
        let n = at.saturating_sub(self.dropped).min(self.buf.len());
        if n >= 1 << 20 {
            self.buf.drain(..n);
            self.dropped += n;
        }
    }
}

/// A key being sent as commands.
#[derive(Debug)]
struct Conv {
    name: Vec<u8>,
    db: u64,
    expire_ms: Option<i64>,
    shape: Shape,
    decoder: Decoder,
    /// The command being filled: its arguments after the key.
    args: Vec<Vec<u8>>,
    bytes: usize,
    /// A string's first piece has been sent (SET), the rest are APPENDs.
    started: bool,
    skip: bool,
    /// Stream entries sent.
    entries: u64,
    /// Hash fields by expiry, set once the fields exist.
    ttls: BTreeMap<i64, Vec<Vec<u8>>>,
}

/// The largest piece of a big string sent in one SET or APPEND.
const STRING_PIECE: usize = 512 << 10;

/// A consumer group that exists only while an empty stream is created.
const TMP_GROUP: &[u8] = b"__kubectl_redis_tmp";

/// The loader. See the module documentation.
#[derive(Debug)]
pub struct Loader {
    opts: Options,
    splitter: Splitter,
    db: Option<u64>,
    pending: VecDeque<Pending>,
    conv: Option<Conv>,
    functions_sent: u64,
    report: LoadReport,
    failed: Option<LoadError>,
    names: Names,
}

impl Loader {
    /// A loader for one file.
    pub fn new(opts: Options) -> Self {
        let limit = opts.limit;
        Loader {
            opts,
            splitter: Splitter::new(limit),
            db: None,
            pending: VecDeque::new(),
            conv: None,
            functions_sent: 0,
            report: LoadReport::default(),
            failed: None,
            names: Names::default(),
        }
    }

    /// Commands sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// The report so far.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// The error that stopped the load, if any.
    pub fn failed(&self) -> Option<&LoadError> {
        self.failed.as_ref()
    }

    /// Feeds the next bytes of the file, appending commands to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), LoadError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.report.bytes_read += chunk.len() as u64;
        let mut err: Option<LoadError> = None;
        let Loader {
            opts,
            splitter,
            db,
            pending,
            conv,
            functions_sent,
            report,
            names,
            ..
        } = self;
        let mut st = State {
            opts,
            db,
            pending,
            conv,
            functions_sent,
            report,
            out,
            names,
        };
        let r = splitter.feed(chunk, &mut |rec| {
            if err.is_none() {
                if let Err(e) = st.record(rec) {
                    err = Some(e);
                }
            }
        });
        if let Err(e) = r {
            err.get_or_insert(LoadError::File(e.to_string()));
        }
        match err {
            Some(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// The end of the file: its summary once every byte checked out.
    pub fn finish(&mut self) -> Result<Summary, LoadError> {
        self.splitter
            .finish()
            .map_err(|e: ReadError| LoadError::File(e.to_string()))
    }

    /// Takes the replies at the start of `buf`; returns the bytes used.
    /// The first error reply stops the load ([`Loader::failed`]).
    pub fn replies(&mut self, buf: &[u8]) -> usize {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            if rest.is_empty() || self.pending.is_empty() {
                return used;
            }
            let (ok, message, n) = if rest.starts_with(b"+OK\r\n") {
                (true, String::new(), 5)
            } else if rest.first() == Some(&b':') {
                match rest.iter().position(|&c| c == b'\n') {
                    Some(p) => (true, String::new(), p + 1),
                    None => return used,
                }
            } else {
                match crate::wire::repl::parse_reply(rest) {
                    None => return used,
                    Some((crate::wire::reply::Reply::Error(e), n)) => (false, e, n),
                    Some((_, n)) => (true, String::new(), n),
                }
            };
            used += n;
            let Some(p) = self.pending.pop_front() else {
                return used;
            };
            if let Pending::Key { name, .. } = &p {
                self.names.release(name.0);
            }
            if !ok {
                let (key, db) = match p {
                    Pending::Step(db, k) => (escape(&k[..k.len().min(200)]), db),
                    Pending::Key { db, name, .. } => {
                        let k = self.names.get(name);
                        (escape(&k[..k.len().min(200)]), db)
                    }
                    Pending::Function => ("(function library)".to_string(), 0),
                };
                self.failed
                    .get_or_insert(LoadError::Server { key, db, message });
                continue;
            }
            match p {
                Pending::Key { db, payload, .. } => {
                    self.report.keys_restored += 1;
                    *self.report.dbs.entry(db).or_default() += 1;
                    if payload {
                        self.report.keys_by_payload += 1;
                    } else {
                        self.report.keys_by_commands += 1;
                    }
                }
                Pending::Function => self.report.functions += 1,
                Pending::Step(..) => {}
            }
        }
    }
}

/// The loader's parts a record changes (borrowed apart from the splitter).
struct State<'a> {
    opts: &'a Options,
    db: &'a mut Option<u64>,
    pending: &'a mut VecDeque<Pending>,
    conv: &'a mut Option<Conv>,
    functions_sent: &'a mut u64,
    report: &'a mut LoadReport,
    out: &'a mut Vec<u8>,
    names: &'a mut Names,
}

impl State<'_> {
    fn record(&mut self, rec: Record<'_>) -> Result<(), LoadError> {
        match rec {
            Record::Header(_) => Ok(()),
            Record::Function(raw) => {
                let mut payload = Vec::with_capacity(raw.len() + 11);
                payload.push(0xF5);
                payload.extend_from_slice(raw);
                footer(&mut payload, self.opts.caps.footer());
                let policy: &[u8] = if *self.functions_sent == 0 && !self.opts.merge {
                    b"FLUSH"
                } else {
                    b"REPLACE"
                };
                *self.functions_sent += 1;
                self.command(
                    &[b"FUNCTION", b"RESTORE", &payload, policy],
                    Pending::Function,
                );
                Ok(())
            }
            Record::Key { key, value } => {
                if self.expired(key.expire_ms) {
                    self.report.keys_expired += 1;
                    return Ok(());
                }
                self.select(key.db);
                let code = key.kind.code;
                if value.len() <= self.opts.limit && self.opts.caps.restores(code, self.opts.src) {
                    self.restore(&key, value);
                    return Ok(());
                }
                self.begin(key.db, key.name, code, key.expire_ms)?;
                self.part(value)?;
                self.end()
            }
            Record::BigStart {
                db,
                name,
                code,
                expire_ms,
            } => {
                if self.expired(expire_ms) {
                    self.report.keys_expired += 1;
                    *self.conv = Some(Conv {
                        name: Vec::new(),
                        db,
                        expire_ms,
                        shape: Shape::String,
                        decoder: Decoder::new(0, Flavor::Redis)
                            .map_err(|e| LoadError::File(e.to_string()))?,
                        args: Vec::new(),
                        bytes: 0,
                        started: false,
                        skip: true,
                        entries: 0,
                        ttls: BTreeMap::new(),
                    });
                    return Ok(());
                }
                self.select(db);
                self.begin(db, name, code, expire_ms)
            }
            Record::BigPart(p) => self.part(p),
            Record::BigEnd(_) => self.end(),
        }
    }

    fn expired(&self, at: Option<i64>) -> bool {
        at.is_some_and(|t| t <= self.opts.now_ms)
    }

    fn select(&mut self, db: u64) {
        if *self.db != Some(db) {
            *self.db = Some(db);
            let n = db.to_string();
            self.command(
                &[b"SELECT", n.as_bytes()],
                Pending::Step(db, Box::default()),
            );
        }
    }

    fn command(&mut self, args: &[&[u8]], p: Pending) {
        resp(self.out, args);
        self.pending.push_back(p);
        self.report.commands += 1;
    }

    /// `RESTORE key ttl payload REPLACE [ABSTTL] [IDLETIME s | FREQ f]`,
    /// written straight into the output.
    fn restore(&mut self, key: &Key<'_>, value: &[u8]) {
        let ttl = key.expire_ms.unwrap_or(0).max(0);
        let mut n = 5;
        if ttl > 0 {
            n += 1;
        }
        if key.idle.is_some() || key.freq.is_some() {
            n += 2;
        }
        let out = &mut *self.out;
        out.push(b'*');
        num(out, n);
        out.extend_from_slice(b"\r\n$7\r\nRESTORE\r\n");
        bulk(out, key.name);
        let mut t = [0u8; 20];
        bulk(out, digits(ttl.unsigned_abs(), &mut t));
        let code = key.kind.code;
        out.push(b'$');
        num(out, value.len() as u64 + 11);
        out.extend_from_slice(b"\r\n");
        let start = out.len();
        out.push(code);
        out.extend_from_slice(value);
        footer_in_place(out, start, self.opts.caps.footer());
        out.extend_from_slice(b"\r\n$7\r\nREPLACE\r\n");
        if ttl > 0 {
            out.extend_from_slice(b"$6\r\nABSTTL\r\n");
        }
        if let Some(i) = key.idle {
            out.extend_from_slice(b"$8\r\nIDLETIME\r\n");
            bulk(out, digits(i, &mut t));
        } else if let Some(f) = key.freq {
            out.extend_from_slice(b"$4\r\nFREQ\r\n");
            bulk(out, digits(u64::from(f), &mut t));
        }
        let name = self.names.push(key.name);
        self.pending.push_back(Pending::Key {
            db: key.db,
            name,
            payload: true,
        });
        self.report.commands += 1;
    }

    fn begin(
        &mut self,
        db: u64,
        name: &[u8],
        code: u8,
        expire_ms: Option<i64>,
    ) -> Result<(), LoadError> {
        let key = || escape(&name[..name.len().min(200)]);
        let shape = decodable(code, self.opts.src, &self.opts.caps).map_err(|e| LoadError::Unsupported {
            key: key(),
            why: format!("{e}, and the target cannot take it as a payload (too big, or an encoding it does not know)"),
        })?;
        let decoder = Decoder::new(code, self.opts.src).map_err(|e| LoadError::Unsupported {
            key: key(),
            why: e.to_string(),
        })?;
        if self.opts.merge {
            self.command(&[b"UNLINK", name], Pending::Step(db, name.into()));
        }
        *self.conv = Some(Conv {
            name: name.to_vec(),
            db,
            expire_ms,
            shape,
            decoder,
            args: Vec::new(),
            bytes: 0,
            started: false,
            skip: false,
            entries: 0,
            ttls: BTreeMap::new(),
        });
        Ok(())
    }

    fn part(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        let Some(mut c) = self.conv.take() else {
            return Err(LoadError::File("value bytes outside a key".into()));
        };
        if c.skip {
            *self.conv = Some(c);
            return Ok(());
        }
        let mut items = Vec::new();
        let r = c.decoder.feed(bytes, &mut |i| items.push(i));
        if let Err(e) = r {
            return Err(LoadError::File(format!("key \"{}\": {e}", escape(&c.name))));
        }
        for i in items {
            self.item(&mut c, i);
        }
        *self.conv = Some(c);
        Ok(())
    }

    fn item(&mut self, c: &mut Conv, i: Item) {
        match i {
            Item::Str(piece) => {
                // Pieces stay well under proto-max-bulk-len (1 MB at least);
                // an empty string is one SET of nothing.
                let name = c.name.clone();
                let mut parts: Vec<&[u8]> = piece.chunks(STRING_PIECE).collect();
                if parts.is_empty() && !c.started {
                    parts.push(&[]);
                }
                for part in parts {
                    let verb: &[u8] = if c.started { b"APPEND" } else { b"SET" };
                    c.started = true;
                    self.command(
                        &[verb, &name, part],
                        Pending::Step(c.db, name.clone().into()),
                    );
                }
                return;
            }
            Item::Elem(e) => {
                c.bytes += e.len();
                c.args.push(e);
            }
            Item::Scored(m, s) => {
                c.bytes += m.len() + s.len();
                c.args.push(s);
                c.args.push(m);
            }
            Item::Field(f, v) => {
                c.bytes += f.len() + v.len();
                c.args.push(f);
                c.args.push(v);
            }
            Item::FieldExpiring(f, v, at) => {
                // An expired field is not sent, as Redis drops it on load.
                if at <= self.opts.now_ms {
                    return;
                }
                c.bytes += f.len() + v.len();
                c.ttls.entry(at).or_default().push(f.clone());
                c.args.push(f);
                c.args.push(v);
            }
            other => return self.stream_item(c, other),
        }
        let elems = if matches!(c.shape, Shape::List | Shape::Set) {
            c.args.len()
        } else {
            c.args.len() / 2
        };
        if elems >= self.opts.batch || c.bytes >= self.opts.batch_bytes {
            self.flush_batch(c);
        }
    }

    /// A stream's parts as commands: XADD per entry; an empty stream made
    /// with a throwaway group; XSETID with its counters; each group, its
    /// consumers and their pending entries (XCLAIM ... FORCE keeps the
    /// delivery time and count).
    fn stream_item(&mut self, c: &mut Conv, i: Item) {
        let step = || Pending::Step(c.db, c.name.clone().into());
        let name = c.name.clone();
        let counters = self.opts.caps.stream_counters();
        match i {
            Item::Entry(id, fields) => {
                c.entries += 1;
                let id = id.to_string();
                let mut args: Vec<&[u8]> = vec![b"XADD", &name, id.as_bytes()];
                for (f, v) in &fields {
                    args.push(f);
                    args.push(v);
                }
                self.command(&args, step());
            }
            Item::StreamMeta {
                last_id,
                entries_added,
                max_deleted,
                ..
            } => {
                if c.entries == 0 {
                    self.command(
                        &[b"XGROUP", b"CREATE", &name, TMP_GROUP, b"$", b"MKSTREAM"],
                        step(),
                    );
                    self.command(&[b"XGROUP", b"DESTROY", &name, TMP_GROUP], step());
                }
                let last = last_id.to_string();
                let mut args: Vec<Vec<u8>> =
                    vec![b"XSETID".to_vec(), name.clone(), last.into_bytes()];
                if let (true, Some(n), Some(d)) = (counters, entries_added, max_deleted) {
                    args.push(b"ENTRIESADDED".to_vec());
                    args.push(n.to_string().into_bytes());
                    args.push(b"MAXDELETEDID".to_vec());
                    args.push(d.to_string().into_bytes());
                }
                let a: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                self.command(&a, step());
            }
            Item::Group {
                name: g,
                last_id,
                entries_read,
            } => {
                let last = last_id.to_string();
                let mut args: Vec<Vec<u8>> = vec![
                    b"XGROUP".to_vec(),
                    b"CREATE".to_vec(),
                    name.clone(),
                    g,
                    last.into_bytes(),
                ];
                if let (true, Some(n)) = (counters, entries_read.filter(|&n| n != u64::MAX)) {
                    args.push(b"ENTRIESREAD".to_vec());
                    args.push(n.to_string().into_bytes());
                }
                let a: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                self.command(&a, step());
            }
            Item::Consumer { group, name: who } => {
                self.command(&[b"XGROUP", b"CREATECONSUMER", &name, &group, &who], step());
            }
            Item::Pending {
                group,
                consumer,
                id,
                delivered_ms,
                count,
            } => {
                let (id, t, n) = (id.to_string(), delivered_ms.to_string(), count.to_string());
                self.command(
                    &[
                        b"XCLAIM",
                        &name,
                        &group,
                        &consumer,
                        b"0",
                        id.as_bytes(),
                        b"TIME",
                        t.as_bytes(),
                        b"RETRYCOUNT",
                        n.as_bytes(),
                        b"FORCE",
                        b"JUSTID",
                    ],
                    step(),
                );
            }
            Item::Str(_)
            | Item::Elem(_)
            | Item::Scored(..)
            | Item::Field(..)
            | Item::FieldExpiring(..) => {}
        }
    }

    fn flush_batch(&mut self, c: &mut Conv) {
        if c.args.is_empty() {
            return;
        }
        let verb: &[u8] = match c.shape {
            Shape::List => b"RPUSH",
            Shape::Set => b"SADD",
            Shape::Zset => b"ZADD",
            Shape::Hash => b"HSET",
            Shape::String | Shape::Stream => b"APPEND",
        };
        let mut args: Vec<&[u8]> = Vec::with_capacity(c.args.len() + 2);
        args.push(verb);
        args.push(&c.name);
        args.extend(c.args.iter().map(Vec::as_slice));
        resp(self.out, &args);
        self.pending
            .push_back(Pending::Step(c.db, c.name.clone().into()));
        self.report.commands += 1;
        c.args.clear();
        c.bytes = 0;
    }

    fn end(&mut self) -> Result<(), LoadError> {
        let Some(mut c) = self.conv.take() else {
            return Err(LoadError::File(
                "the end of a key that did not start".into(),
            ));
        };
        if c.skip {
            return Ok(());
        }
        if let Err(e) = c.decoder.finish() {
            return Err(LoadError::File(format!("key \"{}\": {e}", escape(&c.name))));
        }
        let before = self.report.commands;
        self.flush_batch(&mut c);
        for (at, fields) in std::mem::take(&mut c.ttls) {
            let at = at.to_string();
            for chunk in fields.chunks(self.opts.batch.max(1)) {
                let n = chunk.len().to_string();
                let mut args: Vec<&[u8]> = vec![
                    b"HPEXPIREAT",
                    &c.name,
                    at.as_bytes(),
                    b"FIELDS",
                    n.as_bytes(),
                ];
                args.extend(chunk.iter().map(Vec::as_slice));
                self.command(&args, Pending::Step(c.db, Box::default()));
            }
        }
        if let Some(at) = c.expire_ms {
            let at = at.to_string();
            self.command(
                &[b"PEXPIREAT", &c.name, at.as_bytes()],
                Pending::Step(c.db, c.name.clone().into()),
            );
        }
        if self.report.commands == before {
            // Its commands may all be answered already: one more to count it.
            self.command(&[b"EXISTS", &c.name], Pending::Step(c.db, Box::default()));
        }
        // The key counts once its last command is confirmed.
        let name = self.names.push(&c.name);
        if let Some(last) = self.pending.back_mut() {
            *last = Pending::Key {
                db: c.db,
                name,
                payload: false,
            };
        }
        Ok(())
    }
}

/// A RESP array of bulk strings.
pub fn resp(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    num(out, args.len() as u64);
    out.extend_from_slice(b"\r\n");
    for a in args {
        bulk(out, a);
    }
}

/// `n` in decimal, in `buf`.
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

fn num(out: &mut Vec<u8>, n: u64) {
    let mut b = [0u8; 20];
    out.extend_from_slice(digits(n, &mut b));
}

fn bulk(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'$');
    num(out, a.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(a);
    out.extend_from_slice(b"\r\n");
}

/// Appends the payload footer: RDB version (2 bytes LE) and the CRC-64 of
/// everything before it (8 bytes LE).
pub fn footer(payload: &mut Vec<u8>, version: u16) {
    footer_in_place(payload, 0, version);
}

fn footer_in_place(out: &mut Vec<u8>, start: usize, version: u16) {
    out.extend_from_slice(&version.to_le_bytes());
    let crc = crc64::update(0, &out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(flavor: Flavor, v: (u32, u32, u32)) -> Caps {
        Caps {
            server: Server { flavor, version: v },
        }
    }

    #[test]
    fn dump_payload_footer_matches_redis() {
        // `DUMP` of the string "hello" on Redis 7.0 (RDB 10).
        let mut p = vec![0u8, 5, b'h', b'e', b'l', b'l', b'o'];
        footer(&mut p, 10);
        assert_eq!(&p[7..9], &[10, 0]);
        assert_eq!(p.len(), 17);
        assert_eq!(&crc64::update(0, &p[..9]).to_le_bytes()[..], &p[9..]);
    }

    #[test]
    fn which_types_restore_where() {
        let r62 = caps(Flavor::Redis, (6, 2, 14));
        let r70 = caps(Flavor::Redis, (7, 0, 15));
        let v9 = caps(Flavor::Valkey, (9, 1, 2));
        assert!(r62.restores(14, Flavor::Redis));
        assert!(!r62.restores(16, Flavor::Redis));
        assert!(r70.restores(18, Flavor::Redis));
        assert!(!r70.restores(20, Flavor::Redis));
        assert!(v9.restores(21, Flavor::Redis));
        assert!(!v9.restores(24, Flavor::Redis));
        assert!(v9.restores(22, Flavor::Valkey));
        assert_eq!(v9.footer(), 11);
        assert_eq!(r62.footer(), 9);
    }
}

#[cfg(test)]
mod loader_tests {
    use super::*;

    const RDB: &[u8] = include_bytes!("../../../tests/fixtures/all-types-7.0.rdb");

    fn load(now_ms: i64, limit: usize, chunk: usize) -> (LoadReport, usize, Vec<u8>) {
        let mut l = Loader::new(Options {
            caps: Caps {
                server: Server {
                    flavor: Flavor::Redis,
                    version: (7, 0, 15),
                },
            },
            src: Flavor::Redis,
            now_ms,
            merge: false,
            limit,
            batch: 3,
            cluster: false,
            batch_bytes: 1 << 20,
        });
        let mut out = Vec::new();
        for c in RDB.chunks(chunk) {
            l.feed(c, &mut out).unwrap();
        }
        l.finish().unwrap();
        let n = l.in_flight();
        (l.report().clone(), n, out)
    }

    #[test]
    fn module_aux_records_are_named_as_not_restored_live() {
        let caps = Caps {
            server: Server {
                flavor: Flavor::Redis,
                version: (7, 0, 15),
            },
        };
        let mut survey = Survey::default();
        assert_eq!(
            check(&survey, Flavor::Redis, &caps, 1 << 20, 1 << 29),
            Ok(vec![])
        );
        survey.module_aux = 2;
        let notes = check(&survey, Flavor::Redis, &caps, 1 << 20, 1 << 29).expect("not refused");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("2 module aux record(s)")
                && notes[0].contains("a swap restore does"),
            "{notes:?}"
        );
    }

    #[test]
    fn keys_whose_ttl_passed_are_skipped() {
        let (now, _, _) = load(0, 1 << 20, 4096);
        let (later, _, _) = load(i64::MAX, 1 << 20, 4096);
        assert_eq!(now.keys_expired, 0);
        assert!(later.keys_expired >= 2, "{later:?}");
        assert!(later.commands < now.commands);
    }

    /// Whatever the chunk size and threshold, every command is answered
    /// once, and the commands are the same.
    #[test]
    fn same_commands_at_any_chunk_size() {
        for limit in [64, 1 << 20] {
            let (_, n, out) = load(0, limit, 1 << 20);
            for chunk in [1, 7, 100, 4096] {
                let (_, m, o) = load(0, limit, chunk);
                assert_eq!((m, &o), (n, &out), "limit {limit} chunk {chunk}");
            }
        }
    }

    #[test]
    fn an_error_reply_stops_the_load_and_names_the_key() {
        let mut l = Loader::new(Options {
            caps: Caps {
                server: Server {
                    flavor: Flavor::Redis,
                    version: (7, 0, 15),
                },
            },
            src: Flavor::Redis,
            now_ms: 0,
            merge: false,
            limit: 1 << 20,
            batch: 100,
            cluster: false,
            batch_bytes: 1 << 20,
        });
        let mut out = Vec::new();
        l.feed(RDB, &mut out).unwrap();
        // FUNCTION RESTORE, SELECT, OOM for the first key, the second one
        // confirmed (already sent): counted.
        let used = l.replies(b"+OK\r\n+OK\r\n-OOM command not allowed\r\n+OK\r\n");
        assert_eq!(used, 41);
        assert_eq!(l.report().functions, 1);
        assert_eq!(l.report().keys_restored, 1);
        let e = l.failed().unwrap().to_string();
        assert!(e.contains("OOM") && e.contains("for key"), "{e}");
        assert!(l.feed(b"", &mut out).is_err());
    }
}
