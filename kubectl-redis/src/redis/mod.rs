//! A connection to Redis from this side: a TCP socket (`--url`) or a
//! port-forward to the pod. Commands and their replies, `AUTH` with a
//! password only this module sees, and the snapshot download (`SYNC`)
//! verified by the core's decoder and reader as it arrives. The backup
//! uses it today; the live restore will send its `RESTORE`s through it.

pub mod auth;

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
}

/// A reply, or why none came (for the user).
pub type Answer = Result<Reply, String>;

impl Conn {
    pub fn new(io: impl Duplex + 'static) -> Self {
        Conn {
            io: Box::new(io),
            buf: Vec::new(),
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
        self.io
            .write_all(bytes)
            .await
            .map_err(|e| format!("writing to Redis: {e}"))?;
        loop {
            if let Some((r, n)) = repl::parse_reply(&self.buf) {
                self.buf.drain(..n);
                return Ok(r);
            }
            let mut tmp = [0u8; 4096];
            let n = self
                .io
                .read(&mut tmp)
                .await
                .map_err(|e| format!("reading from Redis: {e}"))?;
            if n == 0 {
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
        let io_err = |what: &str, e: std::io::Error| SyncError::Io(format!("{what}: {e}"));
        self.io
            .write_all(&repl::resp(&["SYNC"]))
            .await
            .map_err(|e| io_err("writing to Redis", e))?;
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
                    read.await
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
                    if let Err(e) = w.write_all(rdb).await {
                        pending_write = Some(e);
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

/// `redis://HOST:PORT` (a password in the URL is refused: it would be in argv).
pub fn parse_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| format!("'{url}' is not a redis:// URL"))?;
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
                .map_err(|_| format!("bad port in '{url}'"))?,
        ),
        None => (hostport, 6379),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in '{url}'"));
    }
    Ok((host.to_string(), port))
}
