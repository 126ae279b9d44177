//! The replication stream after the base, cut into segments.
//!
//! [`Follower`] is fed the bytes the primary sends after the snapshot (or
//! after `+CONTINUE`), with the time they arrived. It parses each RESP
//! command, keeps the replication offset (Redis counts every byte of the
//! stream, `PING`s included), answers nothing itself but says when a
//! `REPLCONF GETACK` asks for an acknowledgement, and gathers the commands
//! worth keeping into the open segment: a valid Redis 7 AOF file, with a
//! `#TS:<unix seconds>` line before a command whenever the second of
//! arrival changes (as Redis writes them; one per transaction, never inside
//! one). A segment is closed on size or age, never inside `MULTI`/`EXEC`.
//!
//! Offsets follow Redis: the base's offset `O` is the one `+FULLRESYNC`
//! gave; after `n` more bytes the replica's offset is `O + n`, and it
//! resumes with `PSYNC <replid> <O + n + 1>`. A segment covers the stream
//! bytes `first_offset ..= last_offset`; the next starts at
//! `last_offset + 1`. `PING`s and `REPLCONF`s are counted in that range but
//! not stored.

/// When segments close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Close once the segment holds this many bytes (`--segment-size`).
    pub bytes: usize,
    /// Close once its first command is this old (`--segment-interval`).
    pub interval_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bytes: 16 << 20,
            interval_ms: 10_000,
        }
    }
}

/// The longest command the archiver takes (Redis' own
/// `proto-max-bulk-len` for one argument, plus its framing): more is a
/// broken stream.
pub const MAX_COMMAND: usize = (512 << 20) + (64 << 10);
/// Most arguments a command may declare.
const MAX_ARGS: usize = 1 << 20;

/// What the stream asks of the archiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `REPLCONF GETACK *`: answer `REPLCONF ACK <offset>` now.
    GetAck,
}

/// The stream is not what the replication protocol sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unexpected data on the replication link: {}", self.0)
    }
}

/// A closed segment: its bytes (an AOF file) and what its manifest says
/// (the shell adds the sha256 and where it is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub bytes: Vec<u8>,
    pub info: SegmentInfo,
}

/// A segment's facts, as its manifest records them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentInfo {
    /// The replication id of the link the commands came on.
    pub replid: String,
    /// The offset of its first stream byte (the previous segment's
    /// `last_offset + 1`, or the base's offset + 1).
    pub first_offset: u64,
    /// The offset of its last stream byte: the archiver's replication
    /// offset once it is stored (what `REPLCONF ACK` then says).
    pub last_offset: u64,
    /// When its first and last stored command arrived (Unix ms, the
    /// archiver's clock).
    pub first_ms: i64,
    pub last_ms: i64,
    /// Commands stored (`MULTI` and `EXEC` count; `PING`, `REPLCONF` and
    /// the `SELECT` that opens each segment do not).
    pub commands: u64,
    /// The database selected after its last command (the next segment
    /// opens with `SELECT` of it).
    pub db: Option<i64>,
    /// The offset of the last byte of its last stored command (`None`: it
    /// stores none). What follows up to `last_offset` is `PING`s and the
    /// like: a promoted replica that never had them can continue the chain
    /// from after this (see [`crate::pitr::chain::continue_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_command_offset: Option<u64>,
    /// Set on the first segment after a continuation at a promotion point:
    /// the chain had been stored up to this offset, and this segment starts
    /// before it (after its last stored command). What earlier segments
    /// hold past `first_offset - 1` was never on the promoted replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewound_from: Option<u64>,
    /// Some of its commands were read late: the archiver had stopped
    /// reading from this time (Unix ms; its spool was full), so they may
    /// have executed as early as this, not when they arrived. A restore to
    /// a second from this to `last_ms` cannot be exact and is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_from_ms: Option<i64>,
}

#[derive(Debug)]
struct Open {
    bytes: Vec<u8>,
    first_ms: i64,
    last_ms: i64,
    commands: u64,
    /// The offset of the last byte of its last command.
    last_command_offset: u64,
    /// The earliest `late` of the commands it stores.
    late_from_ms: Option<i64>,
    /// The second of the last `#TS:` line written.
    ts: i64,
}

/// The archiver's view of one replication link.
#[derive(Debug)]
pub struct Follower {
    replid: String,
    limits: Limits,
    /// Offset after the last whole command received.
    offset: u64,
    /// Offset after the last sealed segment (or of the base).
    sealed: u64,
    /// Bytes of a command not yet whole.
    partial: Vec<u8>,
    db: Option<i64>,
    in_tx: bool,
    open: Option<Open>,
    /// The next sealed segment's `rewound_from`.
    rewound_from: Option<u64>,
    /// Reading stopped at this time (ms) and has not caught up since:
    /// commands arriving now may have executed as early as this.
    late: Option<i64>,
}

/// One whole command at the start of `buf`: its length, its name
/// (uppercase) and first argument; `Ok(None)` while incomplete.
pub fn parse_command(buf: &[u8]) -> Result<Option<(usize, String, Vec<u8>)>, Error> {
    Ok(command_extent(buf)?.map(|(len, name, first)| {
        let first = first.map_or(Vec::new(), |f| {
            buf[f.start..f.end.min(f.start + 64)].to_vec()
        });
        (
            len,
            String::from_utf8_lossy(&buf[name]).to_ascii_uppercase(),
            first,
        )
    }))
}

/// One whole command's length and where its name and first argument are.
pub type Extent = (
    usize,
    core::ops::Range<usize>,
    Option<core::ops::Range<usize>>,
);

/// [`parse_command`] without copying anything: the command's length, the
/// range of its name and of its first argument.
pub fn command_extent(buf: &[u8]) -> Result<Option<Extent>, Error> {
    fn line(buf: &[u8], at: usize) -> Result<Option<(i64, usize)>, Error> {
        let Some(rest) = buf.get(at..) else {
            return Ok(None);
        };
        let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
            if rest.len() > 32 {
                return Err(Error("a length line longer than 32 bytes".into()));
            }
            return Ok(None);
        };
        let text = core::str::from_utf8(&rest[1..end]).unwrap_or("");
        let n: i64 = text.parse().map_err(|_| {
            Error(format!(
                "a bad length \"{}\"",
                String::from_utf8_lossy(&rest[..end])
            ))
        })?;
        Ok(Some((n, at + end + 2)))
    }
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        let shown: String = String::from_utf8_lossy(&buf[..buf.len().min(20)]).into_owned();
        return Err(Error(format!(
            "expected a command (a RESP array), got {shown:?}"
        )));
    }
    let Some((n, mut at)) = line(buf, 0)? else {
        return Ok(None);
    };
    if n < 1 || n as usize > MAX_ARGS {
        return Err(Error(format!("a command of {n} arguments")));
    }
    let mut name = 0..0;
    let mut first = None;
    for i in 0..n {
        if buf.get(at).is_some_and(|&b| b != b'$') {
            return Err(Error("a command argument that is not a bulk string".into()));
        }
        let Some((len, body)) = line(buf, at)? else {
            return Ok(None);
        };
        if len < 0 || len as usize > MAX_COMMAND {
            return Err(Error(format!("an argument of {len} bytes")));
        }
        let end = body + len as usize;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(Error("an argument not followed by CRLF".into()));
        }
        if i == 0 {
            name = body..end;
        } else if i == 1 {
            first = Some(body..end);
        }
        at = end + 2;
    }
    Ok(Some((at, name, first)))
}

fn select(db: i64) -> Vec<u8> {
    let d = db.to_string();
    format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{d}\r\n", d.len()).into_bytes()
}

impl Follower {
    /// Following link `replid` from `offset` (the base's, or the last
    /// stored segment's `last_offset`), with `db` selected (`None` after a
    /// snapshot: the primary sends `SELECT` first).
    pub fn new(replid: &str, offset: u64, db: Option<i64>, limits: Limits) -> Follower {
        Follower {
            replid: replid.to_string(),
            limits,
            offset,
            sealed: offset,
            partial: Vec::new(),
            db,
            in_tx: false,
            open: None,
            rewound_from: None,
            late: None,
        }
    }

    /// Reading stopped at `since_ms` (the spool was full): what arrives
    /// until [`Follower::caught_up`] is marked late (`late_from_ms`).
    pub fn behind(&mut self, since_ms: i64) {
        self.late.get_or_insert(since_ms);
    }

    /// What the primary had queued is read: arrival times are honest again.
    pub fn caught_up(&mut self) {
        self.late = None;
    }

    /// Between [`Follower::behind`] and [`Follower::caught_up`].
    pub fn is_behind(&self) -> bool {
        self.late.is_some()
    }

    /// Following from `offset` (a promotion point) a chain that was stored
    /// up to `stored`: the first segment says so (`rewound_from`).
    pub fn rewound(mut self, stored: u64) -> Follower {
        self.rewound_from = Some(stored);
        self
    }

    /// The offset after the last whole command received.
    pub fn received(&self) -> u64 {
        self.offset
    }

    /// The offset after the last sealed segment.
    pub fn sealed(&self) -> u64 {
        self.sealed
    }

    /// The link's replication id.
    pub fn replid(&self) -> &str {
        &self.replid
    }

    /// `+CONTINUE <id>` with a new id (a promoted replica): what follows
    /// belongs to it. Call after sealing what came before.
    pub fn set_replid(&mut self, id: &str) {
        self.replid = id.to_string();
    }

    /// Bytes in the open segment (0 when none is open).
    pub fn open_bytes(&self) -> usize {
        self.open.as_ref().map_or(0, |o| o.bytes.len())
    }

    /// Inside `MULTI` ... `EXEC`.
    pub fn in_transaction(&self) -> bool {
        self.in_tx
    }

    /// Takes bytes that arrived at `now_ms`.
    pub fn feed(&mut self, bytes: &[u8], now_ms: i64) -> Result<Vec<Event>, Error> {
        let mut events = Vec::new();
        let mut owned = core::mem::take(&mut self.partial);
        let buf: &[u8] = if owned.is_empty() {
            bytes
        } else {
            owned.extend_from_slice(bytes);
            &owned
        };
        let mut at = 0;
        while at < buf.len() {
            let Some((len, name, first)) = parse_command(&buf[at..])? else {
                break;
            };
            let cmd = &buf[at..at + len];
            at += len;
            self.offset += len as u64;
            match name.as_str() {
                // Not data: a restore has no use for them (Sentinel's hello
                // messages come as PUBLISH every 2 s).
                "PING" | "PUBLISH" | "SPUBLISH" => {}
                "REPLCONF" => {
                    if first.eq_ignore_ascii_case(b"GETACK") {
                        events.push(Event::GetAck);
                    }
                }
                _ => self.store(cmd, &name, &first, now_ms),
            }
        }
        let rest = &buf[at..];
        if rest.len() > MAX_COMMAND {
            return Err(Error("a command larger than 512 MiB".into()));
        }
        self.partial = rest.to_vec();
        Ok(events)
    }

    fn store(&mut self, cmd: &[u8], name: &str, first: &[u8], now_ms: i64) {
        let sec = now_ms.div_euclid(1000);
        let db = self.db;
        let in_tx = self.in_tx;
        let o = self.open.get_or_insert_with(|| {
            let mut bytes = format!("#TS:{sec}\r\n").into_bytes();
            if let Some(d) = db {
                bytes.extend_from_slice(&select(d));
            }
            Open {
                bytes,
                first_ms: now_ms,
                last_ms: now_ms,
                commands: 0,
                last_command_offset: 0,
                late_from_ms: None,
                ts: sec,
            }
        });
        if let Some(l) = self.late {
            o.late_from_ms = Some(o.late_from_ms.map_or(l, |x| x.min(l)));
        }
        if !in_tx && sec != o.ts {
            o.bytes
                .extend_from_slice(format!("#TS:{sec}\r\n").as_bytes());
            o.ts = sec;
        }
        o.bytes.extend_from_slice(cmd);
        o.commands += 1;
        o.last_ms = now_ms;
        // `feed` counted the command already.
        o.last_command_offset = self.offset;
        match name {
            "MULTI" => self.in_tx = true,
            "EXEC" | "DISCARD" => self.in_tx = false,
            "SELECT" => {
                if let Some(d) = core::str::from_utf8(first)
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    self.db = Some(d);
                }
            }
            _ => {}
        }
    }

    /// Whether the open segment should be closed now.
    pub fn due(&self, now_ms: i64) -> bool {
        match &self.open {
            Some(o) if !self.in_tx => {
                o.bytes.len() >= self.limits.bytes || now_ms - o.first_ms >= self.limits.interval_ms
            }
            _ => false,
        }
    }

    /// Nothing stored since the last segment but `PING`s moved the offset
    /// on: a segment of no command (one `#TS:` line) that says the stream
    /// was followed up to `now_ms`, so an idle server's recovery window
    /// still reaches the present. `None` when a segment is open or the
    /// offset did not move.
    pub fn heartbeat(&mut self, now_ms: i64) -> Option<Sealed> {
        if self.open.is_some() || self.in_tx || self.offset == self.sealed {
            return None;
        }
        let info = SegmentInfo {
            replid: self.replid.clone(),
            first_offset: self.sealed + 1,
            last_offset: self.offset,
            first_ms: now_ms,
            last_ms: now_ms,
            commands: 0,
            db: self.db,
            last_command_offset: None,
            rewound_from: self.rewound_from.take(),
            late_from_ms: None,
        };
        self.sealed = self.offset;
        Some(Sealed {
            bytes: format!("#TS:{}\r\n", now_ms.div_euclid(1000)).into_bytes(),
            info,
        })
    }

    /// When the open segment will be due by age (`None`: none is open).
    pub fn due_at(&self) -> Option<i64> {
        self.open
            .as_ref()
            .map(|o| o.first_ms + self.limits.interval_ms)
    }

    /// Closes the open segment (never inside a transaction: `None` then,
    /// and when nothing was stored since the last one). It covers the
    /// stream up to the last whole command received, `PING`s included.
    pub fn seal(&mut self) -> Option<Sealed> {
        if self.in_tx {
            return None;
        }
        let o = self.open.take()?;
        let info = SegmentInfo {
            replid: self.replid.clone(),
            first_offset: self.sealed + 1,
            last_offset: self.offset,
            first_ms: o.first_ms,
            last_ms: o.last_ms,
            commands: o.commands,
            db: self.db,
            last_command_offset: (o.commands > 0).then_some(o.last_command_offset),
            rewound_from: self.rewound_from.take(),
            late_from_ms: o.late_from_ms,
        };
        self.sealed = self.offset;
        Some(Sealed {
            bytes: o.bytes,
            info,
        })
    }
}
