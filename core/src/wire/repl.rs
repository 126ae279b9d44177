//! Downloading a snapshot over the replication protocol, as `redis-cli
//! --rdb` does, but checked: the handshake's replies, the keepalive newlines
//! while the server prepares the snapshot, the `$<len>` or diskless
//! `$EOF:<mark>` framing, and the RDB itself through the [`Reader`], which
//! knows exactly where the file ends. Only the RDB's bytes are handed on.

use crate::rdb::reader::{self, Options, Reader, Summary};
use crate::wire::reply::Reply;

/// A command as a RESP array of bulk strings.
pub fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `AUTH [user] password` as RESP. The caller sends it over the socket; it
/// never appears in an argv or a log.
pub fn auth(user: Option<&str>, password: &str) -> Vec<u8> {
    match user {
        Some(u) => resp(&["AUTH", u, password]),
        None => resp(&["AUTH", password]),
    }
}

/// Deepest array nesting [`parse_reply`] accepts (our commands need 1).
const MAX_DEPTH: usize = 4;
/// Most elements an array may declare before it is taken as garbage.
const MAX_ELEMENTS: usize = 1 << 20;
/// The longest bulk string a reply may declare (Redis' own default
/// `proto-max-bulk-len`); more is a broken or hostile server.
pub const MAX_BULK: usize = 512 << 20;
/// The longest line (a status, an error, a length) before it is taken as
/// garbage: a server sending bytes without end never fills memory.
pub const MAX_LINE: usize = 64 << 10;

/// One RESP2 reply at the start of `buf`: the reply and the bytes it took,
/// or `None` while incomplete. Something that is not RESP is an error reply
/// naming what came.
pub fn parse_reply(buf: &[u8]) -> Option<(Reply, usize)> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], depth: usize) -> Option<(Reply, usize)> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() > MAX_LINE {
            return Some((
                Reply::Error(format!(
                    "unexpected reply (a line longer than {} KiB)",
                    MAX_LINE >> 10
                )),
                buf.len(),
            ));
        }
        return None;
    };
    let line = String::from_utf8_lossy(&buf[..end]).into_owned();
    let after = end + 2;
    let bad = |what: &str| Some((Reply::Error(format!("unexpected reply {what}")), after));
    let Some(kind) = line.chars().next() else {
        return bad("(an empty line)");
    };
    let rest = &line[kind.len_utf8()..];
    match kind {
        '+' => Some((Reply::Text(rest.to_string()), after)),
        '-' => Some((Reply::Error(rest.to_string()), after)),
        ':' => match rest.parse() {
            Ok(n) => Some((Reply::Integer(n), after)),
            Err(_) => bad(&format!("\"{line}\"")),
        },
        '$' => match rest.parse::<i64>() {
            Ok(-1) => Some((Reply::Nil, after)),
            Ok(n) if n >= 0 && n <= MAX_BULK as i64 => {
                let n = usize::try_from(n).ok()?;
                let body = buf.get(after..after.checked_add(n)?.checked_add(2)?)?;
                Some((Reply::Bulk(body[..n].to_vec()), after + n + 2))
            }
            _ => bad(&format!("\"{line}\"")),
        },
        '*' => match rest.parse::<i64>() {
            Ok(-1) => Some((Reply::Nil, after)),
            Ok(n) if (0..=MAX_ELEMENTS as i64).contains(&n) && depth < MAX_DEPTH => {
                let mut items = Vec::new();
                let mut at = after;
                for _ in 0..n {
                    let (r, used) = parse_at(&buf[at..], depth + 1)?;
                    items.push(r);
                    at += used;
                }
                Some((Reply::Array(items), at))
            }
            _ => bad(&format!("\"{line}\"")),
        },
        _ => bad(&format!("\"{line}\"")),
    }
}

/// `REPLCONF version`, which Valkey 8+ needs to send its own RDB format
/// (to an unannounced replica it sends RDB 11, and fails on data that RDB 11
/// cannot hold, such as hash field expiries).
pub fn announce_version(version: (u32, u32, u32)) -> Vec<u8> {
    let v = format!("{}.{}.{}", version.0, version.1, version.2);
    resp(&["REPLCONF", "version", &v])
}

/// Why the download failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The server answered SYNC with an error (unknown or renamed command,
    /// ACL, not allowed on this server); its words.
    Refused(String),
    /// The framing was not what the protocol says.
    Protocol(String),
    /// The RDB payload is corrupt.
    Rdb(reader::Error),
    /// The connection ended before the end of the RDB.
    Incomplete {
        received: u64,
        declared: Option<u64>,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Refused(m) => write!(f, "the server refused SYNC: {m}"),
            Error::Protocol(m) => write!(f, "unexpected data on the replication link: {m}"),
            Error::Rdb(e) => write!(f, "the snapshot is corrupt: {e}"),
            Error::Incomplete { received, declared } => match declared {
                Some(d) => write!(f, "the connection ended after {received} of {d} bytes"),
                None => write!(
                    f,
                    "the connection ended after {received} bytes, before the end of the snapshot"
                ),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Before the `$` line: keepalive newlines, maybe `+FULLRESYNC`.
    Preamble(Vec<u8>),
    /// The RDB; `left` when the length was given.
    Body {
        left: Option<u64>,
        mark: Option<Vec<u8>>,
    },
    /// The RDB ended; the diskless mark follows.
    Mark {
        want: Vec<u8>,
        got: Vec<u8>,
    },
    Done,
}

/// How the server framed the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `$<len>`: from a file the server wrote to its disk first.
    Disk(u64),
    /// `$EOF:<mark>`: streamed without touching the server's disk.
    Diskless,
}

/// The download, fed what the socket delivers after `SYNC` was sent.
#[derive(Debug)]
pub struct Download {
    phase: Phase,
    reader: Reader,
    received: u64,
    framing: Option<Framing>,
    /// Bytes fed after the snapshot's end (the replication stream that
    /// follows a `PSYNC`'s snapshot).
    tail: Vec<u8>,
}

impl Default for Download {
    fn default() -> Self {
        Self::new()
    }
}

impl Download {
    /// Waiting for the server's answer to SYNC.
    pub fn new() -> Self {
        Download {
            phase: Phase::Preamble(Vec::new()),
            reader: Reader::new(Options::default()),
            received: 0,
            framing: None,
            tail: Vec::new(),
        }
    }

    /// What came after the snapshot (and its diskless mark) in the bytes
    /// fed: the start of the replication stream.
    pub fn take_tail(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.tail)
    }

    /// How the server framed it, once known.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// RDB bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the snapshot (and its mark) is complete: stop reading.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Takes bytes from the socket and returns where the RDB's bytes are in
    /// them: one contiguous range (the reply line comes before the file,
    /// the diskless mark after it), possibly empty.
    pub fn feed(&mut self, whole: &[u8]) -> Result<core::ops::Range<usize>, Error> {
        let mut chunk = whole;
        let mut rdb: Option<core::ops::Range<usize>> = None;
        let at = |c: &[u8]| whole.len() - c.len();
        while !chunk.is_empty() {
            match &mut self.phase {
                Phase::Done => break,
                Phase::Preamble(line) => {
                    // Keepalives are bare newlines before the reply.
                    if line.is_empty() && chunk[0] == b'\n' {
                        chunk = &chunk[1..];
                        continue;
                    }
                    let Some(nl) = chunk.iter().position(|&b| b == b'\n') else {
                        if line.len() + chunk.len() > 4096 {
                            return Err(Error::Protocol("a reply line longer than 4 KiB".into()));
                        }
                        line.extend_from_slice(chunk);
                        break;
                    };
                    line.extend_from_slice(&chunk[..nl]);
                    chunk = &chunk[nl + 1..];
                    let text = String::from_utf8_lossy(line)
                        .trim_end_matches('\r')
                        .to_string();
                    line.clear();
                    self.on_line(&text)?;
                }
                Phase::Body { left, mark } => {
                    let take = match left {
                        Some(l) => usize::try_from(*l).unwrap_or(usize::MAX).min(chunk.len()),
                        None => chunk.len(),
                    };
                    let used = self
                        .reader
                        .feed_partial(&chunk[..take], &mut |_| {})
                        .map_err(Error::Rdb)?;
                    let start = at(chunk);
                    let r = rdb.get_or_insert(start..start);
                    r.end = start + used;
                    self.received += used as u64;
                    if let Some(l) = left {
                        *l -= used as u64;
                    }
                    chunk = &chunk[used..];
                    if self.reader.is_done() {
                        if left.is_some_and(|l| l > 0) {
                            return Err(Error::Rdb(reader::Error {
                                offset: self.received,
                                kind: reader::ErrorKind::Corrupt(format!(
                                    "the RDB ends {} bytes before the length the server announced",
                                    left.unwrap_or(0)
                                )),
                            }));
                        }
                        self.phase = match mark.take() {
                            Some(want) => Phase::Mark {
                                want,
                                got: Vec::new(),
                            },
                            None => Phase::Done,
                        };
                    } else if left == &Some(0) {
                        // The announced length ended inside the RDB.
                        return match self.reader.finish() {
                            Ok(_) => Ok(rdb.unwrap_or(0..0)),
                            Err(e) => Err(Error::Rdb(e)),
                        };
                    }
                }
                Phase::Mark { want, got } => {
                    let n = (want.len() - got.len()).min(chunk.len());
                    got.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                    if got.len() == want.len() {
                        if got != want {
                            return Err(Error::Protocol(
                                "the diskless end mark after the RDB does not match the one announced".into(),
                            ));
                        }
                        self.phase = Phase::Done;
                    }
                }
            }
        }
        if self.phase == Phase::Done {
            self.tail.extend_from_slice(chunk);
        }
        Ok(rdb.unwrap_or(0..0))
    }

    fn on_line(&mut self, text: &str) -> Result<(), Error> {
        if let Some(e) = text.strip_prefix('-') {
            return Err(Error::Refused(e.to_string()));
        }
        if text.starts_with("+FULLRESYNC") || text.starts_with("+CONTINUE") || text.is_empty() {
            return Ok(());
        }
        let Some(rest) = text.strip_prefix('$') else {
            let shown: String = text.chars().take(60).collect();
            return Err(Error::Protocol(format!(
                "expected the snapshot's length line, got \"{shown}\""
            )));
        };
        if let Some(mark) = rest.strip_prefix("EOF:") {
            if mark.len() != 40 {
                return Err(Error::Protocol(format!(
                    "an end mark of {} bytes, expected 40",
                    mark.len()
                )));
            }
            self.framing = Some(Framing::Diskless);
            self.phase = Phase::Body {
                left: None,
                mark: Some(mark.as_bytes().to_vec()),
            };
            return Ok(());
        }
        let len: u64 = rest
            .parse()
            .map_err(|_| Error::Protocol(format!("a bad length line \"${rest}\"")))?;
        self.framing = Some(Framing::Disk(len));
        self.phase = Phase::Body {
            left: Some(len),
            mark: None,
        };
        Ok(())
    }

    /// The connection closed (or the caller stops): the summary if the
    /// snapshot arrived whole.
    pub fn finish(mut self) -> Result<Summary, Error> {
        match &self.phase {
            Phase::Done => self.reader.finish().map_err(Error::Rdb),
            Phase::Preamble(_) => Err(Error::Refused(
                "the connection closed before the server sent a snapshot".into(),
            )),
            _ => Err(Error::Incomplete {
                received: self.received,
                declared: match self.framing {
                    Some(Framing::Disk(n)) => Some(n),
                    _ => None,
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RDB: &[u8] = include_bytes!("../../tests/fixtures/two-dbs-function-7.0.rdb");

    fn run(stream: &[u8], chunk: usize) -> (Vec<u8>, Result<Summary, Error>) {
        let mut d = Download::new();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            match d.feed(c) {
                Ok(r) => got.extend_from_slice(&c[r]),
                Err(e) => return (got, Err(e)),
            }
            if d.is_done() {
                break;
            }
        }
        (got, d.finish())
    }

    /// A hostile server cannot make a reply hold memory without end: a line
    /// that never ends and a bulk string declared past Redis' own limit
    /// are errors at once (before, both waited for more bytes forever).
    #[test]
    fn endless_lines_and_huge_bulks_are_refused() {
        let mut line = b"+".to_vec();
        line.extend(std::iter::repeat_n(b'a', MAX_LINE + 1));
        match parse_reply(&line) {
            Some((Reply::Error(e), n)) => {
                assert!(e.contains("longer than 64 KiB"), "{e}");
                assert_eq!(n, line.len());
            }
            other => panic!("{other:?}"),
        }
        let huge = format!("${}\r\nabc", MAX_BULK + 1);
        assert!(matches!(
            parse_reply(huge.as_bytes()),
            Some((Reply::Error(_), _))
        ));
        // Within the limits: still waiting for the rest.
        assert_eq!(parse_reply(b"+partial"), None);
        assert_eq!(parse_reply(format!("${MAX_BULK}\r\nabc").as_bytes()), None);
    }

    #[test]
    fn disk_framing_with_keepalives() {
        let mut s = b"\n\n\n".to_vec();
        s.extend_from_slice(format!("${}\r\n", RDB.len()).as_bytes());
        s.extend_from_slice(RDB);
        for chunk in [1, 3, 64, 4096] {
            let (got, r) = run(&s, chunk);
            assert_eq!(got, RDB, "chunk {chunk}");
            assert_eq!(r.expect("ok").keys(), 5);
        }
    }

    #[test]
    fn diskless_framing_drops_the_mark_and_what_follows() {
        let mark = "0123456789abcdef0123456789abcdef01234567";
        let mut s = b"+FULLRESYNC abc 0\r\n\n".to_vec();
        s.extend_from_slice(format!("$EOF:{mark}\r\n").as_bytes());
        s.extend_from_slice(RDB);
        s.extend_from_slice(mark.as_bytes());
        s.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        for chunk in [1, 7, 40, 4096] {
            let (got, r) = run(&s, chunk);
            assert_eq!(got, RDB, "chunk {chunk}");
            assert!(r.is_ok(), "chunk {chunk}: {r:?}");
        }
        let mut bad = s.clone();
        let at = s.len() - 20;
        bad[at] ^= 1;
        assert!(matches!(run(&bad, 4096).1, Err(Error::Protocol(_))));
    }

    #[test]
    fn refusal_truncation_and_corruption() {
        let (_, r) = run(
            b"-ERR unknown command 'SYNC', with args beginning with: \r\n",
            8,
        );
        assert_eq!(
            r.expect_err("refused").to_string(),
            "the server refused SYNC: ERR unknown command 'SYNC', with args beginning with: "
        );
        let mut s = format!("${}\r\n", RDB.len()).into_bytes();
        s.extend_from_slice(&RDB[..100]);
        let (_, r) = run(&s, 4096);
        assert_eq!(
            r.expect_err("short").to_string(),
            format!("the connection ended after 100 of {} bytes", RDB.len())
        );
        let mut s = format!("${}\r\n", RDB.len()).into_bytes();
        s.extend_from_slice(RDB);
        let n = s.len();
        s[n - 3] ^= 0xFF;
        assert!(matches!(run(&s, 4096).1, Err(Error::Rdb(_))));
        assert!(matches!(run(b"hello\r\n", 4096).1, Err(Error::Protocol(_))));
    }

    #[test]
    fn replies() {
        let text = |s: &str| Reply::Text(s.into());
        assert_eq!(parse_reply(b"+OK\r\nrest"), Some((text("OK"), 5)));
        assert_eq!(
            parse_reply(b"-NOAUTH x\r\n"),
            Some((Reply::Error("NOAUTH x".into()), 11))
        );
        assert_eq!(parse_reply(b"+OK"), None);
        assert_eq!(
            parse_reply(b"$5\r\nhello\r\n+"),
            Some((Reply::Bulk(b"hello".to_vec()), 11))
        );
        assert_eq!(parse_reply(b"$5\r\nhel"), None);
        assert_eq!(parse_reply(b"$-1\r\n"), Some((Reply::Nil, 5)));
        assert_eq!(parse_reply(b":42\r\n"), Some((Reply::Integer(42), 5)));
        let config = b"*2\r\n$24\r\nrepl-diskless-sync-delay\r\n$1\r\n5\r\n";
        assert_eq!(
            parse_reply(config),
            Some((
                Reply::Array(vec![
                    Reply::Bulk(b"repl-diskless-sync-delay".to_vec()),
                    Reply::Bulk(b"5".to_vec())
                ]),
                config.len()
            ))
        );
        assert_eq!(parse_reply(&config[..config.len() - 1]), None);
        // Not RESP: an error naming it, never a hang.
        assert_eq!(
            parse_reply(b"HTTP/1.1 400\r\n"),
            Some((Reply::Error("unexpected reply \"HTTP/1.1 400\"".into()), 14))
        );
        // Nesting beyond what any answer needs is refused.
        let deep = parse_reply(b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n");
        assert!(
            format!("{deep:?}").contains("Error(\"unexpected reply"),
            "{deep:?}"
        );
        assert_eq!(
            auth(Some("u"), "p"),
            b"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n"
        );
    }
}
