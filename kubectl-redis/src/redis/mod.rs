//! A connection to Redis from this side: a TCP socket (`--url`) or a
//! port-forward to the pod. Commands and their replies, `AUTH` with a
//! password only this module sees, and the snapshot download (`SYNC`)
//! verified by the core's decoder and reader as it arrives. The backup
//! uses it today; the live restore will send its `RESTORE`s through it.

pub mod auth;
pub mod cluster;
pub mod tls;

use crate::ui::{Progress, Ui};
use auth::Password;
use kubectl_redis_core::backup::{SyncError, SyncReport};
use kubectl_redis_core::wire::repl::{self, Download, Framing};
use kubectl_redis_core::wire::reply::Reply;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A byte stream both ways: a TCP socket or a port-forward.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// One open connection, with what was read past the last reply.
pub struct Conn {
    io: Box<dyn Duplex>,
    buf: Vec<u8>,
    /// A reply has come on this connection (before one, a hang-up or a TLS
    /// record means the server wants TLS).
    answered: bool,
}

/// A reply, or why none came (for the user).
pub type Answer = Result<Reply, String>;

/// The most one command's reply may take.
const MAX_REPLY: usize = 64 << 20;

impl Conn {
    pub fn new(io: impl Duplex + 'static) -> Self {
        Conn {
            io: Box::new(io),
            buf: Vec::new(),
            answered: false,
        }
    }

    /// Sends `args` and reads one reply (a line or a bulk string).
    pub async fn command(&mut self, args: &[String]) -> Answer {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.round_trip(&repl::resp(&args)).await
    }

    /// `AUTH [user] password`; the password goes only onto the socket.
    pub async fn auth(&mut self, user: Option<&str>, password: &Password) -> Answer {
        self.round_trip(&repl::auth(user, password.expose())).await
    }

    async fn round_trip(&mut self, bytes: &[u8]) -> Answer {
        tokio::time::timeout(crate::env::stall(), self.io.write_all(bytes))
            .await
            .map_err(|_| crate::env::stalled("Redis read nothing"))?
            .map_err(|e| format!("writing to Redis: {e}"))?;
        self.reply().await
    }

    /// Sends the batches of whole RESP commands `batches` delivers (`n`
    /// commands in all) while reading their replies, both at once: the
    /// server is never waited on. The count of replies, or the index of the
    /// first error reply with its words.
    pub async fn pipeline(
        &mut self,
        mut batches: tokio::sync::mpsc::Receiver<bytes::Bytes>,
        n: usize,
    ) -> Result<u64, (usize, String)> {
        let leftover = std::mem::take(&mut self.buf);
        let (mut rd, mut wr) = tokio::io::split(&mut self.io);
        let write = async {
            while let Some(b) = batches.recv().await {
                wr.write_all(&b).await?;
            }
            wr.flush().await
        };
        let read = async {
            let mut buf = leftover;
            let mut got = 0usize;
            let mut first_err: Option<(usize, String)> = None;
            let mut tmp = vec![0u8; 256 << 10];
            while got < n {
                let mut at = 0;
                while got < n {
                    // `+OK` and `:N`, most replies: counted without
                    // building a reply.
                    if matches!(buf.get(at), Some(b'+' | b':')) {
                        match buf[at..].iter().position(|&b| b == b'\n') {
                            Some(end) if end > 0 && buf[at + end - 1] == b'\r' => {
                                at += end + 1;
                                got += 1;
                                continue;
                            }
                            Some(_) => {}
                            None => break,
                        }
                    }
                    match repl::parse_reply(&buf[at..]) {
                        Some((r, used)) => {
                            at += used;
                            if let Reply::Error(e) = r {
                                first_err.get_or_insert((got, e));
                            }
                            got += 1;
                        }
                        None => break,
                    }
                }
                buf.drain(..at);
                if got == n {
                    break;
                }
                if buf.len() > MAX_REPLY {
                    return Err((got, "a reply larger than 64 MiB".to_string()));
                }
                let r = tokio::time::timeout(crate::env::stall(), rd.read(&mut tmp))
                    .await
                    .map_err(|_| (got, crate::env::stalled("Redis sent no reply")))?
                    .map_err(|e| (got, format!("reading from Redis: {e}")))?;
                if r == 0 {
                    return Err((got, "Redis closed the connection".into()));
                }
                buf.extend_from_slice(&tmp[..r]);
            }
            Ok((buf, first_err))
        };
        let (w, r) = tokio::join!(write, read);
        let (rest, first_err) = r?;
        w.map_err(|e| (0, format!("writing to Redis: {e}")))?;
        self.buf = rest;
        self.answered = true;
        match first_err {
            Some(e) => Err(e),
            None => Ok(n as u64),
        }
    }

    /// The next reply (to commands sent with [`Conn::send`], pipelined).
    pub async fn reply(&mut self) -> Answer {
        loop {
            // A TLS record (a handshake or an alert) where a reply should
            // be: the server speaks only TLS here.
            if !self.answered
                && self.buf.len() >= 2
                && matches!(self.buf[0], 0x15 | 0x16)
                && self.buf[1] == 0x03
            {
                return Err(kubectl_redis_core::kube::tls::Failure::WantsTls.message("Redis"));
            }
            if let Some((r, n)) = repl::parse_reply(&self.buf) {
                self.buf.drain(..n);
                self.answered = true;
                return Ok(r);
            }
            // No reply to the commands sent here (INFO, CONFIG, CLUSTER,
            // SCAN...) comes near this: a server sending more is broken or
            // hostile, and memory stays bounded.
            if self.buf.len() > MAX_REPLY {
                return Err(format!(
                    "Redis sent more than {} MiB without finishing one reply; nothing more was read",
                    MAX_REPLY >> 20
                ));
            }
            let mut tmp = [0u8; 64 << 10];
            let n = tokio::time::timeout(crate::env::stall(), self.io.read(&mut tmp))
                .await
                .map_err(|_| crate::env::stalled("Redis sent no answer"))?
                .map_err(|e| {
                    if self.answered {
                        format!("reading from Redis: {e}")
                    } else {
                        format!("reading from Redis: {e} (a server that speaks only TLS on this port does this: add --tls or use rediss://)")
                    }
                })?;
            if n == 0 {
                if !self.answered && self.buf.is_empty() {
                    return Err(kubectl_redis_core::kube::tls::Failure::WantsTls.message("Redis"));
                }
                return Err("Redis closed the connection during the handshake".into());
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// Sends `SYNC` and downloads the snapshot into `file`, every byte
    /// through the core's decoder (framing, keepalives) and reader. The
    /// server gets `timeout` to start sending.
    pub async fn sync(
        &mut self,
        ui: &Ui,
        file: impl AsyncWrite + Unpin,
        label: &str,
        timeout: Duration,
        hint: &crate::store::sink::SizeHint,
    ) -> Result<SyncReport, SyncError> {
        self.io
            .write_all(&repl::resp(&["SYNC"]))
            .await
            .map_err(|e| SyncError::Io(format!("writing to Redis: {e}")))?;
        self.download(ui, file, label, timeout, hint).await
    }

    /// Sends raw bytes (a `REPLCONF ACK` on the replication link).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        tokio::time::timeout(crate::env::stall(), self.io.write_all(bytes))
            .await
            .map_err(|_| crate::env::stalled("Redis read nothing"))?
            .map_err(|e| format!("writing to Redis: {e}"))
    }

    /// The next bytes from Redis into `out` (what was read past the last
    /// reply first): `Ok(0)` when the connection closed.
    pub async fn read_some(&mut self, out: &mut [u8]) -> Result<usize, String> {
        if !self.buf.is_empty() {
            let n = self.buf.len().min(out.len());
            out[..n].copy_from_slice(&self.buf[..n]);
            self.buf.drain(..n);
            return Ok(n);
        }
        self.io
            .read(out)
            .await
            .map_err(|e| format!("reading from Redis: {e}"))
    }

    /// `PSYNC replid offset` (`? -1` for a new snapshot): the server's
    /// answer. After `Full`, the snapshot follows ([`Conn::download`]);
    /// after `Continue`, the stream.
    pub async fn psync(
        &mut self,
        replid: &str,
        offset: i64,
        wait: Duration,
    ) -> Result<Psync, String> {
        self.send(&repl::resp(&["PSYNC", replid, &offset.to_string()]))
            .await?;
        let started = Instant::now();
        loop {
            // Keepalive newlines may come before the answer.
            while self.buf.first() == Some(&b'\n') {
                self.buf.remove(0);
            }
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 2);
                let mut words = line.split_whitespace();
                return match words.next() {
                    Some("+FULLRESYNC") => {
                        let id = words.next().unwrap_or_default().to_string();
                        let off = words.next().and_then(|o| o.parse().ok());
                        match off {
                            Some(offset) if id.len() == 40 => {
                                Ok(Psync::Full { replid: id, offset })
                            }
                            _ => Err(format!("a malformed answer to PSYNC: {line:?}")),
                        }
                    }
                    Some("+CONTINUE") => Ok(Psync::Continue {
                        replid: words.next().map(str::to_string),
                    }),
                    _ if line.starts_with('-') => {
                        Err(format!("the server refused PSYNC: {}", &line[1..]))
                    }
                    _ => Err(format!(
                        "an unexpected answer to PSYNC: {:?}",
                        line.chars().take(60).collect::<String>()
                    )),
                };
            }
            if self.buf.len() > 4096 {
                return Err("an answer to PSYNC longer than 4 KiB".into());
            }
            let left = wait.saturating_sub(started.elapsed());
            let mut tmp = [0u8; 4096];
            let n = tokio::time::timeout(left, self.io.read(&mut tmp))
                .await
                .map_err(|_| format!("no answer to PSYNC within {} s", wait.as_secs()))?
                .map_err(|e| format!("reading from Redis: {e}"))?;
            if n == 0 {
                return Err("Redis closed the connection after PSYNC".into());
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// Downloads the snapshot that follows `SYNC` or a `+FULLRESYNC` into
    /// `file`, every byte through the core's decoder and reader; what
    /// follows the snapshot stays to be read.
    pub async fn download(
        &mut self,
        ui: &Ui,
        file: impl AsyncWrite + Unpin,
        label: &str,
        timeout: Duration,
        hint: &crate::store::sink::SizeHint,
    ) -> Result<SyncReport, SyncError> {
        let io_err = |what: &str, e: std::io::Error| SyncError::Io(format!("{what}: {e}"));
        let mut d = Download::new();
        let mut sha = Sha256::new();
        let mut w = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut progress = Progress::new(ui, label);
        let mut pending_write: Option<std::io::Error> = None;
        let mut chunk = vec![0u8; 1 << 20];
        let started = Instant::now();
        // What the handshake read past its replies starts the answer to SYNC.
        let mut carried = std::mem::take(&mut self.buf);
        let result = loop {
            let n = if !carried.is_empty() {
                let n = carried.len().min(chunk.len());
                chunk[..n].copy_from_slice(&carried[..n]);
                carried.drain(..n);
                n
            } else {
                if let Some(Framing::Disk(n)) = d.framing() {
                    progress.set_total(Some(n));
                    hint.set(n);
                }
                let read = self.io.read(&mut chunk);
                let n = if d.framing().is_none() {
                    // The server prepares the snapshot (sending keepalives).
                    let left = timeout.saturating_sub(started.elapsed());
                    match tokio::time::timeout(left, read).await {
                        Ok(r) => r,
                        Err(_) => break Err(SyncError::Timeout),
                    }
                } else {
                    // Framing known, bytes are due: none for the stall
                    // timeout means the transfer stopped.
                    match tokio::time::timeout(crate::env::stall(), read).await {
                        Ok(r) => r,
                        Err(_) => {
                            break Err(SyncError::Io(crate::env::stalled(
                                "the server sent no snapshot bytes",
                            )))
                        }
                    }
                };
                match n {
                    Ok(0) => {
                        progress.finish();
                        return Err(match d.finish() {
                            Ok(_) => SyncError::Io("the connection closed early".into()),
                            Err(e) => SyncError::Stream(e),
                        });
                    }
                    Ok(n) => n,
                    Err(e) => break Err(io_err("reading the snapshot", e)),
                }
            };
            let data = &chunk[..n];
            let r = d.feed(data);
            if let Ok(range) = &r {
                let rdb = &data[range.clone()];
                sha.update(rdb);
                if !rdb.is_empty() && pending_write.is_none() {
                    match tokio::time::timeout(crate::env::stall(), w.write_all(rdb)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => pending_write = Some(e),
                        Err(_) => {
                            break Err(SyncError::Io(crate::env::stalled(
                                "the destination accepted no bytes",
                            )))
                        }
                    }
                }
            }
            progress.update(d.received());
            if let Err(e) = r {
                break Err(SyncError::Stream(e));
            }
            if d.is_done() {
                break Ok(());
            }
        };
        progress.finish();
        result?;
        if let Some(e) = pending_write {
            return Err(io_err("writing the local file", e));
        }
        w.flush()
            .await
            .map_err(|e| io_err("writing the local file", e))?;
        // The replication stream's first bytes, for the caller to read.
        let mut tail = d.take_tail();
        tail.append(&mut carried);
        self.buf = tail;
        let framing = d.framing().unwrap_or(Framing::Diskless);
        let bytes = d.received();
        let summary = d.finish().map_err(SyncError::Stream)?;
        Ok(SyncReport {
            bytes,
            framing,
            sha256: crate::store::rdbfile::hex(&sha.finalize()),
            summary,
        })
    }
}

/// The answer to `PSYNC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Psync {
    /// `+FULLRESYNC <replid> <offset>`: a snapshot follows.
    Full { replid: String, offset: u64 },
    /// `+CONTINUE [<replid>]`: the stream continues (with a new id after
    /// a failover).
    Continue { replid: Option<String> },
}

/// `redis://HOST:PORT` or `rediss://HOST:PORT` (TLS; see [`url_tls`]); a
/// password in the URL is refused: it would be in argv.
pub fn parse_url(url: &str) -> Result<(String, u16), String> {
    // Errors show the URL without its user and password.
    let shown = redacted(url);
    let rest = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("rediss://"))
        .ok_or_else(|| format!("'{shown}' is not a redis:// or rediss:// URL"))?;
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    if auth.is_some_and(|a| a.contains(':')) {
        return Err("a password in --url would be visible in the process list; remove it and set $REDISCLI_AUTH".into());
    }
    let hostport = hostport.split('/').next().unwrap_or_default();
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port in '{shown}'"))?,
        ),
        None => (hostport, 6379),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in '{shown}'"));
    }
    Ok((host.to_string(), port))
}

/// The URL asks for TLS (`rediss://`).
pub fn url_tls(url: &str) -> bool {
    url.starts_with("rediss://")
}

/// `url` with its user information (`user:password@`) shown as `***@`, for
/// messages: whatever the scheme, and without one.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), url),
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// How many commands may wait for their replies, and how many bytes of
/// commands may wait to be written: both sides' memory stays bounded.
const MAX_IN_FLIGHT: usize = 50_000;
const MAX_UNSENT: usize = 1 << 20;

impl Conn {
    /// Sends a command whose arguments may be any bytes; one reply.
    pub async fn command_bytes(&mut self, args: &[&[u8]]) -> Answer {
        let mut req = Vec::new();
        kubectl_redis_core::restore::live::resp(&mut req, args);
        self.round_trip(&req).await
    }

    /// Replays the local file at `path` into the server with the core's
    /// [`Loader`](kubectl_redis_core::restore::live::Loader): commands are
    /// written while replies are read, within [`MAX_IN_FLIGHT`] and
    /// [`MAX_UNSENT`]. Ctrl-C stops producing commands; what was produced is
    /// sent and answered, and the report says how far it got.
    pub async fn load(
        &mut self,
        ui: &Ui,
        path: &str,
        total: u64,
        options: kubectl_redis_core::restore::live::Options,
    ) -> kubectl_redis_core::restore::Loaded {
        use kubectl_redis_core::restore::live::Loader;
        use std::io::Read;
        let t0 = Instant::now();
        let mut loader = Loader::new(options);
        let mut error: Option<String> = None;
        let mut file = match std::fs::File::open(path) {
            Ok(f) => Some(f),
            Err(e) => {
                error = Some(format!("cannot open {path}: {e}"));
                None
            }
        };
        let mut progress = Progress::new(ui, "load");
        progress.set_total(Some(total));
        let mut out: Vec<u8> = Vec::with_capacity(MAX_UNSENT + (256 << 10));
        let mut written = 0usize;
        let mut replies = std::mem::take(&mut self.buf);
        let mut eof = false;
        let mut interrupted = false;
        let mut chunk = vec![0u8; 256 << 10];
        let mut rbuf = vec![0u8; 64 << 10];
        let mut ctrl_c = std::pin::pin!(crate::signals::interrupted());
        let (mut rd, mut wr) = tokio::io::split(&mut self.io);
        let mut last = Instant::now();
        loop {
            let stopping = interrupted || error.is_some() || loader.failed().is_some();
            while !eof
                && !stopping
                && out.len() - written < MAX_UNSENT
                && loader.in_flight() < MAX_IN_FLIGHT
            {
                let Some(f) = file.as_mut() else { break };
                match f.read(&mut chunk) {
                    Ok(0) => {
                        eof = true;
                        if let Err(e) = loader.finish() {
                            error = Some(e.to_string());
                        }
                    }
                    Ok(n) => {
                        if let Err(e) = loader.feed(&chunk[..n], &mut out) {
                            if !matches!(
                                e,
                                kubectl_redis_core::restore::live::LoadError::Server { .. }
                            ) {
                                error = Some(e.to_string());
                            }
                            break;
                        }
                        progress.update(loader.report().bytes_read);
                    }
                    Err(e) => {
                        error = Some(format!("reading {path}: {e}"));
                        break;
                    }
                }
            }
            // Drop what was written, so the buffer holds only what is not.
            if written == out.len() {
                out.clear();
                written = 0;
            } else if written >= MAX_UNSENT {
                out.drain(..written);
                written = 0;
            }
            let done_producing = eof || interrupted || error.is_some() || loader.failed().is_some();
            if done_producing && written == out.len() && loader.in_flight() == 0 {
                break;
            }
            // Replies may be waiting for commands not yet written: never
            // wait on replies alone while something is unsent.
            tokio::select! {
                r = wr.write(&out[written..]), if written < out.len() => match r {
                    Ok(0) => { error.get_or_insert("Redis closed the connection".into()); break; }
                    Ok(n) => { written += n; last = Instant::now(); }
                    Err(e) => { error.get_or_insert(format!("writing to Redis: {e}")); break; }
                },
                r = rd.read(&mut rbuf) => match r {
                    Ok(0) => { error.get_or_insert("Redis closed the connection".into()); break; }
                    Ok(n) => {
                        replies.extend_from_slice(&rbuf[..n]);
                        let used = loader.replies(&replies);
                        replies.drain(..used);
                        last = Instant::now();
                    }
                    Err(e) => { error.get_or_insert(format!("reading from Redis: {e}")); break; }
                },
                _ = &mut ctrl_c, if !interrupted => {
                    interrupted = true;
                    ui.line("restore", &kubectl_redis_core::backup::Line::Warn(
                        "interrupted: sending what is already prepared, then stopping".into()));
                }
                _ = tokio::time::sleep_until((last + crate::env::stall()).into()) => {
                    error.get_or_insert(crate::env::stalled("Redis neither read nor answered"));
                    break;
                }
            }
        }
        progress.finish();
        self.buf = replies;
        if error.is_none() {
            error = loader.failed().map(|e| e.to_string());
        }
        kubectl_redis_core::restore::Loaded {
            report: loader.report().clone(),
            error,
            keyspace: None,
            interrupted,
            elapsed_ms: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Deletes every key, database by database, with SCAN + UNLINK (for a
    /// server where FLUSHALL is renamed away).
    pub async fn wipe(&mut self) -> Result<u64, String> {
        let info = match self.command(&["INFO".into(), "keyspace".into()]).await? {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Reply::Error(e) => return Err(format!("INFO keyspace: {e}")),
            other => format!("{other:?}"),
        };
        let dbs: Vec<String> = kubectl_redis_core::wire::reply::info_fields(&info)
            .keys()
            .filter_map(|k| k.strip_prefix("db").map(str::to_string))
            .collect();
        let mut deleted = 0u64;
        for db in dbs {
            if let Reply::Error(e) = self.command(&["SELECT".into(), db.clone()]).await? {
                return Err(format!("SELECT {db}: {e}"));
            }
            let mut cursor = b"0".to_vec();
            loop {
                let r = self
                    .command_bytes(&[b"SCAN", &cursor, b"COUNT", b"1000"])
                    .await?;
                let (next, keys) = match r {
                    Reply::Array(mut items) if items.len() == 2 => {
                        let keys = match items.pop() {
                            Some(Reply::Array(k)) => k,
                            _ => Vec::new(),
                        };
                        match items.pop() {
                            Some(Reply::Bulk(c)) => (c, keys),
                            _ => return Err("SCAN gave an unexpected reply".into()),
                        }
                    }
                    Reply::Error(e) => return Err(format!("SCAN: {e}")),
                    other => return Err(format!("SCAN gave an unexpected reply: {other:?}")),
                };
                let names: Vec<Vec<u8>> = keys
                    .into_iter()
                    .filter_map(|k| match k {
                        Reply::Bulk(b) => Some(b),
                        _ => None,
                    })
                    .collect();
                if !names.is_empty() {
                    let mut args: Vec<&[u8]> = vec![b"UNLINK"];
                    args.extend(names.iter().map(Vec::as_slice));
                    match self.command_bytes(&args).await? {
                        Reply::Integer(n) => deleted += u64::try_from(n).unwrap_or(0),
                        Reply::Error(e) => return Err(format!("UNLINK: {e}")),
                        _ => {}
                    }
                }
                if next == b"0" {
                    break;
                }
                cursor = next;
            }
        }
        Ok(deleted)
    }
}

static ALLOWED: std::sync::OnceLock<kubectl_redis_core::topo::hosts::Allowed> =
    std::sync::OnceLock::new();

/// Records the hosts this run may connect to by address (`--url`'s host and
/// `--allow-host`); set once, before the first connection to a URL.
pub fn allow_hosts(a: kubectl_redis_core::topo::hosts::Allowed) {
    let _ = ALLOWED.set(a);
}

/// The hosts `--url` and `--allow-host` allow, checked before a socket to
/// `host:port` is opened: a cluster's slot map or a redirection cannot send
/// the password or the data elsewhere. No host is allowed until a command
/// has recorded them.
pub fn check_host(host: &str, port: u16) -> Result<(), String> {
    match ALLOWED.get() {
        Some(a) => a.check(host, port, "the server"),
        None => Err(format!(
            "{host}:{port}: no host was allowed for this run (a connection by address needs --url)"
        )),
    }
}

/// The hosts allowed, for a check of many at once (`None` until recorded).
pub fn allowed_hosts() -> Option<&'static kubectl_redis_core::topo::hosts::Allowed> {
    ALLOWED.get()
}

/// Opens a connection to `to`: a TCP socket for a URL, else a port-forward
/// through `pods` (the forward is returned to be closed with the connection).
/// A URL's host must be one [`check_host`] allows.
pub async fn open(
    to: &kubectl_redis_core::backup::Endpoint,
    pods: Option<&kube::Api<k8s_openapi::api::core::v1::Pod>>,
) -> Result<
    (Conn, Option<crate::kube::portforward::Forward>),
    kubectl_redis_core::backup::ConnectError,
> {
    use kubectl_redis_core::backup::{ConnectError, Endpoint};
    match to {
        Endpoint::Url(u) => {
            check_host(&u.host, u.port).map_err(ConnectError::Failed)?;
            let plan = tls::url_plan(&u.host).map_err(ConnectError::Tls)?;
            let s = tokio::net::TcpStream::connect((u.host.as_str(), u.port))
                .await
                .map_err(|e| ConnectError::Failed(format!("{}:{}: {e}", u.host, u.port)))?;
            let _ = s.set_nodelay(true);
            match plan {
                Some(p) => {
                    let server = format!("{}:{}", u.host, u.port);
                    let s = tls::connect(s, &p, &server)
                        .await
                        .map_err(ConnectError::Tls)?;
                    Ok((Conn::new(s), None))
                }
                None => Ok((Conn::new(s), None)),
            }
        }
        Endpoint::Pod(t) => {
            let Some(api) = pods else {
                return Err(ConnectError::Failed("no cluster".into()));
            };
            let plan = tls::pod_plan(api, t).await.map_err(ConnectError::Tls)?;
            if std::env::var_os(kubectl_redis_core::ops::job::ENV_POD_NETWORK).is_some() {
                let s = dial_pod(api, t).await?;
                let server = format!("pod {} port {}", t.pod, t.port);
                return match plan {
                    Some(p) => Ok((
                        Conn::new(
                            tls::connect(s, &p, &server)
                                .await
                                .map_err(ConnectError::Tls)?,
                        ),
                        None,
                    )),
                    None => Ok((Conn::new(s), None)),
                };
            }
            let (fwd, s) = crate::kube::portforward::open(api, t).await?;
            match plan {
                Some(p) => {
                    let server = format!("pod {} port {}", t.pod, t.port);
                    match tls::connect(s, &p, &server).await {
                        Ok(s) => Ok((Conn::new(s), Some(fwd))),
                        Err(e) => {
                            fwd.close();
                            Err(ConnectError::Tls(e))
                        }
                    }
                }
                None => Ok((Conn::new(s), Some(fwd))),
            }
        }
    }
}

/// A TCP connection to `t` over the pod network (an `--in-cluster` run's
/// pod): loopback first when the pod shares the host's network on this
/// pod's node (where a Redis bound to 127.0.0.1 answers only there), then
/// the pod's IP.
async fn dial_pod(
    api: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    t: &kubectl_redis_core::kube::pods::Target,
) -> Result<tokio::net::TcpStream, kubectl_redis_core::backup::ConnectError> {
    use kubectl_redis_core::backup::ConnectError;
    let pod = api.get(&t.pod).await.map_err(|e| match e {
        kube::Error::Api(ae) if ae.code == 403 => ConnectError::Forbidden(ae.message),
        e => ConnectError::Failed(crate::kube::api_error(e)),
    })?;
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let node = spec.and_then(|s| s.node_name.clone());
    let here = std::env::var(kubectl_redis_core::ops::job::ENV_NODE).ok();
    let mut hosts = Vec::new();
    if host_network && node.is_some() && node == here {
        hosts.push("127.0.0.1".to_string());
    }
    if let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) {
        hosts.push(ip);
    }
    if hosts.is_empty() {
        return Err(ConnectError::Failed(format!("pod {} has no IP yet", t.pod)));
    }
    let mut errors = Vec::new();
    for h in hosts {
        let dial = tokio::net::TcpStream::connect((h.as_str(), t.port));
        match tokio::time::timeout(std::time::Duration::from_secs(10), dial).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => errors.push(format!("{h}:{}: {e}", t.port)),
            Err(_) => errors.push(format!("{h}:{}: no answer within 10 s", t.port)),
        }
    }
    Err(ConnectError::Failed(format!(
        "pod {} over the pod network: {}",
        t.pod,
        errors.join("; ")
    )))
}

/// As [`open`], then `AUTH` with `auth`'s password when it has one; errors
/// as text, naming `to`.
pub async fn open_authed(
    to: &kubectl_redis_core::backup::Endpoint,
    pods: Option<&kube::Api<k8s_openapi::api::core::v1::Pod>>,
    auth: &auth::Auth,
) -> Result<(Conn, Option<crate::kube::portforward::Forward>), String> {
    use kubectl_redis_core::backup::{ConnectError, Endpoint};
    let name = match to {
        Endpoint::Url(u) => format!("{}:{}", u.host, u.port),
        Endpoint::Pod(t) => format!("pod {}:{}", t.pod, t.port),
    };
    let (mut conn, fwd) = open(to, pods).await.map_err(|e| match e {
        ConnectError::Forbidden(m) | ConnectError::Failed(m) => {
            format!("cannot connect to {name}: {m}")
        }
        ConnectError::Tls(m) => m,
    })?;
    if let Some(pw) = &auth.password {
        match conn.auth(auth.user.as_deref(), pw).await {
            Ok(Reply::Error(e)) => {
                if let Some(f) = fwd {
                    f.close();
                }
                return Err(format!("{name} refused AUTH: {e}"));
            }
            Ok(_) => {}
            Err(e) => {
                if let Some(f) = fwd {
                    f.close();
                }
                return Err(e);
            }
        }
    }
    Ok((conn, fwd))
}

/// The Redis container's own password (`REDIS_PASSWORD`, literal or from a
/// Secret, or `REDIS_PASSWORD_FILE` on a Secret volume), with where it came
/// from for messages.
pub async fn pod_password(
    k: &crate::kube::Kube,
    pods: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    pod: &str,
    container: &str,
) -> Result<Option<(Password, String)>, String> {
    let p = pods.get(pod).await.map_err(crate::kube::api_error)?;
    crate::kube::secrets::from_pod_env(&k.client, &k.namespace, &p, container).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No error about a --url repeats a password in it, whatever is wrong
    /// with the URL.
    #[test]
    fn url_errors_never_show_the_password() {
        for bad in [
            "rediss://kr:Pa55w0rd@host:6379",
            "redis://Pa55w0rd@host:notaport",
            "redis://Pa55w0rd@",
            "http://u:Pa55w0rd@host/x@y",
        ] {
            let e = parse_url(bad).expect_err(bad);
            assert!(!e.contains("Pa55w0rd"), "{bad}: {e}");
            // Shown, the URL has its user information starred out.
            assert!(e.contains("***@") || !e.contains('@'), "{bad}: {e}");
        }
        assert_eq!(redacted("redis://host:6379"), "redis://host:6379");
        assert_eq!(redacted("u:p@host"), "***@host");
        assert_eq!(
            parse_url("redis://kr@10.0.0.5:6380"),
            Ok(("10.0.0.5".into(), 6380))
        );
        assert_eq!(
            parse_url("rediss://redis.example:6380"),
            Ok(("redis.example".into(), 6380))
        );
        assert!(url_tls("rediss://redis.example:6380") && !url_tls("redis://redis.example"));
    }
}
